//! Permit applications (网上申领, SPEC §1.2) and their review (§1.3), except approval (which
//! issues the permit and lives with the permits).
//!
//! - `POST /v1/applications` (resident), `multipart/form-data`:
//!   - `basis`: `employment`, `housing` or `study`;
//!   - `evidence`: one file, PDF, PNG or JPEG as told by its first bytes (the declared type is
//!     ignored), at most `max_evidence_bytes` (413), stored content-addressed;
//!   - `district` (optional): the district applied to; without it, the district of the resident's
//!     current (open) registration — the confirmed one if there is one.
//!
//!   The profile (name and ID number) must be set (422 `profile_incomplete`); a resident holding an
//!   active or suspended permit is refused (409 `permit_held`); §1.2 is checked on the applicant's
//!   *confirmed* registrations and the closed lapses of a revoked earlier permit, and a refusal is
//!   422 `application_refused` listing every unmet condition with its dates. An `Idempotency-Key`
//!   header makes retries safe: the same key with the same request replays the first response
//!   (`Idempotency-Replayed: true`), with a different request it is 422 `idempotency_key_reused`,
//!   while the first is still running 409.
//! - `GET /v1/applications/{id}` (the applicant, or an officer of its district);
//! - `GET /v1/applications?status=…` (officer: their district's queue; resident: their own);
//! - `POST /v1/applications/{id}/reject` {reason} (officer of its district; 2–500 characters);
//! - `GET /v1/applications/{id}/evidence` (officer of its district): the file, with its type;
//!   each download is audited.

use std::time::Duration;

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use futures_util::StreamExt;
use policy::District;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::extract::Auth;
use crate::error::{ApiError, ApiResult};
use crate::issuance;
use crate::keys::district_code;
use crate::routes::residences::{district_member, lock_resident, store_error, text_member, today};
use crate::shared_state::{IdempotencyBegin, StoredResponse};
use crate::state::AppState;
use crate::store::applications::{self, Basis, Decision, Status};
use crate::store::{StoreError, audit, evidence, residences, residents, sha256_hex};

/// How long an idempotency key is remembered.
const IDEMPOTENCY_TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// Largest text part of the form, in bytes.
const MAX_TEXT_PART: usize = 256;
/// Shortest and longest rejection reason, in characters.
const REASON_CHARS: std::ops::RangeInclusive<usize> = 2..=500;

/// Mounts the routes of this module. (`POST /v1/applications/{id}/approve` is mounted by the
/// permits module: approving issues the permit.)
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/applications", web::post().to(submit))
        .route("/v1/applications", web::get().to(list))
        .route("/v1/applications/{id}", web::get().to(get))
        .route("/v1/applications/{id}/reject", web::post().to(reject))
        .route(
            "/v1/applications/{id}/evidence",
            web::get().to(evidence_file),
        );
}

/// The JSON form of an application.
pub fn to_json(a: &applications::Model) -> Value {
    json!({
        "id": a.id,
        "resident_id": a.resident_id,
        "district": a.district.to_string(),
        "basis": a.basis,
        "evidence_sha256": a.evidence_sha256,
        "status": a.status,
        "reason": a.reason,
        "submitted_at": a.created_at,
        "decided_at": a.decided_at,
    })
}

