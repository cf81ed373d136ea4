//! Calendar arithmetic of the rules: month steps (Civil Code art. 201–202), the day numbers that
//! credentials carry, and the one clock of the product: days are the calendar days of
//! Asia/Shanghai (SPEC §2, §3), and [`today`] is the only place that reads the system clock for one.

use chrono::{DateTime, Months, NaiveDate, NaiveTime, TimeDelta, Utc};

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
    day.checked_add_signed(TimeDelta::days(n))
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
    EPOCH.checked_add_signed(TimeDelta::try_days(n)?)
}

/// Asia/Shanghai's offset from UTC: 8 hours all year (no daylight saving since 1991).
const SHANGHAI_OFFSET: TimeDelta = TimeDelta::hours(8);

/// The calendar day in Asia/Shanghai at `instant`: the day every date rule is judged on (SPEC §3
/// `as_of`, §1 application and endorsement days) and the day of a credential's instants (SPEC §2).
///
/// Saturates at chrono's range instead of panicking.
pub fn day_in_shanghai(instant: DateTime<Utc>) -> NaiveDate {
    instant
        .checked_add_signed(SHANGHAI_OFFSET)
        .unwrap_or(instant)
        .date_naive()
}

/// 00:00 Asia/Shanghai on `day`, as a UTC instant (16:00 UTC the day before): where a day of
/// [`day_in_shanghai`] begins, e.g. a credential's `exp` on its next anniversary (SPEC §2).
///
/// Saturates at chrono's range instead of panicking.
pub fn start_of_day_in_shanghai(day: NaiveDate) -> DateTime<Utc> {
    let local_midnight = day.and_time(NaiveTime::MIN);
    local_midnight
        .checked_sub_signed(SHANGHAI_OFFSET)
        .unwrap_or(local_midnight)
        .and_utc()
}

/// Today in Asia/Shanghai by the system clock: `day_in_shanghai(Utc::now())` (SPEC §2, §3).
pub fn today() -> NaiveDate {
    day_in_shanghai(Utc::now())
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

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    #[test]
    fn the_shanghai_day_turns_at_16_00_utc() {
        for (instant, day) in [
            ("2026-03-09T15:59:59Z", "2026-03-09"),
            ("2026-03-09T16:00:00Z", "2026-03-10"),
            ("2026-03-09T15:59:59.999999999Z", "2026-03-09"),
            ("2026-03-10T15:59:59Z", "2026-03-10"),
            // New Year's Eve in UTC is already New Year's Day in Shanghai.
            ("2025-12-31T20:00:00Z", "2026-01-01"),
        ] {
            assert_eq!(day_in_shanghai(utc(instant)), d(day), "{instant}");
        }
    }

    #[test]
    fn a_shanghai_day_starts_at_16_00_utc_the_day_before() {
        let start = start_of_day_in_shanghai(d("2026-03-10"));
        assert_eq!(start, utc("2026-03-09T16:00:00Z"));
        assert_eq!(day_in_shanghai(start), d("2026-03-10"));
        assert_eq!(
            day_in_shanghai(start - TimeDelta::nanoseconds(1)),
            d("2026-03-09")
        );
        assert_eq!(
            start_of_day_in_shanghai(d("2024-03-01")),
            utc("2024-02-29T16:00:00Z")
        );
    }

    #[test]
    fn the_shanghai_clock_saturates_instead_of_panicking() {
        assert_eq!(
            day_in_shanghai(DateTime::<Utc>::MAX_UTC),
            DateTime::<Utc>::MAX_UTC.date_naive()
        );
        assert_eq!(
            start_of_day_in_shanghai(NaiveDate::MIN),
            NaiveDate::MIN.and_time(NaiveTime::MIN).and_utc()
        );
    }

    #[test]
    fn today_is_the_shanghai_day_of_now() {
        let before = day_in_shanghai(Utc::now());
        let got = today();
        let after = day_in_shanghai(Utc::now());
        assert!(before <= got && got <= after);
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
