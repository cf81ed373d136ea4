//! The crate's one error type (STYLE rule 2).

use chrono::{DateTime, Utc};

/// Everything that can go wrong while encoding, signing, decoding or checking a signed object.
///
/// Verification of a QR text does not return this type: [`crate::verify::verify`] maps every failure
/// onto a [`crate::verify::Verdict`]. This type is for the codecs and the list loaders.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The QR text does not have the `EP1:`/`EPP1:` + Base45 shape (SPEC §2, RFC 9285).
    #[error("QR text is malformed: {0}")]
    QrText(&'static str),
    /// A zlib stream (RFC 1950) is corrupt, has trailing bytes, or inflates beyond the limit.
    #[error("zlib stream is malformed or inflates beyond {limit} bytes")]
    Compression {
        /// The output limit that applied.
        limit: usize,
    },
    /// The CBOR or COSE structure is not the one expected.
    #[error("malformed {0}")]
    Malformed(&'static str),
    /// A claim or field is missing, of the wrong type, duplicated, unknown or out of range.
    #[error("invalid {0}")]
    Invalid(&'static str),
    /// A signature does not verify (`verify_strict`) under the expected key.
    #[error("signature does not verify")]
    BadSignature,
    /// A list is signed by a key that is not one of the pinned root keys.
    #[error("signed by a key that is not pinned")]
    UnknownSigner,
    /// The [`crate::Signer`] refused or failed (a phone keystore may).
    #[error("signer failed: {0}")]
    Signer(String),
    /// A key or key file is malformed.
    #[error("malformed key: {0}")]
    Key(&'static str),
    /// A list (or bundle) is signed by a root key this store no longer pins: a later trust list
    /// signed by it announced its successor, and only the successor is pinned since.
    #[error("signed by a retired root key (its successor is pinned)")]
    RetiredRoot,
    /// A trust list with a lower sequence than the one held (or the highest seen) was offered
    /// (SPEC §2).
    #[error("trust list sequence {offered} is lower than the one held ({held})")]
    Rollback {
        /// The sequence already held.
        held: u64,
        /// The sequence offered.
        offered: u64,
    },
    /// A list has expired.
    #[error("list expired at {0}")]
    Expired(DateTime<Utc>),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
