//! Permits (SPEC §1.3–§1.6, §2): approving an application issues one; the holder reads it, binds
//! a device key, shows it as a QR code and asks for the annual endorsement; officers of the
//! issuing district suspend, restore and revoke it; police look it up (audited); verifiers verify
//! QR texts against live status.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{Datelike, Utc};
use crypto::verify::VerifyOptions;
use policy::{Endorsed, PermitFacts, PermitNumber, PermitStatus, ReportInput, TooEarly};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::extract::Auth;
use crate::auth::jwt::OrgKind;
use crate::auth::session::rate_limit;
use crate::error::{ApiError, ApiResult};
use crate::issuance::{self, district_of, today};
use crate::qr_image::QrImage;
use crate::state::AppState;
use crate::store::{StoreError, applications, audit, endorsements, lists, permits, residents};

/// Mounts the routes of this module.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/applications/{id}/approve", web::post().to(approve))
        .route("/v1/permits/me", web::get().to(mine))
        .route("/v1/permits/me/holder-key", web::put().to(bind_holder_key))
        .route("/v1/permits/me/qr.png", web::get().to(qr_png))
        .route("/v1/permits/me/qr.svg", web::get().to(qr_svg))
        .route("/v1/permits/me/endorsements", web::post().to(endorse))
        .route("/v1/permits/me/report", web::get().to(report))
        .route("/v1/permits/{number}/suspend", web::post().to(suspend))
        .route("/v1/permits/{number}/restore", web::post().to(restore))
        .route("/v1/permits/{number}/revoke", web::post().to(revoke))
        .route("/v1/permits/{number}", web::get().to(lookup))
        .route("/v1/verify", web::post().to(verify));
}

fn internal(e: impl std::error::Error + Send + Sync + 'static) -> ApiError {
    ApiError::internal(e)
}

/// The JSON form of a permit for its holder and officers.
pub fn to_json(p: &permits::Model) -> Value {
    json!({
        "number": p.number,
        "district": p.district.to_string(),
        "issued_on": p.issued_on,
        "status": p.status,
        "status_reason": p.status_reason,
        "valid_until": p.valid_until,
        "last_endorsed": p.last_endorsed,
        "holder_key": p.holder_key,
        "credential": p.credential,
    })
}

/// Appends the audit entry as the transaction's last write and commits.
async fn finish(txn: sea_orm::DatabaseTransaction, entry: audit::NewEntry) -> ApiResult<()> {
    audit::append(&txn, entry, Utc::now())
        .await
        .map_err(internal)?;
    txn.commit()
        .await
        .map_err(|e| internal(StoreError::from(e)))
}

/// `POST /v1/applications/{id}/approve` (officer of its district): issues the permit, signed by
/// the district's key. Approving twice, or concurrently, issues one permit (409 for the others).
#[utoipa::path(
    post,
    path = "/v1/applications/{id}/approve",
    tag = "applications",
    security(("bearer_jwt" = [])),
    params(("id" = i64, Path, description = "The id")),
    responses(
        (status = 201, description = "Approved: the permit is issued", body = crate::openapi::Permit),
        (status = 401, description = "No valid access token"),
        (status = 403, description = "Not an officer of its district"),
        (status = 404, description = "No such application"),
        (status = 409, description = "`already_decided`, `permit_held` (the applicant holds a permit already), `permit_numbers_exhausted`"),
    )
)]
async fn approve(
    auth: Auth,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let now = Utc::now();
    let txn = state.store.begin().await.map_err(internal)?;
    let app = applications::get(&txn, id)
        .await
        .map_err(|_| ApiError::NotFound("no such application"))?;
    let district = district_of(app.district).ok_or(ApiError::NotFound("no such application"))?;
    let officer = auth.officer_of(district)?;
    if !applications::decide(&txn, id, applications::Decision::Approve, officer, now)
        .await
        .map_err(internal)?
    {
        return Err(ApiError::conflict(
            "already_decided",
            "the application was decided already",
        ));
    }
    issuance::no_permit_held(&txn, app.resident_id).await?;
    let issued_on = today(now);
    let year = issued_on.year();
    let seq = permits::allocate_number(&txn, app.district, year)
        .await
        .map_err(internal)?;
    let number = PermitNumber::new(
        district,
        u16::try_from(year).map_err(internal)?,
        u32::try_from(seq).map_err(internal)?,
    )
    .map_err(|_| {
        ApiError::conflict(
            "permit_numbers_exhausted",
            "no permit number is left this year",
        )
    })?;
    let calendar = policy::EndorsementCalendar::new(issued_on, &[]).map_err(internal)?;
    let new = permits::NewPermit {
        number: number.to_string(),
        application_id: id,
        resident_id: app.resident_id,
        district: app.district,
        issued_on,
        valid_until: calendar.next_anniversary(),
        credential: String::new(),
    };
    let permit = permits::insert(&txn, new).await.map_err(|e| match e {
        StoreError::Conflict(_) => {
            ApiError::conflict("already_decided", "a permit exists for this application")
        }
        e => internal(e),
    })?;
    let credential = issuance::sign_credential(&state, &txn, &permit, now).await?;
    permits::set_credential(&txn, permit.id, &credential)
        .await
        .map_err(internal)?;
    lists::bump(&txn, lists::ListName::StatusList)
        .await
        .map_err(internal)?;
    let permit = permits::get(&txn, permit.id).await.map_err(internal)?;
    let entry = audit::NewEntry::new(
        auth.actor(),
        "permit.issue",
        permit.number.clone(),
        json!({ "application": id }),
    );
    finish(txn, entry).await?;
    state.lists.changed();
    Ok(HttpResponse::Created().json(to_json(&permit)))
}

