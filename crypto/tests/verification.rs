//! SPEC §2 verification end to end: one tampering per verdict and per warning, the trust store's
//! rollback refusal, the view of a standard COSE library, and no panic on any input.

use chrono::{DateTime, TimeDelta, Utc};
use coset::TaggedCborSerializable;
use crypto::qr_text::{self, QrKind};
use crypto::sample::Demo;
use crypto::trust_list::{KeyState, TrustList};
use crypto::{
    Assurance, Change, Error, KeyFileSigner, KeyId, Signer, Status, StatusList, TrustStore,
    Verdict, Verification, VerifyOptions, Warning, permit, presentation, verify,
};
use policy::District;
use proptest::prelude::*;
use proptest::sample::Index;

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_780_000_000, 0).unwrap()
}

fn demo() -> Demo {
    Demo::new(now()).unwrap()
}

fn check(demo: &Demo, text: &str, at: DateTime<Utc>) -> Verification {
    verify(
        text,
        &demo.trust_list,
        &demo.status_list,
        at,
        &VerifyOptions::default(),
    )
}

/// Flips one bit of the last byte of the COSE object inside a QR text (a signature byte).
fn tamper_last_byte(text: &str) -> String {
    let (kind, mut cose) = qr_text::decode(text).unwrap();
    *cose.last_mut().unwrap() ^= 1;
    qr_text::encode(kind, &cose)
}

#[test]
fn a_fresh_presentation_is_valid_and_holder_bound() {
    let d = demo();
    let v = check(&d, &d.presentation_text(now(), None).unwrap(), now());
    assert_eq!(v.verdict, Verdict::Valid);
    assert_eq!(v.assurance, Some(Assurance::HolderBound));
    assert!(v.warnings.is_empty(), "{:?}", v.warnings);
    assert_eq!(v.permit.as_ref(), Some(&d.claims));
}

#[test]
fn a_static_credential_is_valid_but_unbound() {
    let d = demo();
    let v = check(&d, &d.permit_text().unwrap(), now());
    assert_eq!(
        (v.verdict, v.assurance),
        (Verdict::Valid, Some(Assurance::Unbound))
    );
}

#[test]
fn verdicts_and_warnings_serialise_as_the_spec_codes() {
    let d = demo();
    let v = check(&d, &d.permit_text().unwrap(), now());
    let json = serde_json_like(&v);
    assert!(json.contains("\"verdict\":\"valid\""), "{json}");
    assert!(json.contains("\"assurance\":\"unbound\""), "{json}");
    for verdict in Verdict::ALL {
        assert_eq!(
            format!("{verdict:?}").to_lowercase(),
            verdict.code().replace('_', "")
        );
    }
    for w in [
        Warning::StatusUnknown,
        Warning::TrustListStale,
        Warning::ClockSuspect,
    ] {
        assert_eq!(format!("{w:?}").to_lowercase(), w.code().replace('_', ""));
    }
}

/// Serialises through serde's data model without a JSON dependency: ciborium to CBOR, then the
/// debug form of the value, which names every string. Enough to see the codes.
fn serde_json_like(v: &Verification) -> String {
    let mut out = Vec::new();
    ciborium::ser::into_writer(v, &mut out).unwrap();
    let value: ciborium::Value = ciborium::de::from_reader(out.as_slice()).unwrap();
    fn show(v: &ciborium::Value) -> String {
        match v {
            ciborium::Value::Text(t) => format!("\"{t}\""),
            ciborium::Value::Map(m) => {
                let parts: Vec<_> = m
                    .iter()
                    .map(|(k, v)| format!("{}:{}", show(k), show(v)))
                    .collect();
                format!("{{{}}}", parts.join(","))
            }
            other => format!("{other:?}"),
        }
    }
    show(&value)
}

#[test]
fn garbage_is_malformed_without_a_permit() {
    let d = demo();
    for text in ["", "EP1:", "EPP1:0000", "hello", "EP1:%69 VD92EX0"] {
        let v = check(&d, text, now());
        assert_eq!(v.verdict, Verdict::Malformed, "{text:?}");
        assert!(v.permit.is_none());
    }
}