/// The district of a stored application.
fn stored_district(code: i32) -> ApiResult<District> {
    u32::try_from(code)
        .ok()
        .and_then(District::from_code)
        .ok_or_else(|| {
            ApiError::internal(StoreError::Corrupt {
                table: "applications",
                problem: "district is not a Jinhua code".to_owned(),
            })
        })
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

/// A submission, read from the form.
struct Submission {
    basis: Basis,
    district: Option<District>,
    media_type: &'static str,
    evidence: Vec<u8>,
}

fn invalid_form(detail: &str) -> ApiError {
    ApiError::invalid("invalid_body", "body", detail.to_owned())
}

/// Reads the whole form. Every part is read (an oversize file is drained, not kept) so the
/// client always receives the answer.
async fn read_form(mut form: Multipart, max_evidence: u64) -> ApiResult<Submission> {
    let mut basis: Option<String> = None;
    let mut district: Option<String> = None;
    let mut file: Option<Vec<u8>> = None;
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
            MAX_TEXT_PART as u64
        };
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
        if problem.is_some() {
            continue;
        }
        let slot = match name.as_str() {
            "evidence" => {
                if over {
                    too_large = true;
                    continue;
                }
                if file.is_some() {
                    problem = Some(ApiError::invalid(
                        "duplicate_field",
                        "evidence",
                        "send exactly one evidence file",
                    ));
                }
                file = Some(bytes);
                continue;
            }
            "basis" => (&mut basis, "basis"),
            "district" => (&mut district, "district"),
            _ => {
                problem = Some(invalid_form(
                    "the form has only the fields basis, evidence and district",
                ));
                continue;
            }
        };
        let (slot, field) = slot;
        if over || slot.is_some() {
            problem = Some(ApiError::invalid(
                "invalid_field",
                field,
                format!("`{field}` is a single short text"),
            ));
            continue;
        }
        match String::from_utf8(bytes) {
            Ok(text) => *slot = Some(text),
            Err(_) => {
                problem = Some(ApiError::invalid(
                    "invalid_field",
                    field,
                    format!("`{field}` must be UTF-8 text"),
                ));
            }
        }
    }
    if too_large {
        return Err(ApiError::PayloadTooLarge {
            code: "evidence_too_large",
            detail: format!(
                "evidence_too_large: the evidence file is larger than {max_evidence} bytes"
            ),
        });
    }
    if let Some(problem) = problem {
        return Err(problem);
    }
    let basis = match basis.as_deref().map(str::trim) {
        None => {
            return Err(ApiError::invalid(
                "missing_field",
                "basis",
                "`basis` is required",
            ));
        }
        Some("employment") => Basis::Employment,
        Some("housing") => Basis::Housing,
        Some("study") => Basis::Study,
        Some(_) => {
            return Err(ApiError::invalid(
                "invalid_basis",
                "basis",
                "basis is employment, housing or study",
            ));
        }
    };
    let district = district
        .as_deref()
        .map(|d| district_member(d, "district"))
        .transpose()?;
    let evidence = file.ok_or_else(|| {
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

/// The `Idempotency-Key` header, if sent: 1–255 visible ASCII characters.
fn idempotency_key(req: &HttpRequest) -> ApiResult<Option<String>> {
    let Some(value) = req.headers().get("Idempotency-Key") else {
        return Ok(None);
    };
    match value.to_str() {
        Ok(key) if (1..=255).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic()) => {
            Ok(Some(key.to_owned()))
        }
        _ => Err(ApiError::invalid(
            "invalid_idempotency_key",
            "Idempotency-Key",
            "an idempotency key is 1 to 255 visible ASCII characters",
        )),
    }
}

fn shared_unavailable<E>(_: E) -> ApiError {
    ApiError::Unavailable("the idempotency store is unavailable; retry later")
}

/// `POST /v1/applications`: submits an application (multipart; see the module docs).
#[utoipa::path(
    post,
    path = "/v1/applications",
    tag = "applications",
    security(("bearer_jwt" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "1–255 visible ASCII characters; a retry with the same key and request replays the first answer (`Idempotency-Replayed: true`)")),
    request_body(content = crate::openapi::ApplicationForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Submitted", body = crate::openapi::ApplicationDoc),
        (status = 400, description = "`invalid_body`, `missing_field`, `invalid_field`, `duplicate_field`, `invalid_basis`, `invalid_district`, `invalid_idempotency_key`"),
        (status = 401, description = "No valid access token"),
        (status = 403, description = "Not a resident"),
        (status = 409, description = "`application_pending`, `permit_held` (an active or suspended permit), `idempotency_in_progress`"),
        (status = 413, description = "`evidence_too_large`"),
        (status = 422, description = "`profile_incomplete`, `unsupported_evidence_type`, `application_refused` (with `unmet`, `district`, `date`), `idempotency_key_reused`, `district_not_in_jinhua`"),
        (status = 503, description = "The idempotency store is unavailable"),
    )
)]
async fn submit(
    auth: Auth,
    req: HttpRequest,
    state: web::Data<AppState>,
    form: Multipart,
) -> ApiResult<HttpResponse> {
    let resident = auth.resident()?;
    let key = idempotency_key(&req)?;
    let submission = read_form(form, state.settings.max_evidence_bytes).await?;
    let Some(key) = key else {
        let (status, body) = create(&auth, resident, &state, submission).await?;
        return Ok(HttpResponse::build(status).json(body));
    };
    let slot = format!(
        "idem:applications:{resident}:{}",
        sha256_hex(key.as_bytes())
    );
    let fingerprint = sha256_hex(
        format!(
            "POST /v1/applications\n{:?}\n{}\n{}",
            submission.basis,
            submission
                .district
                .map(|d| d.to_string())
                .unwrap_or_default(),
            sha256_hex(&submission.evidence)
        )
        .as_bytes(),
    );
    match state
        .shared
        .idempotency_begin(&slot, &fingerprint, IDEMPOTENCY_TTL)
        .await
        .map_err(shared_unavailable)?
    {
        IdempotencyBegin::New => {}
        IdempotencyBegin::Done(stored) => {
            let status =
                actix_web::http::StatusCode::from_u16(stored.status).map_err(ApiError::internal)?;
            return Ok(HttpResponse::build(status)
                .insert_header((header::CONTENT_TYPE, stored.content_type))
                .insert_header(("Idempotency-Replayed", "true"))
                .body(stored.body));
        }
        IdempotencyBegin::InProgress => {
            return Err(ApiError::conflict(
                "idempotency_in_progress",
                "a request with this idempotency key is still being handled",
            ));
        }
        IdempotencyBegin::Mismatch => {
            return Err(ApiError::unprocessable(
                "idempotency_key_reused",
                Some("Idempotency-Key"),
                "this idempotency key was used with a different request",
            ));
        }
    }
    match create(&auth, resident, &state, submission).await {
        Ok((status, body)) => {
            let stored = StoredResponse {
                status: status.as_u16(),
                content_type: "application/json".to_owned(),
                body: body.to_string(),
            };
            if let Err(e) = state
                .shared
                .idempotency_finish(&slot, &fingerprint, &stored, IDEMPOTENCY_TTL)
                .await
            {
                tracing::warn!(error = %e, "cannot record an idempotent response");
            }
            Ok(HttpResponse::build(status).json(body))
        }
        Err(e) => {
            if let Err(e) = state.shared.idempotency_abandon(&slot).await {
                tracing::warn!(error = %e, "cannot release an idempotency key");
            }
            Err(e)
        }
    }
}