async fn my_permit(state: &AppState, auth: &Auth) -> ApiResult<permits::Model> {
    let resident = auth.resident()?;
    permits::find_by_resident(state.store.conn(), resident)
        .await
        .map_err(internal)?
        .into_iter()
        .next()
        .ok_or(ApiError::NotFound("no permit has been issued to you"))
}

async fn report_for(
    state: &AppState,
    permit: &permits::Model,
    target: policy::District,
) -> ApiResult<policy::Report> {
    let as_of = today(Utc::now());
    let db = state.store.conn();
    let input = ReportInput {
        target,
        as_of,
        periods: issuance::confirmed_periods(db, permit.resident_id).await?,
        lapses: issuance::lapses_of(db, permit, as_of).await?,
        permit: district_of(permit.district).map(|issuer| PermitFacts {
            issuer,
            status: match permit.status {
                permits::Status::Active => PermitStatus::Active,
                permits::Status::Suspended => PermitStatus::Suspended,
                permits::Status::Revoked => PermitStatus::Revoked,
            },
        }),
    };
    Ok(policy::report(&input))
}

/// `GET /v1/permits/me`: the permit, its `EP1:` credential and the report for its district.
#[utoipa::path(
    get,
    path = "/v1/permits/me",
    tag = "permits",
    security(("bearer_jwt" = [])),
    responses(
        (status = 200, description = "The permit, its credential and the report for its district", body = crate::openapi::MyPermit),
        (status = 401, description = "No valid access token"),
        (status = 403, description = "Not a resident"),
        (status = 404, description = "No permit has been issued to you"),
    )
)]
async fn mine(auth: Auth, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let permit = my_permit(&state, &auth).await?;
    let district = district_of(permit.district).ok_or(ApiError::NotFound("no permit"))?;
    let report = report_for(&state, &permit, district).await?;
    Ok(HttpResponse::Ok().json(
        json!({ "permit": to_json(&permit), "credential": permit.credential, "report": report }),
    ))
}

/// `?target=D`
#[derive(Deserialize, utoipa::IntoParams)]
struct ReportQuery {
    /// A Jinhua district code; default: the issuing district.
    target: Option<String>,
}

