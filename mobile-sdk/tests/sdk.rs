//! The exported surface, called from Rust exactly as the bindings call it (the Python and Kotlin
//! tests in `ffi-tests/` cross the real FFI boundary).

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, TimeDelta, Utc};
use crypto::keys::public_key_hex;
use crypto::sample::Demo;
use crypto::status_list::Status;
use crypto::{KeyFileSigner, Signer, StatusList, VerifierBundle};
use epermit_sdk::{
    Assurance, Blocker, BundleListLoad, BundleLoad, Change, HolderSigner, ListInfo, ListKind,
    ListOutcome, Rule, SdkError, Verdict, Verifier, VerifyOptions, VerifyWarning,
    demo_bundle_for_holder, present, report,
};

/// 2026-05-28 20:26:40 UTC.
const NOW: u64 = 1_780_000_000;

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(NOW)
}

fn chrono_now() -> DateTime<Utc> {
    DateTime::from_timestamp(NOW as i64, 0).unwrap()
}

fn demo() -> Demo {
    Demo::new(chrono_now()).unwrap()
}

/// A holder key implemented "by the app": here a Rust key, through the same trait.
struct AppSigner {
    key: KeyFileSigner,
    refuse: bool,
}

impl HolderSigner for AppSigner {
    fn public_key(&self) -> Vec<u8> {
        self.key.public_key().to_bytes().to_vec()
    }

    fn sign(&self, message: Vec<u8>) -> Result<Vec<u8>, SdkError> {
        if self.refuse {
            return Err(SdkError::SignerFailed);
        }
        Ok(self.key.sign(&message).unwrap().to_bytes().to_vec())
    }
}

fn app_signer(demo: &Demo) -> Arc<dyn HolderSigner> {
    Arc::new(AppSigner {
        key: demo.holder.clone(),
        refuse: false,
    })
}

fn loaded_verifier(demo: &Demo) -> Verifier {
    let v = Verifier::new(vec![public_key_hex(&demo.root.public_key())]).unwrap();
    let trust = demo.trust_list.sign(&demo.root).unwrap();
    let status = demo.status_list.sign(&demo.root).unwrap();
    assert_eq!(v.load_trust_list(trust, now()).unwrap(), Change::Installed);
    assert_eq!(
        v.load_status_list(status, now()).unwrap(),
        Change::Installed
    );
    v
}

