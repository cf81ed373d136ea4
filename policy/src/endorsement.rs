//! The endorsement calendar (SPEC §1.4; decree 663 art. 10): anniversaries, the window before each,
//! and the lapses that late endorsements leave.

use chrono::NaiveDate;
use serde::Serialize;

use crate::calendar::add_months;
use crate::{Error, Lapse, Result};

/// Where a day falls relative to the permit's next anniversary: `Ok` with the endorsement it
/// would be accepted as, or `Err` when it is before the window.
pub type Timing = std::result::Result<Endorsed, TooEarly>;

/// An endorsement accepted (SPEC §1.4). Serialised with its kind under `timing` (`in_window`,
/// `late`), as the API returns it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "timing", rename_all = "snake_case")]
pub enum Endorsed {
    /// In `[add_months(anniversary, -1), anniversary)`: accepted, validity moves to `next`.
    InWindow {
        /// The anniversary being endorsed.
        anniversary: NaiveDate,
        /// The validity end after endorsement, the following anniversary.
        next: NaiveDate,
    },
    /// On or after the anniversary: accepted late, the lapse `[anniversary, day)` is recorded and
    /// anniversaries count from the endorsement day.
    Late {
        /// The anniversary that passed.
        anniversary: NaiveDate,
        /// The lapse the late endorsement closes.
        lapse: Lapse,
        /// The validity end after endorsement, `day + 1 year`.
        next: NaiveDate,
    },
}

/// An endorsement refused because its window has not opened (SPEC §1.4,
/// `endorsement_too_early`): the dates tell when to come back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TooEarly {
    /// First day of the window, `add_months(anniversary, -1)`.
    pub window_opens: NaiveDate,
    /// The anniversary the window precedes.
    pub anniversary: NaiveDate,
}

/// The endorsement window before the next anniversary (SPEC §1.4) and where a day falls in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Window {
    /// First day an endorsement is accepted, `add_months(anniversary, -1)`.
    pub opens: NaiveDate,
    /// The next anniversary: the last day of the window is the day before; from it on the
    /// permit's use is suspended until it is endorsed (late).
    pub anniversary: NaiveDate,
    /// Where the day asked about falls: before the window, in it, or overdue.
    pub stage: Stage,
}

/// Where a day falls relative to the endorsement window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Before `opens`: an endorsement is refused (`endorsement_too_early`).
    BeforeWindow,
    /// In `[opens, anniversary)`: accepted, validity moves to the following anniversary.
    Open,
    /// On or after the anniversary: the permit's use is suspended; a late endorsement restores
    /// it and leaves a lapse.
    Overdue,
}

/// The endorsement history of one permit, replayed: anniversaries are `anchor + k years`, the
/// anchor being the issue date until a late endorsement on day L makes it L.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndorsementCalendar {
    issued: NaiveDate,
    anchor: NaiveDate,
    years: i32,
    last_endorsed: Option<NaiveDate>,
    closed_lapses: Vec<Lapse>,
}

impl EndorsementCalendar {
    /// The calendar of a permit issued on `issued` and endorsed on `endorsements` (in order).
    /// Refused when an endorsement precedes the issue date or the one before it
    /// (`endorsement_out_of_order`), or came before its window (`endorsement_too_early`).
    pub fn new(issued: NaiveDate, endorsements: &[NaiveDate]) -> Result<Self> {
        let mut calendar = EndorsementCalendar {
            issued,
            anchor: issued,
            years: 1,
            last_endorsed: None,
            closed_lapses: Vec::new(),
        };
        for &day in endorsements {
            if day < calendar.last_endorsed.unwrap_or(issued) {
                return Err(Error::EndorsementOutOfOrder);
            }
            calendar
                .endorse(day)
                .map_err(|_| Error::EndorsementTooEarly)?;
        }
        Ok(calendar)
    }

    /// The issue date.
    pub fn issued(&self) -> NaiveDate {
        self.issued
    }

    /// The last endorsement, if any.
    pub fn last_endorsed(&self) -> Option<NaiveDate> {
        self.last_endorsed
    }

    /// The next anniversary: the end of validity (exclusive) as things stand.
    pub fn next_anniversary(&self) -> NaiveDate {
        add_months(self.anchor, self.years.saturating_mul(12))
    }

    /// Whether the permit's use is suspended on `day` for want of endorsement.
    pub fn is_overdue_on(&self, day: NaiveDate) -> bool {
        day >= self.next_anniversary()
    }

    /// The window before the next anniversary, and where `day` falls in it.
    pub fn window(&self, day: NaiveDate) -> Window {
        let anniversary = self.next_anniversary();
        let opens = add_months(anniversary, -1);
        let stage = if day < opens {
            Stage::BeforeWindow
        } else if day < anniversary {
            Stage::Open
        } else {
            Stage::Overdue
        };
        Window {
            opens,
            anniversary,
            stage,
        }
    }

    /// Where `day` falls, without endorsing: too early, or the endorsement it would be.
    pub fn timing(&self, day: NaiveDate) -> Timing {
        let Window {
            opens,
            anniversary,
            stage,
        } = self.window(day);
        match stage {
            Stage::BeforeWindow => Err(TooEarly {
                window_opens: opens,
                anniversary,
            }),
            Stage::Open => Ok(Endorsed::InWindow {
                anniversary,
                next: add_months(self.anchor, (self.years + 1) * 12),
            }),
            Stage::Overdue => Ok(Endorsed::Late {
                anniversary,
                lapse: Lapse::closed(anniversary, day),
                next: add_months(day, 12),
            }),
        }
    }

    /// Endorses on `day`: what it was accepted as, or [`TooEarly`] (and nothing changes) when the
    /// window has not opened.
    pub fn endorse(&mut self, day: NaiveDate) -> std::result::Result<Endorsed, TooEarly> {
        let endorsed = self.timing(day)?;
        match endorsed {
            Endorsed::InWindow { .. } => self.years += 1,
            Endorsed::Late { lapse, .. } => {
                self.closed_lapses.push(lapse);
                self.anchor = day;
                self.years = 1;
            }
        }
        self.last_endorsed = Some(day);
        Ok(endorsed)
    }

    /// The lapses as of `as_of`: each closed by a late endorsement, and the open one
    /// `[anniversary, null)` if the next anniversary has passed unendorsed.
    pub fn lapses(&self, as_of: NaiveDate) -> Vec<Lapse> {
        let mut lapses = self.closed_lapses.clone();
        if self.is_overdue_on(as_of) {
            lapses.extend(Lapse::new(self.next_anniversary(), None));
        }
        lapses
    }
}