/// `GET /v1/permits/me/report?target=D`: SPEC §3 from confirmed registrations, lapses and the
/// permit (target defaults to the issuing district).
#[utoipa::path(
    get,
    path = "/v1/permits/me/report",
    tag = "permits",
    security(("bearer_jwt" = [])),
    params(ReportQuery),
    responses(
        (status = 200, description = "The SPEC §3 report", body = inline(crate::openapi::AnyObject)),
        (status = 400, description = "`target` is not a district code, or not a Jinhua one"),
        (status = 401, description = "No valid access token"),
        (status = 403, description = "Not a resident"),
        (status = 404, description = "No permit has been issued to you"),
    )
)]
async fn report(
    auth: Auth,
    state: web::Data<AppState>,
    query: web::Query<ReportQuery>,
) -> ApiResult<HttpResponse> {
    let permit = my_permit(&state, &auth).await?;
    let target = match &query.target {
        Some(t) => t
            .parse::<policy::DistrictCode>()
            .map_err(|e| ApiError::invalid(e.code(), "target", e.to_string()))?
            .jinhua()
            .ok_or_else(|| {
                ApiError::invalid(
                    "target_not_in_jinhua",
                    "target",
                    "the target must be a Jinhua district",
                )
            })?,
        None => district_of(permit.district).ok_or(ApiError::NotFound("no permit"))?,
    };
    Ok(HttpResponse::Ok().json(report_for(&state, &permit, target).await?))
}

/// `{public_key}`: 64 hex characters.
#[derive(Deserialize, utoipa::ToSchema)]
struct HolderKeyRequest {
    public_key: String,
}

/// `PUT /v1/permits/me/holder-key`: binds the device key (`cnf`) and re-signs the credential.
#[utoipa::path(
    put,
    path = "/v1/permits/me/holder-key",
    tag = "permits",
    security(("bearer_jwt" = [])),
    responses(
        (status = 200, description = "Bound; the credential is re-signed", body = crate::openapi::Permit),
        (status = 400, description = "`invalid_public_key`"),
        (status = 401, description = "No valid access token"),
        (status = 403, description = "Not a resident"),
        (status = 404, description = "No permit has been issued to you"),
        (status = 409, description = "`permit_revoked`"),
    )
)]
async fn bind_holder_key(
    auth: Auth,
    state: web::Data<AppState>,
    body: web::Json<HolderKeyRequest>,
) -> ApiResult<HttpResponse> {
    let key = crypto::keys::parse_public_key_hex(body.public_key.trim()).map_err(|_| {
        ApiError::invalid(
            "invalid_public_key",
            "public_key",
            "an Ed25519 public key as 64 hex characters",
        )
    })?;
    let permit = my_permit(&state, &auth).await?;
    if permit.status == permits::Status::Revoked {
        return Err(ApiError::conflict(
            "permit_revoked",
            "the permit is revoked",
        ));
    }
    let hex_key = crypto::keys::public_key_hex(&key);
    let txn = state.store.begin().await.map_err(internal)?;
    permits::set_holder_key(&txn, permit.id, &hex_key)
        .await
        .map_err(internal)?;
    let permit = permits::get(&txn, permit.id).await.map_err(internal)?;
    let credential = issuance::sign_credential(&state, &txn, &permit, Utc::now()).await?;
    permits::set_credential(&txn, permit.id, &credential)
        .await
        .map_err(internal)?;
    let permit = permits::get(&txn, permit.id).await.map_err(internal)?;
    let entry = audit::NewEntry::new(
        auth.actor(),
        "permit.bind_key",
        permit.number.clone(),
        json!({ "kid": crypto::keys::KeyId::of(&key).to_string() }),
    );
    finish(txn, entry).await?;
    Ok(HttpResponse::Ok().json(to_json(&permit)))
}

async fn qr(auth: &Auth, state: &AppState) -> ApiResult<QrImage> {
    let permit = my_permit(state, auth).await?;
    QrImage::new(&permit.credential).map_err(internal)
}

/// `GET /v1/permits/me/qr.png`: the `EP1:` QR (error correction M, 4-module quiet zone).
#[utoipa::path(
    get,
    path = "/v1/permits/me/qr.png",
    tag = "permits",
    security(("bearer_jwt" = [])),
    responses(
        (status = 200, description = "The `EP1:` QR code", content(("image/png"))),
        (status = 401, description = "No valid access token"),
        (status = 403, description = "Not a resident"),
        (status = 404, description = "No permit has been issued to you"),
    )
)]
async fn qr_png(auth: Auth, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let png = qr(&auth, &state).await?.png(8).map_err(internal)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .content_type("image/png")
        .body(png))
}