#[test]
fn a_fresh_presentation_is_valid_holder_bound_with_the_report_at_the_residence_district() {
    let demo = demo();
    let verifier = loaded_verifier(&demo);
    let text = present(demo.permit_text().unwrap(), app_signer(&demo), now(), None).unwrap();
    assert!(text.starts_with("EPP1:"));

    let v = verifier.verify(text, now() + Duration::from_secs(30));
    assert_eq!(v.verdict, Verdict::Valid);
    assert_eq!(v.assurance, Some(Assurance::HolderBound));
    assert!(v.warnings.is_empty(), "{:?}", v.warnings);
    let permit = v.permit.unwrap();
    assert_eq!(permit.name, "张小明");
    assert_eq!(permit.residence, "330782");
    assert_eq!(permit.residence_name, "义乌市");
    assert_eq!(permit.id_number, "342401********271X");
    assert_eq!(permit.periods.len(), 3);
    assert_eq!(permit.periods[2].end, None);
    let report = v.report.unwrap();
    assert_eq!(report.target, "330782");
    assert_eq!(report.as_of, "2026-05-29"); // the Shanghai day of NOW
    assert!(report.registered_at_target);
    assert_eq!(report.continuous_at_target.days, 200);
    assert_eq!(report.blockers, vec![]);
    assert!(
        report
            .contract_json
            .starts_with(r#"{"target":"330782","as_of":"2026-05-29""#)
    );
}

#[test]
fn a_tampered_presentation_is_not_valid_and_gets_no_report() {
    let demo = demo();
    let verifier = loaded_verifier(&demo);
    let text = present(demo.permit_text().unwrap(), app_signer(&demo), now(), None).unwrap();
    // Flip one Base45 character in the middle of the text.
    let mut chars: Vec<char> = text.chars().collect();
    let mid = chars.len() / 2;
    chars[mid] = if chars[mid] == 'A' { 'B' } else { 'A' };
    let tampered: String = chars.into_iter().collect();
    let v = verifier.verify(tampered, now());
    assert_ne!(v.verdict, Verdict::Valid);
    assert_eq!(v.assurance, None);
    assert!(v.report.is_none() || v.verdict == Verdict::BadHolderSignature);
    assert_eq!(
        verifier.verify("hello".into(), now()).verdict,
        Verdict::Malformed
    );
}

#[test]
fn a_presentation_signed_by_another_key_is_a_bad_holder_signature_yet_the_report_stands() {
    let demo = demo();
    let verifier = loaded_verifier(&demo);
    // Bind the credential to the holder, but present with a signer claiming the holder's public
    // key while signing with another key: the SDK refuses to emit that presentation itself.
    struct Liar(KeyFileSigner, KeyFileSigner);
    impl HolderSigner for Liar {
        fn public_key(&self) -> Vec<u8> {
            self.0.public_key().to_bytes().to_vec()
        }
        fn sign(&self, m: Vec<u8>) -> Result<Vec<u8>, SdkError> {
            Ok(self.1.sign(&m).unwrap().to_bytes().to_vec())
        }
    }
    let liar = Arc::new(Liar(demo.holder.clone(), KeyFileSigner::from_seed([9; 32])));
    assert_eq!(
        present(demo.permit_text().unwrap(), liar, now(), None),
        Err(SdkError::SignerFailed)
    );
    // A static credential shown as such is valid but unbound.
    let v = verifier.verify(demo.permit_text().unwrap(), now());
    assert_eq!(v.verdict, Verdict::Valid);
    assert_eq!(v.assurance, Some(Assurance::Unbound));
}

#[test]
fn a_stale_presentation_and_a_wrong_challenge_are_presentation_stale() {
    let demo = demo();
    let verifier = loaded_verifier(&demo);
    let text = present(
        demo.permit_text().unwrap(),
        app_signer(&demo),
        now(),
        Some(b"nonce-1".to_vec()),
    )
    .unwrap();
    let late = verifier.verify(text.clone(), now() + Duration::from_secs(121));
    assert_eq!(late.verdict, Verdict::PresentationStale);
    assert!(late.report.is_some());
    let options = |c: &[u8]| VerifyOptions {
        max_presentation_age_seconds: 120,
        expected_challenge: Some(c.to_vec()),
    };
    let wrong = verifier.verify_with_options(text.clone(), now(), options(b"nonce-2"));
    assert_eq!(wrong.verdict, Verdict::PresentationStale);
    let right = verifier.verify_with_options(text, now(), options(b"nonce-1"));
    assert_eq!(right.verdict, Verdict::Valid);
}

#[test]
fn a_suspended_permit_reports_the_suspension_as_a_blocker() {
    let mut demo = demo();
    let verifier = loaded_verifier(&demo);
    demo.status_list.issued_at += TimeDelta::minutes(10);
    demo.status_list
        .set(crypto::sample::STATUS_INDEX, Status::Suspended)
        .unwrap();
    let bytes = demo.status_list.sign(&demo.root).unwrap();
    assert_eq!(
        verifier.load_status_list(bytes, now()).unwrap(),
        Change::Updated
    );
    let v = verifier.verify(demo.permit_text().unwrap(), now());
    assert_eq!(v.verdict, Verdict::Suspended);
    let report = v.report.unwrap();
    assert_eq!(report.blockers, vec![Blocker::PermitSuspended]);
    assert!(!report.eligible);
}

#[test]
fn an_overdue_endorsement_opens_the_lapse_from_the_missed_anniversary() {
    let demo = demo();
    let verifier = loaded_verifier(&demo);
    let after_expiry = demo.claims.expires_at + TimeDelta::days(3);
    let when = UNIX_EPOCH + Duration::from_secs(after_expiry.timestamp() as u64);
    let v = verifier.verify(demo.permit_text().unwrap(), when);
    assert_eq!(v.verdict, Verdict::EndorsementOverdue);
    assert!(
        v.warnings.contains(&VerifyWarning::StatusUnknown)
            || v.warnings.contains(&VerifyWarning::TrustListStale)
    );
    let report = v.report.unwrap();
    assert!(report.blockers.contains(&Blocker::EndorsementOverdue));
    assert_eq!(report.continuous_at_target.since, None);
}

#[test]
fn a_forged_credential_gets_a_verdict_and_the_permit_but_no_report() {
    let demo = demo();
    let verifier = loaded_verifier(&demo);
    // Same claims, signed by a key the trust list does not name.
    let forged = crypto::permit::issue(&demo.claims, &KeyFileSigner::from_seed([8; 32])).unwrap();
    let text = crypto::qr_text::encode(crypto::QrKind::Permit, &forged);
    let v = verifier.verify(text, now());
    assert_eq!(v.verdict, Verdict::UnknownIssuer);
    assert!(v.permit.is_some());
    assert!(v.report.is_none());
}

#[test]
fn without_lists_every_credential_is_an_unknown_issuer() {
    let demo = demo();
    let verifier =
        Verifier::with_root_key_bytes(vec![demo.root.public_key().to_bytes().to_vec()]).unwrap();
    let v = verifier.verify(demo.permit_text().unwrap(), now());
    assert_eq!(v.verdict, Verdict::UnknownIssuer);
    assert!(v.warnings.contains(&VerifyWarning::TrustListStale));
}

#[test]
fn list_loads_say_what_changed_and_refuse_rollback_forgery_expiry_and_garbage() {
    let mut demo = demo();
    let verifier = loaded_verifier(&demo);
    let seq1 = demo.trust_list.sign(&demo.root).unwrap();
    assert_eq!(
        verifier.load_trust_list(seq1.clone(), now()).unwrap(),
        Change::Unchanged
    );

    demo.trust_list.sequence = 2;
    let seq2 = demo.trust_list.sign(&demo.root).unwrap();
    assert_eq!(
        verifier.load_trust_list(seq2, now()).unwrap(),
        Change::Updated
    );
    assert_eq!(
        verifier.load_trust_list(seq1, now()),
        Err(SdkError::ListRollback {
            held: 2,
            offered: 1
        })
    );

    // The server re-signs the unchanged list later under the same sequence: an update.
    demo.trust_list.issued_at += TimeDelta::seconds(1);
    let re_signed = demo.trust_list.sign(&demo.root).unwrap();
    assert_eq!(
        verifier.load_trust_list(re_signed.clone(), now()).unwrap(),
        Change::Updated
    );
    assert_eq!(
        verifier.load_trust_list(re_signed, now()).unwrap(),
        Change::Unchanged
    );

    let mut other_keys = demo.trust_list.clone(); // other keys under sequence 2
    other_keys.keys[0].state = crypto::KeyState::Retired;
    other_keys.issued_at += TimeDelta::seconds(1);
    assert_eq!(
        verifier.load_trust_list(other_keys.sign(&demo.root).unwrap(), now()),
        Err(SdkError::ListOutdated)
    );

    let by_stranger = demo
        .trust_list
        .sign(&KeyFileSigner::from_seed([5; 32]))
        .unwrap();
    assert_eq!(
        verifier.load_trust_list(by_stranger, now()),
        Err(SdkError::ListNotTrusted)
    );

    let later = now() + Duration::from_secs(31 * 86_400);
    let fresh = {
        demo.trust_list.sequence = 3;
        demo.trust_list.sign(&demo.root).unwrap()
    };
    assert_eq!(
        verifier.load_trust_list(fresh, later),
        Err(SdkError::ListExpired)
    );
    assert_eq!(
        verifier.load_trust_list(b"junk".to_vec(), now()),
        Err(SdkError::ListMalformed)
    );
    assert_eq!(
        verifier.load_status_list(vec![], now()),
        Err(SdkError::ListMalformed)
    );

    demo.status_list.issued_at -= TimeDelta::minutes(1); // older than the one held
    let older = demo.status_list.sign(&demo.root).unwrap();
    assert_eq!(
        verifier.load_status_list(older, now()),
        Err(SdkError::ListOutdated)
    );

    // Refusals left the lists held untouched.
    assert_eq!(verifier.state(now()).trust_list_sequence, Some(2));
}

#[test]
fn the_state_shows_each_list_s_age_against_its_ttl_or_validity() {
    let demo = demo();
    let verifier = Verifier::new(vec![public_key_hex(&demo.root.public_key())]).unwrap();
    let empty = verifier.state(now());
    assert_eq!(empty.root_key_ids, vec![demo.root.key_id().to_string()]);
    assert_eq!(
        empty.root_keys_hex,
        vec![public_key_hex(&demo.root.public_key())]
    );
    assert_eq!(empty.trust_list_sequence, None);
    assert_eq!(empty.lists, vec![]);

    let verifier = loaded_verifier(&demo);
    let shard = StatusList::new(
        "https://jhga.cn/sl/7",
        chrono_now() - TimeDelta::minutes(10),
        chrono_now() + TimeDelta::hours(1),
        3_600,
    );
    verifier
        .load_status_list(shard.sign(&demo.root).unwrap(), now())
        .unwrap();
    let just_before = now() - Duration::from_secs(1);
    let s = verifier.state(just_before);
    assert_eq!(s.trust_list_sequence, Some(1));
    assert_eq!(
        s.lists,
        vec![
            ListInfo {
                kind: ListKind::TrustList,
                uri: None,
                issued_at: now() - Duration::from_secs(86_400),
                expires_at: now() + Duration::from_secs(30 * 86_400),
                ttl_seconds: None,
                age_seconds: 86_399,
                stale: false,
                expired: false,
            },
            ListInfo {
                kind: ListKind::StatusList,
                uri: Some(crypto::sample::STATUS_LIST_URI.into()),
                issued_at: now() - Duration::from_secs(3_600),
                expires_at: now() + Duration::from_secs(86_400),
                ttl_seconds: Some(3_600),
                age_seconds: 3_599,
                stale: false,
                expired: false,
            },
            ListInfo {
                kind: ListKind::StatusList,
                uri: Some("https://jhga.cn/sl/7".into()),
                issued_at: now() - Duration::from_secs(600),
                expires_at: now() + Duration::from_secs(3_600),
                ttl_seconds: Some(3_600),
                age_seconds: 599,
                stale: false,
                expired: false,
            },
        ]
    );
    // At `now` the demo status list has reached its ttl: stale (fetch it again), still in use.
    let s = verifier.state(now());
    assert_eq!(
        s.lists
            .iter()
            .map(|l| (l.stale, l.expired))
            .collect::<Vec<_>>(),
        [(false, false), (true, false), (false, false)]
    );
    // Past every expiry: all stale and expired.
    let s = verifier.state(now() + Duration::from_secs(31 * 86_400));
    assert!(s.lists.iter().all(|l| l.stale && l.expired));
}

#[test]
fn a_status_3_entry_is_superseded_with_the_report_of_that_copy() {
    let mut demo = demo();
    let verifier = loaded_verifier(&demo);
    demo.status_list.issued_at += TimeDelta::minutes(1);
    demo.status_list
        .set(crypto::sample::STATUS_INDEX, Status::Superseded)
        .unwrap();
    verifier
        .load_status_list(demo.status_list.sign(&demo.root).unwrap(), now())
        .unwrap();
    let v = verifier.verify(demo.permit_text().unwrap(), now() + Duration::from_secs(60));
    assert_eq!((v.verdict, v.assurance), (Verdict::Superseded, None));
    assert!(v.warnings.is_empty(), "{:?}", v.warnings);
    assert!(v.report.is_some());
}

#[test]
fn an_announced_successor_root_retires_the_old_one_when_it_signs_and_survives_export_and_import() {
    let mut demo = demo();
    let verifier = loaded_verifier(&demo);
    let new_root = KeyFileSigner::from_seed([7; 32]);
    demo.trust_list.sequence = 2;
    demo.trust_list.successor = Some(new_root.public_key());
    verifier
        .load_trust_list(demo.trust_list.sign(&demo.root).unwrap(), now())
        .unwrap();
    let s = verifier.state(now());
    assert_eq!(
        s.root_key_ids,
        vec![
            new_root.key_id().to_string(),
            demo.root.key_id().to_string()
        ]
    );

    // The successor's first list retires the old root.
    demo.trust_list.sequence = 3;
    demo.trust_list.successor = None;
    verifier
        .load_trust_list(demo.trust_list.sign(&new_root).unwrap(), now())
        .unwrap();
    let s = verifier.state(now());
    assert_eq!(s.root_key_ids, vec![new_root.key_id().to_string()]);
    assert_eq!(
        s.root_keys_hex,
        vec![public_key_hex(&new_root.public_key())]
    );
    demo.trust_list.sequence = 4;
    assert_eq!(
        verifier.load_trust_list(demo.trust_list.sign(&demo.root).unwrap(), now()),
        Err(SdkError::ListFromRetiredRoot)
    );

    let restored = Verifier::import_state(verifier.export_state()).unwrap();
    assert_eq!(restored.state(now()), verifier.state(now()));
    assert_eq!(
        restored.load_trust_list(demo.trust_list.sign(&demo.root).unwrap(), now()),
        Err(SdkError::ListFromRetiredRoot)
    );
    assert_eq!(
        restored
            .load_trust_list(demo.trust_list.sign(&new_root).unwrap(), now())
            .unwrap(),
        Change::Updated
    );
}

#[test]
fn a_restored_verifier_keeps_its_lists_and_refuses_a_rollback() {
    let mut demo = demo();
    let verifier = loaded_verifier(&demo);
    demo.trust_list.sequence = 4;
    let seq4 = demo.trust_list.sign(&demo.root).unwrap();
    verifier.load_trust_list(seq4, now()).unwrap();
    let saved = verifier.export_state();
    drop(verifier);

    let restored = Verifier::import_state(saved.clone()).unwrap();
    assert_eq!(restored.export_state(), saved);
    let text = present(demo.permit_text().unwrap(), app_signer(&demo), now(), None).unwrap();
    assert_eq!(restored.verify(text, now()).verdict, Verdict::Valid);
    demo.trust_list.sequence = 3;
    assert_eq!(
        restored.load_trust_list(demo.trust_list.sign(&demo.root).unwrap(), now()),
        Err(SdkError::ListRollback {
            held: 4,
            offered: 3
        })
    );
    for bad in [vec![], b"junk".to_vec(), saved[..saved.len() - 1].to_vec()] {
        assert_eq!(
            Verifier::import_state(bad).err(),
            Some(SdkError::StateMalformed)
        );
    }
}

#[test]
fn a_bundle_loads_the_trust_list_and_every_shard_and_reports_each() {
    let demo = demo();
    let verifier = Verifier::new(vec![public_key_hex(&demo.root.public_key())]).unwrap();
    let shard = StatusList::new(
        "https://jhga.cn/sl/7",
        chrono_now(),
        chrono_now() + TimeDelta::hours(1),
        60,
    );
    let bundle = VerifierBundle {
        issued_at: chrono_now(),
        trust_list: demo.trust_list.sign(&demo.root).unwrap(),
        status_lists: vec![
            demo.status_list.sign(&demo.root).unwrap(),
            b"junk".to_vec(),
            shard.sign(&demo.root).unwrap(),
        ],
    };
    let signed = bundle.sign(&demo.root).unwrap();
    let load = verifier.load_bundle(signed.clone(), now()).unwrap();
    assert_eq!(
        load,
        BundleLoad {
            issued_at: now(),
            trust_list: ListOutcome::Installed,
            status_lists: vec![
                BundleListLoad {
                    uri: Some(crypto::sample::STATUS_LIST_URI.into()),
                    outcome: ListOutcome::Installed
                },
                BundleListLoad {
                    uri: None,
                    outcome: ListOutcome::Refused
                },
                BundleListLoad {
                    uri: Some("https://jhga.cn/sl/7".into()),
                    outcome: ListOutcome::Installed
                },
            ],
        }
    );
    assert_eq!(
        verifier.load_bundle(signed, now()).unwrap().trust_list,
        ListOutcome::Unchanged
    );
    assert_eq!(verifier.state(now()).lists.len(), 3);
    let text = demo.permit_text().unwrap();
    assert_eq!(verifier.verify(text, now()).verdict, Verdict::Valid);
    let by_stranger = bundle.sign(&KeyFileSigner::from_seed([5; 32])).unwrap();
    assert_eq!(
        verifier.load_bundle(by_stranger, now()),
        Err(SdkError::ListNotTrusted)
    );
    assert_eq!(
        verifier.load_bundle(b"junk".to_vec(), now()),
        Err(SdkError::ListMalformed)
    );
}

#[test]
fn root_keys_must_be_ed25519_public_keys() {
    assert_eq!(Verifier::new(vec![]).err(), Some(SdkError::InvalidRootKey));
    assert_eq!(
        Verifier::new(vec!["00".repeat(31)]).err(),
        Some(SdkError::InvalidRootKey)
    );
    assert_eq!(
        Verifier::with_root_key_bytes(vec![vec![1; 5]]).err(),
        Some(SdkError::InvalidRootKey)
    );
}

#[test]
fn presenting_refuses_an_unbound_signer_a_refusing_keystore_a_bad_challenge_and_garbage() {
    let demo = demo();
    let permit = demo.permit_text().unwrap();
    let stranger = Arc::new(AppSigner {
        key: KeyFileSigner::from_seed([6; 32]),
        refuse: false,
    });
    assert_eq!(
        present(permit.clone(), stranger, now(), None),
        Err(SdkError::NotBoundToSigner)
    );
    let refusing = Arc::new(AppSigner {
        key: demo.holder.clone(),
        refuse: true,
    });
    assert_eq!(
        present(permit.clone(), refusing, now(), None),
        Err(SdkError::SignerFailed)
    );
    for bad in [vec![], vec![0; 65]] {
        assert_eq!(
            present(permit.clone(), app_signer(&demo), now(), Some(bad)),
            Err(SdkError::InvalidChallenge)
        );
    }
    assert_eq!(
        present("EP1:".into(), app_signer(&demo), now(), None),
        Err(SdkError::CredentialMalformed)
    );
    let presentation = present(permit, app_signer(&demo), now(), None).unwrap();
    assert_eq!(
        present(presentation, app_signer(&demo), now(), None),
        Err(SdkError::CredentialMalformed)
    );
}

#[test]
fn the_holder_report_is_the_policy_report_of_the_credential_s_periods() {
    let demo = demo();
    let permit = demo.permit_text().unwrap();
    let r = report(permit.clone(), "330782".into(), "2026-05-29".into()).unwrap();
    let expected = policy::report(&policy::ReportInput {
        target: policy::District::Yiwu,
        as_of: policy::calendar::parse_date("2026-05-29").unwrap(),
        periods: demo.claims.periods.clone(),
        lapses: vec![],
        permit: Some(policy::PermitFacts {
            issuer: policy::District::Yiwu,
            status: policy::PermitStatus::Active,
        }),
    });
    assert_eq!(r.contract_json, serde_json::to_string(&expected).unwrap());
    assert_eq!(r.cumulative_in_jinhua_days, 900);
    match &r.rules[1] {
        Rule::Cumulative { required_days, .. } => assert_eq!(*required_days, 730),
        other => panic!("{other:?}"),
    }
    // At another district: registered elsewhere, issued elsewhere.
    let elsewhere = report(permit.clone(), "330703".into(), "2026-05-29".into()).unwrap();
    assert_eq!(
        elsewhere.blockers,
        vec![
            Blocker::NotRegisteredAtTarget,
            Blocker::PermitIssuerMismatch
        ]
    );
    // The same report from a presentation of the credential.
    let presentation = present(permit.clone(), app_signer(&demo), now(), None).unwrap();
    assert_eq!(
        report(presentation, "330782".into(), "2026-05-29".into()).unwrap(),
        r
    );

    assert_eq!(
        report(permit.clone(), "110101".into(), "2026-05-29".into()),
        Err(SdkError::TargetNotInJinhua)
    );
    assert_eq!(
        report(permit.clone(), "330782".into(), "29.5.2026".into()),
        Err(SdkError::InvalidDate)
    );
    assert_eq!(
        report("EP1:00".into(), "330782".into(), "2026-05-29".into()),
        Err(SdkError::CredentialMalformed)
    );
}

#[test]
fn the_demo_bundle_binds_the_permit_to_the_caller_s_key() {
    let key = KeyFileSigner::from_seed([42; 32]);
    let bundle = demo_bundle_for_holder(key.public_key().to_bytes().to_vec(), now()).unwrap();
    let verifier = Verifier::new(vec![bundle.root_key_hex.clone()]).unwrap();
    verifier.load_trust_list(bundle.trust_list, now()).unwrap();
    verifier
        .load_status_list(bundle.status_list, now())
        .unwrap();
    let signer = Arc::new(AppSigner { key, refuse: false });
    let text = present(bundle.credential_text, signer, now(), None).unwrap();
    let v = verifier.verify(text, now());
    assert_eq!(v.verdict, Verdict::Valid);
    assert_eq!(v.assurance, Some(Assurance::HolderBound));
    assert_eq!(bundle.issuer, "330782");
    assert_eq!(
        demo_bundle_for_holder(vec![0; 3], now()).err(),
        Some(SdkError::SignerFailed)
    );
}

#[test]
fn a_clock_far_off_gives_verdicts_not_panics() {
    let demo = demo();
    let verifier = loaded_verifier(&demo);
    let text = demo.permit_text().unwrap();
    let far = UNIX_EPOCH + Duration::from_secs(u64::MAX / 4);
    assert_eq!(
        verifier.verify(text.clone(), far).verdict,
        Verdict::EndorsementOverdue
    );
    assert_eq!(
        verifier.verify(text, UNIX_EPOCH).verdict,
        Verdict::NotYetValid
    );
    let _ = verifier.state(far);
}
