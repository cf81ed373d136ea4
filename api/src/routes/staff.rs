//! Staff accounts (admins, issue 12 item 3): `GET /v1/staff`, `POST /v1/staff/{id}/disable`,
//! `/enable`, `/unlock`, `/reset-password`. The rules are in [`crate::auth::staff_accounts`]; the
//! CLI (`epermit staff …`) applies the same ones.

use actix_web::{get, post, web};

use crate::auth::extract::Auth;
use crate::auth::login::{forget_throttles, with_hash_slot};
use crate::auth::password;
use crate::auth::staff_accounts::{self, Change};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::staff;
use crate::wire::Json;
use crate::wire::staff::{ResetPasswordBody, StaffAccount, StaffList};

/// Mounts the routes of this module.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.service(list)
        .service(disable)
        .service(enable)
        .service(unlock)
        .service(reset_password);
}

/// Every staff account, oldest first (never a password hash).
#[utoipa::path(
    tag = "staff",
    security(("bearer_jwt" = [])),
    responses((status = 200, description = "Every account", body = StaffList))
)]
#[get("/v1/staff")]
pub async fn list(auth: Auth, state: web::Data<AppState>) -> ApiResult<web::Json<StaffList>> {
    auth.admin()?;
    let staff = staff::list(state.store.conn()).await?;
    Ok(web::Json(StaffList {
        staff: staff.into_iter().map(StaffAccount::from).collect(),
    }))
}

/// Applies a change on behalf of the admin, publishes a new epoch, answers the account.
async fn change(
    auth: &Auth,
    state: &AppState,
    id: i64,
    change: Change,
) -> ApiResult<web::Json<StaffAccount>> {
    let unlocking = matches!(change, Change::Unlock);
    let applied = staff_accounts::apply(&state.store, &auth.actor(), id, change).await?;
    if let Some(epoch) = applied.epoch {
        state
            .revocations
            .publish(state.shared.as_ref(), &format!("staff:{id}"), epoch)
            .await;
    }
    if unlocking {
        forget_throttles(state.shared.as_ref(), id).await?;
    }
    Ok(web::Json(applied.account.into()))
}

/// Disables the account: it cannot log in or refresh, its refresh tokens are revoked and its
/// access tokens stop working on every instance within `tokens.revocation_check_ms`.
#[utoipa::path(
    tag = "staff",
    security(("bearer_jwt" = [])),
    params(("id" = i64, Path, description = "The staff account id")),
    responses(
        (status = 200, description = "The account, disabled", body = StaffAccount),
        (status = 404, description = "`not_found`"),
    )
)]
#[post("/v1/staff/{id}/disable")]
pub async fn disable(
    auth: Auth,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<web::Json<StaffAccount>> {
    auth.admin()?;
    change(&auth, &state, id.into_inner(), Change::Disable).await
}

/// Enables a disabled account (its old tokens stay revoked).
#[utoipa::path(
    tag = "staff",
    security(("bearer_jwt" = [])),
    params(("id" = i64, Path, description = "The staff account id")),
    responses(
        (status = 200, description = "The account, enabled", body = StaffAccount),
        (status = 404, description = "`not_found`"),
    )
)]
#[post("/v1/staff/{id}/enable")]
pub async fn enable(
    auth: Auth,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<web::Json<StaffAccount>> {
    auth.admin()?;
    change(&auth, &state, id.into_inner(), Change::Enable).await
}

/// Clears the account's failure count and the login throttles of every address.
#[utoipa::path(
    tag = "staff",
    security(("bearer_jwt" = [])),
    params(("id" = i64, Path, description = "The staff account id")),
    responses(
        (status = 200, description = "The account", body = StaffAccount),
        (status = 404, description = "`not_found`"),
    )
)]
#[post("/v1/staff/{id}/unlock")]
pub async fn unlock(
    auth: Auth,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<web::Json<StaffAccount>> {
    auth.admin()?;
    change(&auth, &state, id.into_inner(), Change::Unlock).await
}

/// Sets a new password; every session and access token of the account is revoked.
#[utoipa::path(
    tag = "staff",
    security(("bearer_jwt" = [])),
    params(("id" = i64, Path, description = "The staff account id")),
    request_body = ResetPasswordBody,
    responses(
        (status = 200, description = "The account", body = StaffAccount),
        (status = 400, description = "`missing_field`, `weak_password`"),
        (status = 404, description = "`not_found`"),
        (status = 429, description = "`busy` (every password slot is taken; with `Retry-After`)"),
    )
)]
#[post("/v1/staff/{id}/reset-password")]
pub async fn reset_password(
    auth: Auth,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: Json<ResetPasswordBody>,
) -> ApiResult<web::Json<StaffAccount>> {
    auth.admin()?;
    let text = body.0.password;
    password::check_new(&text).map_err(|e| ApiError::invalid("weak_password", "password", e))?;
    let password_hash = with_hash_slot(&state, move || password::hash(&text))
        .await?
        .map_err(|_| ApiError::Unavailable("the password could not be hashed"))?;
    change(
        &auth,
        &state,
        id.into_inner(),
        Change::ResetPassword { password_hash },
    )
    .await
}
