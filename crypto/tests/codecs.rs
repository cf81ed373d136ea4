//! Round trips of every codec (STYLE rule 6), as properties.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use crypto::qr_text::{self, QrKind};
use crypto::status_list::Status;
use crypto::trust_list::{KeyState, TrustedKey};
use crypto::{
    KeyFileSigner, MaskedIdNumber, PermitClaims, Signer, StatusList, StatusRef, TrustList, permit,
    presentation,
};
use policy::calendar::from_epoch_day;
use policy::{District, DistrictCode, Lapse, Period, PermitNumber};
use proptest::prelude::*;

fn district() -> impl Strategy<Value = District> {
    (0u64..9).prop_map(|i| District::from_index(i).unwrap())
}

fn district_code() -> impl Strategy<Value = DistrictCode> {
    prop_oneof![
        district().prop_map(DistrictCode::from),
        (100_000u32..=999_999).prop_map(|c| DistrictCode::new(c).unwrap()),
    ]
}

fn day() -> impl Strategy<Value = NaiveDate> {
    (0i64..40_000).prop_map(|d| from_epoch_day(d).unwrap())
}

fn range() -> impl Strategy<Value = (NaiveDate, Option<NaiveDate>)> {
    (day(), proptest::option::of(0i64..5000))
        .prop_map(|(s, len)| (s, len.map(|l| s + TimeDelta::days(l))))
}

fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    (0i64..4_000_000_000).prop_map(|s| DateTime::from_timestamp(s, 0).unwrap())
}

