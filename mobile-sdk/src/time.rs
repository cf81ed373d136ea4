//! Conversions between the platform's clock (`SystemTime`: Kotlin `Instant`, Swift `Date`,
//! Python `datetime`) and the instants and days of SPEC §2/§3. Calendar days are the days of
//! Asia/Shanghai, as everywhere in the SPEC: [`policy::calendar::day_in_shanghai`].

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, NaiveDate, Utc};

/// The instant, saturated to chrono's range (± 262 000 years): a clock that far off is past
/// every expiry or before every issue, which verification then reports as such.
pub(crate) fn instant(t: SystemTime) -> DateTime<Utc> {
    let (secs, nanos, after) = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => (d.as_secs(), d.subsec_nanos(), true),
        Err(e) => (e.duration().as_secs(), e.duration().subsec_nanos(), false),
    };
    let secs = i64::try_from(secs).unwrap_or(i64::MAX);
    let converted = if after {
        DateTime::from_timestamp(secs, nanos)
    } else if nanos == 0 {
        DateTime::from_timestamp(-secs, 0)
    } else {
        DateTime::from_timestamp(-secs - 1, 1_000_000_000 - nanos)
    };
    converted.unwrap_or(if after {
        DateTime::<Utc>::MAX_UTC
    } else {
        DateTime::<Utc>::MIN_UTC
    })
}

/// The platform instant of `t`.
pub(crate) fn system_time(t: DateTime<Utc>) -> SystemTime {
    let nanos = t.timestamp_subsec_nanos();
    match u64::try_from(t.timestamp()) {
        Ok(secs) => UNIX_EPOCH + Duration::new(secs, nanos),
        Err(_) => {
            let back = Duration::new(t.timestamp().unsigned_abs(), 0);
            UNIX_EPOCH
                .checked_sub(back)
                .and_then(|s| s.checked_add(Duration::new(0, nanos)))
                .unwrap_or(UNIX_EPOCH)
        }
    }
}

/// `YYYY-MM-DD`, the date form of the SPEC §3 contract.
pub(crate) fn date_text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_round_trip_through_the_platform_clock() {
        for secs in [0, 1, 1_780_000_000, -1, -86_400 * 365] {
            for nanos in [0, 1, 999_999_999] {
                let t = DateTime::from_timestamp(secs, nanos).unwrap();
                assert_eq!(instant(system_time(t)), t, "{secs} {nanos}");
            }
        }
    }

    #[test]
    fn a_clock_beyond_chrono_s_range_saturates_instead_of_panicking() {
        let far = UNIX_EPOCH + Duration::from_secs(u64::MAX / 4);
        assert_eq!(instant(far), DateTime::<Utc>::MAX_UTC);
        if let Some(early) = UNIX_EPOCH.checked_sub(Duration::from_secs(u64::MAX / 4)) {
            assert_eq!(instant(early), DateTime::<Utc>::MIN_UTC);
        }
    }

    #[test]
    fn dates_are_iso_calendar_dates() {
        let d = NaiveDate::from_ymd_opt(2026, 3, 9).unwrap();
        assert_eq!(date_text(d), "2026-03-09");
    }
}
