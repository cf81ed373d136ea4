//! Reads of personal data that are audited like state changes (SPEC §4 "Audit"): a police
//! look-up of a permit's full record, and an officer's download of an application's evidence.
//! The entry is written in the same transaction as the read, so no record leaves unrecorded.

use chrono::Utc;
use serde_json::json;

use crate::auth::extract::Officer;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::{self, applications, audit, evidence, permits, residences, residents};
use crate::wire::permits::PermitRecord;

/// The full record of permit `number` for police verifier `actor` (404 when there is none).
pub async fn lookup(state: &AppState, actor: String, number: &str) -> ApiResult<PermitRecord> {
    let txn = state.store.begin().await?;
    let permit = permits::find_by_number(&txn, number)
        .await?
        .ok_or(ApiError::NotFound("no such permit"))?;
    let holder = residents::get_open(&txn, state.store.sealer()?, permit.resident_id).await?;
    let registrations = residences::list_by_resident(&txn, permit.resident_id).await?;
    let entry = audit::NewEntry::new(actor, "permit.lookup", permit.number.clone(), json!({}));
    audit::commit_with_audit(txn, entry, Utc::now()).await?;
    Ok(PermitRecord::new(permit, holder, registrations))
}

/// The evidence file of application `id`, for an officer of its district.
pub async fn evidence_file(
    state: &AppState,
    officer: Officer,
    id: i64,
) -> ApiResult<(applications::Model, evidence::Model)> {
    let application = applications::get(state.store.conn(), id).await?;
    officer.acts_in(store::district(application.district, "applications")?)?;
    let txn = state.store.begin().await?;
    let file = evidence::get(&txn, state.store.sealer()?, &application.evidence_sha256)
        .await?
        .ok_or(ApiError::NotFound("evidence"))?;
    let entry = audit::NewEntry::new(
        officer.actor(),
        "application.evidence_view",
        format!("application:{}", application.id),
        json!({ "district": application.district.to_string(), "evidence_sha256": file.sha256 }),
    );
    audit::commit_with_audit(txn, entry, Utc::now()).await?;
    Ok((application, file))
}
