//! The holder side (SPEC §2 `EPP1:`, §3, §5): presentations signed by a key the platform keeps
//! (Keychain / Keystore) through the [`HolderSigner`] foreign trait, and the holder's own report.

use std::sync::Arc;
use std::time::SystemTime;

use crypto::keys::{KeyId, Signature, VerifyingKey, public_key_from_bytes};
use crypto::presentation::{MAX_CHALLENGE_LEN, Presentation};
use crypto::qr_text::{self, QrKind};
use crypto::{PermitClaims, permit};
use policy::PermitStatus;

use crate::error::{Result, SdkError};
use crate::report::{self, Report};
use crate::time::instant;

/// The holder's device key, implemented by the app (Kotlin, Swift) so that the private key never
/// leaves the platform's key store. Ed25519 (RFC 8032, pure EdDSA) only.
///
/// The SDK calls it synchronously from the thread that called [`present`]; it may block while the
/// platform asks the user to authenticate.
#[uniffi::export(with_foreign)]
pub trait HolderSigner: Send + Sync {
    /// The raw 32-byte Ed25519 public key (the one bound to the credential as its `cnf`).
    fn public_key(&self) -> Vec<u8>;

    /// The 64-byte Ed25519 signature of `message`. Throw `SdkError.SignerFailed` when the key
    /// store refuses (locked, cancelled, key invalidated).
    fn sign(&self, message: Vec<u8>) -> Result<Vec<u8>>;
}

/// Adapts a platform signer to `crypto::Signer`, reading its public key once.
struct PlatformSigner {
    inner: Arc<dyn HolderSigner>,
    public_key: VerifyingKey,
}

impl PlatformSigner {
    fn new(inner: Arc<dyn HolderSigner>) -> Result<PlatformSigner> {
        let public_key =
            public_key_from_bytes(&inner.public_key()).map_err(|_| SdkError::SignerFailed)?;
        Ok(PlatformSigner { inner, public_key })
    }
}

impl crypto::Signer for PlatformSigner {
    fn public_key(&self) -> VerifyingKey {
        self.public_key
    }

    fn sign(&self, message: &[u8]) -> crypto::Result<Signature> {
        let failed = || crypto::Error::Signer("platform signer".into());
        let bytes = self.inner.sign(message.to_vec()).map_err(|_| failed())?;
        let sig = Signature::from_slice(&bytes).map_err(|_| failed())?;
        // A keystore bug (wrong key, wrong algorithm) shows here, not at the verifier.
        self.public_key
            .verify_strict(message, &sig)
            .map_err(|_| failed())?;
        Ok(sig)
    }

    fn key_id(&self) -> KeyId {
        KeyId::of(&self.public_key)
    }
}

/// Builds the holder's `EPP1:` presentation of `credential_text` (the `EP1:` text the API issued)
/// at `now`, signed by `signer`, answering the verifier's `challenge` if one was shown. The app
/// shows it as a QR code (alphanumeric mode, error correction M) and makes a new one every 30 s.
///
/// No I/O of its own; costs one Ed25519 signature by `signer` (for a hardware-backed key, the key
/// store's latency, possibly a user prompt), one check of that signature and the encoding, about
/// 0.1 ms besides the signer.
///
/// Throws `CredentialMalformed`, `NotBoundToSigner` (the credential's `cnf` is another key),
/// `InvalidChallenge` (0 or more than 64 bytes) or `SignerFailed`.
#[uniffi::export]
pub fn present(
    credential_text: String,
    signer: Arc<dyn HolderSigner>,
    now: SystemTime,
    challenge: Option<Vec<u8>>,
) -> Result<String> {
    let cose = credential_cose(&credential_text)?;
    let signer = PlatformSigner::new(signer)?;
    let claims = permit::parse(&cose).map_err(|_| SdkError::CredentialMalformed)?;
    if claims.holder_key != Some(signer.public_key) {
        return Err(SdkError::NotBoundToSigner);
    }
    if challenge
        .as_ref()
        .is_some_and(|c| c.is_empty() || c.len() > MAX_CHALLENGE_LEN)
    {
        return Err(SdkError::InvalidChallenge);
    }
    let presentation =
        crypto::presentation::present(&cose, &signer, instant(now), challenge.as_deref())
            .map_err(SdkError::from_present)?;
    Ok(qr_text::encode(QrKind::Presentation, &presentation))
}

/// The SPEC §3 report for the holder of `credential_text` (`EP1:`, or an `EPP1:` presentation of
/// it) at `target` (six-digit district code) on `as_of` (`YYYY-MM-DD`), from the periods, lapses
/// and issuer the credential states.
///
/// The credential is only decoded, not verified (it is the holder's own), and the permit is
/// taken as active: a suspension or revocation is known to the API, whose report is
/// authoritative. No I/O; costs microseconds.
///
/// Throws `CredentialMalformed`, `TargetNotInJinhua` or `InvalidDate`.
#[uniffi::export]
pub fn report(credential_text: String, target: String, as_of: String) -> Result<Report> {
    let claims = credential_claims(&credential_text)?;
    let target = report::parse_target(&target)?;
    let as_of = report::parse_day(&as_of)?;
    Ok(report::for_claims(
        &claims,
        target,
        as_of,
        PermitStatus::Active,
        None,
    ))
}

/// The credential's tagged COSE bytes from an `EP1:` text.
fn credential_cose(text: &str) -> Result<Vec<u8>> {
    match qr_text::decode(text.trim()) {
        Ok((QrKind::Permit, cose)) => Ok(cose),
        _ => Err(SdkError::CredentialMalformed),
    }
}

/// The claims of an `EP1:` credential or of the credential inside an `EPP1:` presentation.
fn credential_claims(text: &str) -> Result<PermitClaims> {
    let bad = |_| SdkError::CredentialMalformed;
    match qr_text::decode(text.trim()).map_err(bad)? {
        (QrKind::Permit, cose) => permit::parse(&cose).map_err(bad),
        (QrKind::Presentation, cose) => Presentation::from_cose(&cose)
            .map(|p| p.into_credential().into_claims())
            .map_err(bad),
    }
}
