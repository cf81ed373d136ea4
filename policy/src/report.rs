//! The conversion report (SPEC §3; notice 二(六) and 二(七)): days counted toward converting the
//! permit into a hukou at a target district, and what still blocks it.

use chrono::NaiveDate;
use serde::Serialize;

use crate::calendar::add_months;
use crate::continuity::Continuity;
use crate::coverage::Coverage;
use crate::{District, Lapse, Period};

/// The state of a permit as the report needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PermitStatus {
    /// In force.
    Active,
    /// Use suspended by an officer.
    Suspended,
    /// Revoked (final).
    Revoked,
}

/// The permit the person holds, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PermitFacts {
    /// The issuing district.
    pub issuer: District,
    /// Its status.
    pub status: PermitStatus,
}

/// Everything the report is computed from, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportInput {
    /// The district the person would convert the permit into a hukou at.
    pub target: District,
    /// The day the report is for.
    pub as_of: NaiveDate,
    /// Confirmed registration periods (the only basis of residence time, SPEC §1.1).
    pub periods: Vec<Period>,
    /// Lapses of the permit (SPEC §1.4).
    pub lapses: Vec<Lapse>,
    /// The permit held, if any.
    pub permit: Option<PermitFacts>,
}

/// How long the rules of SPEC §3 ask for at a district: `(M, D, M2)` = (24, 730, 12) for Yiwu
/// 330782, (12, 365, 6) elsewhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    /// `M`: months of continuous registration at the target (notice 二(六)).
    pub continuous_months: u32,
    /// `D`: days of cumulative registration in Jinhua (notice 二(七)).
    pub cumulative_days: i64,
    /// `M2`: months of continuous registration at the target that the cumulative rule also asks.
    pub cumulative_continuous_months: u32,
}

impl Thresholds {
    /// The thresholds at `target`.
    pub fn at(target: District) -> Thresholds {
        match target {
            District::Yiwu => Thresholds {
                continuous_months: 24,
                cumulative_days: 730,
                cumulative_continuous_months: 12,
            },
            _ => Thresholds {
                continuous_months: 12,
                cumulative_days: 365,
                cumulative_continuous_months: 6,
            },
        }
    }
}

/// One rule's outcome, serialised as in the SPEC §3 contract.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum RuleOutcome {
    /// Notice 二(六): `M` months continuously registered at the target.
    Continuous {
        /// `M`.
        required_months: u32,
        /// `met_on <= as_of`.
        met: bool,
        /// `add_months(since_T, M)`, or `None` without continuity at the target.
        met_on: Option<NaiveDate>,
    },
    /// Notice 二(七): `D` days cumulatively in Jinhua, `M2` months of them continuously at the target.
    Cumulative {
        /// `D`.
        required_days: i64,
        /// `M2`.
        required_continuous_months: u32,
        /// `met_on <= as_of`.
        met: bool,
        /// `max(add_months(since_T, M2), X)`, or `None` without continuity at the target.
        met_on: Option<NaiveDate>,
    },
}

impl RuleOutcome {
    /// Whether the rule is met.
    pub fn met(&self) -> bool {
        match self {
            RuleOutcome::Continuous { met, .. } | RuleOutcome::Cumulative { met, .. } => *met,
        }
    }

    /// The day the rule is (or will be, if registration goes on unbroken) met.
    pub fn met_on(&self) -> Option<NaiveDate> {
        match self {
            RuleOutcome::Continuous { met_on, .. } | RuleOutcome::Cumulative { met_on, .. } => {
                *met_on
            }
        }
    }
}

/// What stands in the way of conversion besides residence time, in the order SPEC §3 lists them.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Blocker {
    /// Not registered at the target on `as_of`.
    NotRegisteredAtTarget,
    /// A lapse is open on `as_of`: the permit awaits its endorsement.
    EndorsementOverdue,
    /// No permit.
    NoPermit,
    /// The permit was not issued by the target's bureau (notice 二(六)).
    PermitIssuerMismatch,
    /// The permit is suspended.
    PermitSuspended,
    /// The permit is revoked.
    PermitRevoked,
}

