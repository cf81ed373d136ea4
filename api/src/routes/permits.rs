//! Permits (SPEC §1.3–§1.6, §2): the holder reads theirs, binds a device key, shows it as a QR
//! code and asks for the annual endorsement; officers of the issuing district suspend, restore
//! and revoke it, and search their district's (`GET /v1/permits`); police look it up (audited);
//! verifiers verify QR texts against live status.
//! The rules are in [`crate::workflows`].

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use chrono::Utc;
use crypto::verify::{Verification, VerifyOptions};
use policy::{PermitFacts, ReportInput, StatusChange};

use crate::auth::extract::Auth;
use crate::auth::jwt::OrgKind;
use crate::auth::session::rate_limit;
use crate::error::{ApiError, ApiResult};
use crate::issuance;
use crate::qr_image::QrImage;
use crate::routes::client_ip;
use crate::state::AppState;
use crate::store::{self, permits};
use crate::wire::Json;
use crate::wire::applications::ReasonBody;
use crate::wire::permits::{
    EndorsementView, HolderKeyBody, HolderKeyChallenge, LookupQuery, MyPermit, PermitList,
    PermitRecord, PermitView, ReportQuery, SearchQuery, VerifyBody,
};
use crate::workflows::{endorsement, holder_key, permit_status, records};

/// Mounts the routes of this module.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.service(mine)
        .service(holder_key_challenge)
        .service(bind_holder_key)
        .service(qr_png)
        .service(qr_svg)
        .service(endorse)
        .service(report)
        .service(suspend)
        .service(restore)
        .service(revoke)
        .service(lookup)
        .service(search);
}

/// `POST /v1/verify`, the call made most (every scan of every verifier), mounted before every
/// other route by [`super::configure`]: actix tries a request's path against the routes in the
/// order they were mounted, and the ~50 routes once ahead of it cost a verification 5 000–10 000
/// instructions, 6 100 of them in the router's own functions (callgrind,
/// `scripts/callgrind-verify.sh`; BENCHMARKS.md).
pub fn configure_verify(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.service(verify);
}

/// The caller's permit (residents only; 404 when none has been issued).
async fn my_permit(state: &AppState, auth: &Auth) -> ApiResult<permits::Model> {
    let resident = auth.resident()?;
    permits::find_by_resident(state.store.conn(), resident)
        .await?
        .ok_or(ApiError::NotFound("no permit has been issued to you"))
}

/// The SPEC §3 report of `permit`'s holder for `target`, today, from confirmed registrations,
/// the permit's lapses and the permit itself.
async fn report_for(
    state: &AppState,
    permit: &permits::Model,
    target: policy::District,
) -> ApiResult<policy::Report> {
    let as_of = policy::calendar::today();
    let db = state.store.conn();
    let input = ReportInput {
        target,
        as_of,
        periods: issuance::confirmed_periods(db, permit.resident_id).await?,
        lapses: issuance::lapses_of(db, permit, as_of).await?,
        permit: Some(PermitFacts {
            issuer: store::district(permit.district, "permits")?,
            status: permit.status.into(),
        }),
    };
    Ok(policy::report(&input))
}

/// The caller's permit, its `EP1:` credential, the report for its district and the endorsement
/// window as of today (SPEC §1.4: its dates and whether it is not yet open, open or overdue).
#[utoipa::path(
    tag = "permits",
    security(("bearer_jwt" = [])),
    responses(
        (status = 200, description = "The permit, its credential, the report for its district and the endorsement window", body = MyPermit),
        (status = 404, description = "No permit has been issued to you"),
    )
)]
#[get("/v1/permits/me")]
async fn mine(auth: Auth, state: web::Data<AppState>) -> ApiResult<web::Json<MyPermit>> {
    let permit = my_permit(&state, &auth).await?;
    let district = store::district(permit.district, "permits")?;
    let conversion = report_for(&state, &permit, district).await?;
    let window = issuance::calendar_of(state.store.conn(), &permit)
        .await?
        .window(policy::calendar::today());
    Ok(web::Json(MyPermit {
        credential: permit.credential.clone(),
        permit: permit.into(),
        report: conversion,
        endorsement: window.into(),
    }))
}

