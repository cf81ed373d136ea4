//! Which days registrations cover (SPEC §3): the union of half-open periods, cut at `as_of`.

use chrono::NaiveDate;

use crate::Period;
use crate::calendar::days_between;

/// The days some registrations cover before a day `as_of`, as sorted, disjoint, non-adjacent
/// ranges `[start, end)`, plus whether they are registered *on* `as_of`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Coverage {
    ranges: Vec<(NaiveDate, NaiveDate)>,
    registered_on_as_of: bool,
}

impl Coverage {
    /// The coverage of the periods that `keep` selects. Periods starting after `as_of` are
    /// ignored; an open period or one ending after `as_of` is cut at `as_of` and means registered
    /// on `as_of`. Overlaps count once.
    pub(crate) fn of<'a>(
        periods: impl IntoIterator<Item = &'a Period>,
        as_of: NaiveDate,
        keep: impl Fn(&Period) -> bool,
    ) -> Coverage {
        let mut registered_on_as_of = false;
        let mut raw: Vec<(NaiveDate, NaiveDate)> = Vec::new();
        for p in periods
            .into_iter()
            .filter(|p| keep(p) && p.start() <= as_of)
        {
            if p.covers(as_of) {
                registered_on_as_of = true;
            }
            let end = p.end().map_or(as_of, |e| e.min(as_of));
            if p.start() < end {
                raw.push((p.start(), end));
            }
        }
        raw.sort_unstable();
        let mut ranges: Vec<(NaiveDate, NaiveDate)> = Vec::with_capacity(raw.len());
        for (start, end) in raw {
            match ranges.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => ranges.push((start, end)),
            }
        }
        Coverage {
            ranges,
            registered_on_as_of,
        }
    }

    /// Whether registered on `as_of` itself.
    pub(crate) fn registered_on_as_of(&self) -> bool {
        self.registered_on_as_of
    }

    /// Number of covered days before `as_of`.
    pub(crate) fn days(&self) -> i64 {
        self.ranges.iter().map(|(s, e)| days_between(*s, *e)).sum()
    }

    /// The first day of the unbroken run of covered days reaching `as_of`, when registered on
    /// `as_of` (`as_of` itself when the day before is not covered).
    pub(crate) fn run_start(&self, as_of: NaiveDate) -> Option<NaiveDate> {
        if !self.registered_on_as_of {
            return None;
        }
        Some(match self.ranges.last() {
            Some(&(start, end)) if end == as_of => start,
            _ => as_of,
        })
    }

    /// The day on which the count of covered days reaches `required`: the day after the
    /// `required`-th covered day, assuming coverage goes on unbroken after `as_of`.
    pub(crate) fn day_reaching(&self, required: i64, as_of: NaiveDate) -> NaiveDate {
        let mut left = required;
        for &(start, end) in &self.ranges {
            let len = days_between(start, end);
            if left <= len {
                return crate::calendar::add_days(start, left);
            }
            left -= len;
        }
        crate::calendar::add_days(as_of, left)
    }
}
