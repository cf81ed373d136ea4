//! Residence registrations (居住登记, SPEC §1.1): a resident declares, moves (ends the current
//! registration, then declares anew) and leaves; an officer of the district confirms. Only
//! confirmed registrations count toward residence time.

use chrono::Utc;
use serde_json::json;

use crate::auth::extract::Officer;
use crate::error::{ApiError, ApiResult};
use crate::store::residences::{self, NewResidence};
use crate::store::{self, Store, audit};
use crate::wire::residences::Declaration;
use crate::workflows::{lock_resident, resident_actor};

/// Declares a registration (status `declared`). The start may lie at most 30 days in the past and
/// never in the future, and is a day a credential can carry (422 naming `start`); a resident
/// holds at most one open registration — moving is ending it, then declaring anew (409
/// `registration_open`).
pub async fn declare(
    store: &Store,
    resident: i64,
    declaration: Declaration,
) -> ApiResult<residences::Model> {
    policy::check_declared_start(declaration.start, policy::calendar::today())
        .map_err(|e| ApiError::from(e).at("start"))?;
    let txn = store.begin().await?;
    lock_resident(&txn, resident).await?;
    if residences::current_for_resident(&txn, resident)
        .await?
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
            declaration.district.into(),
            declaration.address.into_string(),
            declaration.start,
        ),
    )
    .await?;
    let entry = audit::NewEntry::new(
        resident_actor(resident),
        "residence.declare",
        format!("residence:{}", row.id),
        json!({ "district": declaration.district, "start": declaration.start }),
    );
    audit::commit_with_audit(txn, entry, Utc::now()).await?;
    Ok(row)
}

/// Ends the resident's open registration `id` on its move-out day `end` (not before the start:
/// 422 `end_before_start`; not after today: 422 `end_in_future`). Another resident's registration
/// is 404; one ended already 409 `registration_ended`.
pub async fn end(
    store: &Store,
    resident: i64,
    id: i64,
    end: chrono::NaiveDate,
) -> ApiResult<residences::Model> {
    let txn = store.begin().await?;
    let row = residences::get(&txn, id).await?;
    if row.resident_id != resident {
        return Err(ApiError::NotFound("residence"));
    }
    // Queues behind an approval judging this resident's registrations (SPEC §1.2 on its day).
    lock_resident(&txn, resident).await?;
    let ended = || ApiError::conflict("registration_ended", "this registration has ended already");
    if row.end_date.is_some() {
        return Err(ended());
    }
    if end < row.start_date {
        return Err(ApiError::unprocessable(
            "end_before_start",
            Some("end"),
            "a registration cannot end before it starts",
        )
        .with("start", json!(row.start_date)));
    }
    if end > policy::calendar::today() {
        return Err(ApiError::unprocessable(
            "end_in_future",
            Some("end"),
            "a registration cannot be ended on a future day",
        ));
    }
    if !residences::end(&txn, id, end).await? {
        return Err(ended());
    }
    let row = residences::get(&txn, id).await?;
    let entry = audit::NewEntry::new(
        resident_actor(resident),
        "residence.end",
        format!("residence:{id}"),
        json!({ "end": end }),
    );
    audit::commit_with_audit(txn, entry, Utc::now()).await?;
    Ok(row)
}

/// An officer of the registration's district confirms it (403 for any other district, 409
/// `already_confirmed`).
pub async fn confirm(store: &Store, officer: Officer, id: i64) -> ApiResult<residences::Model> {
    let txn = store.begin().await?;
    let row = residences::get(&txn, id).await?;
    officer.acts_in(store::district(row.district, "residences")?)?;
    let now = Utc::now();
    if !residences::confirm(&txn, id, officer.staff_id, now).await? {
        return Err(ApiError::conflict(
            "already_confirmed",
            "this registration is confirmed already",
        ));
    }
    let row = residences::get(&txn, id).await?;
    let entry = audit::NewEntry::new(
        officer.actor(),
        "residence.confirm",
        format!("residence:{id}"),
        json!({ "district": row.district.to_string() }),
    );
    audit::commit_with_audit(txn, entry, now).await?;
    Ok(row)
}
