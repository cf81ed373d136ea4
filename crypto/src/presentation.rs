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
use coset::CoseSign1;

use crate::cbor::{self, Map, int};
use crate::cose::{self, Sign1};
use crate::keys::{Signature, VerifyingKey};
use crate::permit::Credential;
use crate::{Error, Result, Signer};

/// CBOR tag 18 (COSE_Sign1) in its one-byte encoding (major type 6, value 18).
const TAG_18: u8 = 0xd2;

/// The longest verifier challenge accepted, in bytes.
pub const MAX_CHALLENGE_LEN: usize = 64;

/// Builds a presentation of `credential_cose` (the tagged bytes [`crate::permit::issue`] returned),
/// signed by the holder's device key. The credential must be bound to that key (its `cnf`).
///
/// One [`Draft`] signed at once: `signer` signs the draft's Sig_structure and the draft checks
/// that signature before it assembles the presentation.
pub fn present(
    credential_cose: &[u8],
    signer: &dyn Signer,
    presented_at: DateTime<Utc>,
    challenge: Option<&[u8]>,
) -> Result<Vec<u8>> {
    let draft = Draft::new(
        credential_cose,
        &signer.public_key(),
        presented_at,
        challenge,
    )?;
    let signature = signer.sign(&draft.to_be_signed())?;
    draft.finish(&signature.to_bytes())
}

/// A presentation waiting for the holder's signature, for a signer that answers later
/// (WebCrypto's `sign` returns a promise): [`Draft::to_be_signed`] gives the bytes to sign,
/// [`Draft::finish`] takes the signature and assembles the presentation. [`present`] is the same
/// two steps with a synchronous [`Signer`].
#[derive(Debug, Clone)]
pub struct Draft {
    sign1: CoseSign1,
    holder_key: VerifyingKey,
}