/// Checks and stores a submission: `(201, application)`.
async fn create(
    auth: &Auth,
    resident: i64,
    state: &AppState,
    submission: Submission,
) -> ApiResult<(actix_web::http::StatusCode, Value)> {
    let db = state.store.conn();
    let person = residents::get(db, resident).await.map_err(store_error)?;
    if person.name.is_none() || person.id_number.is_none() {
        return Err(ApiError::unprocessable(
            "profile_incomplete",
            Some("profile"),
            "set your name and ID number (PUT /v1/me) before applying",
        ));
    }
    let registrations = residences::list_by_resident(db, resident)
        .await
        .map_err(store_error)?;
    let periods = issuance::periods_of(&registrations);
    let open = |status| {
        registrations
            .iter()
            .rev()
            .find(|r| r.end_date.is_none() && r.status == status)
            .and_then(|r| u32::try_from(r.district).ok())
            .and_then(District::from_code)
    };
    let district = submission.district.or_else(|| {
        open(residences::Status::Confirmed).or_else(|| open(residences::Status::Declared))
    });
    let date = today();
    let revoked = issuance::no_permit_held(db, resident).await?;
    let lapses = issuance::lapses_left_by(db, revoked.as_ref(), date).await?;
    // Without any open registration no district qualifies; any district gives the same verdict.
    let checked = district.unwrap_or(District::Wucheng);
    let application = policy::Application {
        date,
        district: checked,
        periods: &periods,
        lapses: &lapses,
        basis: Some(match submission.basis {
            Basis::Employment => policy::Basis::Employment,
            Basis::Housing => policy::Basis::Housing,
            Basis::Study => policy::Basis::Study,
        }),
        has_evidence: !submission.evidence.is_empty(),
    };
    if let Err(unmet) = policy::check_application(&application) {
        return Err(ApiError::unprocessable(
            "application_refused",
            None,
            "the application does not meet SPEC §1.2; see `unmet`",
        )
        .with("unmet", json!(unmet))
        .with("district", json!(district))
        .with("date", json!(date)));
    }
    let district = district_code(checked);
    let txn = state.store.begin().await.map_err(store_error)?;
    lock_resident(&txn, resident).await?;
    // Again under the lock: an approval may have landed since the first look.
    issuance::no_permit_held(&txn, resident).await?;
    let pending = applications::list_by_resident(&txn, resident)
        .await
        .map_err(store_error)?
        .into_iter()
        .any(|a| a.status == Status::Submitted);
    if pending {
        return Err(ApiError::conflict(
            "application_pending",
            "an application of yours is awaiting review",
        ));
    }
    let stored = evidence::put(&txn, submission.media_type, &submission.evidence)
        .await
        .map_err(store_error)?;
    let row = applications::insert(&txn, resident, district, submission.basis, &stored.sha256)
        .await
        .map_err(store_error)?;
    let entry = audit::NewEntry::new(
        auth.actor(),
        "application.submit",
        format!("application:{}", row.id),
        json!({
            "district": checked,
            "basis": submission.basis,
            "evidence_sha256": stored.sha256,
        }),
    );
    audit::append(&txn, entry, Utc::now())
        .await
        .map_err(store_error)?;
    txn.commit()
        .await
        .map_err(|e| store_error(StoreError::from(e)))?;
    Ok((actix_web::http::StatusCode::CREATED, to_json(&row)))
}

