//! The resident's profile: `PUT /v1/me` {name, id_number} and `GET /v1/me`. Personal data is
//! returned masked, even to its owner. The rules are in [`crate::workflows::profile`].

use actix_web::{get, put, web};

use crate::auth::extract::Auth;
use crate::error::ApiResult;
use crate::state::AppState;
use crate::store::residents;
use crate::wire::Json;
use crate::wire::me::{ProfileBody, ProfileView};
use crate::workflows::profile;

/// Mounts the routes of this module.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.service(put_me).service(get_me);
}

/// Sets name and ID number (GB 11643 check character verified).
///
/// The ID number is fixed once set and the name once the resident has applied; repeating the
/// stored values is a no-op. An ID number held elsewhere — by another account or by a record
/// imported from the legacy registry, under any name — is one answer, `id_number_unavailable`:
/// an officer resolves it at a service counter (`POST /v1/residents/{id}/id-number`). Limited
/// per account (`rate_limits.profile_per_hour`).
#[utoipa::path(
    tag = "me",
    security(("bearer_jwt" = [])),
    request_body = ProfileBody,
    responses(
        (status = 200, description = "The profile, masked", body = ProfileView),
        (status = 400, description = "`missing_field`, `invalid_field`, `invalid_name`, `invalid_id_number`"),
        (status = 409, description = "`id_number_unavailable` (it cannot be used on this account: visit a service counter), `id_number_fixed` (a different one is set), `name_fixed` (the resident has applied)"),
        (status = 429, description = "`rate_limited`: too many profile changes this hour"),
    )
)]
#[put("/v1/me")]
pub async fn put_me(
    auth: Auth,
    state: web::Data<AppState>,
    body: Json<ProfileBody>,
) -> ApiResult<web::Json<ProfileView>> {
    let resident = auth.resident()?;
    profile::limit(&state, resident).await?;
    let profile = body.0.try_into()?;
    let row = profile::set(&state.store, resident, profile).await?;
    Ok(web::Json((&row).into()))
}

/// The caller's profile, masked.
#[utoipa::path(
    tag = "me",
    security(("bearer_jwt" = [])),
    responses((status = 200, description = "The profile, masked", body = ProfileView))
)]
#[get("/v1/me")]
pub async fn get_me(auth: Auth, state: web::Data<AppState>) -> ApiResult<web::Json<ProfileView>> {
    let resident =
        residents::get_open(state.store.conn(), state.store.sealer()?, auth.resident()?).await?;
    Ok(web::Json((&resident).into()))
}
