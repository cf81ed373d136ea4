#![doc = include_str!("../README.md")]
#![deny(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

#[allow(unsafe_code)]
pub mod abi;
pub mod calls;
mod error;
pub mod holder;
pub mod json;
pub mod qr;
pub mod time;

pub use error::{Result, WebError};
