//! Permit applications (网上申领, SPEC §1.2) and their review (§1.3): `POST /v1/applications`
//! (multipart: `basis`, `evidence`, optional `district`; `Idempotency-Key` honoured),
//! `GET /v1/applications[/{id}]`, `POST /v1/applications/{id}/approve` (issues the permit) and
//! `/reject`, `GET /v1/applications/{id}/evidence` (audited). The rules are in
//! [`crate::workflows::application`] and [`crate::workflows::issue`].

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};

use crate::auth::extract::Auth;
use crate::error::ApiResult;
use crate::idempotency;
use crate::state::AppState;
use crate::store::{applications, sha256_hex};
use crate::wire::Json;
use crate::wire::applications::{
    ApplicationForm, ApplicationList, ApplicationView, ListQuery, ReasonBody, Submission,
};
use crate::wire::permits::PermitView;
use crate::workflows::application::{self, Viewer};
use crate::workflows::{issue, records};

/// Mounts the routes of this module.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.service(submit)
        .service(list)
        .service(get)
        .service(approve)
        .service(reject)
        .service(evidence_file);
}

/// Submits an application. The profile must be set; §1.2 is checked on the applicant's
/// confirmed registrations (a refusal lists every unmet condition with its dates). The evidence
/// is a PDF, PNG or JPEG file as told by its first bytes (the declared type is ignored). The same
/// `Idempotency-Key` with the same request replays the first response for 24 hours, also after a
/// restart and to a concurrent duplicate; a request that failed leaves its key unused.
#[utoipa::path(
    tag = "applications",
    security(("bearer_jwt" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "1–255 visible ASCII characters: retries with it are safe")),
    request_body(content = ApplicationForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Submitted", body = ApplicationView),
        (status = 400, description = "`missing_field`, `invalid_basis`, `invalid_district`, `invalid_field`, `duplicate_field`, `invalid_body`, `invalid_idempotency_key`"),
        (status = 409, description = "`application_pending`, `permit_held` (an active or suspended permit)"),
        (status = 413, description = "`evidence_too_large`"),
        (status = 422, description = "`profile_incomplete`, `unsupported_evidence_type`, `application_refused` (with `unmet`, `district`, `date`), `idempotency_key_reused`, `district_not_in_jinhua`"),
    )
)]
#[post("/v1/applications")]
async fn submit(
    auth: Auth,
    req: HttpRequest,
    state: web::Data<AppState>,
    form: Multipart,
) -> ApiResult<HttpResponse> {
    let resident = auth.resident()?;
    let key = idempotency::key(&req)?;
    let submission: Submission = ApplicationForm::read(form, state.settings.max_evidence_bytes)
        .await?
        .try_into()?;
    let fingerprint = format!(
        "POST /v1/applications\n{:?}\n{}\n{}",
        submission.basis,
        submission
            .district
            .map(|d| d.to_string())
            .unwrap_or_default(),
        sha256_hex(&submission.evidence)
    );
    let scope = format!("applications:{resident}");
    let store = &state.store;
    idempotency::once(&state, &scope, key, &fingerprint, |claim| async move {
        let row = application::apply(store, resident, submission, claim.as_ref()).await?;
        Ok(application::submitted(&row))
    })
    .await
}

