//! The engine's one error: a stable snake_case `code` the pages map to a translated sentence, and
//! an English `message` for the developer console. Like the SDK's errors (which become codes
//! here, in one match), no message carries personal data.

use epermit_sdk::SdkError;

/// Why an engine call was refused; the `{"error":{"code":…,"message":…}}` of the ABI.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct WebError {
    /// Stable, snake_case: `invalid_root_key`, `list_expired`, `credential_malformed`,
    /// `invalid_input`, `unknown_verifier`, …
    pub code: &'static str,
    /// What went wrong, in English, without personal data.
    pub message: String,
}

/// Results of the engine.
pub type Result<T, E = WebError> = std::result::Result<T, E>;

impl WebError {
    /// An error with `code` and `message`.
    pub fn new(code: &'static str, message: impl Into<String>) -> WebError {
        WebError {
            code,
            message: message.into(),
        }
    }

    /// The caller passed something that is not what the call takes (bad JSON, bad UTF-8, a
    /// buffer of the wrong size, a time that is not a number of seconds).
    pub fn invalid_input(message: impl Into<String>) -> WebError {
        WebError::new("invalid_input", message)
    }
}

impl From<SdkError> for WebError {
    fn from(e: SdkError) -> WebError {
        let code = match &e {
            SdkError::InvalidRootKey => "invalid_root_key",
            SdkError::ListNotTrusted => "list_not_trusted",
            SdkError::ListFromRetiredRoot => "list_from_retired_root",
            SdkError::ListMalformed => "list_malformed",
            SdkError::ListExpired => "list_expired",
            SdkError::ListRollback { .. } => "list_rollback",
            SdkError::ListOutdated => "list_outdated",
            SdkError::StateMalformed => "state_malformed",
            SdkError::CredentialMalformed => "credential_malformed",
            SdkError::NotBoundToSigner => "not_bound_to_signer",
            SdkError::SignerFailed => "signer_failed",
            SdkError::InvalidChallenge => "invalid_challenge",
            SdkError::TargetNotInJinhua => "target_not_in_jinhua",
            SdkError::InvalidDate => "invalid_date",
            _ => "internal",
        };
        WebError::new(code, e.to_string())
    }
}
