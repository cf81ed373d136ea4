//! Residence registrations (居住登记, SPEC §1.1): a resident declares, moves (ends the current
//! registration, then declares anew) and leaves; an officer of the district confirms; both list.
//!
//! - `POST /v1/residences` {district, address, start} (resident) → 201, status `declared`;
//! - `POST /v1/residences/{id}/end` {end} (the owner) → 200;
//! - `POST /v1/residences/{id}/confirm` (officer of its district) → 200;
//! - `GET /v1/residences` (resident: their own; officer: their district, filtered by `status`,
//!   `from`, `to`).
//!
//! Every state change runs in one transaction whose last write is its audit entry.

use actix_web::{HttpResponse, web};
use chrono::{NaiveDate, Utc};
use policy::District;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::extract::Auth;
use crate::error::{ApiError, ApiResult};
use crate::keys::district_code;
use crate::state::AppState;
use crate::store::residences::{self, DistrictFilter, NewResidence, Status};
use crate::store::{StoreError, audit};

/// Shortest and longest address, in characters.
const ADDRESS_CHARS: std::ops::RangeInclusive<usize> = 2..=64;

/// Mounts the routes of this module.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/residences", web::post().to(declare))
        .route("/v1/residences", web::get().to(list))
        .route("/v1/residences/{id}/end", web::post().to(end))
        .route("/v1/residences/{id}/confirm", web::post().to(confirm));
}

/// Storage errors as HTTP: a missing row is 404, a unique violation 409, the rest 500.
pub(crate) fn store_error(e: StoreError) -> ApiError {
    match e {
        StoreError::NotFound(what) => ApiError::NotFound(what),
        StoreError::Conflict(_) => {
            ApiError::conflict("conflict", "the change conflicts with stored data")
        }
        other => ApiError::internal(other),
    }
}

/// Today in Asia/Shanghai, the day every date rule is judged on.
pub(crate) fn today() -> NaiveDate {
    policy::calendar::today()
}

/// The text member `name` of a JSON object body, or a 400 naming it.
pub(crate) fn text_member<'a>(body: &'a Value, name: &'static str) -> ApiResult<&'a str> {
    match body.get(name) {
        None | Some(Value::Null) => Err(ApiError::invalid(
            "missing_field",
            name,
            format!("`{name}` is required"),
        )),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(ApiError::invalid(
            "invalid_field",
            name,
            format!("`{name}` must be a string"),
        )),
    }
}

/// A `YYYY-MM-DD` date, or a 400 `invalid_date` naming the field.
pub(crate) fn date_member(text: &str, field: &'static str) -> ApiResult<NaiveDate> {
    policy::calendar::parse_date(text.trim()).map_err(|_| {
        ApiError::invalid(
            "invalid_date",
            field,
            format!("`{field}` must be a date YYYY-MM-DD"),
        )
    })
}

/// A Jinhua district code: 400 `invalid_district` when it is not one, 422
/// `district_not_in_jinhua` for a real code outside Jinhua.
pub(crate) fn district_member(text: &str, field: &'static str) -> ApiResult<District> {
    text.trim().parse::<District>().map_err(|e| match e {
        policy::Error::DistrictNotInJinhua => ApiError::unprocessable(
            e.code(),
            Some(field),
            "the service covers Jinhua's nine districts only",
        ),
        _ => ApiError::invalid(
            e.code(),
            field,
            "a district is a six-digit GB/T 2260 code, e.g. 330702",
        ),
    })
}

/// An address of 2–64 characters without control characters, trimmed.
pub(crate) fn address_member(text: &str, field: &'static str) -> ApiResult<String> {
    let address = text.trim();
    let chars = address.chars().count();
    if !ADDRESS_CHARS.contains(&chars) || address.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            "invalid_address",
            field,
            "an address has 2 to 64 characters and no control characters",
        ));
    }
    Ok(address.to_owned())
}

/// Locks the resident's row until the transaction ends (`SELECT … FOR UPDATE` on PostgreSQL;
/// SQLite transactions are serialised already), so one resident's concurrent changes queue
/// instead of both passing a check such as "no open registration".
pub(crate) async fn lock_resident(
    txn: &sea_orm::DatabaseTransaction,
    resident: i64,
) -> ApiResult<()> {
    use sea_orm::{EntityTrait, QuerySelect};
    crate::store::residents::Entity::find_by_id(resident)
        .lock_exclusive()
        .one(txn)
        .await
        .map_err(|e| store_error(StoreError::from(e)))?
        .ok_or(ApiError::NotFound("resident"))?;
    Ok(())
}

/// The district a stored code names (every stored code is a Jinhua one).
fn stored_district(code: i32) -> ApiResult<District> {
    u32::try_from(code)
        .ok()
        .and_then(District::from_code)
        .ok_or_else(|| {
            ApiError::internal(StoreError::Corrupt {
                table: "residences",
                problem: "district is not a Jinhua code".to_owned(),
            })
        })
}