#[test]
fn a_key_missing_from_the_trust_list_is_unknown_issuer() {
    let mut d = demo();
    let text = d.permit_text().unwrap();
    d.trust_list.keys.clear();
    let v = check(&d, &text, now());
    assert_eq!(v.verdict, Verdict::UnknownIssuer);
    assert_eq!(
        v.permit.as_ref(),
        Some(&d.claims),
        "the permit is still shown"
    );
}

#[test]
fn a_key_of_another_district_is_unknown_issuer() {
    let mut d = demo();
    let text = d.permit_text().unwrap();
    d.trust_list.keys[0].district = District::Jindong;
    assert_eq!(check(&d, &text, now()).verdict, Verdict::UnknownIssuer);
}

#[test]
fn a_compromised_key_is_issuer_key_compromised() {
    let mut d = demo();
    let text = d.permit_text().unwrap();
    d.trust_list.keys[0].state = KeyState::Compromised;
    assert_eq!(
        check(&d, &text, now()).verdict,
        Verdict::IssuerKeyCompromised
    );
}

#[test]
fn a_retired_key_still_verifies_what_it_issued_while_valid() {
    let mut d = demo();
    let text = d.permit_text().unwrap();
    d.trust_list.keys[0].state = KeyState::Retired;
    d.trust_list.keys[0].not_after = Some(now() - TimeDelta::minutes(30));
    assert_eq!(check(&d, &text, now()).verdict, Verdict::Valid);
}

#[test]
fn a_credential_issued_outside_the_keys_validity_is_key_not_valid_at_issuance() {
    let mut d = demo();
    let text = d.permit_text().unwrap();
    d.trust_list.keys[0].not_before = now();
    assert_eq!(
        check(&d, &text, now()).verdict,
        Verdict::KeyNotValidAtIssuance
    );
    let mut d = demo();
    d.trust_list.keys[0].not_after = Some(d.claims.issued_at);
    assert_eq!(
        check(&d, &text, now()).verdict,
        Verdict::KeyNotValidAtIssuance
    );
}

#[test]
fn a_tampered_signature_is_bad_signature() {
    let d = demo();
    let text = tamper_last_byte(&d.permit_text().unwrap());
    let v = check(&d, &text, now());
    assert_eq!(v.verdict, Verdict::BadSignature);
    assert!(v.permit.is_some());
}

#[test]
fn a_tampered_claim_is_bad_signature() {
    let d = demo();
    let (_, mut cose) = qr_text::decode(&d.permit_text().unwrap()).unwrap();
    // Change one character of the name: 张小明 → 张小朋 (明 = e6 98 8e, 朋 = e6 9c 8b).
    let at = cose.windows(3).position(|w| w == "明".as_bytes()).unwrap();
    cose[at..at + 3].copy_from_slice("朋".as_bytes());
    let v = check(&d, &qr_text::encode(QrKind::Permit, &cose), now());
    assert_eq!(v.verdict, Verdict::BadSignature);
    assert_eq!(v.permit.unwrap().name, "张小朋");
}

#[test]
fn a_tampered_holder_signature_is_bad_holder_signature() {
    let d = demo();
    let text = tamper_last_byte(&d.presentation_text(now(), None).unwrap());
    assert_eq!(check(&d, &text, now()).verdict, Verdict::BadHolderSignature);
}

#[test]
fn a_presentation_of_an_unbound_credential_is_bad_holder_signature() {
    // Build by hand what `present` refuses to build: a presentation of a credential without cnf.
    let mut d = demo();
    d.claims.holder_key = None;
    let credential = d.credential().unwrap();
    let mut bound = d.clone();
    bound.claims.holder_key = Some(d.holder.public_key());
    let good = presentation::present(&bound.credential().unwrap(), &d.holder, now(), None).unwrap();
    let spliced = splice_credential(&good, &credential, &d.holder);
    let v = check(&d, &qr_text::encode(QrKind::Presentation, &spliced), now());
    assert_eq!(v.verdict, Verdict::BadHolderSignature);
}