/// One application: for its applicant (other residents: 404) or an officer of its district
/// (other districts: 403).
#[utoipa::path(
    tag = "applications",
    security(("bearer_jwt" = [])),
    params(("id" = i64, Path, description = "The application's id")),
    responses(
        (status = 200, description = "The application", body = ApplicationView),
        (status = 404, description = "No such application (or not yours)"),
    )
)]
#[get("/v1/applications/{id}")]
async fn get(
    auth: Auth,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> ApiResult<web::Json<ApplicationView>> {
    let viewer = match auth.resident() {
        Ok(resident) => Viewer::Resident(resident),
        Err(_) => Viewer::Officer(auth.officer()?),
    };
    let row = application::visible(&state.store, viewer, path.into_inner()).await?;
    Ok(web::Json(row.into()))
}

/// An officer's district queue (oldest first), or a resident's own applications, filtered by
/// `status`.
#[utoipa::path(
    tag = "applications",
    security(("bearer_jwt" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "An officer's district queue (oldest first, at most `limit`), or a resident's own applications", body = ApplicationList),
        (status = 400, description = "`invalid_status`, `invalid_limit`, `invalid_query`"),
    )
)]
#[get("/v1/applications")]
async fn list(
    auth: Auth,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> ApiResult<web::Json<ApplicationList>> {
    let status = query.status()?;
    let limit = query.limit()?;
    let db = state.store.conn();
    let rows = match auth.resident() {
        Ok(resident) => applications::list_by_resident(db, resident)
            .await?
            .into_iter()
            .filter(|a| status.is_none_or(|s| a.status == s))
            .collect(),
        Err(_) => {
            let officer = auth.officer()?;
            applications::list_page(db, status, Some(officer.district.into()), limit).await?
        }
    };
    Ok(web::Json(rows.into()))
}

/// An officer of its district approves a submitted application: the permit is issued, signed by
/// the district's key. Approving twice, or concurrently, issues one permit.
#[utoipa::path(
    tag = "applications",
    security(("bearer_jwt" = [])),
    params(("id" = i64, Path, description = "The application's id")),
    responses(
        (status = 201, description = "Approved: the permit is issued", body = PermitView),
        (status = 404, description = "No such application"),
        (status = 409, description = "`application_decided`, `permit_held` (the applicant holds a permit already), `permit_numbers_exhausted`"),
        (status = 422, description = "`application_refused` (SPEC §1.2 re-checked on the approval day, with `unmet`), `date_before_1970` (a registration no credential can carry, with `residence`), `profile_incomplete`, `not_registered` (no confirmed registration to put on the permit)"),
    )
)]
#[post("/v1/applications/{id}/approve")]
async fn approve(
    auth: Auth,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let officer = auth.officer()?;
    let permit = issue::approve(&state, officer, path.into_inner()).await?;
    Ok(HttpResponse::Created().json(PermitView::from(permit)))
}

/// An officer of its district rejects a submitted application with a reason the resident sees.
#[utoipa::path(
    tag = "applications",
    security(("bearer_jwt" = [])),
    params(("id" = i64, Path, description = "The application's id")),
    request_body = ReasonBody,
    responses(
        (status = 200, description = "Rejected", body = ApplicationView),
        (status = 400, description = "`missing_field`, `invalid_field`, `invalid_reason`"),
        (status = 404, description = "No such application"),
        (status = 409, description = "`application_decided`"),
    )
)]
#[post("/v1/applications/{id}/reject")]
async fn reject(
    auth: Auth,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    body: Json<ReasonBody>,
) -> ApiResult<web::Json<ApplicationView>> {
    let officer = auth.officer()?;
    let reason = body.0.try_into()?;
    let row = application::reject(&state.store, officer, path.into_inner(), reason).await?;
    Ok(web::Json(row.into()))
}

/// The evidence file, for an officer of its district; each download is audited.
#[utoipa::path(
    tag = "applications",
    security(("bearer_jwt" = [])),
    params(("id" = i64, Path, description = "The application's id")),
    responses(
        (status = 200, description = "The evidence file, with its type (the download is audited)", content(("application/pdf"), ("image/png"), ("image/jpeg"))),
        (status = 404, description = "No such application or file"),
    )
)]
#[get("/v1/applications/{id}/evidence")]
async fn evidence_file(
    auth: Auth,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let officer = auth.officer()?;
    let (application, file) = records::evidence_file(&state, officer, path.into_inner()).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, file.media_type))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"evidence-{}\"", application.id),
        ))
        .insert_header((header::ETAG, format!("\"{}\"", file.sha256)))
        .body(file.bytes))
}
