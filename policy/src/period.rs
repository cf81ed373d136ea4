//! Registration periods and lapses: the two kinds of date range the rules read (SPEC §1.1, §1.4, §3).

use chrono::NaiveDate;
use serde::Serialize;

use crate::{DistrictCode, Error, Result};

/// A confirmed residence registration: `[start, end)` in `district`; `end` is the move-out day,
/// `None` while the person is still registered there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Period {
    district: DistrictCode,
    start: NaiveDate,
    end: Option<NaiveDate>,
}

impl Period {
    /// A period; refused when `end < start` (`period_ends_before_start`). `end == start` is an
    /// empty period (registered and ended the same day).
    pub fn new(district: DistrictCode, start: NaiveDate, end: Option<NaiveDate>) -> Result<Self> {
        match end {
            Some(end) if end < start => Err(Error::PeriodEndsBeforeStart),
            _ => Ok(Period {
                district,
                start,
                end,
            }),
        }
    }

    /// Where.
    pub fn district(&self) -> DistrictCode {
        self.district
    }

    /// First day registered.
    pub fn start(&self) -> NaiveDate {
        self.start
    }

    /// Move-out day (first day no longer registered), if ended.
    pub fn end(&self) -> Option<NaiveDate> {
        self.end
    }

    /// Whether the period covers `day` (`start <= day < end`).
    pub fn covers(&self, day: NaiveDate) -> bool {
        self.start <= day && self.end.is_none_or(|end| day < end)
    }
}

/// A time the permit's use was suspended for want of endorsement: `[from, until)`, `until` being
/// the day of the late endorsement, `None` while still unendorsed (SPEC §1.4).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Lapse {
    from: NaiveDate,
    until: Option<NaiveDate>,
}

impl Lapse {
    /// A lapse; refused when `until < from` (`lapse_ends_before_start`).
    pub fn new(from: NaiveDate, until: Option<NaiveDate>) -> Result<Self> {
        match until {
            Some(until) if until < from => Err(Error::LapseEndsBeforeStart),
            _ => Ok(Lapse { from, until }),
        }
    }

    /// The closed lapse between two days, whichever order they come in.
    pub(crate) fn closed(a: NaiveDate, b: NaiveDate) -> Self {
        Lapse {
            from: a.min(b),
            until: Some(a.max(b)),
        }
    }

    /// The anniversary that passed without endorsement.
    pub fn from(&self) -> NaiveDate {
        self.from
    }

    /// The late endorsement's day, if endorsed since.
    pub fn until(&self) -> Option<NaiveDate> {
        self.until
    }

    /// Whether the lapse is open on `day`: begun and not yet ended by an endorsement.
    pub fn is_open_on(&self, day: NaiveDate) -> bool {
        self.from <= day && self.until.is_none_or(|until| day < until)
    }
}
