//! Residence registration (SPEC §1.1; notice 一(一)): what a declared start date may be.

use chrono::NaiveDate;

use crate::calendar::add_days;
use crate::{Error, Result};

/// How far in the past a declared start date may lie, in days.
pub const MAX_BACKDATED_DAYS: i64 = 30;

/// Checks a declared registration start against the day of declaration: a day a credential can
/// carry ([`crate::check_carried_date`]), at most [`MAX_BACKDATED_DAYS`] in the past, never in
/// the future.
pub fn check_declared_start(start: NaiveDate, today: NaiveDate) -> Result<()> {
    crate::check_carried_date(start)?;
    if start > today {
        Err(Error::StartInFuture)
    } else if start < add_days(today, -MAX_BACKDATED_DAYS) {
        Err(Error::StartTooFarInPast)
    } else {
        Ok(())
    }
}
