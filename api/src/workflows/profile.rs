//! The resident's profile (SPEC §4): name and ID number, the identity every permit is issued to.
//! The rules — the ID number is fixed once set, the name once the resident has applied, an ID
//! number held by anyone else cannot be taken — are enforced in one place,
//! [`residents::set_profile`], inside the update itself (so two concurrent first settings cannot
//! both win); this workflow runs it in a transaction and audits it.
//!
//! A refusal about the ID number gives one answer whoever holds it (another phone account, an
//! imported legacy record, another name): `id_number_unavailable`, "visit a service counter".
//! There an officer (of a district concerned) or an administrator resolves it: [`assign`] gives
//! an ID number to an account, moving an imported record's history to it, and [`release`] takes
//! one off an account. `PUT /v1/me` is limited per account ([`limit`]).

use chrono::Utc;
use policy::District;
use serde_json::json;

use crate::error::{ApiError, ApiResult};
use crate::shared_state::RateDecision;
use crate::state::AppState;
use crate::store::residents::{self, AssignError, ProfileError};
use crate::store::{Store, StoreError, audit};
use crate::wire::me::Profile;
use crate::workflows::resident_actor;

/// The one answer to an ID number that cannot be used, whoever holds it.
pub fn unavailable() -> ApiError {
    ApiError::conflict(
        "id_number_unavailable",
        "this ID number cannot be used on this account: visit a service counter",
    )
}

/// The problem for a refused profile change; none names the values involved or says anything
/// about another person.
fn refusal(e: ProfileError) -> ApiError {
    match e {
        ProfileError::IdNumberUnavailable | ProfileError::Store(StoreError::Conflict(_)) => {
            unavailable()
        }
        ProfileError::IdNumberFixed => ApiError::conflict(
            "id_number_fixed",
            "the ID number cannot be changed once set; an officer corrects a wrong one",
        ),
        ProfileError::NameFixed => ApiError::conflict(
            "name_fixed",
            "the name cannot be changed after applying; an officer corrects a wrong one",
        ),
        ProfileError::Store(e) => e.into(),
    }
}

/// Counts one `PUT /v1/me` of `resident` against `rate_limits.profile_per_hour` (an hour's
/// window in the shared store, so every instance counts together): past it, 429 with
/// `Retry-After`. While Redis is out the count is per instance (N × instances in all); a store
/// that cannot count at all gives 503 (identity changes do not fail open).
pub async fn limit(state: &AppState, resident: i64) -> ApiResult<()> {
    let bucket = format!("profile:{resident}");
    let limit = state.settings.rate_limits.profile_per_hour;
    match state
        .shared
        .hit_all(&[(&bucket, limit)], std::time::Duration::from_secs(3600))
        .await
    {
        Ok(RateDecision::Allowed { .. }) => Ok(()),
        Ok(RateDecision::Limited { retry_after }) => Err(ApiError::RateLimited {
            code: "rate_limited",
            retry_after: retry_after.as_secs().max(1),
        }),
        Err(_) => Err(ApiError::Unavailable(
            "the shared store is unavailable; try again shortly",
        )),
    }
}

/// Sets the resident's name and ID number; repeating the stored values is a no-op (409
/// `id_number_unavailable`, `id_number_fixed`, `name_fixed` as the rules refuse).
pub async fn set(store: &Store, resident: i64, profile: Profile) -> ApiResult<residents::Resident> {
    let sealer = store.sealer()?;
    let txn = store.begin().await?;
    let row = residents::set_profile(
        &txn,
        sealer,
        resident,
        profile.name.as_str(),
        profile.id_number.expose(),
    )
    .await
    .map_err(refusal)?;
    let actor = resident_actor(resident);
    let detail = json!({ "id_number": profile.id_number.masked() });
    let entry = audit::NewEntry::new(actor.clone(), "profile.set", actor, detail);
    audit::commit_with_audit(txn, entry, Utc::now()).await?;
    Ok(residents::open(sealer, row)?)
}

