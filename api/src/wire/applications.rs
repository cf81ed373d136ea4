//! Permit applications on the wire (SPEC §1.2, §1.3).

use actix_multipart::Multipart;
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use policy::District;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::domain::Reason;
use crate::error::{ApiError, ApiResult};
use crate::store::applications::{self, Basis, Status};

/// The `multipart/form-data` body of `POST /v1/applications`, as read from the form (every part
/// optional until [`Submission::try_from`] checks it).
#[derive(Debug, Default, ToSchema)]
pub struct ApplicationForm {
    /// `employment`, `housing` or `study`.
    #[schema(example = "employment")]
    pub basis: Option<String>,
    /// One PDF, PNG or JPEG file (told by its first bytes), at most `max_evidence_bytes`.
    #[schema(value_type = String, format = Binary)]
    pub evidence: Option<Vec<u8>>,
    /// The district applied to; default: the resident's current registration's.
    #[schema(example = "330702")]
    pub district: Option<String>,
}

/// Largest text part of the form, in bytes.
const MAX_TEXT_PART: u64 = 256;

fn invalid_form(detail: &str) -> ApiError {
    ApiError::invalid("invalid_body", "body", detail.to_owned())
}

/// One part of the form, read whole up to `limit` bytes: `None` when it is larger (the rest is
/// drained, so the client always receives the answer).
async fn read_part(part: &mut actix_multipart::Field, limit: u64) -> ApiResult<Option<Vec<u8>>> {
    let mut bytes = Vec::new();
    let mut over = false;
    while let Some(chunk) = part.next().await {
        let chunk = chunk.map_err(|_| invalid_form("the multipart body is malformed"))?;
        if !over && (bytes.len() + chunk.len()) as u64 <= limit {
            bytes.extend_from_slice(&chunk);
        } else {
            over = true;
            bytes = Vec::new();
        }
    }
    Ok((!over).then_some(bytes))
}

/// A short text part into its slot of the form.
fn text_part(
    slot: &mut Option<String>,
    field: &'static str,
    bytes: Option<Vec<u8>>,
) -> ApiResult<()> {
    let single = || {
        ApiError::invalid(
            "invalid_field",
            field,
            format!("`{field}` is a single short text"),
        )
    };
    let bytes = bytes.ok_or_else(single)?;
    if slot.is_some() {
        return Err(single());
    }
    let text = String::from_utf8(bytes).map_err(|_| {
        ApiError::invalid(
            "invalid_field",
            field,
            format!("`{field}` must be UTF-8 text"),
        )
    })?;
    *slot = Some(text);
    Ok(())
}

impl ApplicationForm {
    /// Reads the whole form. Every part is read, so the client always receives the answer; an
    /// oversize evidence file is 413, reported before any other problem.
    pub async fn read(mut form: Multipart, max_evidence: u64) -> ApiResult<ApplicationForm> {
        let mut read = ApplicationForm::default();
        let mut too_large = false;
        let mut problem: Option<ApiError> = None;
        while let Some(part) = form.next().await {
            let mut part = part.map_err(|_| {
                invalid_form("send a multipart/form-data body with the fields basis and evidence")
            })?;
            let name = part.name().unwrap_or_default().to_owned();
            let limit = if name == "evidence" {
                max_evidence
            } else {
                MAX_TEXT_PART
            };
            let bytes = read_part(&mut part, limit).await?;
            if problem.is_some() {
                continue;
            }
            let outcome = match name.as_str() {
                "evidence" => match bytes {
                    None => {
                        too_large = true;
                        Ok(())
                    }
                    Some(_) if read.evidence.is_some() => Err(ApiError::invalid(
                        "duplicate_field",
                        "evidence",
                        "send exactly one evidence file",
                    )),
                    file => {
                        read.evidence = file;
                        Ok(())
                    }
                },
                "basis" => text_part(&mut read.basis, "basis", bytes),
                "district" => text_part(&mut read.district, "district", bytes),
                _ => Err(invalid_form(
                    "the form has only the fields basis, evidence and district",
                )),
            };
            problem = outcome.err();
        }
        if too_large {
            return Err(ApiError::PayloadTooLarge {
                code: "evidence_too_large",
                detail: format!(
                    "evidence_too_large: the evidence file is larger than {max_evidence} bytes"
                ),
            });
        }
        problem.map_or(Ok(read), Err)
    }
}

/// A submission, parsed.
#[derive(Debug)]
pub struct Submission {
    /// The declared basis.
    pub basis: Basis,
    /// The district applied to, if named.
    pub district: Option<District>,
    /// The evidence's media type, told by its magic bytes.
    pub media_type: &'static str,
    /// The evidence file.
    pub evidence: Vec<u8>,
}

/// The media type of an evidence file, told by its magic bytes.
pub fn sniff_media_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else {
        None
    }
}