#[test]
fn a_presentation_carrying_the_credential_tagged_verifies_as_the_untagged_one() {
    let d = demo();
    let good = presentation::present(&d.credential().unwrap(), &d.holder, now(), None).unwrap();
    let untagged = splice_field_1(&good, &d.credential().unwrap()[1..], &d.holder);
    let tagged = splice_field_1(&good, &d.credential().unwrap(), &d.holder);
    assert_eq!(untagged, good, "what we emit stays untagged");
    for cose in [&untagged, &tagged] {
        let v = check(&d, &qr_text::encode(QrKind::Presentation, cose), now());
        assert_eq!(
            (v.verdict, v.assurance),
            (Verdict::Valid, Some(Assurance::HolderBound))
        );
        let p = presentation::Presentation::from_cose(cose).unwrap();
        assert_eq!(p.credential_cose(), d.credential().unwrap().as_slice());
    }
}

/// Re-signs a presentation carrying `credential` (tagged COSE) with `holder`.
fn splice_credential(good: &[u8], credential: &[u8], holder: &KeyFileSigner) -> Vec<u8> {
    splice_field_1(good, &credential[1..], holder)
}

/// Re-signs a presentation whose field 1 holds exactly `field_1`, with `holder`.
fn splice_field_1(good: &[u8], field_1: &[u8], holder: &KeyFileSigner) -> Vec<u8> {
    use ciborium::Value;
    let sign1 = coset::CoseSign1::from_tagged_slice(good).unwrap();
    let mut payload: Value = ciborium::de::from_reader(sign1.payload.as_deref().unwrap()).unwrap();
    if let Value::Map(m) = &mut payload {
        m[0].1 = Value::Bytes(field_1.to_vec());
    }
    let mut bytes = Vec::new();
    ciborium::ser::into_writer(&payload, &mut bytes).unwrap();
    coset::CoseSign1Builder::new()
        .protected(sign1.protected.header.clone())
        .payload(bytes)
        .create_signature(b"", |tbs| holder.sign(tbs).unwrap().to_bytes().to_vec())
        .build()
        .to_tagged_vec()
        .unwrap()
}

#[test]
fn an_old_presentation_is_presentation_stale() {
    let d = demo();
    let text = d
        .presentation_text(now() - TimeDelta::seconds(121), None)
        .unwrap();
    assert_eq!(check(&d, &text, now()).verdict, Verdict::PresentationStale);
    let text = d
        .presentation_text(now() - TimeDelta::seconds(120), None)
        .unwrap();
    assert_eq!(check(&d, &text, now()).verdict, Verdict::Valid);
    let future = d
        .presentation_text(now() + TimeDelta::seconds(121), None)
        .unwrap();
    assert_eq!(
        check(&d, &future, now()).verdict,
        Verdict::PresentationStale
    );
}

#[test]
fn a_presentation_answering_another_challenge_is_presentation_stale() {
    let d = demo();
    let options = VerifyOptions {
        expected_challenge: Some(b"nonce-1".to_vec()),
        ..VerifyOptions::default()
    };
    let run = |text: &str| verify(text, &d.trust_list, &d.status_list, now(), &options).verdict;
    assert_eq!(
        run(&d.presentation_text(now(), Some(b"nonce-2")).unwrap()),
        Verdict::PresentationStale
    );
    assert_eq!(
        run(&d.presentation_text(now(), None).unwrap()),
        Verdict::PresentationStale
    );
    assert_eq!(
        run(&d.presentation_text(now(), Some(b"nonce-1")).unwrap()),
        Verdict::Valid
    );
}

#[test]
fn a_credential_issued_in_the_future_is_not_yet_valid() {
    let d = demo();
    let text = d.permit_text().unwrap();
    let v = check(&d, &text, d.claims.issued_at - TimeDelta::seconds(1));
    assert_eq!(v.verdict, Verdict::NotYetValid);
}

#[test]
fn a_credential_past_its_anniversary_is_endorsement_overdue() {
    let mut d = demo();
    let text = d.permit_text().unwrap();
    let at = d.claims.expires_at;
    d.status_list.expires_at = at + TimeDelta::days(1);
    d.trust_list.expires_at = at + TimeDelta::days(1);
    assert_eq!(check(&d, &text, at).verdict, Verdict::EndorsementOverdue);
    let v = check(&d, &text, at - TimeDelta::seconds(1));
    assert_eq!(v.verdict, Verdict::Valid);
}