impl Draft {
    /// The unsigned presentation of `credential_cose` (tagged, as issued) by `holder_key` at
    /// `presented_at`, answering `challenge` (1–[`MAX_CHALLENGE_LEN`] bytes) if given. Refuses a
    /// credential that does not decode or is not bound (`cnf`) to `holder_key`. The same inputs
    /// give the same bytes, so a caller may rebuild the draft for [`Draft::finish`].
    pub fn new(
        credential_cose: &[u8],
        holder_key: &VerifyingKey,
        presented_at: DateTime<Utc>,
        challenge: Option<&[u8]>,
    ) -> Result<Draft> {
        let credential = Credential::from_cose(credential_cose)?;
        if credential.claims().holder_key != Some(*holder_key) {
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
        Ok(Draft {
            sign1: cose::unsigned(cose::protected(None, None), payload),
            holder_key: *holder_key,
        })
    }

    /// The bytes the holder key signs: the COSE Sig_structure (RFC 9052 §4.4, context
    /// `"Signature1"`, empty external AAD) of the presentation.
    pub fn to_be_signed(&self) -> Vec<u8> {
        self.sign1.tbs_data(b"")
    }

    /// The tagged presentation with `signature` (64 bytes, Ed25519 over [`Draft::to_be_signed`]),
    /// checked first with `verify_strict` under the credential's `cnf`, so a key-store bug (wrong
    /// key, wrong algorithm) shows here and not at the verifier.
    pub fn finish(self, signature: &[u8]) -> Result<Vec<u8>> {
        let sig = Signature::from_slice(signature).map_err(|_| Error::BadSignature)?;
        self.holder_key
            .verify_strict(&self.to_be_signed(), &sig)
            .map_err(|_| Error::BadSignature)?;
        let mut sign1 = self.sign1;
        sign1.signature = sig.to_bytes().to_vec();
        cose::to_tagged(sign1)
    }
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
        let Fields {
            credential: inner,
            presented_at,
            challenge,
        } = match read_fields(&sign1.payload) {
            Some(fields) => fields.owned(),
            None => decode_fields(&sign1.payload)?,
        };
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

/// A presentation's fields {1 credential, 2 presented-at, 3 challenge?}, the byte strings as `B`.
#[derive(Debug, PartialEq, Eq)]
struct Fields<B> {
    credential: B,
    presented_at: DateTime<Utc>,
    challenge: Option<B>,
}

impl Fields<&[u8]> {
    fn owned(&self) -> Fields<Vec<u8>> {
        Fields {
            credential: self.credential.to_vec(),
            presented_at: self.presented_at,
            challenge: self.challenge.map(<[u8]>::to_vec),
        }
    }
}

/// The fields through a `ciborium::Value`.
fn decode_fields(payload: &[u8]) -> Result<Fields<Vec<u8>>> {
    let mut m = Map::new(cbor::from_slice(payload, "presentation")?, "presentation")?;
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
    Ok(Fields {
        credential: inner,
        presented_at,
        challenge,
    })
}

/// Whatever [`read_fields`] reads of `payload`, [`decode_fields`] reads to the same fields
/// ([`crate::sample::fast_decoders_agree`]).
#[cfg(any(test, feature = "sample"))]
pub(crate) fn fast_path_agrees(payload: &[u8]) -> bool {
    read_fields(payload).is_none_or(|fast| decode_fields(payload).ok() == Some(fast.owned()))
}

/// The fast path of [`decode_fields`] ([`crate::cbor::Reader`]): definite lengths, each key once,
/// the same checks; `None` for anything else, which [`decode_fields`] then decides.
fn read_fields(payload: &[u8]) -> Option<Fields<&[u8]>> {
    let mut r = cbor::Reader::new(payload);
    let (mut inner, mut presented_at, mut challenge) = (None, None, None);
    for _ in 0..r.map()? {
        match r.int()? {
            1 => cbor::once(&mut inner, r.bytes()?)?,
            2 => cbor::once(&mut presented_at, r.time()?)?,
            3 => cbor::once(
                &mut challenge,
                r.bytes()
                    .filter(|c| !c.is_empty() && c.len() <= MAX_CHALLENGE_LEN)?,
            )?,
            _ => return None,
        }
    }
    r.end()?;
    Some(Fields {
        credential: inner?,
        presented_at: presented_at?,
        challenge,
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::cbor::mutation;
    use crate::sample::Demo;

    /// The payloads of presentations without and with a challenge (of the longest length).
    fn payloads() -> Vec<Vec<u8>> {
        let (demo, credential, now) = demo();
        [None, Some(&[7u8; MAX_CHALLENGE_LEN][..])]
            .into_iter()
            .map(|challenge| {
                let bytes = present(&credential, &demo.holder, now, challenge).unwrap();
                Sign1::from_tagged(&bytes, "test").unwrap().payload
            })
            .collect()
    }

    #[test]
    fn the_fast_path_reads_presentations_as_the_value_path_does() {
        for payload in payloads() {
            let fast = read_fields(&payload).map(|f| f.owned());
            assert!(fast.is_some());
            assert_eq!(fast, decode_fields(&payload).ok());
        }
    }

    #[test]
    fn challenges_at_the_edge_of_their_length_are_decided_by_both_paths_alike() {
        let (_, credential, now) = demo();
        for (len, ok) in [
            (0, false),
            (1, true),
            (MAX_CHALLENGE_LEN, true),
            (MAX_CHALLENGE_LEN + 1, false),
        ] {
            let payload = cbor::to_vec(&Value::Map(vec![
                (int(1), Value::Bytes(credential[1..].to_vec())),
                (int(2), cbor::time(now)),
                (int(3), Value::Bytes(vec![7; len])),
            ]))
            .unwrap();
            let fast = read_fields(&payload).map(|f| f.owned());
            assert_eq!(fast.is_some(), ok, "{len}");
            assert_eq!(fast, decode_fields(&payload).ok(), "{len}");
        }
    }

    proptest! {
        /// Bytes flipped, truncated or inserted: what the fast path accepts, the `Value` path
        /// accepts, to the same fields.
        #[test]
        fn what_the_fast_path_accepts_the_value_path_accepts_to_the_same_fields(
            which in 0usize..2,
            at in any::<prop::sample::Index>(),
            change in mutation::damage(),
        ) {
            let mut bytes = payloads().swap_remove(which);
            mutation::apply(&mut bytes, at, change);
            if let Some(fast) = read_fields(&bytes) {
                prop_assert_eq!(Some(fast.owned()), decode_fields(&bytes).ok());
            }
        }
    }

    fn demo() -> (Demo, Vec<u8>, DateTime<Utc>) {
        let now = DateTime::from_timestamp(1_780_000_000, 0).unwrap();
        let demo = Demo::new(now).unwrap();
        let credential = demo.credential().unwrap();
        (demo, credential, now)
    }

    #[test]
    fn a_draft_signed_later_is_the_presentation_present_makes() {
        let (demo, credential, now) = demo();
        let draft = Draft::new(&credential, &demo.holder.public_key(), now, Some(b"c")).unwrap();
        let signature = demo.holder.sign(&draft.to_be_signed()).unwrap();
        let two_phase = draft.finish(&signature.to_bytes()).unwrap();
        let at_once = present(&credential, &demo.holder, now, Some(b"c")).unwrap();
        assert_eq!(two_phase, at_once);
        let parsed = Presentation::from_cose(&two_phase).unwrap();
        assert!(
            parsed
                .verify_holder_signature(&demo.holder.public_key())
                .is_ok()
        );
    }

    #[test]
    fn a_draft_refuses_a_signature_by_another_key_or_over_other_bytes() {
        let (demo, credential, now) = demo();
        let draft = Draft::new(&credential, &demo.holder.public_key(), now, None).unwrap();
        let by_issuer = demo.issuer.sign(&draft.to_be_signed()).unwrap();
        assert!(matches!(
            draft.clone().finish(&by_issuer.to_bytes()),
            Err(Error::BadSignature)
        ));
        let other_bytes = demo.holder.sign(b"something else").unwrap();
        assert!(draft.clone().finish(&other_bytes.to_bytes()).is_err());
        assert!(draft.finish(&[0; 63]).is_err());
    }

    #[test]
    fn a_draft_needs_the_key_the_credential_is_bound_to() {
        let (demo, credential, now) = demo();
        assert!(Draft::new(&credential, &demo.issuer.public_key(), now, None).is_err());
        assert!(Draft::new(&credential, &demo.holder.public_key(), now, Some(&[])).is_err());
    }
}
