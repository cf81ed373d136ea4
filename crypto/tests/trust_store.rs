//! The verifier's store (`crypto::trust_store`): load rules for re-signed trust lists and status
//! list shards, root-key rotation, the saved state and the verifier bundle.

use chrono::{DateTime, TimeDelta, Utc};
use crypto::sample::Demo;
use crypto::trust_store::MAX_STATUS_LISTS;
use crypto::{
    Change, Error, KeyFileSigner, KeyId, Signer, Status, StatusList, TrustStore, Verdict,
    VerifierBundle, VerifyOptions, Warning,
};
use proptest::prelude::*;

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_780_000_000, 0).unwrap()
}

fn demo() -> Demo {
    Demo::new(now()).unwrap()
}

fn loaded(d: &Demo) -> TrustStore {
    let mut store = TrustStore::new(d.root_keys());
    store
        .load_trust_list(&d.trust_list.sign(&d.root).unwrap(), now())
        .unwrap();
    store
        .load_status_list(&d.status_list.sign(&d.root).unwrap(), now())
        .unwrap();
    store
}

fn shard(d: &Demo, n: u32, issued: DateTime<Utc>) -> StatusList {
    StatusList::new(
        format!("https://jhga.cn/sl/{n}"),
        issued,
        issued + TimeDelta::days(1),
        600,
    )
    .tap(|l| l.set(d.claims.status.index, Status::Valid).unwrap())
}

trait Tap: Sized {
    fn tap(mut self, f: impl FnOnce(&mut Self)) -> Self {
        f(&mut self);
        self
    }
}
impl<T> Tap for T {}

#[test]
fn a_trust_list_re_signed_later_under_the_same_sequence_replaces_the_held_one() {
    let d = demo();
    let mut store = loaded(&d);
    let mut later = d.trust_list.clone();
    later.issued_at += TimeDelta::hours(6);
    later.expires_at += TimeDelta::hours(6);
    assert_eq!(
        store.load_trust_list(&later.sign(&d.root).unwrap(), now() + TimeDelta::hours(6)),
        Ok(Change::Updated)
    );
    assert_eq!(store.trust_list(), Some(&later));
    assert_eq!(store.state().trust_list_expires_at, Some(later.expires_at));
}

#[test]
fn a_trust_list_re_signed_no_later_under_the_same_sequence_is_unchanged() {
    let d = demo();
    let mut store = loaded(&d);
    let mut earlier = d.trust_list.clone();
    earlier.issued_at -= TimeDelta::hours(1);
    for list in [&d.trust_list, &earlier] {
        assert_eq!(
            store.load_trust_list(&list.sign(&d.root).unwrap(), now()),
            Ok(Change::Unchanged)
        );
    }
    assert_eq!(store.trust_list(), Some(&d.trust_list));
}

#[test]
fn other_keys_or_another_successor_under_the_same_sequence_are_refused() {
    let d = demo();
    let mut store = loaded(&d);
    let mut other_keys = d.trust_list.clone();
    other_keys.issued_at += TimeDelta::hours(1);
    other_keys.keys[0].state = crypto::KeyState::Retired;
    let mut other_successor = d.trust_list.clone();
    other_successor.issued_at += TimeDelta::hours(1);
    other_successor.successor = Some(KeyFileSigner::from_seed([8; 32]).public_key());
    for list in [other_keys, other_successor] {
        assert!(matches!(
            store.load_trust_list(&list.sign(&d.root).unwrap(), now()),
            Err(Error::Invalid(_))
        ));
    }
    assert_eq!(store.trust_list(), Some(&d.trust_list));
    assert_eq!(store.root_keys(), d.root_keys().as_slice());
}