/// SPEC §3 for the caller's permit (the target defaults to the issuing district).
#[utoipa::path(
    tag = "permits",
    security(("bearer_jwt" = [])),
    params(ReportQuery),
    responses(
        (status = 200, description = "The SPEC §3 report", body = policy::Report),
        (status = 400, description = "`invalid_district`, `target_not_in_jinhua`"),
        (status = 404, description = "No permit has been issued to you"),
    )
)]
#[get("/v1/permits/me/report")]
async fn report(
    auth: Auth,
    state: web::Data<AppState>,
    query: web::Query<ReportQuery>,
) -> ApiResult<web::Json<policy::Report>> {
    let permit = my_permit(&state, &auth).await?;
    let target = match query.target()? {
        Some(target) => target,
        None => store::district(permit.district, "permits")?,
    };
    Ok(web::Json(report_for(&state, &permit, target).await?))
}

/// A single-use challenge for binding a device key: the new key signs it with the permit
/// number, and `PUT /v1/permits/me/holder-key` presents the signature.
#[utoipa::path(
    tag = "permits",
    security(("bearer_jwt" = [])),
    responses(
        (status = 201, description = "A challenge, valid `expires_in` seconds", body = HolderKeyChallenge),
        (status = 404, description = "No permit has been issued to you"),
    )
)]
#[post("/v1/permits/me/holder-key/challenge")]
async fn holder_key_challenge(auth: Auth, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let permit = my_permit(&state, &auth).await?;
    let challenge = holder_key::challenge(&state, &permit).await?;
    Ok(HttpResponse::Created().json(challenge))
}

/// Binds the device key (`cnf`) and re-signs the credential: the key's proof over a challenge
/// and a one-time code sent to the holder's phone. The earlier credential is superseded.
#[utoipa::path(
    tag = "permits",
    security(("bearer_jwt" = [])),
    request_body = HolderKeyBody,
    responses(
        (status = 200, description = "Bound; the credential is re-signed (`holder_key_bound_at`, `holder_key_bound_from` record it)", body = PermitView),
        (status = 400, description = "`missing_field`, `invalid_public_key`, `invalid_challenge`, `invalid_signature`, `invalid_code`, `bad_proof`, `challenge_expired`, `wrong_code`, `code_expired`"),
        (status = 404, description = "No permit has been issued to you"),
        (status = 409, description = "`permit_revoked`"),
        (status = 429, description = "`too_many_attempts`"),
    )
)]
#[put("/v1/permits/me/holder-key")]
async fn bind_holder_key(
    req: HttpRequest,
    auth: Auth,
    state: web::Data<AppState>,
    body: Json<HolderKeyBody>,
) -> ApiResult<web::Json<PermitView>> {
    let binding = body.0.try_into()?;
    let permit = my_permit(&state, &auth).await?;
    let permit = holder_key::bind(&state, permit, binding, &client_ip(&req)).await?;
    Ok(web::Json(permit.into()))
}

/// The QR code of the caller's `EP1:` credential (error correction M, 4-module quiet zone).
async fn qr(auth: &Auth, state: &AppState) -> ApiResult<QrImage> {
    let permit = my_permit(state, auth).await?;
    Ok(QrImage::new(&permit.credential)?)
}

/// The `EP1:` QR code as PNG.
#[utoipa::path(
    tag = "permits",
    security(("bearer_jwt" = [])),
    responses(
        (status = 200, description = "The `EP1:` QR code", content(("image/png"))),
        (status = 404, description = "No permit has been issued to you"),
    )
)]
#[get("/v1/permits/me/qr.png")]
async fn qr_png(auth: Auth, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let png = qr(&auth, &state).await?.png(8)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .content_type("image/png")
        .body(png))
}

