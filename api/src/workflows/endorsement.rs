//! The annual endorsement (签注, SPEC §1.4; decree 663 art. 10).

use chrono::Utc;
use policy::Endorsed;
use serde_json::json;

use crate::error::{ApiError, ApiResult};
use crate::issuance;
use crate::state::AppState;
use crate::store::{StoreError, audit, endorsements, permits, residences};
use crate::workflows::resident_actor;

/// Endorses the holder's permit today: early → 422 `endorsement_too_early` with the window's
/// dates; in the window → validity to the next anniversary; late → the lapse is recorded and
/// anniversaries count from today. Re-signed by the district where the holder is registered now;
/// a revoked permit is 409 `permit_revoked`.
///
/// One endorsement per permit per day, however many requests race: the permit's row is locked
/// before its calendar is read (so the second request sees the first's endorsement and is 422
/// `endorsement_too_early`), and the unique index on `(permit_id, day)` stops any that get past
/// (409 `endorsed_today`).
pub async fn endorse(
    state: &AppState,
    permit: permits::Model,
) -> ApiResult<(Endorsed, permits::Model)> {
    let now = Utc::now();
    let day = policy::calendar::day_in_shanghai(now);
    let txn = state.store.begin().await?;
    // Read again under the lock: the permit may have changed since the caller read it.
    let permit = permits::lock(&txn, permit.id).await?;
    if permit.status == permits::Status::Revoked {
        return Err(ApiError::conflict(
            "permit_revoked",
            "a revoked permit cannot be endorsed",
        ));
    }
    let mut calendar = issuance::calendar_of(&txn, &permit).await?;
    let endorsed = calendar.endorse(day).map_err(|early| {
        ApiError::unprocessable(
            "endorsement_too_early",
            None,
            format!(
                "endorsement opens on {}, a month before the anniversary {}",
                early.window_opens, early.anniversary
            ),
        )
        .with("window_opens", json!(early.window_opens))
        .with("anniversary", json!(early.anniversary))
    })?;
    let registered = residences::current_for_resident(&txn, permit.resident_id)
        .await?
        .map_or(permit.district, |r| r.district);
    let (timing, lapse) = match endorsed {
        Endorsed::Late { lapse, .. } => (endorsements::Timing::Late, Some(lapse)),
        Endorsed::InWindow { .. } => (endorsements::Timing::InWindow, None),
    };
    let record = endorsements::NewEndorsement {
        permit_id: permit.id,
        day,
        timing,
        lapse_from: lapse.map(|l| l.from()),
        lapse_until: lapse.and_then(|l| l.until()),
        district: registered,
    };
    endorsements::insert(&txn, record)
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => ApiError::conflict(
                "endorsed_today",
                "this permit has been endorsed today already",
            ),
            e => e.into(),
        })?;
    permits::set_validity(&txn, permit.id, calendar.next_anniversary(), Some(day)).await?;
    let permit = issuance::resign(state, &txn, permit.id, now).await?;
    let entry = audit::NewEntry::new(
        resident_actor(permit.resident_id),
        "permit.endorse",
        permit.number.clone(),
        json!({ "timing": endorsed }),
    );
    audit::commit_with_audit(txn, entry, now).await?;
    state.lists.changed();
    Ok((endorsed, permit))
}
