//! The resident's profile (SPEC §4): name and ID number, the identity every permit is issued to.
//! The rules — the ID number is fixed once set, the name once the resident has applied, an
//! imported record is claimed only under its imported name — are enforced in one place,
//! [`residents::set_profile`], inside the update itself (so two concurrent first settings cannot
//! both win); this workflow runs it in a transaction and audits it.

use chrono::Utc;
use serde_json::json;

use crate::error::{ApiError, ApiResult};
use crate::store::residents::{self, ProfileError};
use crate::store::{Store, StoreError, audit};
use crate::wire::me::Profile;
use crate::workflows::resident_actor;

/// The problem for a refused profile change; none names the values involved.
fn refusal(e: ProfileError) -> ApiError {
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
        ProfileError::Store(e) => e.into(),
    }
}

/// Sets the resident's name and ID number; repeating the stored values is a no-op (409
/// `id_number_registered`, `id_number_fixed`, `name_fixed` as the rules refuse).
pub async fn set(store: &Store, resident: i64, profile: Profile) -> ApiResult<residents::Model> {
    let txn = store.begin().await?;
    let set = residents::set_profile(
        &txn,
        resident,
        profile.name.as_str(),
        profile.id_number.expose(),
    )
    .await
    .map_err(refusal)?;
    let actor = resident_actor(resident);
    let detail = json!({
        "id_number": profile.id_number.masked(),
        "claimed_import": set.claimed_import,
    });
    let entry = audit::NewEntry::new(actor.clone(), "profile.set", actor, detail);
    audit::commit_with_audit(txn, entry, Utc::now()).await?;
    Ok(set.resident)
}