#[test]
fn a_status_list_issued_later_replaces_the_held_one_and_an_older_one_is_refused() {
    let d = demo();
    let mut store = loaded(&d);
    let mut later = d.status_list.clone();
    later.issued_at += TimeDelta::minutes(10);
    later.expires_at += TimeDelta::minutes(10);
    assert_eq!(
        store.load_status_list(
            &later.sign(&d.root).unwrap(),
            now() + TimeDelta::minutes(10)
        ),
        Ok(Change::Updated)
    );
    assert_eq!(store.status_list(&d.status_list.uri), Some(&later));
    assert!(matches!(
        store.load_status_list(&d.status_list.sign(&d.root).unwrap(), now()),
        Err(Error::Invalid(_))
    ));
    let mut same_time_other_entries = later.clone();
    same_time_other_entries
        .set(d.claims.status.index, Status::Suspended)
        .unwrap();
    assert!(matches!(
        store.load_status_list(&same_time_other_entries.sign(&d.root).unwrap(), now()),
        Err(Error::Invalid(_))
    ));
    assert_eq!(
        store.load_status_list(&later.sign(&d.root).unwrap(), now()),
        Ok(Change::Unchanged)
    );
}

#[test]
fn the_store_holds_every_shard_and_checks_the_one_the_credential_names() {
    let d = demo();
    let mut store = loaded(&d);
    for n in 1..=3 {
        assert_eq!(
            store.load_status_list(&shard(&d, n, now()).sign(&d.root).unwrap(), now()),
            Ok(Change::Installed)
        );
    }
    let state = store.state();
    let uris: Vec<&str> = state.status_lists.iter().map(|s| s.uri.as_str()).collect();
    assert_eq!(
        uris,
        [
            "https://jhga.cn/sl",
            "https://jhga.cn/sl/1",
            "https://jhga.cn/sl/2",
            "https://jhga.cn/sl/3"
        ]
    );
    assert!(
        state
            .status_lists
            .iter()
            .all(|s| s.expires_at > s.issued_at)
    );
    assert_eq!(state.status_lists[1].ttl_seconds, 600);

    let text = d.permit_text().unwrap();
    let opts = VerifyOptions::default();
    assert_eq!(store.verify(&text, now(), &opts).verdict, Verdict::Valid);
    // Revoked in the credential's own list (sub = its status.uri), whatever the other shards say.
    let mut revoked = d.status_list.clone();
    revoked.issued_at += TimeDelta::minutes(1);
    revoked.set(d.claims.status.index, Status::Invalid).unwrap();
    store
        .load_status_list(
            &revoked.sign(&d.root).unwrap(),
            now() + TimeDelta::minutes(1),
        )
        .unwrap();
    let at = now() + TimeDelta::minutes(1);
    assert_eq!(store.verify(&text, at, &opts).verdict, Verdict::Revoked);
}

#[test]
fn a_store_refuses_a_new_uri_beyond_the_most_lists_it_holds() {
    let d = demo();
    let mut store = TrustStore::new(d.root_keys());
    for n in 0..MAX_STATUS_LISTS as u32 {
        let l = StatusList::new(format!("u{n}"), now(), now() + TimeDelta::hours(1), 1);
        store
            .load_status_list(&l.sign(&d.root).unwrap(), now())
            .unwrap();
    }
    let one_more = StatusList::new("u-more", now(), now() + TimeDelta::hours(1), 1);
    assert!(matches!(
        store.load_status_list(&one_more.sign(&d.root).unwrap(), now()),
        Err(Error::Invalid(_))
    ));
}