#[test]
fn suspended_and_revoked_entries_decide_the_verdict() {
    let mut d = demo();
    let text = d.presentation_text(now(), None).unwrap();
    d.status_list
        .set(d.claims.status.index, Status::Suspended)
        .unwrap();
    assert_eq!(check(&d, &text, now()).verdict, Verdict::Suspended);
    d.status_list
        .set(d.claims.status.index, Status::Invalid)
        .unwrap();
    let v = check(&d, &text, now());
    assert_eq!((v.verdict, v.assurance), (Verdict::Revoked, None));
}

#[test]
fn a_status_3_entry_is_superseded_not_a_warning() {
    let mut d = demo();
    let text = d.presentation_text(now(), None).unwrap();
    d.status_list
        .set(d.claims.status.index, Status::Superseded)
        .unwrap();
    let v = check(&d, &text, now());
    assert_eq!(
        (v.verdict, v.assurance, v.warnings),
        (Verdict::Superseded, None, vec![])
    );
    assert_eq!(v.verdict.code(), "superseded");
    assert!(v.permit.is_some());
}

#[test]
fn the_credential_s_status_is_looked_up_among_many_shards_by_its_uri() {
    let d = demo();
    let text = d.permit_text().unwrap();
    let opts = VerifyOptions::default();
    let mut revoked = d.status_list.clone();
    revoked.set(d.claims.status.index, Status::Invalid).unwrap();
    let mut other = StatusList::new(
        "https://jhga.cn/sl/7",
        now() - TimeDelta::hours(1),
        now() + TimeDelta::hours(1),
        60,
    );
    other.set(d.claims.status.index, Status::Valid).unwrap();
    let shards = vec![other.clone(), revoked.clone()];
    assert_eq!(
        verify(&text, &d.trust_list, &shards, now(), &opts).verdict,
        Verdict::Revoked
    );
    let by_uri: std::collections::BTreeMap<String, StatusList> =
        shards.iter().map(|l| (l.uri.clone(), l.clone())).collect();
    assert_eq!(
        verify(&text, &d.trust_list, &by_uri, now(), &opts).verdict,
        Verdict::Revoked
    );
    let v = verify(&text, &d.trust_list, &vec![other], now(), &opts);
    assert_eq!(
        (v.verdict, v.warnings),
        (Verdict::Valid, vec![Warning::StatusUnknown])
    );
}

#[test]
fn every_verdict_is_reachable() {
    // The tests above each reach one verdict; this lists them so a new variant cannot go untested.
    let reached = [
        Verdict::Valid,
        Verdict::Malformed,
        Verdict::UnknownIssuer,
        Verdict::IssuerKeyCompromised,
        Verdict::KeyNotValidAtIssuance,
        Verdict::BadSignature,
        Verdict::BadHolderSignature,
        Verdict::PresentationStale,
        Verdict::NotYetValid,
        Verdict::EndorsementOverdue,
        Verdict::Suspended,
        Verdict::Superseded,
        Verdict::Revoked,
    ];
    for v in Verdict::ALL {
        assert!(reached.contains(&v), "{v:?}");
    }
}

#[test]
fn no_status_list_or_an_unusable_one_is_status_unknown() {
    let d = demo();
    let text = d.permit_text().unwrap();
    let opts = VerifyOptions::default();
    let none = verify(&text, &d.trust_list, &None::<&StatusList>, now(), &opts);
    assert_eq!(none.verdict, Verdict::Valid);
    assert_eq!(none.warnings, vec![Warning::StatusUnknown]);

    let mut expired = d.status_list.clone();
    expired.expires_at = now();
    let mut other_uri = d.status_list.clone();
    other_uri.uri = "https://jhga.cn/sl2".into();
    let short = StatusList::new(
        &d.status_list.uri,
        now() - TimeDelta::hours(1),
        now() + TimeDelta::hours(1),
        60,
    );
    for list in [expired, other_uri, short] {
        let v = verify(&text, &d.trust_list, &Some(&list), now(), &opts);
        assert_eq!(
            (v.verdict, v.warnings),
            (Verdict::Valid, vec![Warning::StatusUnknown])
        );
    }
}

