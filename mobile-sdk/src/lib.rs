#![doc = include_str!("../README.md")]
// UniFFI's generated scaffolding is `unsafe` FFI glue (`extern "C"` functions, raw buffers), so
// `forbid(unsafe_code)` cannot hold; `deny` does, because the lint is not raised for code that
// the uniffi macros expand. No `unsafe` is written by hand in this crate.
#![deny(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

uniffi::setup_scaffolding!("epermit_sdk");

mod demo;
mod error;
mod holder;
mod permit;
mod report;
mod time;
mod verifier;
#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
mod wasm;

pub use demo::{DemoBundle, demo_bundle_for_holder};
pub use error::{Result, SdkError};
pub use holder::{HolderSigner, present, report};
pub use permit::{Lapse, Permit, ResidencePeriod};
pub use report::{Blocker, Continuity, Report, Rule};
pub use verifier::{
    Assurance, BundleListLoad, BundleLoad, Change, ListInfo, ListKind, ListOutcome, Verdict,
    Verification, Verifier, VerifierState, VerifyOptions, VerifyWarning,
};
