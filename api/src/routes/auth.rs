//! Logging in (SPEC §4 "Auth"): `POST /v1/auth/otp`, `/v1/auth/login`, `/v1/auth/staff-login`,
//! `/v1/auth/refresh`, `/v1/auth/logout`. The rules are in [`crate::auth::login`].

use actix_web::{HttpRequest, HttpResponse, post, web};

use crate::auth::extract::Auth;
use crate::auth::login;
use crate::domain::PhoneNumber;
use crate::error::ApiResult;
use crate::routes::client_ip;
use crate::state::AppState;
use crate::wire::Json;
use crate::wire::auth::{
    LoggedOut, LoginBody, LogoutBody, OtpBody, OtpSent, RefreshBody, StaffLoginBody, Tokens,
};

/// Mounts the routes of this module.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.service(otp)
        .service(resident_login)
        .service(staff_login)
        .service(refresh)
        .service(logout);
}

/// Sends a six-digit login code to the phone (valid `otp.ttl_secs`, `otp.max_attempts` guesses).
#[utoipa::path(
    tag = "auth",
    request_body = OtpBody,
    responses(
        (status = 202, description = "The code is sent", body = OtpSent),
        (status = 400, description = "`missing_field`, `invalid_field`, `invalid_phone` (not a PRC mobile number)"),
        (status = 429, description = "`rate_limited`, `code_cool_down` (a code was sent less than `otp.cool_down_secs` ago) or `daily_limit` (per phone or per client in 24 h), with `Retry-After`"),
        (status = 503, description = "`sms_unavailable`: the code could not be sent (no code was issued), with `Retry-After`"),
    )
)]
#[post("/v1/auth/otp")]
pub async fn otp(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Json<OtpBody>,
) -> ApiResult<HttpResponse> {
    let phone: PhoneNumber = body.0.try_into()?;
    let sent = login::send_code(&state, &phone, &client_ip(&req)).await?;
    Ok(HttpResponse::Accepted().json(OtpSent {
        sent: true,
        expires_in: state.settings.otp.ttl_secs,
        retry_after_secs: sent.retry_after_secs,
        next_code_at: sent.next_code_at,
    }))
}

/// Exchanges a code for an access token (15 min) and a refresh token.
#[utoipa::path(
    tag = "auth",
    request_body = LoginBody,
    responses(
        (status = 200, description = "Access and refresh tokens", body = Tokens),
        (status = 400, description = "`missing_field`, `invalid_phone`, `invalid_code`, `wrong_code` (with `attempts_left`), `code_expired`"),
        (status = 429, description = "`rate_limited`, or `too_many_attempts` (the phone's wrong-guess budget, per code lifetime and per day, is spent; with `Retry-After`)"),
    )
)]
#[post("/v1/auth/login")]
pub async fn resident_login(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Json<LoginBody>,
) -> ApiResult<web::Json<Tokens>> {
    let credentials = body.0.try_into()?;
    let tokens = login::resident(&state, credentials, &client_ip(&req)).await?;
    Ok(web::Json(tokens))
}

/// Staff log in with a password (argon2id). Repeated failures slow down that username from that
/// client address (1 s, 2 s, 4 s … after `auth.throttle_after_failures`), never the account for
/// everyone.
#[utoipa::path(
    tag = "auth",
    request_body = StaffLoginBody,
    responses(
        (status = 200, description = "Access and refresh tokens", body = Tokens),
        (status = 400, description = "`missing_field`, `invalid_field`"),
        (status = 401, description = "Unknown username, wrong password or disabled account (one answer for all)"),
        (status = 403, description = "The account's role is incomplete"),
        (status = 429, description = "`rate_limited`, `login_throttled` or `busy` (with `Retry-After`)"),
    )
)]
#[post("/v1/auth/staff-login")]
pub async fn staff_login(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Json<StaffLoginBody>,
) -> ApiResult<web::Json<Tokens>> {
    let tokens = login::staff(&state, body.0, &client_ip(&req)).await?;
    Ok(web::Json(tokens))
}

/// A refresh token for a new pair. Presenting a spent token again revokes its whole family.
#[utoipa::path(
    tag = "auth",
    request_body = RefreshBody,
    responses(
        (status = 200, description = "A new token pair", body = Tokens),
        (status = 400, description = "`missing_field`, `invalid_field`"),
        (status = 401, description = "The refresh token is not valid, or was reused (its whole family is revoked)"),
    )
)]
#[post("/v1/auth/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    body: Json<RefreshBody>,
) -> ApiResult<web::Json<Tokens>> {
    Ok(web::Json(
        login::refresh(&state, &body.0.refresh_token).await?,
    ))
}

/// Ends the login of `refresh_token`; with `everywhere`, every login of the caller, and the
/// caller's access tokens already issued stop working on every instance (within
/// `tokens.revocation_check_ms`).
#[utoipa::path(
    tag = "auth",
    security(("bearer_jwt" = [])),
    request_body = LogoutBody,
    responses(
        (status = 200, description = "Logged out", body = LoggedOut),
        (status = 400, description = "`missing_field`, `invalid_refresh_token`, `unknown_field`"),
    )
)]
#[post("/v1/auth/logout")]
pub async fn logout(
    auth: Auth,
    state: web::Data<AppState>,
    body: Json<LogoutBody>,
) -> ApiResult<web::Json<LoggedOut>> {
    let body = body.0;
    Ok(web::Json(
        login::logout(
            &state,
            &auth.0,
            body.refresh_token.as_deref(),
            body.everywhere,
        )
        .await?,
    ))
}
