//! Binding the holder's device key (SPEC §2: the credential's `cnf`, RFC 8747), so the holder can
//! show a fresh presentation (`EPP1:`) that only that device can sign.

use chrono::Utc;
use ed25519_dalek::VerifyingKey;
use serde_json::json;

use crate::error::{ApiError, ApiResult};
use crate::issuance;
use crate::state::AppState;
use crate::store::{audit, permits};
use crate::workflows::resident_actor;

/// Binds `key` to the holder's permit and re-signs the credential (a revoked permit is 409
/// `permit_revoked`).
pub async fn bind(
    state: &AppState,
    permit: permits::Model,
    key: VerifyingKey,
) -> ApiResult<permits::Model> {
    if permit.status == permits::Status::Revoked {
        return Err(ApiError::conflict(
            "permit_revoked",
            "the permit is revoked",
        ));
    }
    let now = Utc::now();
    let txn = state.store.begin().await?;
    permits::set_holder_key(&txn, permit.id, &crypto::keys::public_key_hex(&key)).await?;
    let permit = issuance::resign(state, &txn, permit.id, now).await?;
    let entry = audit::NewEntry::new(
        resident_actor(permit.resident_id),
        "permit.bind_key",
        permit.number.clone(),
        json!({ "kid": crypto::keys::KeyId::of(&key).to_string() }),
    );
    audit::commit_with_audit(txn, entry, now).await?;
    Ok(permit)
}
