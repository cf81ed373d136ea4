//! Lists a verifier can always take (SPEC §2, issue 11 item 1): a phone that refreshes whenever it
//! is online keeps every list the service serves, for years, through key rotations, restarts and
//! several instances.
//!
//! Each simulated day the SDK's `Verifier` fetches the trust list and every status list from one
//! of two instances' list caches (what differs between two `epermit` processes on one database:
//! everything else they share is the database), at a time of day that moves, and must accept each
//! list; every 100 days one instance restarts (a new cache), every 90 days a district key is
//! rotated, and now and then an officer suspends or restores the permit (at the simulated time,
//! as a change made that day would be). The credential it
//! verifies never shows `trust_list_stale` (nor `status_unknown`) while the phone refreshes.

use std::time::SystemTime;

use api::signed_lists::ListCache;
use chrono::{Duration, Utc};
use epermit_sdk::{Verifier, VerifyWarning};
use epermit_tests::fixtures::{credential, issued_permit, set_status_elsewhere};
use epermit_tests::spawn_app;

#[actix_web::test]
async fn a_verifier_refreshing_daily_for_two_years_never_refuses_a_genuine_list() {
    let app = spawn_app().await;
    let h = issued_permit(&app, "13900000051", "33070219900101123").await;
    let text = credential(&app, &h.token).await;
    let state = &app.state;
    let root = crypto::signer::Signer::public_key(state.keys.root().as_ref());
    let verifier = Verifier::new(vec![crypto::keys::public_key_hex(&root)]).unwrap();
    let public_url = state.settings.public_url.clone();
    let recheck = std::time::Duration::from_secs(1);
    let mut instances = [
        ListCache::new(&public_url, recheck),
        ListCache::new(&public_url, recheck),
    ];
    let start = Utc::now();
    let mut suspended = false;
    for day in 0..730_i64 {
        let now = start + Duration::days(day) + Duration::minutes(day * 37 % 1440);
        let at: SystemTime = now.into();
        if day % 100 == 99 {
            instances[usize::from(day % 200 == 99)] = ListCache::new(&public_url, recheck);
        }
        if day % 90 == 89 {
            state
                .keys
                .rotate(&state.store, policy::District::Wucheng, "test")
                .await
                .unwrap();
        }
        if day % 45 == 44 {
            suspended = !suspended;
            let to = if suspended {
                api::store::permits::Status::Suspended
            } else {
                api::store::permits::Status::Active
            };
            set_status_elsewhere(&app, &h.number, to, now).await;
        }
        let cache = &instances[usize::try_from(day % 2).unwrap()];
        let trust = cache
            .trust_list(&state.store, &state.keys, now)
            .await
            .unwrap();
        verifier
            .load_trust_list(trust.bytes, at)
            .unwrap_or_else(|e| panic!("day {day}: a genuine trust list was refused: {e:?}"));
        for uri in cache.status_list_uris(&state.store).await.unwrap() {
            let shard = cache.shard_of(&uri).unwrap();
            let list = cache
                .status_list(&state.store, &state.keys, shard, now)
                .await
                .unwrap()
                .unwrap();
            verifier
                .load_status_list(list.bytes, at)
                .unwrap_or_else(|e| panic!("day {day}: the status list {uri} was refused: {e:?}"));
        }
        let verification = verifier.verify(text.clone(), at);
        for warning in [VerifyWarning::TrustListStale, VerifyWarning::StatusUnknown] {
            assert!(
                !verification.warnings.contains(&warning),
                "day {day}: {warning:?} ({:?})",
                verification.verdict
            );
        }
    }
}
