//! Binding the holder's device key (SPEC §2: the credential's `cnf`, RFC 8747), so the holder can
//! show a fresh presentation (`EPP1:`) that only that device can sign. A key is bound only with
//! proof (issue 11 item 3): the new key signs a single-use server challenge with the permit
//! number ([`crypto::key_binding`]), and the holder enters a one-time code sent to their phone —
//! so a stolen session alone cannot move the permit to another device. The permit records when
//! and from where its key was bound, and the re-signed version supersedes the old one.

use std::time::Duration;

use chrono::Utc;
use rand_core::{OsRng, RngCore};
use serde_json::json;

use crate::auth::login::{code_refused, guess_budget};
use crate::auth::session::keyed;
use crate::error::{ApiError, ApiResult};
use crate::issuance;
use crate::shared_state::OtpCheck;
use crate::state::AppState;
use crate::store::{audit, permits, residents};
use crate::wire::permits::{Binding, HolderKeyChallenge};
use crate::workflows::resident_actor;

/// How long a challenge may be answered.
const CHALLENGE_TTL: Duration = Duration::from_secs(300);

/// The shared-store key of a resident's pending challenge.
fn challenge_slot(state: &AppState, resident: i64) -> String {
    keyed(state, "holder-key-challenge", &resident.to_string())
}

/// A fresh challenge for the holder of `permit` (replacing any pending one).
pub async fn challenge(state: &AppState, permit: &permits::Model) -> ApiResult<HolderKeyChallenge> {
    let mut challenge = [0u8; crypto::key_binding::CHALLENGE_LEN];
    OsRng.fill_bytes(&mut challenge);
    let text = hex::encode(challenge);
    let slot = challenge_slot(state, permit.resident_id);
    let hashed = keyed(state, "challenge", &text);
    state
        .shared
        .put_otp(&slot, &hashed, CHALLENGE_TTL, 1)
        .await?;
    Ok(HolderKeyChallenge {
        challenge: text,
        expires_in: CHALLENGE_TTL.as_secs(),
        number: permit.number.clone(),
    })
}

/// Binds the device key of `binding` to the holder's permit and re-signs the credential, from
/// client address `from`: a revoked permit is 409 `permit_revoked`; a proof that does not verify
/// 400 `bad_proof`; a challenge not issued, used or expired 400 `challenge_expired`; the phone's
/// code as at login (`wrong_code`, `code_expired`, `too_many_attempts`).
pub async fn bind(
    state: &AppState,
    permit: permits::Model,
    binding: Binding,
    from: &str,
) -> ApiResult<permits::Model> {
    if permit.status == permits::Status::Revoked {
        return Err(ApiError::conflict(
            "permit_revoked",
            "the permit is revoked",
        ));
    }
    crypto::key_binding::verify_proof(
        &binding.key,
        &permit.number,
        &binding.challenge,
        &binding.signature,
    )
    .map_err(|_| {
        ApiError::invalid(
            "bad_proof",
            "signature",
            "the signature is not the new key's over the challenge and the permit number",
        )
    })?;
    let slot = challenge_slot(state, permit.resident_id);
    let answered = keyed(state, "challenge", &hex::encode(binding.challenge));
    if state.shared.check_otp(&slot, &answered).await? != OtpCheck::Ok {
        return Err(ApiError::invalid(
            "challenge_expired",
            "challenge",
            "the challenge is unknown, used or expired: ask for a new one",
        ));
    }
    let holder = residents::get_open(
        state.store.conn(),
        state.store.sealer()?,
        permit.resident_id,
    )
    .await?;
    let phone = holder.phone.as_deref().unwrap_or_default();
    let account = keyed(state, "phone", phone);
    let check = state
        .shared
        .check_code(
            &account,
            &keyed(state, "otp", &binding.code),
            &guess_budget(state),
        )
        .await?;
    code_refused(check)?;
    let now = Utc::now();
    let txn = state.store.begin().await?;
    let key = crypto::keys::public_key_hex(&binding.key);
    permits::set_holder_key(&txn, permit.id, &key, now, from).await?;
    let permit = issuance::resign(state, &txn, permit.id, now).await?;
    let entry = audit::NewEntry::new(
        resident_actor(permit.resident_id),
        "permit.bind_key",
        permit.number.clone(),
        json!({ "kid": crypto::keys::KeyId::of(&binding.key).to_string() }),
    );
    audit::commit_with_audit(txn, entry, now).await?;
    state.lists.changed();
    Ok(permit)
}
