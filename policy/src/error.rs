//! The one error type of the policy crate; each variant has a stable snake_case code (the `error`
//! of the JSON contracts).

/// Why an input to the rules was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A district code that is not six digits.
    #[error("invalid_district: a district is a six-digit GB/T 2260 code")]
    InvalidDistrict,
    /// A district that had to be in Jinhua is not.
    #[error("district_not_in_jinhua: the district is not one of Jinhua's nine")]
    DistrictNotInJinhua,
    /// The report's target is not a Jinhua district (SPEC §3).
    #[error("target_not_in_jinhua: the target district must be in Jinhua")]
    TargetNotInJinhua,
    /// A date that is not `YYYY-MM-DD`.
    #[error("invalid_date: dates are YYYY-MM-DD")]
    InvalidDate,
    /// A registration period whose end lies before its start (SPEC §3).
    #[error("period_ends_before_start: a registration period ends before it starts")]
    PeriodEndsBeforeStart,
    /// A lapse whose end lies before its start.
    #[error("lapse_ends_before_start: a lapse ends before it starts")]
    LapseEndsBeforeStart,
    /// An endorsement history that is not in date order or starts before the permit was issued.
    #[error("endorsement_out_of_order: endorsements must follow the issue date in order")]
    EndorsementOutOfOrder,
    /// An endorsement history containing an endorsement made before its window opened.
    #[error("endorsement_too_early: an endorsement precedes its window")]
    EndorsementTooEarly,
    /// A declared registration start after the day of declaration (SPEC §1.1).
    #[error("start_in_future: a registration cannot start in the future")]
    StartInFuture,
    /// A declared registration start more than 30 days before the day of declaration (SPEC §1.1).
    #[error("start_too_far_in_past: a registration may start at most 30 days in the past")]
    StartTooFarInPast,
    /// A day before 1970-01-01, which a credential cannot carry (SPEC §2 day numbers).
    #[error("date_before_1970: a credential carries no day before 1970-01-01")]
    DateBefore1970,
    /// A day after 9999-12-31, which a credential cannot carry.
    #[error("date_after_9999: a credential carries no day after 9999-12-31")]
    DateAfter9999,
    /// A permit number not of the form `DDDDDD-YYYY-NNNNNN` with a Jinhua district.
    #[error(
        "invalid_permit_number: a permit number is district-year-sequence, e.g. 330782-2026-000123"
    )]
    InvalidPermitNumber,
    /// The input could not be read as the JSON contract.
    #[error("invalid_input: the input does not match the contract")]
    InvalidInput,
}

impl Error {
    /// The stable code, as it appears in `{"error": code}`.
    pub fn code(self) -> &'static str {
        match self {
            Error::InvalidDistrict => "invalid_district",
            Error::DistrictNotInJinhua => "district_not_in_jinhua",
            Error::TargetNotInJinhua => "target_not_in_jinhua",
            Error::InvalidDate => "invalid_date",
            Error::PeriodEndsBeforeStart => "period_ends_before_start",
            Error::LapseEndsBeforeStart => "lapse_ends_before_start",
            Error::EndorsementOutOfOrder => "endorsement_out_of_order",
            Error::EndorsementTooEarly => "endorsement_too_early",
            Error::StartInFuture => "start_in_future",
            Error::StartTooFarInPast => "start_too_far_in_past",
            Error::DateBefore1970 => "date_before_1970",
            Error::DateAfter9999 => "date_after_9999",
            Error::InvalidPermitNumber => "invalid_permit_number",
            Error::InvalidInput => "invalid_input",
        }
    }
}

/// Results of the policy crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
