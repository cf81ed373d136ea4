//! Continuous residence (SPEC §3 `continuous_at_target`, `continuous_in_jinhua`): the unbroken run
//! of registered days reaching `as_of`, restarted by lapses (SPEC §1.4).

use chrono::NaiveDate;
use serde::Serialize;

use crate::Lapse;
use crate::calendar::days_between;
use crate::coverage::Coverage;

/// Continuous residence as of a day: since when, and how many days that makes.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Continuity {
    /// First day of the run that counts; `None` when not registered on `as_of` or a lapse is
    /// open on `as_of`.
    pub since: Option<NaiveDate>,
    /// `as_of − since`, or 0.
    pub days: i64,
}

impl Continuity {
    /// No continuous residence.
    pub const NONE: Continuity = Continuity {
        since: None,
        days: 0,
    };

    /// The run of `coverage` reaching `as_of`, moved forward to the latest lapse that ended on or
    /// before `as_of` after the run began; none if a lapse is open on `as_of`.
    pub(crate) fn of(coverage: &Coverage, lapses: &[Lapse], as_of: NaiveDate) -> Continuity {
        if lapses.iter().any(|l| l.is_open_on(as_of)) {
            return Continuity::NONE;
        }
        let Some(run_start) = coverage.run_start(as_of) else {
            return Continuity::NONE;
        };
        let since = lapses
            .iter()
            .filter_map(Lapse::until)
            .filter(|&until| until <= as_of)
            .fold(run_start, NaiveDate::max);
        Continuity {
            since: Some(since),
            days: days_between(since, as_of),
        }
    }
}