/// `GET /v1/permits/me/qr.svg`
#[utoipa::path(
    get,
    path = "/v1/permits/me/qr.svg",
    tag = "permits",
    security(("bearer_jwt" = [])),
    responses(
        (status = 200, description = "The `EP1:` QR code", content(("image/svg+xml"))),
        (status = 401, description = "No valid access token"),
        (status = 403, description = "Not a resident"),
        (status = 404, description = "No permit has been issued to you"),
    )
)]
async fn qr_svg(auth: Auth, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let svg = qr(&auth, &state).await?.svg(320);
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .content_type("image/svg+xml")
        .body(svg))
}

/// `POST /v1/permits/me/endorsements` (SPEC §1.4): early → 422 with the window's dates; in the
/// window → validity to the next anniversary; late → the lapse is recorded. Re-signed by the
/// district where the holder is registered now.
#[utoipa::path(
    post,
    path = "/v1/permits/me/endorsements",
    tag = "permits",
    security(("bearer_jwt" = [])),
    responses(
        (status = 200, description = "Endorsed (in the window, or late with the lapse recorded)", body = crate::openapi::Endorsement),
        (status = 401, description = "No valid access token"),
        (status = 403, description = "Not a resident"),
        (status = 404, description = "No permit has been issued to you"),
        (status = 409, description = "`permit_revoked`"),
        (status = 422, description = "`endorsement_too_early` (with `window_opens`, `anniversary`)"),
    )
)]
async fn endorse(auth: Auth, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let permit = my_permit(&state, &auth).await?;
    if permit.status == permits::Status::Revoked {
        return Err(ApiError::conflict(
            "permit_revoked",
            "a revoked permit cannot be endorsed",
        ));
    }
    let now = Utc::now();
    let day = today(now);
    let txn = state.store.begin().await.map_err(internal)?;
    let mut calendar = issuance::calendar_of(&txn, &permit).await?;
    let timing = match calendar.endorse(day) {
        Ok(endorsed) => endorsed,
        Err(TooEarly {
            window_opens,
            anniversary,
        }) => {
            return Err(ApiError::unprocessable(
                "endorsement_too_early",
                None,
                format!("endorsement opens on {window_opens}, a month before the anniversary {anniversary}"),
            )
            .with("window_opens", json!(window_opens))
            .with("anniversary", json!(anniversary)));
        }
    };
    let resident_district =
        crate::store::residences::current_for_resident(&txn, permit.resident_id)
            .await
            .map_err(internal)?
            .map_or(permit.district, |r| r.district);
    let (db_timing, lapse) = match timing {
        Endorsed::Late { lapse, .. } => (endorsements::Timing::Late, Some(lapse)),
        Endorsed::InWindow { .. } => (endorsements::Timing::InWindow, None),
    };
    endorsements::insert(
        &txn,
        endorsements::NewEndorsement {
            permit_id: permit.id,
            day,
            timing: db_timing,
            lapse_from: lapse.map(|l| l.from()),
            lapse_until: lapse.and_then(|l| l.until()),
            district: resident_district,
        },
    )
    .await
    .map_err(internal)?;
    permits::set_validity(&txn, permit.id, calendar.next_anniversary(), Some(day))
        .await
        .map_err(internal)?;
    let permit = permits::get(&txn, permit.id).await.map_err(internal)?;
    let credential = issuance::sign_credential(&state, &txn, &permit, now).await?;
    permits::set_credential(&txn, permit.id, &credential)
        .await
        .map_err(internal)?;
    let permit = permits::get(&txn, permit.id).await.map_err(internal)?;
    let entry = audit::NewEntry::new(
        auth.actor(),
        "permit.endorse",
        permit.number.clone(),
        json!({ "timing": timing }),
    );
    finish(txn, entry).await?;
    Ok(HttpResponse::Ok().json(json!({ "timing": timing, "permit": to_json(&permit) })))
}

/// `{reason}`
#[derive(Deserialize)]
struct ReasonRequest {
    reason: String,
}

#[derive(Clone, Copy)]
enum Change {
    Suspend,
    Restore,
    Revoke,
}

