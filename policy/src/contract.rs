//! The JSON input of the SPEC §3 contract, read as plain strings and parsed into domain types
//! with a stable error code for each kind of bad value (the `{"error": code}` of the contract).

use serde::Deserialize;

use crate::calendar::parse_date;
use crate::report::{PermitFacts, PermitStatus, ReportInput};
use crate::{District, DistrictCode, Error, Lapse, Period, Result};

/// The report request as it arrives: `{"target", "as_of", "periods", "lapses"?, "permit"?}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportRequest {
    target: String,
    as_of: String,
    #[serde(default)]
    periods: Vec<PeriodRequest>,
    #[serde(default)]
    lapses: Vec<LapseRequest>,
    #[serde(default)]
    permit: Option<PermitRequest>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct PeriodRequest {
    district: String,
    start: String,
    end: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct LapseRequest {
    from: String,
    until: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct PermitRequest {
    issuer: String,
    status: PermitStatus,
}

fn optional_date(text: Option<&str>) -> Result<Option<chrono::NaiveDate>> {
    text.map(parse_date).transpose()
}

impl TryFrom<ReportRequest> for ReportInput {
    type Error = Error;

    /// Parses every field; the first bad one decides the error, in the order target, `as_of`,
    /// periods, lapses, permit.
    fn try_from(raw: ReportRequest) -> Result<ReportInput> {
        let target = raw
            .target
            .parse::<DistrictCode>()?
            .jinhua()
            .ok_or(Error::TargetNotInJinhua)?;
        let as_of = parse_date(&raw.as_of)?;
        let periods = raw
            .periods
            .iter()
            .map(|p| {
                Period::new(
                    p.district.parse()?,
                    parse_date(&p.start)?,
                    optional_date(p.end.as_deref())?,
                )
            })
            .collect::<Result<Vec<_>>>()?;
        let lapses = raw
            .lapses
            .iter()
            .map(|l| Lapse::new(parse_date(&l.from)?, optional_date(l.until.as_deref())?))
            .collect::<Result<Vec<_>>>()?;
        let permit = raw
            .permit
            .map(|p| {
                Ok::<_, Error>(PermitFacts {
                    issuer: p.issuer.parse::<District>()?,
                    status: p.status,
                })
            })
            .transpose()?;
        Ok(ReportInput {
            target,
            as_of,
            periods,
            lapses,
            permit,
        })
    }
}

/// Reads a report request from JSON text: the request itself, or a worked case
/// `{"input": request, "expected": …}` (whose `input` is taken).
pub fn parse_report_request(json: &str) -> Result<ReportInput> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Document {
        Case { input: ReportRequest },
        Request(ReportRequest),
    }
    let doc: Document = serde_json::from_str(json).map_err(|_| Error::InvalidInput)?;
    match doc {
        Document::Case { input } | Document::Request(input) => input.try_into(),
    }
}