#[test]
fn an_announced_successor_is_pinned_beside_the_old_root_until_it_signs_then_the_old_root_retires() {
    let d = demo();
    let old_root = &d.root;
    let new_root = KeyFileSigner::from_seed([7; 32]);
    let mut store = loaded(&d);

    // 1. The old root announces its successor in a new trust list (sequence 2): both are pinned
    //    while the service still signs with the old root.
    let mut announcement = d.trust_list.clone();
    announcement.sequence = 2;
    announcement.successor = Some(new_root.public_key());
    assert_eq!(
        store.load_trust_list(&announcement.sign(old_root).unwrap(), now()),
        Ok(Change::Updated)
    );
    assert_eq!(
        store.root_keys(),
        &[new_root.public_key(), old_root.public_key()]
    );
    assert!(store.state().retired_root_key_ids.is_empty());
    // The announcement re-signed later, and the old root's status lists, still refresh.
    let mut refreshed = announcement.clone();
    refreshed.issued_at += TimeDelta::seconds(60);
    assert_eq!(
        store.load_trust_list(&refreshed.sign(old_root).unwrap(), now()),
        Ok(Change::Updated)
    );
    let mut during = d.status_list.clone();
    during.issued_at += TimeDelta::seconds(1);
    assert_eq!(
        store.load_status_list(&during.sign(old_root).unwrap(), now()),
        Ok(Change::Updated)
    );
    assert_eq!(store.root_keys().len(), 2);

    // 2. The new root's list (sequence 3, no further successor) is accepted as usual.
    let mut by_new_root = d.trust_list.clone();
    by_new_root.sequence = 3;
    assert_eq!(
        store.load_trust_list(&by_new_root.sign(&new_root).unwrap(), now()),
        Ok(Change::Updated)
    );
    assert_eq!(store.trust_list(), Some(&by_new_root));
    assert_eq!(store.root_keys(), &[new_root.public_key()]);
    assert_eq!(store.state().root_key_ids, vec![new_root.key_id()]);
    assert_eq!(store.state().retired_root_key_ids, vec![old_root.key_id()]);

    // 3. Lists signed by the old root are refused from then on, whatever their sequence.
    let mut by_old_root = d.trust_list.clone();
    by_old_root.sequence = 4;
    assert_eq!(
        store.load_trust_list(&by_old_root.sign(old_root).unwrap(), now()),
        Err(Error::RetiredRoot)
    );
    let mut status = d.status_list.clone();
    status.issued_at += TimeDelta::seconds(2);
    assert_eq!(
        store.load_status_list(&status.sign(old_root).unwrap(), now()),
        Err(Error::RetiredRoot)
    );
    assert_eq!(
        store.load_status_list(&status.sign(&new_root).unwrap(), now()),
        Ok(Change::Updated)
    );
    assert_eq!(store.state().trust_list_sequence, Some(3));
    assert_eq!(store.trust_list(), Some(&by_new_root));
}

#[test]
fn the_saved_state_round_trips_with_rollback_protection_and_the_latest_signed_time() {
    let d = demo();
    let new_root = KeyFileSigner::from_seed([7; 32]);
    let mut store = loaded(&d);
    let mut announcement = d.trust_list.clone();
    announcement.sequence = 5;
    announcement.successor = Some(new_root.public_key());
    store
        .load_trust_list(&announcement.sign(&d.root).unwrap(), now())
        .unwrap();
    let later = shard(&d, 1, now() + TimeDelta::minutes(30));
    store
        .load_status_list(
            &later.sign(&new_root).unwrap(),
            now() + TimeDelta::minutes(30),
        )
        .unwrap();

    let back = TrustStore::import(&store.export()).unwrap();
    assert_eq!(back.state(), store.state());
    assert_eq!(back.root_keys(), &[new_root.public_key()]);
    assert_eq!(back.trust_list(), Some(&announcement));
    assert_eq!(back.status_lists(), store.status_lists());
    assert_eq!(back.export(), store.export());

    // Rollback protection survives: sequence 4 (by the new root) is below the 5 held.
    let mut older = d.trust_list.clone();
    older.sequence = 4;
    let mut back = back;
    assert_eq!(
        back.load_trust_list(&older.sign(&new_root).unwrap(), now()),
        Err(Error::Rollback {
            held: 5,
            offered: 4
        })
    );
    // clock_suspect survives: the clock is before the shard issued 30 minutes after now().
    let v = back.verify(&d.permit_text().unwrap(), now(), &VerifyOptions::default());
    assert_eq!(
        (v.verdict, v.warnings),
        (Verdict::Valid, vec![Warning::ClockSuspect])
    );
}

