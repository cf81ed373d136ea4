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

/// `YYYY-MM-DD`, the date form of the SPEC §3 contract: chrono's `Display` of a date, the same
/// text as `format("%Y-%m-%d")` without interpreting a format string (that took a fifth of the
/// SDK's work around the two signatures of a verification, a dozen dates per report).
pub(crate) fn date_text(d: NaiveDate) -> String {
    d.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Datelike;

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

    #[test]
    fn date_text_is_the_strftime_form_for_every_year_chrono_holds() {
        let mut years: Vec<i32> = (-20..20).chain(990..1010).chain(9990..10_010).collect();
        years.extend([
            NaiveDate::MIN.year(),
            NaiveDate::MAX.year(),
            1970,
            2026,
            2400,
        ]);
        for year in years {
            for (month, day) in [(1, 1), (2, 28), (3, 9), (12, 31)] {
                let Some(d) = NaiveDate::from_ymd_opt(year, month, day) else {
                    continue;
                };
                assert_eq!(date_text(d), d.format("%Y-%m-%d").to_string(), "{d:?}");
            }
        }
        for d in [NaiveDate::MIN, NaiveDate::MAX] {
            assert_eq!(date_text(d), d.format("%Y-%m-%d").to_string());
        }
    }
}