/// The application `id` if the caller may see it: the applicant (others get 404) or an officer
/// of its district (other districts 403).
async fn visible(auth: &Auth, state: &AppState, id: i64) -> ApiResult<applications::Model> {
    let row = applications::get(state.store.conn(), id)
        .await
        .map_err(store_error)?;
    if let Ok(resident) = auth.resident() {
        if row.resident_id != resident {
            return Err(ApiError::NotFound("application"));
        }
    } else {
        auth.officer_of(stored_district(row.district)?)?;
    }
    Ok(row)
}

/// `GET /v1/applications/{id}`.
#[utoipa::path(
    get,
    path = "/v1/applications/{id}",
    tag = "applications",
    security(("bearer_jwt" = [])),
    params(("id" = i64, Path, description = "The id")),
    responses(
        (status = 200, description = "The application", body = crate::openapi::ApplicationDoc),
        (status = 401, description = "No valid access token"),
        (status = 403, description = "An officer of another district"),
        (status = 404, description = "No such application (or not yours)"),
    )
)]
async fn get(
    auth: Auth,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let row = visible(&auth, &state, path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(to_json(&row)))
}

/// Filter of `GET /v1/applications`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
struct ListQuery {
    /// `submitted`, `approved` or `rejected`.
    status: Option<String>,
}