async fn change_status(
    auth: Auth,
    state: &AppState,
    number: &str,
    reason: &str,
    change: Change,
) -> ApiResult<HttpResponse> {
    let reason = reason.trim();
    if !(2..=500).contains(&reason.chars().count()) {
        return Err(ApiError::invalid(
            "invalid_reason",
            "reason",
            "a reason of 2–500 characters",
        ));
    }
    let txn = state.store.begin().await.map_err(internal)?;
    let permit = permits::find_by_number(&txn, number)
        .await
        .map_err(internal)?
        .ok_or(ApiError::NotFound("no such permit"))?;
    let district = district_of(permit.district).ok_or(ApiError::NotFound("no such permit"))?;
    auth.officer_of(district)?;
    use permits::Status::{Active, Revoked, Suspended};
    let (allowed, to, action) = match change {
        Change::Suspend => (permit.status == Active, Suspended, "permit.suspend"),
        Change::Restore => (permit.status == Suspended, Active, "permit.restore"),
        Change::Revoke => (permit.status != Revoked, Revoked, "permit.revoke"),
    };
    if !allowed
        || !permits::set_status(&txn, permit.id, to, Some(reason))
            .await
            .map_err(internal)?
    {
        return Err(ApiError::conflict(
            "invalid_transition",
            format!("the permit is {:?}", permit.status).to_lowercase(),
        ));
    }
    lists::bump(&txn, lists::ListName::StatusList)
        .await
        .map_err(internal)?;
    let permit = permits::get(&txn, permit.id).await.map_err(internal)?;
    let entry = audit::NewEntry::new(
        auth.actor(),
        action,
        permit.number.clone(),
        json!({ "reason": reason }),
    );
    finish(txn, entry).await?;
    state.lists.changed();
    Ok(HttpResponse::Ok().json(to_json(&permit)))
}

/// `POST /v1/permits/{number}/suspend` {{reason}} (officer of the issuing district).
#[utoipa::path(
    post,
    path = "/v1/permits/{number}/suspend",
    tag = "permits",
    security(("bearer_jwt" = [])),
    params(("number" = String, Path, description = "The permit number")),
    request_body = crate::openapi::Reason,
    responses(
        (status = 200, description = "Suspended", body = crate::openapi::Permit),
        (status = 400, description = "`invalid_reason`"),
        (status = 401, description = "No valid access token"),
        (status = 403, description = "Not an officer of the issuing district"),
        (status = 404, description = "No such permit"),
        (status = 409, description = "`invalid_transition`"),
    )
)]
async fn suspend(
    auth: Auth,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<ReasonRequest>,
) -> ApiResult<HttpResponse> {
    change_status(auth, &state, &path, &body.reason, Change::Suspend).await
}

/// `POST /v1/permits/{number}/restore` {{reason}} (officer of the issuing district).
#[utoipa::path(
    post,
    path = "/v1/permits/{number}/restore",
    tag = "permits",
    security(("bearer_jwt" = [])),
    params(("number" = String, Path, description = "The permit number")),
    request_body = crate::openapi::Reason,
    responses(
        (status = 200, description = "Restored", body = crate::openapi::Permit),
        (status = 400, description = "`invalid_reason`"),
        (status = 401, description = "No valid access token"),
        (status = 403, description = "Not an officer of the issuing district"),
        (status = 404, description = "No such permit"),
        (status = 409, description = "`invalid_transition`"),
    )
)]
async fn restore(
    auth: Auth,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<ReasonRequest>,
) -> ApiResult<HttpResponse> {
    change_status(auth, &state, &path, &body.reason, Change::Restore).await
}

/// `POST /v1/permits/{number}/revoke` {{reason}} (officer of the issuing district).
#[utoipa::path(
    post,
    path = "/v1/permits/{number}/revoke",
    tag = "permits",
    security(("bearer_jwt" = [])),
    params(("number" = String, Path, description = "The permit number")),
    request_body = crate::openapi::Reason,
    responses(
        (status = 200, description = "Revoked", body = crate::openapi::Permit),
        (status = 400, description = "`invalid_reason`"),
        (status = 401, description = "No valid access token"),
        (status = 403, description = "Not an officer of the issuing district"),
        (status = 404, description = "No such permit"),
        (status = 409, description = "`invalid_transition`"),
    )
)]
async fn revoke(
    auth: Auth,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<ReasonRequest>,
) -> ApiResult<HttpResponse> {
    change_status(auth, &state, &path, &body.reason, Change::Revoke).await
}

