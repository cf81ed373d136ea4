//! Identity at the service counter: an officer (of a district the residents concerned are
//! registered in, or of any district when they have no registration) or an administrator
//! assigns an ID number to a phone account — merging the imported legacy record that holds it —
//! or releases one. The rules are in [`crate::workflows::profile`].

use actix_web::{delete, post, web};

use crate::auth::extract::Auth;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::wire::Json;
use crate::wire::me::{ProfileBody, ProfileView};
use crate::workflows::profile::{self, Counter};

/// Mounts the routes of this module.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.service(assign_id_number).service(release_id_number);
}

/// The counter the caller stands at: an officer with their district, or an administrator.
fn counter(auth: &Auth) -> ApiResult<Counter> {
    if let Ok(officer) = auth.officer() {
        return Ok(Counter {
            staff_id: officer.staff_id,
            district: Some(officer.district),
        });
    }
    auth.admin()
        .map(|staff_id| Counter {
            staff_id,
            district: None,
        })
        .map_err(|_| ApiError::Forbidden("officers and administrators only"))
}

/// Assigns an ID number (and the name on the ID card) to the phone account `id`, after the ID
/// card was checked in person. An imported legacy record holding the number is merged: its
/// registrations, applications and permits move to the account. Audited.
#[utoipa::path(
    tag = "residents",
    security(("bearer_jwt" = [])),
    params(("id" = i64, Path, description = "The resident account")),
    request_body = ProfileBody,
    responses(
        (status = 200, description = "The account's profile, masked", body = ProfileView),
        (status = 400, description = "`invalid_name`, `invalid_id_number`"),
        (status = 403, description = "Not an officer of a district concerned, nor an administrator"),
        (status = 404, description = "No such resident"),
        (status = 409, description = "`id_number_held` (another phone account holds it: release it there), `id_number_fixed` (the account holds another one: release it first)"),
        (status = 422, description = "`not_an_account`: the resident is an imported record"),
    )
)]
#[post("/v1/residents/{id}/id-number")]
pub async fn assign_id_number(
    auth: Auth,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    body: Json<ProfileBody>,
) -> ApiResult<web::Json<ProfileView>> {
    let counter = counter(&auth)?;
    let profile = body.0.try_into()?;
    let row = profile::assign(&state.store, counter, path.into_inner(), profile).await?;
    Ok(web::Json((&row).into()))
}

/// Releases the ID number of the phone account `id` (a wrong one, or one that belongs to
/// someone else), so it can be assigned to the right account. Audited.
#[utoipa::path(
    tag = "residents",
    security(("bearer_jwt" = [])),
    params(("id" = i64, Path, description = "The resident account")),
    responses(
        (status = 200, description = "The account's profile, masked", body = ProfileView),
        (status = 403, description = "Not an officer of a district concerned, nor an administrator"),
        (status = 404, description = "No such resident"),
        (status = 409, description = "`no_id_number`, `id_number_in_use` (the account has applied)"),
        (status = 422, description = "`not_an_account`: the resident is an imported record"),
    )
)]
#[delete("/v1/residents/{id}/id-number")]
pub async fn release_id_number(
    auth: Auth,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> ApiResult<web::Json<ProfileView>> {
    let counter = counter(&auth)?;
    let row = profile::release(&state.store, counter, path.into_inner()).await?;
    Ok(web::Json((&row).into()))
}
