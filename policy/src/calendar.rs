//! Calendar arithmetic of the rules: month steps (Civil Code art. 201–202) and the day numbers
//! that credentials carry.

use chrono::{Months, NaiveDate};

/// The same day `n` months later (or earlier, for negative `n`), clamped to the last day of the
/// month when that month is shorter (SPEC §3 `add_months`; Civil Code art. 201–202).
///
/// Saturates at chrono's date range instead of panicking.
pub fn add_months(day: NaiveDate, n: i32) -> NaiveDate {
    let months = Months::new(n.unsigned_abs());
    let moved = if n >= 0 {
        day.checked_add_months(months)
    } else {
        day.checked_sub_months(months)
    };
    moved.unwrap_or(if n >= 0 {
        NaiveDate::MAX
    } else {
        NaiveDate::MIN
    })
}

/// The same day `n` days later, saturating at chrono's date range.
pub fn add_days(day: NaiveDate, n: i64) -> NaiveDate {
    day.checked_add_signed(chrono::TimeDelta::days(n))
        .unwrap_or(if n >= 0 {
            NaiveDate::MAX
        } else {
            NaiveDate::MIN
        })
}

/// Whole days from `from` to `to` (negative when `to` is earlier).
pub fn days_between(from: NaiveDate, to: NaiveDate) -> i64 {
    (to - from).num_days()
}

/// 1970-01-01, day 0 of the credential's day numbers.
pub const EPOCH: NaiveDate = match NaiveDate::from_ymd_opt(1970, 1, 1) {
    Some(d) => d,
    None => panic!("1970-01-01 is a date"),
};

/// The day number of `day`: whole days since 1970-01-01 (SPEC §2).
pub fn epoch_day(day: NaiveDate) -> i64 {
    days_between(EPOCH, day)
}

/// The date of a day number, if it lies within chrono's range.
pub fn from_epoch_day(n: i64) -> Option<NaiveDate> {
    EPOCH.checked_add_signed(chrono::TimeDelta::try_days(n)?)
}

/// Parses an ISO 8601 calendar date (`YYYY-MM-DD`), the only date form of the JSON contracts.
pub fn parse_date(text: &str) -> Result<NaiveDate, crate::Error> {
    let bytes = text.as_bytes();
    let shape_ok = bytes.len() == 10
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes
            .iter()
            .enumerate()
            .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
    if !shape_ok {
        return Err(crate::Error::InvalidDate);
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| crate::Error::InvalidDate)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        parse_date(s).unwrap()
    }

    #[test]
    fn add_months_clamps_to_the_last_day_of_a_shorter_month() {
        assert_eq!(add_months(d("2024-08-31"), 6), d("2025-02-28"));
        assert_eq!(add_months(d("2024-01-31"), 1), d("2024-02-29"));
        assert_eq!(add_months(d("2024-02-29"), 12), d("2025-02-28"));
        assert_eq!(add_months(d("2025-03-31"), -1), d("2025-02-28"));
        assert_eq!(add_months(d("2025-01-15"), 12), d("2026-01-15"));
    }

    #[test]
    fn add_months_saturates_instead_of_panicking() {
        assert_eq!(add_months(NaiveDate::MAX, 1), NaiveDate::MAX);
        assert_eq!(add_months(NaiveDate::MIN, -1), NaiveDate::MIN);
    }

    #[test]
    fn epoch_days_count_from_1970() {
        assert_eq!(epoch_day(d("1970-01-01")), 0);
        assert_eq!(epoch_day(d("2026-01-15")), 20468);
        assert_eq!(from_epoch_day(20468), Some(d("2026-01-15")));
        assert_eq!(from_epoch_day(i64::MAX), None);
    }

    #[test]
    fn dates_are_strict_iso_calendar_dates() {
        for bad in [
            "2025-02-30",
            "2025-2-01",
            "20250201",
            "2025-02-01T00:00",
            " 2025-02-01",
            "２０２５-02-01",
        ] {
            assert_eq!(parse_date(bad), Err(crate::Error::InvalidDate), "{bad:?}");
        }
    }
}