#[test]
fn an_expired_trust_list_is_trust_list_stale() {
    let mut d = demo();
    let text = d.permit_text().unwrap();
    d.trust_list.expires_at = now();
    let v = check(&d, &text, now());
    assert_eq!(
        (v.verdict, v.warnings),
        (Verdict::Valid, vec![Warning::TrustListStale])
    );
}

#[test]
fn a_clock_before_the_newest_list_is_clock_suspect() {
    let mut d = demo();
    let text = d.permit_text().unwrap();
    d.status_list.issued_at = now() + TimeDelta::minutes(5);
    let v = check(&d, &text, now());
    assert_eq!(
        (v.verdict, v.warnings),
        (Verdict::Valid, vec![Warning::ClockSuspect])
    );
    let mut d = demo();
    d.trust_list.issued_at = now() + TimeDelta::minutes(5);
    assert_eq!(
        check(&d, &text, now()).warnings,
        vec![Warning::ClockSuspect]
    );
}

#[test]
fn the_trust_store_refuses_a_rollback_and_an_expired_list() {
    let d = demo();
    let mut store = TrustStore::new(d.root_keys());
    let mut list = d.trust_list.clone();
    list.sequence = 5;
    assert_eq!(
        store.load_trust_list(&list.sign(&d.root).unwrap(), now()),
        Ok(Change::Installed)
    );
    assert_eq!(
        store.load_trust_list(&list.sign(&d.root).unwrap(), now()),
        Ok(Change::Unchanged)
    );
    let mut older = list.clone();
    older.sequence = 4;
    assert_eq!(
        store.load_trust_list(&older.sign(&d.root).unwrap(), now()),
        Err(Error::Rollback {
            held: 5,
            offered: 4
        })
    );
    let mut newer = list.clone();
    newer.sequence = 6;
    assert_eq!(
        store.load_trust_list(&newer.sign(&d.root).unwrap(), now()),
        Ok(Change::Updated)
    );
    let mut expired = newer.clone();
    expired.sequence = 7;
    expired.expires_at = now();
    assert!(matches!(
        store.load_trust_list(&expired.sign(&d.root).unwrap(), now()),
        Err(Error::Expired(_))
    ));
    assert_eq!(store.state().trust_list_sequence, Some(6));
}

#[test]
fn the_trust_store_refuses_lists_not_signed_by_a_pinned_root() {
    let d = demo();
    let mut store = TrustStore::new(d.root_keys());
    let stranger = KeyFileSigner::from_seed([9; 32]);
    assert_eq!(
        store.load_trust_list(&d.trust_list.sign(&stranger).unwrap(), now()),
        Err(Error::UnknownSigner)
    );
    assert_eq!(
        store.load_status_list(&d.status_list.sign(&stranger).unwrap(), now()),
        Err(Error::UnknownSigner)
    );
}

#[test]
fn the_trust_store_verifies_with_what_it_holds() {
    let d = demo();
    let mut store = TrustStore::new(d.root_keys());
    let text = d.presentation_text(now(), None).unwrap();
    assert_eq!(
        store
            .verify(&text, now(), &VerifyOptions::default())
            .verdict,
        Verdict::UnknownIssuer
    );
    store
        .load_trust_list(&d.trust_list.sign(&d.root).unwrap(), now())
        .unwrap();
    store
        .load_status_list(&d.status_list.sign(&d.root).unwrap(), now())
        .unwrap();
    let v = store.verify(&text, now(), &VerifyOptions::default());
    assert_eq!((v.verdict, v.warnings), (Verdict::Valid, vec![]));
    let mut older = d.status_list.clone();
    older.issued_at -= TimeDelta::hours(1);
    assert!(
        store
            .load_status_list(&older.sign(&d.root).unwrap(), now())
            .is_err()
    );
    let state = store.state();
    assert_eq!(state.root_key_ids, vec![KeyId::of(&d.root.public_key())]);
    assert_eq!(state.status_lists.len(), 1);
    assert_eq!(state.status_lists[0].issued_at, d.status_list.issued_at);
}