#[test]
fn clock_suspect_follows_the_latest_signed_time_seen_even_after_the_lists_are_gone() {
    let d = demo();
    let mut store = loaded(&d);
    let bundle = VerifierBundle {
        issued_at: now() + TimeDelta::hours(2),
        trust_list: d.trust_list.sign(&d.root).unwrap(),
        status_lists: vec![],
    };
    store
        .load_bundle(&bundle.sign(&d.root).unwrap(), now())
        .unwrap();
    let text = d.permit_text().unwrap();
    let opts = VerifyOptions::default();
    let v = store.verify(&text, now() + TimeDelta::hours(1), &opts);
    assert_eq!(v.warnings, vec![Warning::ClockSuspect]);
    assert_eq!(
        store.state().latest_signed_at,
        Some(now() + TimeDelta::hours(2))
    );
}

#[test]
fn an_empty_store_round_trips() {
    let d = demo();
    let store = TrustStore::new(d.root_keys());
    let back = TrustStore::import(&store.export()).unwrap();
    assert_eq!(back.state(), store.state());
}

#[test]
fn every_truncation_of_a_saved_state_is_refused() {
    let d = demo();
    let saved = loaded(&d).export();
    for len in 0..saved.len() {
        assert!(TrustStore::import(&saved[..len]).is_err(), "{len}");
    }
    let mut extra = saved.clone();
    extra.push(0);
    assert!(TrustStore::import(&extra).is_err());
}

#[test]
fn a_saved_state_whose_list_was_altered_is_refused() {
    let d = demo();
    let store = loaded(&d);
    let saved = store.export();
    // Flip a bit of the last byte of the trust list's signature inside the state.
    let trust = d.trust_list.sign(&d.root).unwrap();
    let at = saved
        .windows(trust.len())
        .position(|w| w == trust.as_slice())
        .unwrap();
    let mut altered = saved.clone();
    altered[at + trust.len() - 1] ^= 1;
    assert_eq!(
        TrustStore::import(&altered).unwrap_err(),
        Error::BadSignature
    );
}

#[test]
fn a_bundle_loads_its_trust_list_first_then_every_status_list() {
    let d = demo();
    let mut store = TrustStore::new(d.root_keys());
    let shards: Vec<StatusList> = (1..=2).map(|n| shard(&d, n, now())).collect();
    let bundle = VerifierBundle {
        issued_at: now(),
        trust_list: d.trust_list.sign(&d.root).unwrap(),
        status_lists: shards.iter().map(|l| l.sign(&d.root).unwrap()).collect(),
    };
    let signed = bundle.sign(&d.root).unwrap();
    let load = store.load_bundle(&signed, now()).unwrap();
    assert_eq!(load.issued_at, now());
    assert_eq!(load.trust_list, Ok(Change::Installed));
    assert_eq!(
        load.status_lists,
        vec![
            Ok(("https://jhga.cn/sl/1".to_owned(), Change::Installed)),
            Ok(("https://jhga.cn/sl/2".to_owned(), Change::Installed)),
        ]
    );
    let again = store.load_bundle(&signed, now()).unwrap();
    assert_eq!(again.trust_list, Ok(Change::Unchanged));
    assert!(
        again
            .status_lists
            .iter()
            .all(|r| matches!(r, Ok((_, Change::Unchanged))))
    );
    assert_eq!(store.status_lists().len(), 2);
}

