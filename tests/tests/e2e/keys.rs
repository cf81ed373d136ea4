//! Keys shared by several instances (SPEC §4 "Keys"): two services on one data directory and one
//! database both serve and sign, and a key rotated or marked compromised through one is seen by
//! the other; a root-key rotation announces the successor in lists the old root signs, then
//! hands the lists over to it.

use api::startup::Application;
use api::state::AppState;
use crypto::signer::Signer;
use crypto::status_list::StatusList;
use crypto::trust_list::{KeyState, TrustList};
use epermit_tests::fixtures::{credential, issued_permit, served_lists};
use epermit_tests::{TestApp, spawn_app_with};
use policy::District;
use serde_json::{Value, json};

/// A second instance of `app`'s service: same settings, so the same data directory (keys) and
/// the same database, on its own port. Returns its base URL and state.
async fn second_instance(app: &TestApp) -> (String, actix_web::web::Data<AppState>) {
    let other = Application::build(app.state.settings.clone())
        .await
        .expect("a second instance starts on the same keys and database");
    let url = format!("http://127.0.0.1:{}", other.port());
    let state = other.state();
    actix_web::rt::spawn(other.run_until_stopped());
    (url, state)
}

async fn fetch(app: &TestApp, base: &str, path: &str) -> Vec<u8> {
    let r = app
        .client
        .get(format!("{base}{path}"))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let bytes = r.bytes().await.unwrap().to_vec();
    assert_eq!(
        status,
        200,
        "{base}{path}: {}",
        String::from_utf8_lossy(&bytes)
    );
    bytes
}

fn root_of(state: &AppState) -> crypto::keys::VerifyingKey {
    state.keys.root().public_key()
}

#[actix_web::test]
async fn two_instances_on_one_data_dir_serve_and_sign_and_a_key_rotated_through_one_signs_on_the_other()
 {
    let app = spawn_app_with(&[]).await;
    let (other, state) = second_instance(&app).await;
    assert_eq!(root_of(&state), root_of(&app.state), "one root key");
    let district = District::from_code(330702).unwrap();
    let before = state
        .keys
        .issuer(state.store.conn(), district)
        .await
        .unwrap()
        .key_id();
    for base in [app.address.as_str(), other.as_str()] {
        let list = TrustList::verify(
            &fetch(&app, base, "/v1/trust-list").await,
            &[root_of(&app.state)],
        )
        .unwrap();
        assert!(list.keys.iter().any(|k| k.kid == before));
    }

    let rotated = app
        .state
        .keys
        .rotate(&app.state.store, district, "operator:test")
        .await
        .unwrap();

    let signer = state
        .keys
        .issuer(state.store.conn(), district)
        .await
        .expect("the other instance reads the new key file on first use");
    assert_eq!(signer.key_id().to_string(), rotated);
    let signature = signer.sign(b"permit").unwrap();
    let list = TrustList::verify(
        &fetch(&app, &other, "/v1/trust-list").await,
        &[root_of(&app.state)],
    )
    .unwrap();
    let new = list.keys.iter().find(|k| k.kid == signer.key_id()).unwrap();
    assert_eq!(new.state, KeyState::Active);
    assert!(new.public_key.verify_strict(b"permit", &signature).is_ok());
    let old = list.keys.iter().find(|k| k.kid == before).unwrap();
    assert_eq!(old.state, KeyState::Retired);
}

