#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod calendar;
mod district;
mod error;
mod period;
mod permit_number;

pub use district::{District, DistrictCode};
pub use error::{Error, Result};
pub use period::{Lapse, Period};
pub use permit_number::PermitNumber;
