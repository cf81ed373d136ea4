#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod bundle;
mod cbor;
mod cose;
mod error;
pub mod key_binding;
pub mod keys;
pub mod masked_id;
pub mod permit;
pub mod presentation;
pub mod qr_text;
#[cfg(feature = "sample")]
pub mod sample;
pub mod signer;
pub mod status_list;
pub mod status_source;
pub mod trust_list;
pub mod trust_store;
pub mod verify;
mod zlib;

pub use bundle::VerifierBundle;
pub use error::{Error, Result};
pub use keys::{KeyId, Signature, VerifyingKey};
pub use masked_id::MaskedIdNumber;
pub use permit::{PermitClaims, StatusRef};
pub use qr_text::QrKind;
pub use signer::{KeyFileSigner, Signer};
pub use status_list::{Status, StatusList};
pub use status_source::StatusSource;
pub use trust_list::{KeyState, TrustList, TrustedKey};
pub use trust_store::{BundleLoad, Change, TrustStore};
pub use verify::{Assurance, Verdict, Verification, VerifyOptions, Warning, verify};