/// The JSON form of a registration (ISO dates; district as its code text).
pub fn to_json(r: &residences::Model) -> Value {
    json!({
        "id": r.id,
        "resident_id": r.resident_id,
        "district": r.district.to_string(),
        "address": r.address,
        "start": r.start_date,
        "end": r.end_date,
        "status": r.status,
        "source": r.source,
        "confirmed_at": r.confirmed_at,
        "created_at": r.created_at,
    })
}

/// A declaration, parsed (STYLE rule 1).
struct Declaration {
    district: District,
    address: String,
    start: NaiveDate,
}

impl TryFrom<&Value> for Declaration {
    type Error = ApiError;

    fn try_from(body: &Value) -> ApiResult<Self> {
        if !body.is_object() {
            return Err(ApiError::invalid(
                "invalid_body",
                "body",
                "the body is a JSON object {district, address, start}",
            ));
        }
        let district = district_member(text_member(body, "district")?, "district")?;
        let address = address_member(text_member(body, "address")?, "address")?;
        let start = date_member(text_member(body, "start")?, "start")?;
        policy::check_declared_start(start, today())
            .map_err(|e| ApiError::unprocessable(e.code(), Some("start"), e.to_string()))?;
        Ok(Declaration {
            district,
            address,
            start,
        })
    }
}

/// `POST /v1/residences`: declares a registration (status `declared`). A resident holds at most
/// one open registration: moving is ending it, then declaring anew (409 `registration_open`).
#[utoipa::path(
    post,
    path = "/v1/residences",
    tag = "residences",
    security(("bearer_jwt" = [])),
    request_body = crate::openapi::DeclareResidence,
    responses(
        (status = 201, description = "Declared (`Location` names it)", body = crate::openapi::Residence),
        (status = 400, description = "`missing_field`, `invalid_field`, `invalid_district`, `invalid_address`, `invalid_date`"),
        (status = 401, description = "No valid access token"),
        (status = 403, description = "Not a resident"),
        (status = 409, description = "`registration_open`"),
        (status = 422, description = "`district_not_in_jinhua`, or the start is refused"),
    )
)]
async fn declare(
    auth: Auth,
    state: web::Data<AppState>,
    body: web::Json<Value>,
) -> ApiResult<HttpResponse> {
    let resident = auth.resident()?;
    let declaration = Declaration::try_from(&body.into_inner())?;
    let txn = state.store.begin().await.map_err(store_error)?;
    lock_resident(&txn, resident).await?;
    if residences::current_for_resident(&txn, resident)
        .await
        .map_err(store_error)?
        .is_some()
    {
        return Err(ApiError::conflict(
            "registration_open",
            "end the current registration before declaring a new one",
        ));
    }
    let row = residences::insert(
        &txn,
        NewResidence::declared(
            resident,
            district_code(declaration.district),
            declaration.address,
            declaration.start,
        ),
    )
    .await
    .map_err(store_error)?;
    let entry = audit::NewEntry::new(
        auth.actor(),
        "residence.declare",
        format!("residence:{}", row.id),
        json!({ "district": declaration.district, "start": declaration.start }),
    );
    audit::append(&txn, entry, Utc::now())
        .await
        .map_err(store_error)?;
    txn.commit()
        .await
        .map_err(|e| store_error(StoreError::from(e)))?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/v1/residences/{}", row.id)))
        .json(to_json(&row)))
}

/// `POST /v1/residences/{id}/end` {end}: ends the owner's open registration on its move-out day
/// (`end` ≥ start, not after today). Another resident's registration is 404.
#[utoipa::path(
    post,
    path = "/v1/residences/{id}/end",
    tag = "residences",
    security(("bearer_jwt" = [])),
    params(("id" = i64, Path, description = "The id")),
    request_body = crate::openapi::EndResidence,
    responses(
        (status = 200, description = "Ended", body = crate::openapi::Residence),
        (status = 400, description = "`missing_field`, `invalid_date`"),
        (status = 401, description = "No valid access token"),
        (status = 403, description = "Not a resident"),
        (status = 404, description = "No such registration of yours"),
        (status = 409, description = "`registration_ended`"),
        (status = 422, description = "`end_before_start` (with `start`), `end_in_future`"),
    )
)]
async fn end(
    auth: Auth,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    body: web::Json<Value>,
) -> ApiResult<HttpResponse> {
    let resident = auth.resident()?;
    let id = path.into_inner();
    let body = body.into_inner();
    let end = date_member(text_member(&body, "end")?, "end")?;
    let txn = state.store.begin().await.map_err(store_error)?;
    let row = residences::get(&txn, id).await.map_err(store_error)?;
    if row.resident_id != resident {
        return Err(ApiError::NotFound("residence"));
    }
    if row.end_date.is_some() {
        return Err(ApiError::conflict(
            "registration_ended",
            "this registration has ended already",
        ));
    }
    if end < row.start_date {
        return Err(ApiError::unprocessable(
            "end_before_start",
            Some("end"),
            "a registration cannot end before it starts",
        )
        .with("start", json!(row.start_date)));
    }
    if end > today() {
        return Err(ApiError::unprocessable(
            "end_in_future",
            Some("end"),
            "a registration cannot be ended on a future day",
        ));
    }
    if !residences::end(&txn, id, end).await.map_err(store_error)? {
        return Err(ApiError::conflict(
            "registration_ended",
            "this registration has ended already",
        ));
    }
    let entry = audit::NewEntry::new(
        auth.actor(),
        "residence.end",
        format!("residence:{id}"),
        json!({ "end": end }),
    );
    audit::append(&txn, entry, Utc::now())
        .await
        .map_err(store_error)?;
    let row = residences::get(&txn, id).await.map_err(store_error)?;
    txn.commit()
        .await
        .map_err(|e| store_error(StoreError::from(e)))?;
    Ok(HttpResponse::Ok().json(to_json(&row)))
}

