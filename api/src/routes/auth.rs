//! Logging in (SPEC §4 "Auth"): residents by phone and one-time code, staff by password with
//! lock-out, refresh tokens that rotate — a spent one presented again revokes its whole family.

use actix_web::{HttpRequest, HttpResponse, post, web};
use chrono::Utc;
use serde::Deserialize;
use serde_json::json;

use crate::auth::password;
use crate::auth::session::{self, keyed, new_code, rate_limit};
use crate::domain::PhoneNumber;
use crate::error::{ApiError, ApiResult};
use crate::shared_state::OtpCheck;
use crate::state::AppState;
use crate::store::{StoreError, audit, refresh_tokens, residents, staff};

fn client_ip(req: &HttpRequest) -> String {
    req.peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "unknown".to_owned())
}

fn parse_phone(text: &str) -> ApiResult<PhoneNumber> {
    PhoneNumber::parse(text).map_err(|e| ApiError::invalid("invalid_phone", "phone", e.to_string()))
}

/// `{phone}`
#[derive(Deserialize, utoipa::ToSchema)]
pub struct OtpRequest {
    phone: String,
}

/// `POST /v1/auth/otp`: sends a six-digit code (valid `otp.ttl_secs`, `otp.max_attempts` guesses).
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 202, description = "The code is sent", body = crate::openapi::OtpSent),
        (status = 400, description = "`invalid_phone`"),
        (status = 429, description = "`rate_limited` (with `Retry-After`)"),
        (status = 503, description = "The shared store is unavailable"),
    )
)]
#[post("/v1/auth/otp")]
pub async fn otp(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<OtpRequest>,
) -> ApiResult<HttpResponse> {
    let phone = parse_phone(&body.phone)?;
    let limits = &state.settings.rate_limits.otp;
    let account = keyed(&state, "phone", phone.expose());
    rate_limit(
        &state,
        &[
            (&format!("otp:ip:{}", client_ip(&req)), limits.per_ip),
            (&format!("otp:acct:{account}"), limits.per_account),
        ],
        false,
    )
    .await?;
    let code = new_code();
    state
        .shared
        .put_otp(
            &account,
            &keyed(&state, "otp", &code),
            state.settings.otp.ttl(),
            state.settings.otp.max_attempts,
        )
        .await
        .map_err(|_| ApiError::Unavailable("the shared store is unavailable; try again shortly"))?;
    state
        .sender
        .send(&phone, &code)
        .map_err(ApiError::internal)?;
    Ok(HttpResponse::Accepted()
        .json(json!({ "sent": true, "expires_in": state.settings.otp.ttl_secs })))
}

/// `{phone, code}`
#[derive(Deserialize, utoipa::ToSchema)]
pub struct LoginRequest {
    phone: String,
    code: String,
}

/// `POST /v1/auth/login`: exchanges a code for an access token (15 min) and a refresh token.
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 200, description = "Access and refresh tokens", body = crate::openapi::Tokens),
        (status = 400, description = "`invalid_phone`, `invalid_code`, `wrong_code` (with `attempts_left`), `code_expired`"),
        (status = 429, description = "`rate_limited` or `too_many_attempts`"),
        (status = 503, description = "The shared store is unavailable"),
    )
)]
#[post("/v1/auth/login")]
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<LoginRequest>,
) -> ApiResult<HttpResponse> {
    let phone = parse_phone(&body.phone)?;
    let code = body.code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::invalid(
            "invalid_code",
            "code",
            "the code is six digits",
        ));
    }
    let limits = &state.settings.rate_limits.login;
    let account = keyed(&state, "phone", phone.expose());
    rate_limit(
        &state,
        &[
            (&format!("login:ip:{}", client_ip(&req)), limits.per_ip),
            (&format!("login:acct:{account}"), limits.per_account),
        ],
        false,
    )
    .await?;
    let check = state
        .shared
        .check_otp(&account, &keyed(&state, "otp", code))
        .await
        .map_err(|_| ApiError::Unavailable("the shared store is unavailable; try again shortly"))?;
    match check {
        OtpCheck::Ok => {}
        OtpCheck::Wrong { attempts_left } => {
            return Err(ApiError::Invalid {
                code: "wrong_code",
                field: Some("code"),
                detail: format!("the code is wrong; {attempts_left} attempts left"),
                unprocessable: false,
                extra: serde_json::Map::from_iter([(
                    "attempts_left".to_owned(),
                    json!(attempts_left),
                )]),
            });
        }
        OtpCheck::Absent => {
            return Err(ApiError::invalid(
                "code_expired",
                "code",
                "no code is pending for this phone; request a new one",
            ));
        }
        OtpCheck::TooManyAttempts => {
            return Err(ApiError::RateLimited {
                code: "too_many_attempts",
                retry_after: 1,
            });
        }
    }
    let txn = state.store.begin().await.map_err(ApiError::internal)?;
    let resident = residents::find_or_create_by_phone(&txn, phone.expose())
        .await
        .map_err(ApiError::internal)?;
    let principal = crate::auth::jwt::Principal {
        subject: crate::auth::jwt::Subject::Resident(resident.id),
        role: crate::auth::jwt::Role::Resident,
    };
    let tokens = session::issue(&state, &txn, principal, None).await?;
    txn.commit().await.map_err(ApiError::internal)?;
    tracing::info!(resident = resident.id, phone = %phone, "resident logged in");
    Ok(HttpResponse::Ok().json(tokens))
}

