#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod application;
pub mod calendar;
mod carried_dates;
mod continuity;
mod contract;
mod coverage;
mod district;
mod endorsement;
mod error;
#[cfg(feature = "openapi")]
pub mod openapi;
mod period;
mod permit_number;
mod registration;
mod report;
mod status_change;

pub use application::{
    Application, Basis, REQUIRED_CONTINUOUS_MONTHS, UnmetCondition, check_application,
};
pub use carried_dates::{FIRST_CARRIED_DAY, LAST_CARRIED_DAY, check_carried_date};
pub use continuity::Continuity;
pub use contract::{ReportRequest, parse_report_request};
pub use district::{District, DistrictCode};
pub use endorsement::{Endorsed, EndorsementCalendar, Stage, Timing, TooEarly, Window};
pub use error::{Error, Result};
pub use period::{Lapse, Period};
pub use permit_number::PermitNumber;
pub use registration::{MAX_BACKDATED_DAYS, check_declared_start};
pub use report::{
    Blocker, PermitFacts, PermitStatus, Report, ReportInput, RuleOutcome, Thresholds, report,
};
pub use status_change::StatusChange;
