//! The permit-application check (SPEC §1.2; notice 一(三), mutual recognition of registration
//! time within Jinhua).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::calendar::add_months;
use crate::continuity::Continuity;
use crate::coverage::Coverage;
use crate::{District, Lapse, Period};

/// Months of continuous registration within Jinhua an application needs.
pub const REQUIRED_CONTINUOUS_MONTHS: i32 = 6;

/// The declared basis of an application (notice 一(三)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// Legal stable employment (合法稳定就业).
    Employment,
    /// Legal stable residence (合法稳定住所).
    Housing,
    /// Continuous study (连续就读).
    Study,
}

/// What an application declares, with the registrations known on its date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application<'a> {
    /// The application date.
    pub date: NaiveDate,
    /// The district applied to.
    pub district: District,
    /// The applicant's confirmed registrations.
    pub periods: &'a [Period],
    /// Lapses of an earlier permit, if any.
    pub lapses: &'a [Lapse],
    /// The declared basis.
    pub basis: Option<Basis>,
    /// Whether evidence of the basis is attached.
    pub has_evidence: bool,
}

/// A condition of SPEC §1.2 the application does not meet, named so the applicant can act on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "condition", rename_all = "snake_case")]
pub enum UnmetCondition {
    /// Not registered in the district applied to on the application date.
    NotRegisteredInDistrict,
    /// Fewer than six calendar months of continuous registration within Jinhua.
    ContinuousResidenceUnderSixMonths {
        /// Start of the current continuous registration in Jinhua, if any.
        since: Option<NaiveDate>,
        /// The first day an application can succeed if registration goes on unbroken.
        met_on: Option<NaiveDate>,
    },
    /// No basis declared.
    NoBasis,
    /// No evidence attached.
    NoEvidence,
}

impl UnmetCondition {
    /// The stable code of the condition.
    pub fn code(&self) -> &'static str {
        match self {
            UnmetCondition::NotRegisteredInDistrict => "not_registered_in_district",
            UnmetCondition::ContinuousResidenceUnderSixMonths { .. } => {
                "continuous_residence_under_six_months"
            }
            UnmetCondition::NoBasis => "no_basis",
            UnmetCondition::NoEvidence => "no_evidence",
        }
    }
}

/// Checks an application against SPEC §1.2: `Ok` when allowed, otherwise every unmet condition,
/// in the order above.
pub fn check_application(app: &Application<'_>) -> Result<(), Vec<UnmetCondition>> {
    let mut unmet = Vec::new();
    let in_district = Coverage::of(app.periods, app.date, |p| {
        p.district() == app.district.as_code()
    });
    if !in_district.registered_on_as_of() {
        unmet.push(UnmetCondition::NotRegisteredInDistrict);
    }
    let in_jinhua = Coverage::of(app.periods, app.date, |p| p.district().is_jinhua());
    let since = Continuity::of(&in_jinhua, app.lapses, app.date).since;
    let met_on = since.map(|s| add_months(s, REQUIRED_CONTINUOUS_MONTHS));
    if met_on.is_none_or(|d| d > app.date) {
        unmet.push(UnmetCondition::ContinuousResidenceUnderSixMonths { since, met_on });
    }
    if app.basis.is_none() {
        unmet.push(UnmetCondition::NoBasis);
    }
    if !app.has_evidence {
        unmet.push(UnmetCondition::NoEvidence);
    }
    if unmet.is_empty() { Ok(()) } else { Err(unmet) }
}