#[test]
fn a_bundle_reports_a_refused_inner_list_and_loads_the_others() {
    let d = demo();
    let mut store = loaded(&d);
    let mut older = d.status_list.clone();
    older.issued_at -= TimeDelta::minutes(5);
    let bundle = VerifierBundle {
        issued_at: now(),
        trust_list: d.trust_list.sign(&d.root).unwrap(),
        status_lists: vec![
            older.sign(&d.root).unwrap(),
            b"not a list".to_vec(),
            shard(&d, 1, now()).sign(&d.root).unwrap(),
        ],
    };
    let load = store
        .load_bundle(&bundle.sign(&d.root).unwrap(), now())
        .unwrap();
    assert_eq!(load.trust_list, Ok(Change::Unchanged));
    assert!(matches!(load.status_lists[0], Err(Error::Invalid(_))));
    assert!(matches!(load.status_lists[1], Err(Error::Malformed(_))));
    assert_eq!(
        load.status_lists[2],
        Ok(("https://jhga.cn/sl/1".to_owned(), Change::Installed))
    );
    assert_eq!(store.status_list(&d.status_list.uri), Some(&d.status_list));
}

#[test]
fn a_bundle_not_signed_by_a_pinned_root_changes_nothing() {
    let d = demo();
    let mut store = TrustStore::new(d.root_keys());
    let stranger = KeyFileSigner::from_seed([9; 32]);
    let bundle = VerifierBundle {
        issued_at: now(),
        trust_list: d.trust_list.sign(&d.root).unwrap(),
        status_lists: vec![d.status_list.sign(&d.root).unwrap()],
    };
    assert_eq!(
        store.load_bundle(&bundle.sign(&stranger).unwrap(), now()),
        Err(Error::UnknownSigner)
    );
    assert!(store.trust_list().is_none());
    assert!(store.status_lists().is_empty());
    assert!(store.load_bundle(b"garbage", now()).is_err());
}

#[test]
fn a_rotation_bundle_loads_the_old_root_s_lists_until_the_successor_signs_a_bundle() {
    let d = demo();
    let new_root = KeyFileSigner::from_seed([7; 32]);
    let mut store = TrustStore::new(d.root_keys());
    let mut announcement = d.trust_list.clone();
    announcement.successor = Some(new_root.public_key());
    let bundle = VerifierBundle {
        issued_at: now(),
        trust_list: announcement.sign(&d.root).unwrap(),
        status_lists: vec![d.status_list.sign(&d.root).unwrap()],
    };
    let load = store
        .load_bundle(&bundle.sign(&d.root).unwrap(), now())
        .unwrap();
    assert_eq!(load.trust_list, Ok(Change::Installed));
    assert_eq!(
        load.status_lists,
        vec![Ok((d.status_list.uri.clone(), Change::Installed))]
    );
    assert_eq!(
        store.root_keys(),
        &[new_root.public_key(), d.root.public_key()]
    );
    // During the announcement the old root's bundle still loads.
    assert!(
        store
            .load_bundle(&bundle.sign(&d.root).unwrap(), now())
            .is_ok()
    );
    // The successor's first bundle retires the old root; its bundles are refused from then on.
    let mut by_new_root = d.status_list.clone();
    by_new_root.issued_at += TimeDelta::seconds(1);
    let next = VerifierBundle {
        issued_at: now(),
        trust_list: announcement.sign(&new_root).unwrap(),
        status_lists: vec![by_new_root.sign(&new_root).unwrap()],
    };
    assert!(
        store
            .load_bundle(&next.sign(&new_root).unwrap(), now())
            .is_ok()
    );
    assert_eq!(store.root_keys(), &[new_root.public_key()]);
    assert_eq!(
        store.load_bundle(&bundle.sign(&d.root).unwrap(), now()),
        Err(Error::RetiredRoot)
    );
    assert_eq!(
        store.state().retired_root_key_ids,
        vec![KeyId::of(&d.root.public_key())]
    );
}

proptest! {
    #[test]
    fn no_bytes_make_the_state_reader_panic(bytes in proptest::collection::vec(any::<u8>(), 0..800)) {
        let _ = TrustStore::import(&bytes);
    }

    #[test]
    fn no_corruption_of_a_real_saved_state_makes_import_panic(at: proptest::sample::Index, flip in 1u8..=255) {
        let d = demo();
        let mut saved = loaded(&d).export();
        let i = at.index(saved.len());
        saved[i] ^= flip;
        let _ = TrustStore::import(&saved);
    }
}