/// A basis as the form or a query names it.
fn basis(text: &str) -> ApiResult<Basis> {
    match text.trim() {
        "employment" => Ok(Basis::Employment),
        "housing" => Ok(Basis::Housing),
        "study" => Ok(Basis::Study),
        _ => Err(ApiError::invalid(
            "invalid_basis",
            "basis",
            "basis is employment, housing or study",
        )),
    }
}

impl TryFrom<ApplicationForm> for Submission {
    type Error = ApiError;

    fn try_from(form: ApplicationForm) -> ApiResult<Self> {
        let basis =
            basis(form.basis.as_deref().ok_or_else(|| {
                ApiError::invalid("missing_field", "basis", "`basis` is required")
            })?)?;
        let district = form
            .district
            .as_deref()
            .map(|d| super::district(d, "district"))
            .transpose()?;
        let evidence = form.evidence.ok_or_else(|| {
            ApiError::invalid(
                "missing_field",
                "evidence",
                "attach one evidence file (PDF, PNG or JPEG)",
            )
        })?;
        if evidence.is_empty() {
            return Err(ApiError::invalid(
                "missing_field",
                "evidence",
                "the evidence file is empty",
            ));
        }
        let media_type = sniff_media_type(&evidence).ok_or_else(|| {
            ApiError::unprocessable(
                "unsupported_evidence_type",
                Some("evidence"),
                "evidence must be a PDF, PNG or JPEG file",
            )
        })?;
        Ok(Submission {
            basis,
            district,
            media_type,
            evidence,
        })
    }
}

/// `{reason}`: why an officer rejects an application or changes a permit's status.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ReasonBody {
    /// 2–500 characters, shown to the resident.
    #[schema(schema_with = super::schema::reason)]
    pub reason: String,
}

impl TryFrom<ReasonBody> for Reason {
    type Error = ApiError;

    fn try_from(body: ReasonBody) -> ApiResult<Self> {
        super::text(Reason::parse, &body.reason, "reason")
    }
}

/// A permit application.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationView {
    /// Its id.
    pub id: i64,
    /// The applicant.
    pub resident_id: i64,
    /// The district applied to.
    #[schema(example = "330702")]
    pub district: String,
    /// `employment`, `housing` or `study`.
    #[schema(value_type = String, example = "employment")]
    pub basis: Basis,
    /// The SHA-256 of the evidence file (its content address).
    pub evidence_sha256: String,
    /// `submitted`, `approved` or `rejected`.
    #[schema(value_type = String, example = "submitted")]
    pub status: Status,
    /// The rejection reason.
    pub reason: Option<String>,
    /// When it was submitted.
    pub submitted_at: DateTime<Utc>,
    /// When it was decided.
    pub decided_at: Option<DateTime<Utc>>,
}

impl From<applications::Model> for ApplicationView {
    fn from(a: applications::Model) -> Self {
        ApplicationView {
            id: a.id,
            resident_id: a.resident_id,
            district: a.district.to_string(),
            basis: a.basis,
            evidence_sha256: a.evidence_sha256,
            status: a.status,
            reason: a.reason,
            submitted_at: a.created_at,
            decided_at: a.decided_at,
        }
    }
}

/// A list of applications.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationList {
    /// Oldest first.
    pub items: Vec<ApplicationView>,
}

impl From<Vec<applications::Model>> for ApplicationList {
    fn from(rows: Vec<applications::Model>) -> Self {
        ApplicationList {
            items: rows.into_iter().map(ApplicationView::from).collect(),
        }
    }
}

/// `?status=submitted|approved|rejected&limit=100`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct ListQuery {
    /// `submitted`, `approved` or `rejected`.
    #[param(schema_with = super::schema::application_status)]
    pub status: Option<String>,
    /// An officer's queue: at most this many, oldest first (1–500, default 100). A city's queue
    /// is worked from its oldest end; an unbounded answer grew with the city (issue 14 item 5).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u64>,
}

/// The officer queue's page size when `limit` is not given.
pub const QUEUE_LIMIT: u64 = 100;

impl ListQuery {
    /// The status filter, if any.
    pub fn status(&self) -> ApiResult<Option<Status>> {
        match self.status.as_deref() {
            None => Ok(None),
            Some("submitted") => Ok(Some(Status::Submitted)),
            Some("approved") => Ok(Some(Status::Approved)),
            Some("rejected") => Ok(Some(Status::Rejected)),
            Some(_) => Err(ApiError::invalid(
                "invalid_status",
                "status",
                "status is submitted, approved or rejected",
            )),
        }
    }

    /// The page size of an officer's queue.
    pub fn limit(&self) -> ApiResult<u64> {
        let limit = self.limit.unwrap_or(QUEUE_LIMIT);
        if (1..=500).contains(&limit) {
            Ok(limit)
        } else {
            Err(ApiError::invalid(
                "invalid_limit",
                "limit",
                "between 1 and 500",
            ))
        }
    }
}
