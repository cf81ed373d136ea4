//! Time as the pages give it: Unix seconds in a JavaScript number (`Date.now() / 1000`), read
//! here into the platform instant the SDK takes. The module has no clock of its own.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Utc};

use crate::error::{Result, WebError};

/// The instant `secs` Unix seconds (fractions dropped, rounding down). Refuses `NaN`, infinities
/// and instants beyond chrono's range (± 262 000 years).
pub fn from_unix_seconds(secs: f64) -> Result<SystemTime> {
    let bad = || WebError::invalid_input("a time is a number of Unix seconds");
    if !secs.is_finite() {
        return Err(bad());
    }
    let whole = secs.floor();
    // Within chrono's range, so every instant accepted here converts for the holder side too.
    if DateTime::from_timestamp(whole as i64, 0).is_none() || whole.abs() > 9.0e15 {
        return Err(bad());
    }
    let magnitude = Duration::from_secs(whole.abs() as u64);
    if whole >= 0.0 {
        UNIX_EPOCH.checked_add(magnitude).ok_or_else(bad)
    } else {
        UNIX_EPOCH.checked_sub(magnitude).ok_or_else(bad)
    }
}

/// The chrono instant of a platform instant (whole seconds).
pub(crate) fn instant(t: SystemTime) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp(crate::json::unix_seconds(t), 0)
        .ok_or_else(|| WebError::invalid_input("a time is a number of Unix seconds"))
}
