//! Which days a permit credential can carry (SPEC §2): the credential writes each day as its day
//! number, whole days since 1970-01-01, as an unsigned integer, so a day before 1970-01-01 (or
//! after 9999-12-31) has no encoding. The rule binds wherever such a day enters the service: an
//! imported or declared registration, and the periods read back when a credential is signed.
//!
//! Only days the credential states are bounded — residence periods, lapses, issue and endorsement
//! days. A holder's birth date is not one of them (the credential carries the ID number masked,
//! its birth-date digits hidden), so a person born in 1949 holds a permit like anyone else.

use chrono::NaiveDate;

use crate::calendar::EPOCH;
use crate::{Error, Result};

/// The first day a credential can carry: 1970-01-01, day number 0.
pub const FIRST_CARRIED_DAY: NaiveDate = EPOCH;

/// The last day a credential can carry: 9999-12-31.
pub const LAST_CARRIED_DAY: NaiveDate = match NaiveDate::from_ymd_opt(9999, 12, 31) {
    Some(d) => d,
    None => panic!("9999-12-31 is a date"),
};

/// Checks that a credential can carry `day`: `date_before_1970` before [`FIRST_CARRIED_DAY`],
/// `date_after_9999` after [`LAST_CARRIED_DAY`].
pub fn check_carried_date(day: NaiveDate) -> Result<()> {
    if day < FIRST_CARRIED_DAY {
        Err(Error::DateBefore1970)
    } else if day > LAST_CARRIED_DAY {
        Err(Error::DateAfter9999)
    } else {
        Ok(())
    }
}
