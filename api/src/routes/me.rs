//! The resident's profile: `PUT /v1/me` {name, id_number} and `GET /v1/me`. Personal data is
//! returned masked, even to its owner: the app shows the masked forms.

use actix_web::{HttpResponse, get, put, web};
use chrono::Utc;
use serde::Deserialize;
use serde_json::json;

use crate::auth::extract::Auth;
use crate::domain::{IdNumber, PhoneNumber};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::residents::ProfileError;
use crate::store::{StoreError, audit, residents};

/// A name on a permit: 2–32 characters of letters (any script), spaces and the middle dot.
fn parse_name(text: &str) -> ApiResult<String> {
    let name = text.trim();
    let count = name.chars().count();
    let ok = (2..=32).contains(&count)
        && name
            .chars()
            .all(|c| c.is_alphabetic() || c == ' ' || c == '·');
    if ok {
        Ok(name.to_owned())
    } else {
        Err(ApiError::invalid(
            "invalid_name",
            "name",
            "2–32 letters, spaces or ·",
        ))
    }
}

fn profile_json(r: &residents::Model) -> serde_json::Value {
    json!({
        "id": r.id,
        "phone": r.phone.as_deref().and_then(|p| PhoneNumber::parse(p).ok()).map(|p| p.masked()),
        "name": r.name,
        "id_number": r.id_number.as_deref().and_then(|n| IdNumber::parse(n).ok()).map(|n| n.masked()),
        "profile_complete": r.name.is_some() && r.id_number.is_some(),
    })
}

/// The problem for a refused profile change; none names the values involved.
fn profile_refusal(e: ProfileError) -> ApiError {
    match e {
        ProfileError::IdNumberTaken | ProfileError::Store(StoreError::Conflict(_)) => {
            ApiError::conflict(
                "id_number_registered",
                "this ID number belongs to another account",
            )
        }
        ProfileError::IdNumberFixed => ApiError::conflict(
            "id_number_fixed",
            "the ID number cannot be changed once set; an officer corrects a wrong one",
        ),
        ProfileError::NameFixed => ApiError::conflict(
            "name_fixed",
            "the name cannot be changed after applying; an officer corrects a wrong one",
        ),
        ProfileError::Store(e) => ApiError::internal(e),
    }
}

/// `{name, id_number}`
#[derive(Deserialize, utoipa::ToSchema)]
pub struct ProfileRequest {
    name: String,
    id_number: String,
}

/// `PUT /v1/me`: sets name and ID number (GB 11643 check character verified).
///
/// The ID number is fixed once set and the name once the resident has applied; repeating the
/// stored values is a no-op. An ID number imported from the legacy registry without a phone is
/// claimed — with its confirmed registrations — when the name given is the one imported.
#[utoipa::path(
    tag = "me",
    security(("bearer_jwt" = [])),
    responses(
        (status = 200, description = "The profile, masked", body = crate::openapi::Profile),
        (status = 400, description = "`invalid_name` or `invalid_id_number`"),
        (status = 401, description = "No valid access token"),
        (status = 403, description = "Not a resident"),
        (status = 409, description = "`id_number_registered` (another account holds it), `id_number_fixed` (a different one is set), `name_fixed` (the resident has applied)"),
    )
)]
#[put("/v1/me")]
pub async fn put_me(
    auth: Auth,
    state: web::Data<AppState>,
    body: web::Json<ProfileRequest>,
) -> ApiResult<HttpResponse> {
    let id = auth.resident()?;
    let name = parse_name(&body.name)?;
    let id_number = IdNumber::parse(&body.id_number)
        .map_err(|e| ApiError::invalid("invalid_id_number", "id_number", e.to_string()))?;
    let txn = state.store.begin().await.map_err(ApiError::internal)?;
    let set = residents::set_profile(&txn, id, &name, id_number.expose())
        .await
        .map_err(profile_refusal)?;
    let detail = json!({
        "id_number": id_number.masked(),
        "claimed_import": set.claimed_import,
    });
    audit::append(
        &txn,
        audit::NewEntry::new(auth.actor(), "profile.set", auth.actor(), detail),
        Utc::now(),
    )
    .await
    .map_err(ApiError::internal)?;
    txn.commit().await.map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok().json(profile_json(&set.resident)))
}

/// `GET /v1/me`
#[utoipa::path(
    tag = "me",
    security(("bearer_jwt" = [])),
    responses(
        (status = 200, description = "The profile, masked", body = crate::openapi::Profile),
        (status = 401, description = "No valid access token"),
        (status = 403, description = "Not a resident"),
    )
)]
#[get("/v1/me")]
pub async fn get_me(auth: Auth, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let id = auth.resident()?;
    let resident = residents::get(state.store.conn(), id)
        .await
        .map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok().json(profile_json(&resident)))
}