/// `{username, password}`
#[derive(Deserialize, utoipa::ToSchema)]
pub struct StaffLoginRequest {
    username: String,
    password: String,
}

/// `POST /v1/auth/staff-login`: password (argon2id); after `lockout.max_failures` failures the
/// account is locked for `lockout.lock_secs` (429 `account_locked`).
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 200, description = "Access and refresh tokens", body = crate::openapi::Tokens),
        (status = 401, description = "Unknown username or wrong password"),
        (status = 403, description = "The account's role is incomplete"),
        (status = 429, description = "`rate_limited` or `account_locked` (with `Retry-After`)"),
    )
)]
#[post("/v1/auth/staff-login")]
pub async fn staff_login(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<StaffLoginRequest>,
) -> ApiResult<HttpResponse> {
    let limits = &state.settings.rate_limits.login;
    rate_limit(
        &state,
        &[(
            &format!("staff-login:ip:{}", client_ip(&req)),
            limits.per_ip,
        )],
        false,
    )
    .await?;
    let invalid = || ApiError::Unauthorized("unknown username or wrong password");
    let now = Utc::now();
    let account = staff::find_by_username(state.store.conn(), body.username.trim())
        .await
        .map_err(ApiError::internal)?;
    let password_text = body.password.clone();
    let Some(account) = account else {
        web::block(move || password::verify_against_nothing(&password_text))
            .await
            .map_err(ApiError::internal)?;
        return Err(invalid());
    };
    if account.is_locked(now) {
        let retry_after = account
            .locked_until
            .map_or(1, |until| (until - now).num_seconds().max(1) as u64);
        return Err(ApiError::RateLimited {
            code: "account_locked",
            retry_after,
        });
    }
    let stored = account.password_hash.clone();
    let ok = web::block(move || password::verify(&password_text, &stored))
        .await
        .map_err(ApiError::internal)?;
    if !ok {
        let lock_for = chrono::Duration::seconds(
            i64::try_from(state.settings.lockout.lock_secs).unwrap_or(900),
        );
        let txn = state.store.begin().await.map_err(ApiError::internal)?;
        let after = staff::record_failed_login(
            &txn,
            account.id,
            now,
            state.settings.lockout.max_failures,
            lock_for,
        )
        .await
        .map_err(ApiError::internal)?;
        if after.is_locked(now) {
            let detail = json!({ "until": after.locked_until });
            audit::append(
                &txn,
                audit::NewEntry::new(
                    "system",
                    "staff.locked",
                    format!("staff:{}", account.id),
                    detail,
                ),
                now,
            )
            .await
            .map_err(ApiError::internal)?;
        }
        txn.commit().await.map_err(ApiError::internal)?;
        return Err(invalid());
    }
    let principal = session::staff_principal(&account)
        .ok_or_else(|| ApiError::Forbidden("the account's role is incomplete"))?;
    let txn = state.store.begin().await.map_err(ApiError::internal)?;
    staff::reset_failed_logins(&txn, account.id)
        .await
        .map_err(ApiError::internal)?;
    let tokens = session::issue(&state, &txn, principal, None).await?;
    txn.commit().await.map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok().json(tokens))
}

/// `{refresh_token}`
#[derive(Deserialize, utoipa::ToSchema)]
pub struct RefreshRequest {
    refresh_token: String,
}

/// `POST /v1/auth/refresh`: a spent refresh token for a new pair. Presenting a spent token
/// again revokes its whole family (someone holds a copy).
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 200, description = "A new token pair", body = crate::openapi::Tokens),
        (status = 401, description = "The refresh token is not valid, or was reused (its whole family is revoked)"),
    )
)]
#[post("/v1/auth/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    body: web::Json<RefreshRequest>,
) -> ApiResult<HttpResponse> {
    let invalid = || ApiError::Unauthorized("the refresh token is not valid");
    let now = Utc::now();
    let txn = state.store.begin().await.map_err(ApiError::internal)?;
    let token =
        refresh_tokens::find_by_hash(&txn, &refresh_tokens::hash_token(body.refresh_token.trim()))
            .await
            .map_err(ApiError::internal)?
            .ok_or_else(invalid)?;
    if token.spent_at.is_some() && token.revoked_at.is_none() {
        let revoked = refresh_tokens::revoke_family(&txn, &token.family, now)
            .await
            .map_err(ApiError::internal)?;
        let detail = json!({ "family": token.family, "revoked": revoked });
        audit::append(
            &txn,
            audit::NewEntry::new(
                "system",
                "auth.refresh_reuse",
                token.subject.clone(),
                detail,
            ),
            now,
        )
        .await
        .map_err(ApiError::internal)?;
        txn.commit().await.map_err(ApiError::internal)?;
        return Err(ApiError::Unauthorized(
            "the refresh token was used already; every session of this login is revoked",
        ));
    }
    if !token.is_usable(now)
        || !refresh_tokens::spend(&txn, token.id, now)
            .await
            .map_err(ApiError::internal)?
    {
        return Err(invalid());
    }
    let principal = session::principal_of(&state, &token.subject).await?;
    let tokens = session::issue(&state, &txn, principal, Some(token.family)).await?;
    txn.commit()
        .await
        .map_err(|e| ApiError::internal(StoreError::from(e)))?;
    Ok(HttpResponse::Ok().json(tokens))
}