/// `GET /v1/permits/{number}` (police verifiers): the full record; the lookup itself is audited.
#[utoipa::path(
    get,
    path = "/v1/permits/{number}",
    tag = "permits",
    security(("bearer_jwt" = [])),
    params(("number" = String, Path, description = "The permit number")),
    responses(
        (status = 200, description = "The full record (the look-up is audited)", body = crate::openapi::PermitRecord),
        (status = 401, description = "No valid access token"),
        (status = 403, description = "Not a police verifier"),
        (status = 404, description = "No such permit"),
    )
)]
async fn lookup(
    auth: Auth,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let (_, kind) = auth.verifier()?;
    if kind != OrgKind::Police {
        return Err(ApiError::Forbidden(
            "only police verifiers look up full records",
        ));
    }
    let txn = state.store.begin().await.map_err(internal)?;
    let permit = permits::find_by_number(&txn, &path)
        .await
        .map_err(internal)?
        .ok_or(ApiError::NotFound("no such permit"))?;
    let holder = residents::get(&txn, permit.resident_id)
        .await
        .map_err(internal)?;
    let registrations = crate::store::residences::list_by_resident(&txn, permit.resident_id)
        .await
        .map_err(internal)?;
    let body = json!({
        "permit": to_json(&permit),
        "holder": { "name": holder.name, "id_number": holder.id_number, "phone": holder.phone },
        "registrations": registrations.iter().map(|r| json!({
            "district": r.district.to_string(), "address": r.address, "start": r.start_date, "end": r.end_date, "status": r.status,
        })).collect::<Vec<_>>(),
    });
    let entry = audit::NewEntry::new(
        auth.actor(),
        "permit.lookup",
        permit.number.clone(),
        json!({}),
    );
    finish(txn, entry).await?;
    Ok(HttpResponse::Ok().json(body))
}

/// `{qr}`: an `EP1:` or `EPP1:` text.
#[derive(Deserialize)]
struct VerifyRequest {
    qr: String,
}

/// `POST /v1/verify` (verifiers): the SPEC §2 verdict against the current trust list and the
/// live status from the database: a change committed through this instance is seen at once, one
/// committed elsewhere within `verify_recheck_ms` (see [`crate::signed_lists::ListCache::live`]).
#[utoipa::path(
    post,
    path = "/v1/verify",
    tag = "permits",
    security(("bearer_jwt" = [])),
    request_body = crate::openapi::VerifyQr,
    responses(
        (status = 200, description = "The SPEC §2 verdict", body = inline(crate::openapi::AnyObject)),
        (status = 400, description = "`qr_too_long`"),
        (status = 401, description = "No valid access token"),
        (status = 403, description = "Not a verifier"),
        (status = 429, description = "`rate_limited`"),
    )
)]
async fn verify(
    req: HttpRequest,
    auth: Auth,
    state: web::Data<AppState>,
    body: web::Json<VerifyRequest>,
) -> ApiResult<HttpResponse> {
    let (staff_id, _) = auth.verifier()?;
    let limits = &state.settings.rate_limits.verify;
    let ip = req
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default();
    rate_limit(
        &state,
        &[
            (&format!("verify:ip:{ip}"), limits.per_ip),
            (&format!("verify:acct:{staff_id}"), limits.per_account),
        ],
        true,
    )
    .await?;
    if body.qr.len() > crypto::qr_text::MAX_TEXT_LEN {
        return Err(ApiError::invalid(
            "qr_too_long",
            "qr",
            "longer than any QR code holds",
        ));
    }
    let lists = state
        .lists
        .live(&state.store, &state.status_uri)
        .await
        .map_err(internal)?;
    // After the lists: they are never issued after the moment they are checked at.
    let now = Utc::now();
    let verification = crypto::verify::verify(
        body.qr.trim(),
        &lists.trust,
        Some(&lists.status),
        now,
        &VerifyOptions::default(),
    );
    state.metrics.observe_verdict(verification.verdict.code());
    Ok(HttpResponse::Ok().json(verification))
}