/// The conversion report: the serialised form is the SPEC §3 JSON contract.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The target district.
    pub target: District,
    /// The day of the report.
    pub as_of: NaiveDate,
    /// Registered at the target on `as_of`.
    pub registered_at_target: bool,
    /// Continuous residence at the target.
    pub continuous_at_target: Continuity,
    /// Continuous residence anywhere in Jinhua.
    pub continuous_in_jinhua: Continuity,
    /// Covered days in Jinhua before `as_of` (lapses do not reduce it).
    pub cumulative_in_jinhua_days: i64,
    /// The continuous rule, then the cumulative rule.
    pub rules: [RuleOutcome; 2],
    /// Either rule met.
    pub residence_met: bool,
    /// The earlier non-null `met_on` of the rules.
    pub residence_met_on: Option<NaiveDate>,
    /// What else blocks conversion.
    pub blockers: Vec<Blocker>,
    /// `residence_met` and no blockers.
    pub eligible: bool,
}

/// Computes the conversion report (SPEC §3).
pub fn report(input: &ReportInput) -> Report {
    let ReportInput { target, as_of, .. } = *input;
    let at_target = Coverage::of(&input.periods, as_of, |p| p.district() == target.as_code());
    let in_jinhua = Coverage::of(&input.periods, as_of, |p| p.district().is_jinhua());
    let continuous_at_target = Continuity::of(&at_target, &input.lapses, as_of);
    let continuous_in_jinhua = Continuity::of(&in_jinhua, &input.lapses, as_of);
    let cumulative_in_jinhua_days = in_jinhua.days();

    let t = Thresholds::at(target);
    let since = continuous_at_target.since;
    let continuous_on = since.map(|s| add_months(s, month_count(t.continuous_months)));
    let cumulative_on = since.map(|s| {
        add_months(s, month_count(t.cumulative_continuous_months))
            .max(in_jinhua.day_reaching(t.cumulative_days, as_of))
    });
    let met = |on: Option<NaiveDate>| on.is_some_and(|d| d <= as_of);
    let rules = [
        RuleOutcome::Continuous {
            required_months: t.continuous_months,
            met: met(continuous_on),
            met_on: continuous_on,
        },
        RuleOutcome::Cumulative {
            required_days: t.cumulative_days,
            required_continuous_months: t.cumulative_continuous_months,
            met: met(cumulative_on),
            met_on: cumulative_on,
        },
    ];
    let residence_met_on = rules.iter().filter_map(RuleOutcome::met_on).min();
    let residence_met = met(residence_met_on);
    let blockers = blockers(input, at_target.registered_on_as_of());
    Report {
        target,
        as_of,
        registered_at_target: at_target.registered_on_as_of(),
        continuous_at_target,
        continuous_in_jinhua,
        cumulative_in_jinhua_days,
        rules,
        residence_met,
        residence_met_on,
        eligible: residence_met && blockers.is_empty(),
        blockers,
    }
}

fn month_count(months: u32) -> i32 {
    i32::try_from(months).unwrap_or(i32::MAX)
}

fn blockers(input: &ReportInput, registered_at_target: bool) -> Vec<Blocker> {
    let mut out = Vec::new();
    if !registered_at_target {
        out.push(Blocker::NotRegisteredAtTarget);
    }
    if input.lapses.iter().any(|l| l.is_open_on(input.as_of)) {
        out.push(Blocker::EndorsementOverdue);
    }
    match input.permit {
        None => out.push(Blocker::NoPermit),
        Some(permit) => {
            if permit.issuer != input.target {
                out.push(Blocker::PermitIssuerMismatch);
            }
            match permit.status {
                PermitStatus::Active => {}
                PermitStatus::Suspended => out.push(Blocker::PermitSuspended),
                PermitStatus::Revoked => out.push(Blocker::PermitRevoked),
            }
        }
    }
    out
}