/// `GET /v1/applications?status=submitted|approved|rejected`: an officer's district queue,
/// oldest first, or a resident's own applications.
#[utoipa::path(
    get,
    path = "/v1/applications",
    tag = "applications",
    security(("bearer_jwt" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "An officer's district queue (oldest first), or a resident's own applications", body = crate::openapi::ApplicationList),
        (status = 400, description = "`invalid_status`"),
        (status = 401, description = "No valid access token"),
        (status = 403, description = "Neither a resident nor an officer"),
    )
)]
async fn list(
    auth: Auth,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> ApiResult<HttpResponse> {
    let status = match query.status.as_deref() {
        None => None,
        Some("submitted") => Some(Status::Submitted),
        Some("approved") => Some(Status::Approved),
        Some("rejected") => Some(Status::Rejected),
        Some(_) => {
            return Err(ApiError::invalid(
                "invalid_status",
                "status",
                "status is submitted, approved or rejected",
            ));
        }
    };
    let rows = if let Ok(resident) = auth.resident() {
        applications::list_by_resident(state.store.conn(), resident)
            .await
            .map_err(store_error)?
            .into_iter()
            .filter(|a| status.is_none_or(|s| a.status == s))
            .collect()
    } else {
        let (_, district) = auth.officer()?;
        applications::list(state.store.conn(), status, Some(district_code(district)))
            .await
            .map_err(store_error)?
    };
    let items: Vec<Value> = rows.iter().map(to_json).collect();
    Ok(HttpResponse::Ok().json(json!({ "items": items })))
}

/// `POST /v1/applications/{id}/reject` {reason}: an officer of its district rejects a submitted
/// application (409 `application_decided` once decided).
#[utoipa::path(
    post,
    path = "/v1/applications/{id}/reject",
    tag = "applications",
    security(("bearer_jwt" = [])),
    params(("id" = i64, Path, description = "The id")),
    request_body = crate::openapi::Reason,
    responses(
        (status = 200, description = "Rejected", body = crate::openapi::ApplicationDoc),
        (status = 400, description = "`missing_field`, `invalid_reason`"),
        (status = 401, description = "No valid access token"),
        (status = 403, description = "Not an officer of its district"),
        (status = 404, description = "No such application"),
        (status = 409, description = "`application_decided`"),
    )
)]
async fn reject(
    auth: Auth,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    body: web::Json<Value>,
) -> ApiResult<HttpResponse> {
    auth.officer()?;
    let id = path.into_inner();
    let body = body.into_inner();
    let reason = text_member(&body, "reason")?.trim().to_owned();
    if !REASON_CHARS.contains(&reason.chars().count()) {
        return Err(ApiError::invalid(
            "invalid_reason",
            "reason",
            "a reason has 2 to 500 characters",
        ));
    }
    let row = applications::get(state.store.conn(), id)
        .await
        .map_err(store_error)?;
    let staff = auth.officer_of(stored_district(row.district)?)?;
    let now = Utc::now();
    let txn = state.store.begin().await.map_err(store_error)?;
    if !applications::decide(&txn, id, Decision::Reject { reason }, staff, now)
        .await
        .map_err(store_error)?
    {
        return Err(ApiError::conflict(
            "application_decided",
            "this application has been decided already",
        ));
    }
    let entry = audit::NewEntry::new(
        auth.actor(),
        "application.reject",
        format!("application:{id}"),
        json!({ "district": row.district.to_string() }),
    );
    audit::append(&txn, entry, now).await.map_err(store_error)?;
    let row = applications::get(&txn, id).await.map_err(store_error)?;
    txn.commit()
        .await
        .map_err(|e| store_error(StoreError::from(e)))?;
    Ok(HttpResponse::Ok().json(to_json(&row)))
}

/// `GET /v1/applications/{id}/evidence`: the evidence file, for an officer of its district.
#[utoipa::path(
    get,
    path = "/v1/applications/{id}/evidence",
    tag = "applications",
    security(("bearer_jwt" = [])),
    params(("id" = i64, Path, description = "The id")),
    responses(
        (status = 200, description = "The evidence file, with its type (the download is audited)", content(("application/pdf"), ("image/png"), ("image/jpeg"))),
        (status = 401, description = "No valid access token"),
        (status = 403, description = "Not an officer of its district"),
        (status = 404, description = "No such application or file"),
    )
)]
async fn evidence_file(
    auth: Auth,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    auth.officer()?;
    let row = applications::get(state.store.conn(), path.into_inner())
        .await
        .map_err(store_error)?;
    auth.officer_of(stored_district(row.district)?)?;
    // Reading a resident's documents is audited like a police look-up: in the same transaction.
    let txn = state.store.begin().await.map_err(store_error)?;
    let file = evidence::get(&txn, &row.evidence_sha256)
        .await
        .map_err(store_error)?
        .ok_or(ApiError::NotFound("evidence"))?;
    let entry = audit::NewEntry::new(
        auth.actor(),
        "application.evidence_view",
        format!("application:{}", row.id),
        json!({ "district": row.district.to_string(), "evidence_sha256": file.sha256 }),
    );
    audit::append(&txn, entry, Utc::now())
        .await
        .map_err(store_error)?;
    txn.commit()
        .await
        .map_err(|e| store_error(StoreError::from(e)))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, file.media_type))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"evidence-{}\"", row.id),
        ))
        .insert_header((header::ETAG, format!("\"{}\"", file.sha256)))
        .body(file.bytes))
}