#[test]
fn a_standard_cose_library_verifies_the_credential() {
    let d = demo();
    let cose = d.credential().unwrap();
    let sign1 = coset::CoseSign1::from_tagged_slice(&cose).unwrap();
    assert_eq!(
        sign1.protected.header.alg,
        Some(coset::RegisteredLabelWithPrivate::Assigned(
            coset::iana::Algorithm::EdDSA
        ))
    );
    assert_eq!(
        sign1.protected.header.key_id,
        d.issuer.key_id().as_bytes().to_vec()
    );
    let signature = ed25519_dalek::Signature::from_slice(&sign1.signature).unwrap();
    d.issuer
        .public_key()
        .verify_strict(&sign1.tbs_data(b""), &signature)
        .unwrap();
}

#[test]
fn a_trust_list_with_a_wrong_or_duplicate_kid_is_refused() {
    let d = demo();
    let mut wrong = d.trust_list.clone();
    wrong.keys[0].kid = KeyId::from_bytes([0; 8]);
    assert!(wrong.sign(&d.root).is_err());
    let mut dup = d.trust_list.clone();
    dup.keys.push(dup.keys[0].clone());
    assert!(dup.sign(&d.root).is_err());
}

#[test]
fn signed_lists_round_trip() {
    let d = demo();
    let roots = d.root_keys();
    assert_eq!(
        TrustList::verify(&d.trust_list.sign(&d.root).unwrap(), &roots).unwrap(),
        d.trust_list
    );
    let back = StatusList::verify(&d.status_list.sign(&d.root).unwrap(), &roots).unwrap();
    assert_eq!(back, d.status_list);
    assert_eq!(back.get(d.claims.status.index), Some(Status::Valid));
}

#[test]
fn a_status_list_token_is_a_draft_cwt() {
    let d = demo();
    let token = d.status_list.sign(&d.root).unwrap();
    let sign1 = coset::CoseSign1::from_tagged_slice(&token).unwrap();
    let typ = sign1
        .protected
        .header
        .rest
        .iter()
        .find(|(l, _)| *l == coset::Label::Int(16));
    assert_eq!(
        typ.unwrap().1,
        ciborium::Value::Text("application/statuslist+cwt".into())
    );
    let claims: ciborium::Value =
        ciborium::de::from_reader(sign1.payload.as_deref().unwrap()).unwrap();
    let keys: Vec<i128> = claims
        .as_map()
        .unwrap()
        .iter()
        .map(|(k, _)| i128::from(k.as_integer().unwrap()))
        .collect();
    assert_eq!(keys, vec![2, 6, 4, 65534, 65533]);
}

#[test]
fn status_entries_use_the_drafts_bit_order() {
    // draft-ietf-oauth-status-list, 2-bit example: statuses 1,2,0,3 | 0,1,0,1 | 1,2,3,3 → C9 44 F9.
    let mut list = StatusList::new("u", now(), now() + TimeDelta::hours(1), 1);
    let statuses = [1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3];
    for (i, s) in statuses.iter().enumerate() {
        let s = [
            Status::Valid,
            Status::Invalid,
            Status::Suspended,
            Status::Superseded,
        ][*s];
        list.set(i as u32, s).unwrap();
    }
    assert_eq!(list.as_bytes(), &[0xC9, 0x44, 0xF9]);
    assert_eq!(list.get(12), None);
}

#[test]
fn a_presentation_round_trips() {
    let d = demo();
    let credential = d.credential().unwrap();
    let cose = presentation::present(&credential, &d.holder, now(), Some(b"abc")).unwrap();
    let p = presentation::Presentation::from_cose(&cose).unwrap();
    assert_eq!(p.credential_cose(), credential.as_slice());
    assert_eq!(p.presented_at(), now());
    assert_eq!(p.challenge(), Some(&b"abc"[..]));
    assert!(p.verify_holder_signature(&d.holder.public_key()).is_ok());
    assert_eq!(p.credential().claims(), &d.claims);
}

#[test]
fn only_the_bound_holder_can_present() {
    let d = demo();
    let stranger = KeyFileSigner::from_seed([8; 32]);
    assert!(presentation::present(&d.credential().unwrap(), &stranger, now(), None).is_err());
}