async fn verdict(app: &TestApp, token: &str, qr: &str) -> Value {
    let r = app
        .client
        .post(app.url("/v1/verify"))
        .bearer_auth(token)
        .json(&json!({ "qr": qr }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

#[actix_web::test]
async fn a_permit_signed_by_a_key_marked_compromised_verifies_issuer_key_compromised_and_the_district_keeps_issuing()
 {
    let app = spawn_app_with(&[("EPERMIT_VERIFY_RECHECK_MS", "0")]).await;
    let holder = issued_permit(&app, "13900000071", "33070219900101123").await;
    let qr = credential(&app, &holder.token).await;
    let school = app
        .staff_token("school", "verifier", None, Some("school"))
        .await;
    assert_eq!(verdict(&app, &school, &qr).await["verdict"], "valid");

    let district = District::from_code(330702).unwrap();
    let kid = app
        .state
        .keys
        .issuer(app.state.store.conn(), district)
        .await
        .unwrap()
        .key_id()
        .to_string();
    let done = app
        .state
        .keys
        .compromise(&app.state.store, &kid, "operator:test")
        .await
        .unwrap();
    assert!(done.replaced_by.is_some());
    assert_eq!(
        verdict(&app, &school, &qr).await["verdict"],
        "issuer_key_compromised"
    );

    let next = issued_permit(&app, "13900000072", "33070219900101131").await;
    let qr = credential(&app, &next.token).await;
    assert_eq!(verdict(&app, &school, &qr).await["verdict"], "valid");
}

#[actix_web::test]
async fn a_root_rotation_announces_the_successor_under_the_old_root_then_the_successor_signs_the_lists()
 {
    let app = spawn_app_with(&[]).await;
    let (other, state) = second_instance(&app).await;
    let old = root_of(&app.state);
    let keys = &app.state.keys;
    let successor = keys
        .rotate_root(&app.state.store, chrono::Duration::zero(), "operator:test")
        .await
        .unwrap();
    let next = crypto::keys::parse_public_key_hex(&successor.public_key).unwrap();
    assert_eq!(
        api::keys::announced_successor(app.state.store.conn())
            .await
            .unwrap(),
        Some(next)
    );
    // The announcement: lists still signed by the old root only.
    for base in [app.address.as_str(), other.as_str()] {
        let bytes = fetch(&app, base, "/v1/trust-list").await;
        assert!(TrustList::verify(&bytes, &[old]).is_ok(), "{base}");
        assert!(TrustList::verify(&bytes, &[next]).is_err(), "{base}");
    }

    keys.finish_root_rotation(&app.state.store, "operator:test")
        .await
        .unwrap();
    assert_eq!(
        api::keys::announced_successor(state.store.conn())
            .await
            .unwrap(),
        None
    );
    for base in [app.address.as_str(), other.as_str()] {
        let bytes = fetch(&app, base, "/v1/trust-list").await;
        assert!(TrustList::verify(&bytes, &[next]).is_ok(), "{base}");
        assert!(TrustList::verify(&bytes, &[old]).is_err(), "{base}");
        let bytes = fetch(&app, base, "/sl").await;
        assert!(StatusList::verify(&bytes, &[next]).is_ok(), "{base}");
        assert!(StatusList::verify(&bytes, &[old]).is_err(), "{base}");
    }
}

/// The ceremony as a phone lives it: an SDK verifier pinning the old root refreshes every list
/// during the announcement and after the switch, and never stops verifying; afterwards a list
/// signed by the old root is refused.
#[actix_web::test]
async fn a_verifier_pinning_the_old_root_follows_a_root_rotation_without_losing_a_list() {
    let app = spawn_app_with(&[]).await;
    let h = issued_permit(&app, "13900000071", "33070219900101123").await;
    let text = credential(&app, &h.token).await;
    let old = root_of(&app.state);
    let verifier = epermit_sdk::Verifier::new(vec![crypto::keys::public_key_hex(&old)]).unwrap();
    let refresh = |stage: &'static str| {
        let app = &app;
        let verifier = &verifier;
        let text = text.clone();
        async move {
            let now = std::time::SystemTime::now();
            let (trust, lists) = served_lists(app).await;
            verifier
                .load_trust_list(trust, now)
                .unwrap_or_else(|e| panic!("{stage}: trust list refused: {e:?}"));
            for list in lists {
                verifier
                    .load_status_list(list, now)
                    .unwrap_or_else(|e| panic!("{stage}: a status list refused: {e:?}"));
            }
            let v = verifier.verify(text, now);
            assert_eq!(v.verdict, epermit_sdk::Verdict::Valid, "{stage}");
            assert!(v.warnings.is_empty(), "{stage}: {:?}", v.warnings);
        }
    };
    refresh("before").await;
    let keys = &app.state.keys;
    keys.rotate_root(&app.state.store, chrono::Duration::zero(), "operator:test")
        .await
        .unwrap();
    refresh("announced").await;
    refresh("announced, again").await;
    let announced = fetch(&app, &app.address, "/v1/trust-list").await;
    keys.finish_root_rotation(&app.state.store, "operator:test")
        .await
        .unwrap();
    refresh("finished").await;
    refresh("finished, again").await;
    let refused = verifier.load_trust_list(announced, std::time::SystemTime::now());
    assert!(
        refused.is_err(),
        "an old-root list after the switch: {refused:?}"
    );
}
