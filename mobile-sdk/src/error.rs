//! The SDK's one public error (STYLE rule 4, after mozilla/application-services): each variant is
//! something the app can act on, and no message carries personal data (no name, ID number, address
//! or key material; list sequence numbers are public).
//!
//! Conversions from the internal errors of `crypto` and `policy` live here and nowhere else.

/// Why an SDK call was refused. Kotlin: `SdkException`; Swift and Python: `SdkError`.
///
/// Verification never fails with this type: a bad QR text is a verdict (`malformed`, …), not an
/// error. These are for configuration, list loading and the holder side.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
#[non_exhaustive]
pub enum SdkError {
    /// A pinned root key is not 32 bytes (or 64 hex digits) of a valid Ed25519 public key.
    /// App action: fix the app's configuration.
    #[error("a root public key is malformed")]
    InvalidRootKey,
    /// The list is not signed by a pinned root key, or its signature does not verify.
    /// App action: discard the download, keep the list held, report to the operator.
    #[error("the list is not signed by a pinned root key")]
    ListNotTrusted,
    /// The list (or bundle) is signed by a root key this verifier retired: a trust list signed by
    /// it announced a successor root key, and only the successor is pinned since. App action:
    /// discard the download (a stale cache or mirror still serving the old root's lists), keep
    /// the list held, fetch again later.
    #[error("the list is signed by a retired root key")]
    ListFromRetiredRoot,
    /// The bytes are not a trust list / status list / verifier bundle of SPEC §2.
    /// App action: discard the download (wrong URL or content type?), keep the list held.
    #[error("the list is malformed")]
    ListMalformed,
    /// The list has passed its expires-at. App action: fetch again later; keep the list held.
    #[error("the list has expired")]
    ListExpired,
    /// A trust list with a lower sequence than the one held was offered (SPEC §2: never go back).
    /// App action: discard it (a replay or a stale cache), keep the list held.
    #[error("trust list sequence {offered} is lower than the one held ({held})")]
    ListRollback {
        /// The sequence held.
        held: u64,
        /// The sequence offered.
        offered: u64,
    },
    /// A different trust list under the sequence held, or a status list issued before the one
    /// held for the same URI. App action: discard it, keep the list held.
    #[error("the list is older than or conflicts with the one held")]
    ListOutdated,
    /// The bytes given to `Verifier.importState` are not a state `exportState` wrote, or a list in
    /// it no longer verifies. App action: discard them, start from the pinned keys
    /// (`Verifier(rootKeysHex)`) and fetch the lists again.
    #[error("the saved verifier state is malformed")]
    StateMalformed,
    /// The text is not an `EP1:` credential (or `EPP1:` presentation, where one is accepted) that
    /// decodes. App action: fetch the credential again from the API.
    #[error("the credential text is malformed")]
    CredentialMalformed,
    /// The credential is not bound (`cnf`) to the signer's public key. App action: bind the
    /// device key through the API, then fetch the new credential.
    #[error("the credential is not bound to this signer's key")]
    NotBoundToSigner,
    /// The platform signer refused or failed (locked device, cancelled prompt, key gone), or
    /// returned something that is not an Ed25519 public key / signature. App action: ask the
    /// user to unlock and retry, or re-create and re-bind the key. A `HolderSigner`
    /// implementation throws this variant itself.
    #[error("the signer failed")]
    SignerFailed,
    /// A verifier challenge of 0 or more than 64 bytes.
    #[error("the challenge must be 1 to 64 bytes")]
    InvalidChallenge,
    /// A district that is not a six-digit code of a Jinhua district (SPEC §3
    /// `target_not_in_jinhua`).
    #[error("target_not_in_jinhua: the target district must be one of Jinhua's nine")]
    TargetNotInJinhua,
    /// A date that is not `YYYY-MM-DD`.
    #[error("invalid_date: dates are YYYY-MM-DD")]
    InvalidDate,
}

/// Results of the SDK.
pub type Result<T, E = SdkError> = std::result::Result<T, E>;

impl From<uniffi::UnexpectedUniFFICallbackError> for SdkError {
    /// A foreign `HolderSigner` threw something other than an `SdkError`.
    fn from(_: uniffi::UnexpectedUniFFICallbackError) -> SdkError {
        SdkError::SignerFailed
    }
}

impl SdkError {
    /// A list loader's error. `Invalid` from `crypto` is either a malformed list or the store
    /// refusing a conflicting/older one; `reparses` tells them apart (true when the bytes alone
    /// are a well-formed list signed by a pinned root).
    pub(crate) fn from_list_load(
        error: crypto::Error,
        reparses: impl FnOnce() -> bool,
    ) -> SdkError {
        use crypto::Error as E;
        match error {
            E::BadSignature | E::UnknownSigner => SdkError::ListNotTrusted,
            E::RetiredRoot => SdkError::ListFromRetiredRoot,
            E::Expired(_) => SdkError::ListExpired,
            E::Rollback { held, offered } => SdkError::ListRollback { held, offered },
            E::Invalid(_) if reparses() => SdkError::ListOutdated,
            _ => SdkError::ListMalformed,
        }
    }

    /// A holder-side error (`present`): the signer's own failure stays a signer failure, anything
    /// else means the credential did not decode.
    pub(crate) fn from_present(error: crypto::Error) -> SdkError {
        match error {
            crypto::Error::Signer(_) => SdkError::SignerFailed,
            _ => SdkError::CredentialMalformed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_no_personal_data_only_codes_and_sequences() {
        let e = SdkError::ListRollback {
            held: 7,
            offered: 3,
        };
        assert_eq!(
            e.to_string(),
            "trust list sequence 3 is lower than the one held (7)"
        );
        assert!(
            SdkError::TargetNotInJinhua
                .to_string()
                .starts_with("target_not_in_jinhua")
        );
    }

    #[test]
    fn a_signer_s_own_message_is_dropped() {
        let e = SdkError::from_present(crypto::Error::Signer("user 张三 cancelled".into()));
        assert_eq!(e, SdkError::SignerFailed);
        assert!(!e.to_string().contains("张三"));
    }
}