/// Who resolves identity questions at a counter: an officer of a district, or an administrator.
#[derive(Debug, Clone, Copy)]
pub struct Counter {
    /// The staff account (audit actor `staff:<id>`).
    pub staff_id: i64,
    /// The officer's district; `None` for an administrator, who acts anywhere.
    pub district: Option<District>,
}

impl Counter {
    /// An officer may act when the accounts involved have no registration at all (nothing ties
    /// them to a district: the counter checks the ID card in person) or one in the officer's
    /// district; an administrator always. Else 403.
    async fn may_act_on<C: sea_orm::ConnectionTrait>(&self, db: &C, ids: &[i64]) -> ApiResult<()> {
        let Some(district) = self.district else {
            return Ok(());
        };
        let districts = residents::districts_of(db, ids).await?;
        if districts.is_empty() || districts.contains(&i32::from(district)) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(
                "officers resolve ID numbers only for residents registered in their district",
            ))
        }
    }
}

fn counter_refusal(e: AssignError) -> ApiError {
    match e {
        AssignError::NotAnAccount => ApiError::unprocessable(
            "not_an_account",
            None,
            "the resident is an imported record without a phone; assign its ID number to the \
             person's phone account",
        ),
        AssignError::OtherIdNumber => ApiError::conflict(
            "id_number_fixed",
            "the account holds another ID number: release it first",
        ),
        AssignError::HeldByAccount(other) => ApiError::conflict(
            "id_number_held",
            format!(
                "the phone account resident:{other} holds this ID number: release it there first"
            ),
        ),
        AssignError::InUse => ApiError::conflict(
            "id_number_in_use",
            "the account has applied under this ID number; its file and permit carry it",
        ),
        AssignError::NoIdNumber => {
            ApiError::conflict("no_id_number", "the account has no ID number")
        }
        AssignError::Store(e) => e.into(),
    }
}

/// Assigns `profile` (name and ID number, as on the ID card) to the phone account `resident`,
/// audited as `resident.id_number.assign`. An imported record holding the number is merged into
/// the account (its registrations, applications and permits move over).
pub async fn assign(
    store: &Store,
    counter: Counter,
    resident: i64,
    profile: Profile,
) -> ApiResult<residents::Resident> {
    let sealer = store.sealer()?;
    let txn = store.begin().await?;
    let holder = residents::find_by_id_number(&txn, sealer, profile.id_number.expose()).await?;
    let mut involved = vec![resident];
    involved.extend(holder.map(|h| h.id));
    // The target must exist before district rules are looked at (404, not 403).
    residents::get(&txn, resident).await?;
    counter.may_act_on(&txn, &involved).await?;
    let assigned = residents::assign_id_number(
        &txn,
        sealer,
        resident,
        profile.name.as_str(),
        profile.id_number.expose(),
    )
    .await
    .map_err(counter_refusal)?;
    let detail = json!({
        "id_number": profile.id_number.masked(),
        "merged_record": assigned.merged_record,
    });
    let entry = audit::NewEntry::new(
        format!("staff:{}", counter.staff_id),
        "resident.id_number.assign",
        resident_actor(resident),
        detail,
    );
    audit::commit_with_audit(txn, entry, Utc::now()).await?;
    Ok(residents::open(sealer, assigned.resident)?)
}

/// Releases the ID number of account `resident`, audited as `resident.id_number.release`.
pub async fn release(
    store: &Store,
    counter: Counter,
    resident: i64,
) -> ApiResult<residents::Resident> {
    let sealer = store.sealer()?;
    let txn = store.begin().await?;
    residents::get(&txn, resident).await?;
    counter.may_act_on(&txn, &[resident]).await?;
    let released = residents::release_id_number(&txn, sealer, resident)
        .await
        .map_err(counter_refusal)?;
    let masked = crate::domain::IdNumber::parse(&released)
        .map(|n| n.masked())
        .unwrap_or_default();
    let entry = audit::NewEntry::new(
        format!("staff:{}", counter.staff_id),
        "resident.id_number.release",
        resident_actor(resident),
        json!({ "id_number": masked }),
    );
    let row = residents::get_open(&txn, sealer, resident).await?;
    audit::commit_with_audit(txn, entry, Utc::now()).await?;
    Ok(row)
}
