//! Reads of personal data that are audited like state changes (SPEC §4 "Audit"): a police
//! look-up of a permit's full record, and an officer's download of an application's evidence.
//! The entry is written in the same transaction as the read, so no record leaves unrecorded.

use std::time::Duration;

use chrono::Utc;
use serde_json::json;

use crate::auth::extract::Officer;
use crate::domain::LookupPurpose;
use crate::error::{ApiError, ApiResult};
use crate::shared_state::RateDecision;
use crate::state::AppState;
use crate::store::{self, applications, audit, evidence, permits, residences, residents};
use crate::wire::permits::PermitRecord;

/// The window of the per-account look-up limit.
const LOOKUP_WINDOW: Duration = Duration::from_secs(3600);

/// The full record of permit `number` for police verifier `actor` (404 when there is none), for
/// the stated `purpose`, which the audit entry records.
///
/// Each attempt (found or not) counts against the account's hourly limit
/// (`rate_limits.police_lookups_per_hour`): past it, 429 `rate_limited` with `Retry-After` until
/// the hour's window ends. While Redis is out the limit is counted per instance (each allows
/// the limit, N × instances in all during the outage); a store that cannot count at all fails
/// closed: no record is served (503). Each record served counts in `epermit_personal_data_lookups_total{account,
/// org_kind}`.
pub async fn lookup(
    state: &AppState,
    actor: String,
    number: &str,
    purpose: &LookupPurpose,
) -> ApiResult<PermitRecord> {
    let limit = state.settings.rate_limits.police_lookups_per_hour;
    let bucket = format!("lookup:acct:{actor}");
    match state
        .shared
        .hit_all(&[(&bucket, limit)], LOOKUP_WINDOW)
        .await
    {
        Ok(RateDecision::Allowed { .. }) => {}
        Ok(RateDecision::Limited { retry_after }) => {
            return Err(ApiError::RateLimited {
                code: "rate_limited",
                retry_after: retry_after.as_secs().max(1),
            });
        }
        Err(_) => {
            return Err(ApiError::Unavailable(
                "the shared store is unavailable: look-ups are not served without their limit",
            ));
        }
    }
    let txn = state.store.begin().await?;
    let permit = permits::find_by_number(&txn, number)
        .await?
        .ok_or(ApiError::NotFound("no such permit"))?;
    let holder = residents::get_open(&txn, state.store.sealer()?, permit.resident_id).await?;
    let registrations = residences::list_by_resident(&txn, permit.resident_id).await?;
    let detail = json!({ "purpose": purpose.to_string(), "purpose_kind": purpose.kind() });
    let entry = audit::NewEntry::new(
        actor.clone(),
        "permit.lookup",
        permit.number.clone(),
        detail,
    );
    audit::commit_with_audit(txn, entry, Utc::now()).await?;
    state.metrics.observe_personal_data_lookup(&actor, "police");
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