fn claims() -> impl Strategy<Value = PermitClaims> {
    (
        (district(), 1000u16..=9999, 1u32..=999_999),
        (instant(), 1i64..100_000_000),
        proptest::option::of(any::<[u8; 32]>()),
        (
            "[\\p{Han}a-zA-Z·]{1,32}",
            "[0-9]{6}[0-9]{3}[0-9X]",
            "[\\p{Han}0-9a-z]{1,64}",
        ),
        proptest::collection::vec((district_code(), range()), 0..6),
        proptest::collection::vec(range(), 0..4),
        (day(), proptest::option::of(day())),
        (any::<u32>(), "https://[a-z.]{1,30}/[a-z0-9]{0,10}"),
    )
        .prop_filter_map(
            "valid ID head",
            |(
                (d, y, s),
                (iat, life),
                seed,
                (name, id, address),
                periods,
                lapses,
                (first, last),
                (idx, uri),
            )| {
                Some(PermitClaims {
                    issuer: d,
                    number: PermitNumber::new(d, y, s).ok()?,
                    issued_at: iat,
                    expires_at: iat + TimeDelta::seconds(life),
                    holder_key: seed.map(|s| KeyFileSigner::from_seed(s).public_key()),
                    name,
                    id_number: MaskedIdNumber::from_compact(&id).ok()?,
                    residence: d,
                    address,
                    periods: periods
                        .into_iter()
                        .map(|(c, (s, e))| Period::new(c, s, e).unwrap())
                        .collect(),
                    lapses: lapses
                        .into_iter()
                        .map(|(f, u)| Lapse::new(f, u).unwrap())
                        .collect(),
                    first_issued: first,
                    last_endorsed: last,
                    status: StatusRef { index: idx, uri },
                })
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn permit_claims_round_trip_through_cose_and_qr_text(c in claims()) {
        let issuer = KeyFileSigner::from_seed([2; 32]);
        let cose = permit::issue(&c, &issuer).unwrap();
        prop_assert_eq!(permit::parse(&cose).unwrap(), c.clone());
        let text = qr_text::encode(QrKind::Permit, &cose);
        let (kind, back) = qr_text::decode(&text).unwrap();
        prop_assert_eq!(kind, QrKind::Permit);
        let credential = permit::Credential::from_cose(&back).unwrap();
        prop_assert_eq!(credential.kid(), issuer.key_id());
        prop_assert!(credential.verify_signature(&issuer.public_key()).is_ok());
    }

    #[test]
    fn presentations_round_trip(c in claims(), at in instant(), challenge in proptest::option::of(proptest::collection::vec(any::<u8>(), 1..=64))) {
        let issuer = KeyFileSigner::from_seed([2; 32]);
        let holder = KeyFileSigner::from_seed([3; 32]);
        let c = PermitClaims { holder_key: Some(holder.public_key()), ..c };
        let credential = permit::issue(&c, &issuer).unwrap();
        let cose = presentation::present(&credential, &holder, at, challenge.as_deref()).unwrap();
        let p = presentation::Presentation::from_cose(&cose).unwrap();
        prop_assert_eq!(p.credential_cose(), credential.as_slice());
        prop_assert_eq!(p.presented_at(), at);
        prop_assert_eq!(p.challenge(), challenge.as_deref());
        prop_assert!(p.verify_holder_signature(&holder.public_key()).is_ok());
    }

    #[test]
    fn trust_lists_round_trip(
        sequence: u64,
        (issued, life) in (instant(), 1i64..10_000_000),
        keys in proptest::collection::vec((any::<[u8; 32]>(), district(), instant(), proptest::option::of(1i64..1_000_000), 0u8..3), 0..8),
        successor in proptest::option::of(any::<[u8; 32]>()),
    ) {
        let root = KeyFileSigner::from_seed([1; 32]);
        let mut seen = std::collections::HashSet::new();
        let keys: Vec<TrustedKey> = keys
            .into_iter()
            .filter(|(seed, ..)| seen.insert(*seed))
            .map(|(seed, d, nb, na, st)| TrustedKey {
                not_after: na.map(|s| nb + TimeDelta::seconds(s)),
                state: [KeyState::Active, KeyState::Retired, KeyState::Compromised][st as usize],
                ..TrustedKey::new(d, KeyFileSigner::from_seed(seed).public_key(), nb)
            })
            .collect();
        let successor = successor.map(|seed| KeyFileSigner::from_seed(seed).public_key());
        let list = TrustList { sequence, issued_at: issued, expires_at: issued + TimeDelta::seconds(life), keys, successor };
        let bytes = list.sign(&root).unwrap();
        prop_assert_eq!(TrustList::verify(&bytes, &[root.public_key()]).unwrap(), list);
    }

    #[test]
    fn status_lists_round_trip(entries in proptest::collection::vec((0u32..50_000, 0u8..4), 0..64), at in instant(), ttl: u64) {
        let root = KeyFileSigner::from_seed([1; 32]);
        let mut list = StatusList::new("https://jhga.cn/sl", at, at + TimeDelta::hours(1), ttl);
        let mut expected = std::collections::HashMap::new();
        for (i, s) in entries {
            let s = [Status::Valid, Status::Invalid, Status::Suspended, Status::Superseded][s as usize];
            list.set(i, s).unwrap();
            expected.insert(i, s);
        }
        let back = StatusList::verify(&list.sign(&root).unwrap(), &[root.public_key()]).unwrap();
        for (i, s) in expected {
            prop_assert_eq!(back.get(i), Some(s));
        }
        prop_assert_eq!(back, list);
    }

    #[test]
    fn key_files_round_trip(seed: [u8; 32]) {
        let signer = KeyFileSigner::from_seed(seed);
        let back = KeyFileSigner::from_key_file(&signer.to_key_file().unwrap()).unwrap();
        prop_assert_eq!(back.public_key(), signer.public_key());
    }
}

#[test]
fn expiry_is_midnight_in_shanghai() {
    let anniversary = NaiveDate::from_ymd_opt(2027, 3, 1).unwrap();
    assert_eq!(
        permit::expiry_instant(anniversary).to_rfc3339(),
        "2027-02-28T16:00:00+00:00"
    );
}

#[test]
fn out_of_range_claims_are_refused_on_issue() {
    let issuer = KeyFileSigner::from_seed([2; 32]);
    let now = DateTime::from_timestamp(1_780_000_000, 0).unwrap();
    let good = crypto::sample::reference_claims(District::Yiwu, None, now).unwrap();
    let bad = [
        PermitClaims {
            name: String::new(),
            ..good.clone()
        },
        PermitClaims {
            name: "名".repeat(33),
            ..good.clone()
        },
        PermitClaims {
            address: "址".repeat(65),
            ..good.clone()
        },
        PermitClaims {
            expires_at: good.issued_at,
            ..good.clone()
        },
        PermitClaims {
            status: StatusRef {
                index: 1,
                uri: String::new(),
            },
            ..good.clone()
        },
    ];
    for c in bad {
        assert!(permit::issue(&c, &issuer).is_err(), "{c:?}");
    }
    assert!(permit::issue(&good, &issuer).is_ok());
}

#[test]
fn a_jinhua_district_written_as_a_code_is_refused() {
    // Jinhua districts travel as their index; the six-digit code is a second encoding.
    use ciborium::Value;
    let issuer = KeyFileSigner::from_seed([2; 32]);
    let now = DateTime::from_timestamp(1_780_000_000, 0).unwrap();
    let c = crypto::sample::reference_claims(District::Yiwu, None, now).unwrap();
    let cose = permit::issue(&c, &issuer).unwrap();
    let mut sign1 =
        <coset::CoseSign1 as coset::TaggedCborSerializable>::from_tagged_slice(&cose).unwrap();
    let mut payload: Value = ciborium::de::from_reader(sign1.payload.as_deref().unwrap()).unwrap();
    let private = payload
        .as_map_mut()
        .unwrap()
        .iter_mut()
        .find(|(k, _)| *k == Value::Integer((-70000).into()))
        .unwrap();
    let periods = private
        .1
        .as_map_mut()
        .unwrap()
        .iter_mut()
        .find(|(k, _)| *k == Value::Integer(5.into()))
        .unwrap();
    periods.1.as_array_mut().unwrap()[0].as_array_mut().unwrap()[0] = Value::Integer(330702.into());
    let mut bytes = Vec::new();
    ciborium::ser::into_writer(&payload, &mut bytes).unwrap();
    sign1.payload = Some(bytes);
    let tampered = coset::TaggedCborSerializable::to_tagged_vec(sign1).unwrap();
    assert!(permit::parse(&tampered).is_err());
}

#[test]
fn a_trust_list_carries_its_successor_as_field_5_only_when_one_is_announced() {
    let root = KeyFileSigner::from_seed([1; 32]);
    let at = DateTime::from_timestamp(1_780_000_000, 0).unwrap();
    let mut list = TrustList {
        sequence: 1,
        issued_at: at,
        expires_at: at + TimeDelta::days(1),
        keys: vec![],
        successor: None,
    };
    let payload_keys = |list: &TrustList| {
        let signed = list.sign(&root).unwrap();
        let sign1 = <coset::CoseSign1 as coset::TaggedCborSerializable>::from_tagged_slice(&signed)
            .unwrap();
        let payload: ciborium::Value =
            ciborium::de::from_reader(sign1.payload.as_deref().unwrap()).unwrap();
        payload
            .into_map()
            .unwrap()
            .into_iter()
            .map(|(k, v)| (i128::from(k.as_integer().unwrap()), v))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        payload_keys(&list)
            .iter()
            .map(|(k, _)| *k)
            .collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    let next = KeyFileSigner::from_seed([7; 32]).public_key();
    list.successor = Some(next);
    let fields = payload_keys(&list);
    assert_eq!(
        fields.last(),
        Some(&(5, ciborium::Value::Bytes(next.as_bytes().to_vec())))
    );
    let back = TrustList::verify(&list.sign(&root).unwrap(), &[root.public_key()]).unwrap();
    assert_eq!(back.successor, Some(next));
}
