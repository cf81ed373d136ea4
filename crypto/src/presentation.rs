//! The holder's presentation (SPEC §2, `EPP1:`): a COSE_Sign1 by the holder's device key (the
//! credential's `cnf`) over {1 credential, 2 presented-at, 3 verifier challenge (optional)}.
//!
//! Compact choices (see the crate README): the protected header carries only `alg` (the verifying
//! key is the credential's `cnf`, so a `kid` would add nothing), and field 1 holds the credential's
//! COSE_Sign1 *untagged* (RFC 9052 §2 allows untagged where the context fixes the type; the tag 18
//! is restored on reading). Liberal in what it accepts (SPEC §2: "a verifier accepts it tagged or
//! untagged"): field 1 may also hold the credential tagged, as issued (tag 18 in its one-byte
//! form `0xd2`); both forms verify the same. What [`present`] emits stays untagged.

use chrono::{DateTime, Utc};
use ciborium::Value;

use crate::cbor::{self, Map, int};
use crate::cose::{self, Sign1};
use crate::keys::VerifyingKey;
use crate::permit::Credential;
use crate::{Error, Result, Signer};

/// CBOR tag 18 (COSE_Sign1) in its one-byte encoding (major type 6, value 18).
const TAG_18: u8 = 0xd2;

/// The longest verifier challenge accepted, in bytes.
pub const MAX_CHALLENGE_LEN: usize = 64;

/// Builds a presentation of `credential_cose` (the tagged bytes [`crate::permit::issue`] returned),
/// signed by the holder's device key. The credential must be bound to that key (its `cnf`).
pub fn present(
    credential_cose: &[u8],
    signer: &dyn Signer,
    presented_at: DateTime<Utc>,
    challenge: Option<&[u8]>,
) -> Result<Vec<u8>> {
    let credential = Credential::from_cose(credential_cose)?;
    if credential.claims().holder_key != Some(signer.public_key()) {
        return Err(Error::Invalid(
            "holder key (the credential is not bound to this signer)",
        ));
    }
    if challenge.is_some_and(|c| c.is_empty() || c.len() > MAX_CHALLENGE_LEN) {
        return Err(Error::Invalid("challenge"));
    }
    // The same bytes the issuer produced, without the 1-byte tag 18.
    let untagged = credential_cose
        .strip_prefix(&[TAG_18])
        .ok_or(Error::Malformed("permit COSE_Sign1 (tag 18 as one byte)"))?
        .to_vec();
    let mut fields = vec![
        (int(1), Value::Bytes(untagged)),
        (int(2), cbor::time(presented_at)),
    ];
    if let Some(c) = challenge {
        fields.push((int(3), Value::Bytes(c.to_vec())));
    }
    let payload = cbor::to_vec(&Value::Map(fields))?;
    cose::to_tagged(cose::sign(cose::protected(None, None), payload, signer)?)
}

/// A parsed presentation whose signatures are not yet checked.
#[derive(Debug)]
pub struct Presentation {
    sign1: Sign1,
    credential: Credential,
    credential_cose: Vec<u8>,
    presented_at: DateTime<Utc>,
    challenge: Option<Vec<u8>>,
}

impl Presentation {
    /// Parses the tagged COSE bytes an `EPP1:` carries. Field 1 may hold the credential untagged
    /// (as [`present`] writes it) or tagged (tag 18, as issued).
    pub fn from_cose(bytes: &[u8]) -> Result<Presentation> {
        let sign1 = Sign1::from_tagged(bytes, "presentation COSE_Sign1")?;
        if sign1.kid()?.is_some() || sign1.typ().is_some() {
            return Err(Error::Malformed("presentation header"));
        }
        let mut m = Map::new(
            cbor::from_slice(&sign1.payload, "presentation")?,
            "presentation",
        )?;
        let inner = cbor::as_bytes(
            m.require(1, "presented credential")?,
            "presented credential",
        )?;
        let presented_at = cbor::as_time(&m.require(2, "presented-at")?, "presented-at")?;
        let challenge = m
            .take_int(3)
            .map(|v| cbor::as_bytes(v, "challenge"))
            .transpose()?;
        m.finish()?;
        if challenge
            .as_ref()
            .is_some_and(|c| c.is_empty() || c.len() > MAX_CHALLENGE_LEN)
        {
            return Err(Error::Invalid("challenge"));
        }
        let (credential, credential_cose) = if inner.first() == Some(&TAG_18) {
            (Credential::from_cose(&inner)?, inner)
        } else {
            let credential = Credential::from_untagged(&inner)?;
            let mut tagged = Vec::with_capacity(inner.len() + 1);
            tagged.push(TAG_18);
            tagged.extend_from_slice(&inner);
            (credential, tagged)
        };
        Ok(Presentation {
            sign1,
            credential,
            credential_cose,
            presented_at,
            challenge,
        })
    }

    /// The presented credential.
    pub fn credential(&self) -> &Credential {
        &self.credential
    }

    /// The presented credential as tagged COSE bytes (what `EP1:` would carry).
    pub fn credential_cose(&self) -> &[u8] {
        &self.credential_cose
    }

    /// When the holder's device made the presentation.
    pub fn presented_at(&self) -> DateTime<Utc> {
        self.presented_at
    }

    /// The verifier's challenge, if one was answered.
    pub fn challenge(&self) -> Option<&[u8]> {
        self.challenge.as_deref()
    }

    /// Consumes the presentation, keeping the credential.
    pub fn into_credential(self) -> Credential {
        self.credential
    }

    /// Checks the holder's signature under `holder_key` (`verify_strict`).
    pub fn verify_holder_signature(&self, holder_key: &VerifyingKey) -> Result<()> {
        self.sign1.verify(holder_key)
    }
}
