//! The conversion report of SPEC §3 as records, plus its contract JSON, and the one place that
//! turns a credential's claims into the report's input.

use chrono::NaiveDate;
use crypto::PermitClaims;
use policy::{District, PermitStatus};

use crate::error::{Result, SdkError};
use crate::time::date_text;

/// The SPEC §3 report: days counted toward converting the permit into a hukou at `target`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Report {
    /// The target district's code.
    pub target: String,
    /// The day of the report, `YYYY-MM-DD`.
    pub as_of: String,
    /// Registered at the target on `as_of`.
    pub registered_at_target: bool,
    /// Continuous residence at the target.
    pub continuous_at_target: Continuity,
    /// Continuous residence anywhere in Jinhua.
    pub continuous_in_jinhua: Continuity,
    /// Covered days in Jinhua before `as_of`.
    pub cumulative_in_jinhua_days: i64,
    /// The continuous rule (notice 二(六)), then the cumulative rule (二(七)).
    pub rules: Vec<Rule>,
    /// Either rule met.
    pub residence_met: bool,
    /// The earlier day a rule is (or will be) met.
    pub residence_met_on: Option<String>,
    /// What else blocks conversion, in the SPEC §3 order.
    pub blockers: Vec<Blocker>,
    /// `residence_met` and no blockers.
    pub eligible: bool,
    /// The same report as the SPEC §3 contract JSON (byte for byte what the CLI and the API
    /// answer), for apps that pass it on or display it generically.
    pub contract_json: String,
}

/// Continuous residence: since when, and how many days.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Continuity {
    /// First day of the run that counts, `None` when there is none.
    pub since: Option<String>,
    /// Days from `since` to `as_of`.
    pub days: i64,
}

/// One rule's outcome.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum Rule {
    /// Notice 二(六): `required_months` continuously registered at the target.
    Continuous {
        /// `M` (24 for 义乌市, 12 elsewhere).
        required_months: u32,
        /// `met_on <= as_of`.
        met: bool,
        /// The day it is (or will be) met, `None` without continuity at the target.
        met_on: Option<String>,
    },
    /// Notice 二(七): `required_days` in Jinhua, `required_continuous_months` of them at the
    /// target.
    Cumulative {
        /// `D` (730 for 义乌市, 365 elsewhere).
        required_days: i64,
        /// `M2` (12 for 义乌市, 6 elsewhere).
        required_continuous_months: u32,
        /// `met_on <= as_of`.
        met: bool,
        /// The day it is (or will be) met, `None` without continuity at the target.
        met_on: Option<String>,
    },
}

/// What blocks conversion besides residence time (SPEC §3 `blockers`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Blocker {
    /// Not registered at the target on `as_of`.
    NotRegisteredAtTarget,
    /// A lapse is open: the annual endorsement is overdue.
    EndorsementOverdue,
    /// No permit.
    NoPermit,
    /// The permit was not issued by the target's bureau.
    PermitIssuerMismatch,
    /// The permit is suspended.
    PermitSuspended,
    /// The permit is revoked.
    PermitRevoked,
}

impl From<policy::Blocker> for Blocker {
    fn from(b: policy::Blocker) -> Blocker {
        match b {
            policy::Blocker::NotRegisteredAtTarget => Blocker::NotRegisteredAtTarget,
            policy::Blocker::EndorsementOverdue => Blocker::EndorsementOverdue,
            policy::Blocker::NoPermit => Blocker::NoPermit,
            policy::Blocker::PermitIssuerMismatch => Blocker::PermitIssuerMismatch,
            policy::Blocker::PermitSuspended => Blocker::PermitSuspended,
            policy::Blocker::PermitRevoked => Blocker::PermitRevoked,
        }
    }
}

impl From<policy::Continuity> for Continuity {
    fn from(c: policy::Continuity) -> Continuity {
        Continuity {
            since: c.since.map(date_text),
            days: c.days,
        }
    }
}

impl From<policy::RuleOutcome> for Rule {
    fn from(r: policy::RuleOutcome) -> Rule {
        match r {
            policy::RuleOutcome::Continuous {
                required_months,
                met,
                met_on,
            } => Rule::Continuous {
                required_months,
                met,
                met_on: met_on.map(date_text),
            },
            policy::RuleOutcome::Cumulative {
                required_days,
                required_continuous_months,
                met,
                met_on,
            } => Rule::Cumulative {
                required_days,
                required_continuous_months,
                met,
                met_on: met_on.map(date_text),
            },
        }
    }
}

impl From<&policy::Report> for Report {
    fn from(r: &policy::Report) -> Report {
        Report {
            target: r.target.to_string(),
            as_of: date_text(r.as_of),
            registered_at_target: r.registered_at_target,
            continuous_at_target: r.continuous_at_target.into(),
            continuous_in_jinhua: r.continuous_in_jinhua.into(),
            cumulative_in_jinhua_days: r.cumulative_in_jinhua_days,
            rules: r.rules.iter().copied().map(Rule::from).collect(),
            residence_met: r.residence_met,
            residence_met_on: r.residence_met_on.map(date_text),
            blockers: r.blockers.iter().copied().map(Blocker::from).collect(),
            eligible: r.eligible,
            // Serialising plain data (strings, numbers, booleans) cannot fail.
            contract_json: serde_json::to_string(r).unwrap_or_default(),
        }
    }
}

/// The report for the credential's holder at `target` on `as_of` (SPEC §3), from the periods,
/// lapses and issuer the credential states, with the permit in `status`.
pub(crate) fn for_claims(
    claims: &PermitClaims,
    target: District,
    as_of: NaiveDate,
    status: PermitStatus,
    extra_lapse: Option<policy::Lapse>,
) -> Report {
    Report::from(&claims.report(target, as_of, status, extra_lapse))
}

/// A target district given as its six-digit code: one of Jinhua's nine.
pub(crate) fn parse_target(text: &str) -> Result<District> {
    text.trim()
        .parse::<District>()
        .map_err(|_| SdkError::TargetNotInJinhua)
}

/// A `YYYY-MM-DD` date.
pub(crate) fn parse_day(text: &str) -> Result<NaiveDate> {
    policy::calendar::parse_date(text.trim()).map_err(|_| SdkError::InvalidDate)
}
