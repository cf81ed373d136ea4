//! Suspend, restore, revoke (SPEC §1.5) by an officer of the issuing district, with a reason;
//! which change a status allows is [`policy::PermitStatus::after`].

use chrono::Utc;
use policy::{PermitStatus, StatusChange};
use serde_json::json;

use crate::auth::extract::Officer;
use crate::domain::Reason;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::{self, audit, permits, status};

/// The audit action of a change.
fn action(change: StatusChange) -> &'static str {
    match change {
        StatusChange::Suspend => "permit.suspend",
        StatusChange::Restore => "permit.restore",
        StatusChange::Revoke => "permit.revoke",
    }
}

/// Applies `change` to the permit `number`: 404 when there is none, 403 for an officer of another
/// district, 409 `invalid_transition` when its status does not allow the change. The status list
/// changes with it.
pub async fn change(
    state: &AppState,
    officer: Officer,
    number: &str,
    change: StatusChange,
    reason: Reason,
) -> ApiResult<permits::Model> {
    let txn = state.store.begin().await?;
    let permit = permits::find_by_number(&txn, number)
        .await?
        .ok_or(ApiError::NotFound("no such permit"))?;
    officer.acts_in(store::district(permit.district, "permits")?)?;
    let from = PermitStatus::from(permit.status);
    let refused = || {
        ApiError::conflict(
            "invalid_transition",
            format!("the permit is {:?}", permit.status).to_lowercase(),
        )
    };
    let to = from.after(change).ok_or_else(refused)?;
    if !permits::set_status(&txn, permit.id, to.into(), Some(reason.as_str())).await? {
        return Err(refused());
    }
    let now = Utc::now();
    if let Some(entry) = status::current(&txn, permit.id).await? {
        status::set(&txn, entry, permits::Status::from(to).into(), now).await?;
    }
    let permit = permits::get(&txn, permit.id).await?;
    let entry = audit::NewEntry::new(
        officer.actor(),
        action(change),
        permit.number.clone(),
        json!({ "reason": reason.as_str() }),
    );
    audit::commit_with_audit(txn, entry, now).await?;
    state.lists.changed();
    Ok(permit)
}