/// The `EP1:` QR code as SVG.
#[utoipa::path(
    tag = "permits",
    security(("bearer_jwt" = [])),
    responses(
        (status = 200, description = "The `EP1:` QR code", content(("image/svg+xml"))),
        (status = 404, description = "No permit has been issued to you"),
    )
)]
#[get("/v1/permits/me/qr.svg")]
async fn qr_svg(auth: Auth, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let svg = qr(&auth, &state).await?.svg(320);
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .content_type("image/svg+xml")
        .body(svg))
}

/// The annual endorsement (SPEC §1.4): early → 422 with the window's dates; in the window →
/// validity to the next anniversary; late → the lapse is recorded.
#[utoipa::path(
    tag = "permits",
    security(("bearer_jwt" = [])),
    responses(
        (status = 200, description = "Endorsed (in the window, or late with the lapse recorded)", body = EndorsementView),
        (status = 404, description = "No permit has been issued to you"),
        (status = 409, description = "`permit_revoked`, `endorsed_today` (a concurrent endorsement of this permit landed first)"),
        (status = 422, description = "`endorsement_too_early` (with `window_opens`, `anniversary`)"),
    )
)]
#[post("/v1/permits/me/endorsements")]
async fn endorse(auth: Auth, state: web::Data<AppState>) -> ApiResult<web::Json<EndorsementView>> {
    let permit = my_permit(&state, &auth).await?;
    let (timing, permit) = endorsement::endorse(&state, permit).await?;
    Ok(web::Json(EndorsementView {
        timing,
        permit: permit.into(),
    }))
}

/// Applies a status change to permit `number` for the officer calling.
async fn change_status(
    auth: &Auth,
    state: &AppState,
    number: &str,
    body: ReasonBody,
    change: StatusChange,
) -> ApiResult<web::Json<PermitView>> {
    let officer = auth.officer()?;
    let reason = body.try_into()?;
    let permit = permit_status::change(state, officer, number, change, reason).await?;
    Ok(web::Json(permit.into()))
}

/// Suspends an active permit (officer of the issuing district, with a reason).
#[utoipa::path(
    tag = "permits",
    security(("bearer_jwt" = [])),
    params(("number" = String, Path, description = "The permit number")),
    request_body = ReasonBody,
    responses(
        (status = 200, description = "Suspended", body = PermitView),
        (status = 400, description = "`missing_field`, `invalid_field`, `invalid_reason`"),
        (status = 404, description = "No such permit"),
        (status = 409, description = "`invalid_transition`"),
    )
)]
#[post("/v1/permits/{number}/suspend")]
async fn suspend(
    auth: Auth,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: Json<ReasonBody>,
) -> ApiResult<web::Json<PermitView>> {
    change_status(&auth, &state, &path, body.0, StatusChange::Suspend).await
}

/// Restores a suspended permit (officer of the issuing district, with a reason).
#[utoipa::path(
    tag = "permits",
    security(("bearer_jwt" = [])),
    params(("number" = String, Path, description = "The permit number")),
    request_body = ReasonBody,
    responses(
        (status = 200, description = "Restored", body = PermitView),
        (status = 400, description = "`missing_field`, `invalid_field`, `invalid_reason`"),
        (status = 404, description = "No such permit"),
        (status = 409, description = "`invalid_transition`"),
    )
)]
#[post("/v1/permits/{number}/restore")]
async fn restore(
    auth: Auth,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: Json<ReasonBody>,
) -> ApiResult<web::Json<PermitView>> {
    change_status(&auth, &state, &path, body.0, StatusChange::Restore).await
}

/// Revokes a permit, for good (officer of the issuing district, with a reason).
#[utoipa::path(
    tag = "permits",
    security(("bearer_jwt" = [])),
    params(("number" = String, Path, description = "The permit number")),
    request_body = ReasonBody,
    responses(
        (status = 200, description = "Revoked", body = PermitView),
        (status = 400, description = "`missing_field`, `invalid_field`, `invalid_reason`"),
        (status = 404, description = "No such permit"),
        (status = 409, description = "`invalid_transition`"),
    )
)]
#[post("/v1/permits/{number}/revoke")]
async fn revoke(
    auth: Auth,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: Json<ReasonBody>,
) -> ApiResult<web::Json<PermitView>> {
    change_status(&auth, &state, &path, body.0, StatusChange::Revoke).await
}