#[test]
fn the_issuer_must_be_the_residence_district() {
    let mut d = demo();
    d.claims.issuer = District::Jindong;
    assert!(permit::issue(&d.claims, &d.issuer).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn no_bytes_make_any_decoder_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let d = demo();
        let _ = permit::parse(&bytes);
        let _ = presentation::Presentation::from_cose(&bytes);
        let _ = TrustList::verify(&bytes, &d.root_keys());
        let _ = StatusList::verify(&bytes, &d.root_keys());
        for kind in [QrKind::Permit, QrKind::Presentation] {
            let _ = check(&d, &qr_text::encode(kind, &bytes), now());
        }
    }

    #[test]
    fn no_payload_signed_by_the_root_makes_a_list_parser_panic(payload in proptest::collection::vec(any::<u8>(), 0..400), cbor in arbitrary_cbor()) {
        let d = demo();
        let mut encoded = Vec::new();
        ciborium::ser::into_writer(&cbor, &mut encoded).unwrap();
        for bytes in [payload, encoded] {
            for typ in [None, Some("application/statuslist+cwt")] {
                let signed = sign_payload(&d.root, bytes.clone(), typ);
                let _ = TrustList::verify(&signed, &d.root_keys());
                let _ = StatusList::verify(&signed, &d.root_keys());
            }
        }
    }

    #[test]
    fn no_text_makes_verify_panic(text in "\\PC{0,300}", body in "[0-9A-Z $%*+./:-]{0,400}") {
        let d = demo();
        let _ = check(&d, &text, now());
        let _ = check(&d, &format!("EPP1:{body}"), now());
    }

    #[test]
    fn every_mutation_of_a_real_presentation_is_refused_without_panic(at: Index, flip in 1u8..=255, cut in prop_oneof![Just(None), any::<Index>().prop_map(Some)]) {
        // One byte changed (XOR with a non-zero `flip`), then possibly cut short: whatever the
        // byte (COSE structure, headers, the credential inside, either signature), the result is
        // never `valid`; the untouched presentation is.
        let d = demo();
        let (_, original) = qr_text::decode(&d.presentation_text(now(), Some(b"ch")).unwrap()).unwrap();
        let mut cose = original.clone();
        let i = at.index(cose.len());
        cose[i] ^= flip;
        let removed = cut.map_or(0, |c| c.index(cose.len()));
        cose.truncate(cose.len() - removed);
        prop_assert_ne!(&cose, &original);
        let v = check(&d, &qr_text::encode(QrKind::Presentation, &cose), now());
        prop_assert_ne!(v.verdict, Verdict::Valid, "byte {} ^ {:#04x}, {} bytes cut", i, flip, removed);
        prop_assert_eq!(check(&d, &qr_text::encode(QrKind::Presentation, &original), now()).verdict, Verdict::Valid);
    }
}

/// Random CBOR shaped like the lists: maps with small integer and text keys.
fn arbitrary_cbor() -> impl Strategy<Value = ciborium::Value> {
    use ciborium::Value;
    let leaf = prop_oneof![
        any::<i64>().prop_map(|n| Value::Integer(n.into())),
        (0u64..70_000).prop_map(|n| Value::Integer(n.into())),
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(Value::Bytes),
        "[a-z_]{0,12}".prop_map(Value::Text),
        Just(Value::Null),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            proptest::collection::vec(
                (
                    prop_oneof![
                        (0i64..8).prop_map(|n| Value::Integer(n.into())),
                        Just(Value::Integer(65533.into())),
                        Just(Value::Integer(65534.into())),
                        Just(Value::Text("bits".into())),
                        Just(Value::Text("lst".into()))
                    ],
                    inner
                ),
                0..8
            )
            .prop_map(Value::Map),
        ]
    })
}

/// A COSE_Sign1 over `payload` by `root`, as the lists are signed.
fn sign_payload(root: &KeyFileSigner, payload: Vec<u8>, typ: Option<&str>) -> Vec<u8> {
    let mut header = coset::HeaderBuilder::new()
        .algorithm(coset::iana::Algorithm::EdDSA)
        .key_id(root.key_id().as_bytes().to_vec());
    if let Some(typ) = typ {
        header = header.value(16, ciborium::Value::Text(typ.into()));
    }
    coset::CoseSign1Builder::new()
        .protected(header.build())
        .payload(payload)
        .create_signature(b"", |tbs| root.sign(tbs).unwrap().to_bytes().to_vec())
        .build()
        .to_tagged_vec()
        .unwrap()
}
