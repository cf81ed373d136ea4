//! The holder side in the browser, in two phases because WebCrypto signs asynchronously: the
//! page asks for the bytes to sign ([`presentation_message`]), has its non-extractable Ed25519
//! key sign them, and hands the signature back ([`presentation_finish`]), which checks it against
//! the credential's `cnf` before it assembles the `EPP1:` text. Both phases rebuild the same
//! `crypto::presentation::Draft` from the same inputs (it is deterministic), so nothing is kept
//! between the calls. Also the message of the holder-key proof (issue 6).

use std::time::SystemTime;

use crypto::key_binding::{self, CHALLENGE_LEN};
use crypto::presentation::Draft;
use crypto::qr_text::{self, QrKind};
use crypto::{Error, permit};
use epermit_sdk::SdkError;

use crate::error::{Result, WebError};
use crate::time::instant;

/// The COSE Sig_structure the holder key signs for a presentation of `credential_text` (`EP1:`)
/// at `now`, answering `challenge` if one was shown.
pub fn presentation_message(
    credential_text: &str,
    now: SystemTime,
    challenge: Option<&[u8]>,
) -> Result<Vec<u8>> {
    Ok(draft(credential_text, now, challenge)?.to_be_signed())
}

/// The `EPP1:` text: the presentation of [`presentation_message`]'s inputs with `signature` (64
/// bytes). Refused (`signer_failed`) unless the signature verifies under the credential's `cnf`.
pub fn presentation_finish(
    credential_text: &str,
    now: SystemTime,
    signature: &[u8],
    challenge: Option<&[u8]>,
) -> Result<String> {
    let cose = draft(credential_text, now, challenge)?
        .finish(signature)
        .map_err(|e| match e {
            Error::BadSignature => WebError::from(SdkError::SignerFailed),
            _ => WebError::from(SdkError::CredentialMalformed),
        })?;
    Ok(qr_text::encode(QrKind::Presentation, &cose))
}

/// The message the device key signs to bind itself to permit `number` under the server's
/// challenge (64 hex digits, `POST /v1/permits/me/holder-key/challenge`).
pub fn binding_message(number: &str, challenge_hex: &str) -> Result<Vec<u8>> {
    let mut challenge = [0u8; CHALLENGE_LEN];
    hex::decode_to_slice(challenge_hex.trim(), &mut challenge).map_err(|_| {
        WebError::invalid_input(format!("the challenge is {} hex digits", CHALLENGE_LEN * 2))
    })?;
    Ok(key_binding::binding_message(number, &challenge))
}

/// The unsigned presentation by the key the credential is bound to.
fn draft(credential_text: &str, now: SystemTime, challenge: Option<&[u8]>) -> Result<Draft> {
    let malformed = || WebError::from(SdkError::CredentialMalformed);
    let cose = match qr_text::decode(credential_text.trim()) {
        Ok((QrKind::Permit, cose)) => cose,
        _ => return Err(malformed()),
    };
    let claims = permit::parse(&cose).map_err(|_| malformed())?;
    let holder_key = claims
        .holder_key
        .ok_or_else(|| WebError::from(SdkError::NotBoundToSigner))?;
    if challenge.is_some_and(|c| c.is_empty() || c.len() > crypto::presentation::MAX_CHALLENGE_LEN)
    {
        return Err(SdkError::InvalidChallenge.into());
    }
    Draft::new(&cose, &holder_key, instant(now)?, challenge).map_err(|_| malformed())
}
