//! Residence registrations (居住登记, SPEC §1.1): `POST /v1/residences` (declare),
//! `POST /v1/residences/{id}/end`, `POST /v1/residences/{id}/confirm` (officer),
//! `GET /v1/residences`. The rules are in [`crate::workflows::registration`].

use actix_web::{HttpResponse, get, post, web};

use crate::auth::extract::Auth;
use crate::error::ApiResult;
use crate::state::AppState;
use crate::store::residences;
use crate::wire::Json;
use crate::wire::residences::{DeclareBody, EndBody, ListQuery, ResidenceList, ResidenceView};
use crate::workflows::registration;

/// Mounts the routes of this module.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.service(declare)
        .service(list)
        .service(end)
        .service(confirm);
}

/// Declares a registration (status `declared`). A resident holds at most one open registration:
/// moving is ending it, then declaring anew.
#[utoipa::path(
    tag = "residences",
    security(("bearer_jwt" = [])),
    request_body = DeclareBody,
    responses(
        (status = 201, description = "Declared (`Location` names it)", body = ResidenceView),
        (status = 400, description = "`missing_field`, `invalid_field`, `invalid_district`, `invalid_address`, `invalid_date`"),
        (status = 409, description = "`registration_open`"),
        (status = 422, description = "`district_not_in_jinhua`, `start_in_future`, `start_too_far_in_past`, `date_before_1970` (naming `start`)"),
    )
)]
#[post("/v1/residences")]
async fn declare(
    auth: Auth,
    state: web::Data<AppState>,
    body: Json<DeclareBody>,
) -> ApiResult<HttpResponse> {
    let resident = auth.resident()?;
    let declaration = body.0.try_into()?;
    let row = registration::declare(&state.store, resident, declaration).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/v1/residences/{}", row.id)))
        .json(ResidenceView::from(row)))
}

/// Ends the caller's open registration on its move-out day (`end` ≥ start, not after today).
/// Another resident's registration is 404.
#[utoipa::path(
    tag = "residences",
    security(("bearer_jwt" = [])),
    params(("id" = i64, Path, description = "The registration's id")),
    request_body = EndBody,
    responses(
        (status = 200, description = "Ended", body = ResidenceView),
        (status = 400, description = "`missing_field`, `invalid_date`"),
        (status = 404, description = "No such registration of yours"),
        (status = 409, description = "`registration_ended`"),
        (status = 422, description = "`end_before_start` (with `start`), `end_in_future`"),
    )
)]
#[post("/v1/residences/{id}/end")]
async fn end(
    auth: Auth,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    body: Json<EndBody>,
) -> ApiResult<web::Json<ResidenceView>> {
    let resident = auth.resident()?;
    let end = body.0.end()?;
    let row = registration::end(&state.store, resident, path.into_inner(), end).await?;
    Ok(web::Json(row.into()))
}

/// An officer of the registration's district confirms it (other districts: 403).
#[utoipa::path(
    tag = "residences",
    security(("bearer_jwt" = [])),
    params(("id" = i64, Path, description = "The registration's id")),
    responses(
        (status = 200, description = "Confirmed", body = ResidenceView),
        (status = 404, description = "No such registration"),
        (status = 409, description = "`already_confirmed`"),
    )
)]
#[post("/v1/residences/{id}/confirm")]
async fn confirm(
    auth: Auth,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> ApiResult<web::Json<ResidenceView>> {
    let officer = auth.officer()?;
    let row = registration::confirm(&state.store, officer, path.into_inner()).await?;
    Ok(web::Json(row.into()))
}

/// A resident's own registrations, or an officer's district's, filtered by `status`
/// (declared|confirmed), `from` and `to` (dates). Other roles: 403.
#[utoipa::path(
    tag = "residences",
    security(("bearer_jwt" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "A resident's own registrations, or an officer's district's", body = ResidenceList),
        (status = 400, description = "`invalid_status`, `invalid_date`, `invalid_query`"),
    )
)]
#[get("/v1/residences")]
async fn list(
    auth: Auth,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> ApiResult<web::Json<ResidenceList>> {
    let db = state.store.conn();
    let rows = match auth.resident() {
        Ok(resident) => residences::list_by_resident(db, resident).await?,
        Err(_) => {
            let officer = auth.officer()?;
            let filter = query.into_inner().try_into()?;
            residences::list_by_district(db, officer.district.into(), filter).await?
        }
    };
    Ok(web::Json(rows.into()))
}