/// The officer's district's permits, newest first, by number (or its start) and status
/// (other roles: 403). For the officer console's permit search; not audited, as it shows no
/// more than the officer's own district's permit records.
#[utoipa::path(
    tag = "permits",
    security(("bearer_jwt" = [])),
    params(SearchQuery),
    responses(
        (status = 200, description = "The district's matching permits, newest first", body = PermitList),
        (status = 400, description = "`invalid_number`, `invalid_status`, `invalid_limit`, `invalid_query`"),
    )
)]
#[get("/v1/permits")]
async fn search(
    auth: Auth,
    state: web::Data<AppState>,
    query: web::Query<SearchQuery>,
) -> ApiResult<web::Json<PermitList>> {
    let officer = auth.officer()?;
    let search = query.into_inner().try_into()?;
    let rows =
        permits::search_district(state.store.conn(), officer.district.into(), &search).await?;
    Ok(web::Json(PermitList {
        items: rows.into_iter().map(PermitView::from).collect(),
    }))
}

/// The full record of a permit, for police verifiers, for a stated purpose (a case number or a
/// checkpoint id); the look-up and its purpose are audited, limited per account and hour
/// (`rate_limits.police_lookups_per_hour`) and counted per account in `/metrics`.
#[utoipa::path(
    tag = "permits",
    security(("bearer_jwt" = [])),
    params(("number" = String, Path, description = "The permit number"), LookupQuery),
    responses(
        (status = 200, description = "The full record (the look-up and its purpose are audited)", body = PermitRecord),
        (status = 400, description = "`missing_field`, `invalid_purpose` (naming `purpose`)"),
        (status = 404, description = "No such permit"),
        (status = 429, description = "`rate_limited` (the account's hourly look-ups are spent; `Retry-After`)"),
    )
)]
#[get("/v1/permits/{number}")]
async fn lookup(
    auth: Auth,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<LookupQuery>,
) -> ApiResult<web::Json<PermitRecord>> {
    let (_, kind) = auth.verifier()?;
    if kind != OrgKind::Police {
        return Err(ApiError::Forbidden(
            "only police verifiers look up full records",
        ));
    }
    let purpose = query.purpose()?;
    Ok(web::Json(
        records::lookup(&state, auth.actor(), &path, &purpose).await?,
    ))
}

/// The SPEC §2 verdict of a QR text against the current trust list and the live status: a
/// change committed through this instance is seen at once, one committed elsewhere within
/// `verify_recheck_ms` (see [`crate::signed_lists::ListCache::live`]).
#[utoipa::path(
    tag = "permits",
    security(("bearer_jwt" = [])),
    request_body = VerifyBody,
    responses(
        (status = 200, description = "The SPEC §2 verdict", body = crate::wire::verification::Verification),
        (status = 400, description = "`missing_field`, `invalid_field`, `qr_too_long`"),
        (status = 429, description = "`rate_limited`"),
    )
)]
#[post("/v1/verify")]
async fn verify(
    req: HttpRequest,
    auth: Auth,
    state: web::Data<AppState>,
    body: Json<VerifyBody>,
) -> ApiResult<web::Json<Verification>> {
    let (staff_id, _) = auth.verifier()?;
    let limits = &state.settings.rate_limits.verify;
    let ip = client_ip(&req);
    let buckets = [
        (&format!("verify:ip:{ip}")[..], limits.per_ip),
        (&format!("verify:acct:{staff_id}")[..], limits.per_account),
    ];
    rate_limit(&state, &buckets, true).await?;
    let qr = body.0.qr()?;
    let lists = state.lists.live(&state.store).await?;
    // After the lists: they are never issued after the moment they are checked at.
    let now = Utc::now();
    let verification = crypto::verify::verify(
        qr,
        &lists.trust,
        &lists.status,
        now,
        &VerifyOptions::default(),
    );
    state.metrics.observe_verdict(verification.verdict.code());
    Ok(web::Json(verification))
}