/// `POST /v1/residences/{id}/confirm`: an officer of the registration's district confirms it
/// (403 for any other district, 409 `already_confirmed`).
#[utoipa::path(
    post,
    path = "/v1/residences/{id}/confirm",
    tag = "residences",
    security(("bearer_jwt" = [])),
    params(("id" = i64, Path, description = "The id")),
    responses(
        (status = 200, description = "Confirmed", body = crate::openapi::Residence),
        (status = 401, description = "No valid access token"),
        (status = 403, description = "Not an officer of its district"),
        (status = 404, description = "No such registration"),
        (status = 409, description = "`already_confirmed`"),
    )
)]
async fn confirm(
    auth: Auth,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    auth.officer()?;
    let id = path.into_inner();
    let txn = state.store.begin().await.map_err(store_error)?;
    let row = residences::get(&txn, id).await.map_err(store_error)?;
    let staff = auth.officer_of(stored_district(row.district)?)?;
    let now = Utc::now();
    if !residences::confirm(&txn, id, staff, now)
        .await
        .map_err(store_error)?
    {
        return Err(ApiError::conflict(
            "already_confirmed",
            "this registration is confirmed already",
        ));
    }
    let entry = audit::NewEntry::new(
        auth.actor(),
        "residence.confirm",
        format!("residence:{id}"),
        json!({ "district": row.district.to_string() }),
    );
    audit::append(&txn, entry, now).await.map_err(store_error)?;
    let row = residences::get(&txn, id).await.map_err(store_error)?;
    txn.commit()
        .await
        .map_err(|e| store_error(StoreError::from(e)))?;
    Ok(HttpResponse::Ok().json(to_json(&row)))
}

/// Filters of `GET /v1/residences` (officers).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
struct ListQuery {
    /// `declared` or `confirmed`.
    status: Option<String>,
    /// Registrations starting on or after this day (YYYY-MM-DD).
    from: Option<String>,
    /// Registrations starting on or before this day (YYYY-MM-DD).
    to: Option<String>,
}

/// `GET /v1/residences`: a resident's own registrations, or an officer's district's, filtered
/// by `status` (declared|confirmed), `from` and `to` (dates). Other roles: 403.
#[utoipa::path(
    get,
    path = "/v1/residences",
    tag = "residences",
    security(("bearer_jwt" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "A resident's own registrations, or an officer's district's", body = crate::openapi::ResidenceList),
        (status = 400, description = "`invalid_status`, `invalid_date`"),
        (status = 401, description = "No valid access token"),
        (status = 403, description = "Neither a resident nor an officer"),
    )
)]
async fn list(
    auth: Auth,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> ApiResult<HttpResponse> {
    let rows = if let Ok(resident) = auth.resident() {
        residences::list_by_resident(state.store.conn(), resident)
            .await
            .map_err(store_error)?
    } else {
        let (_, district) = auth.officer()?;
        let query = query.into_inner();
        let status = match query.status.as_deref() {
            None => None,
            Some("declared") => Some(Status::Declared),
            Some("confirmed") => Some(Status::Confirmed),
            Some(_) => {
                return Err(ApiError::invalid(
                    "invalid_status",
                    "status",
                    "status is declared or confirmed",
                ));
            }
        };
        let from = query
            .from
            .as_deref()
            .map(|d| date_member(d, "from"))
            .transpose()?;
        let to = query
            .to
            .as_deref()
            .map(|d| date_member(d, "to"))
            .transpose()?;
        let filter = DistrictFilter { status, from, to };
        residences::list_by_district(state.store.conn(), district_code(district), filter)
            .await
            .map_err(store_error)?
    };
    let items: Vec<Value> = rows.iter().map(to_json).collect();
    Ok(HttpResponse::Ok().json(json!({ "items": items })))
}
