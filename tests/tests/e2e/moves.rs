//! One issuer, one rule (SPEC §1.4 revised, issue 11 item 4): the district that approved a permit
//! is its issuer for life; after a move the district of registration signs new versions; the
//! holder may apply where they live now, and that approval supersedes the old permit. The API's
//! report, the SDK's and the CLI's, for the same credential, say the same.

use crypto::signer::KeyFileSigner;
use epermit_sdk::{Blocker, Verifier};
use epermit_tests::fixtures::{
    apply, bind_device, credential, get, issued_permit, post, served_lists, today,
};
use epermit_tests::{TestApp, spawn_app};
use serde_json::{Value, json};

async fn json_of(r: reqwest::Response) -> Value {
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert!(status.is_success(), "{status}: {body}");
    body
}

/// The API's report for the holder at `target`: its blocker codes.
async fn api_blockers(app: &TestApp, token: &str, target: &str) -> Vec<String> {
    let path = format!("/v1/permits/me/report?target={target}");
    let report = json_of(get(app, token, &path).await).await;
    report["blockers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_str().unwrap().to_owned())
        .collect()
}

/// The report `epermit verify` prints for `text` (the CLI's code path, in process), with the
/// service's current lists written to files as an offline desk holds them: its blocker codes.
async fn cli_blockers(app: &TestApp, text: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let root = crypto::signer::Signer::public_key(app.state.keys.root().as_ref());
    let root_file = dir.path().join("root.pub");
    std::fs::write(&root_file, crypto::keys::public_key_hex(&root)).unwrap();
    let (trust, lists) = served_lists(app).await;
    let trust_file = dir.path().join("trust-list.cose");
    std::fs::write(&trust_file, trust).unwrap();
    let mut status_list = Vec::new();
    for (i, list) in lists.into_iter().enumerate() {
        let file = dir.path().join(format!("status-{i}.cwt"));
        std::fs::write(&file, list).unwrap();
        status_list.push(file);
    }
    let args = api::cli::VerifyArgs {
        root: root_file,
        trust_list: trust_file,
        status_list,
        now: None,
        max_presentation_age: 120,
        text: text.to_owned(),
    };
    let outcome = api::commands::verify::run(&args);
    let answer = outcome.json.unwrap();
    answer["report"]["blockers"]
        .as_array()
        .unwrap_or_else(|| panic!("no report: {answer}"))
        .iter()
        .map(|b| b.as_str().unwrap().to_owned())
        .collect()
}

/// A verifier holding the service's current lists.
async fn sdk_verifier(app: &TestApp) -> Verifier {
    let root = crypto::signer::Signer::public_key(app.state.keys.root().as_ref());
    let verifier = Verifier::new(vec![crypto::keys::public_key_hex(&root)]).unwrap();
    let now = std::time::SystemTime::now();
    let (trust, lists) = served_lists(app).await;
    verifier.load_trust_list(trust, now).unwrap();
    for list in lists {
        verifier.load_status_list(list, now).unwrap();
    }
    verifier
}

#[actix_web::test]
async fn after_a_move_the_issuer_stays_and_a_permit_issued_where_one_lives_supersedes_the_old() {
    let app = spawn_app().await;
    let h = issued_permit(&app, "13900000061", "33070219900101123").await;
    assert!(h.number.starts_with("330702-"));
    let school = app
        .staff_token("school", "verifier", None, Some("school"))
        .await;

    // The holder moves from 婺城区 to 金东区; 金东区's officer confirms the new registration.
    let registrations = json_of(get(&app, &h.token, "/v1/residences").await).await;
    let old = registrations["items"][0]["id"].as_i64().unwrap();
    let today = today().to_string();
    let path = format!("/v1/residences/{old}/end");
    json_of(post(&app, &h.token, &path, json!({ "end": today })).await).await;
    let body = json!({ "district": "330703", "address": "东孝街道", "start": today });
    let new = json_of(post(&app, &h.token, "/v1/residences", body).await).await;
    let jd = app
        .staff_token("officer-jd", "officer", Some("330703"), None)
        .await;
    let path = format!("/v1/residences/{}/confirm", new["id"]);
    json_of(post(&app, &jd, &path, json!({})).await).await;

    // A new version (binding a device key) is signed by 金东区; the issuer stays 婺城区.
    let device = KeyFileSigner::generate();
    assert_eq!(bind_device(&app, &h, &device).await.status(), 200);
    let moved = credential(&app, &h.token).await;
    let verified = json_of(post(&app, &school, "/v1/verify", json!({ "qr": moved })).await).await;
    assert_eq!(verified["verdict"], "valid", "{verified}");
    assert_eq!(verified["permit"]["issuer"], "330702");
    assert_eq!(verified["permit"]["residence"], "330703");

    // The API, the SDK and the CLI give one report for it: the permit was not issued at 金东区.
    let mismatch = "permit_issuer_mismatch".to_owned();
    let api = api_blockers(&app, &h.token, "330703").await;
    assert!(api.contains(&mismatch), "{api:?}");
    assert_eq!(cli_blockers(&app, &moved).await, api);
    let sdk = sdk_verifier(&app).await;
    let report = sdk
        .verify(moved.clone(), std::time::SystemTime::now())
        .report
        .expect("a report");
    assert!(report.blockers.contains(&Blocker::PermitIssuerMismatch));

    // The holder applies at 金东区 while holding the old permit; its approval supersedes it.
    let r = apply(&app, &h.token).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let application: Value = r.json().await.unwrap();
    let path = format!("/v1/applications/{}/approve", application["id"]);
    let issued = json_of(post(&app, &jd, &path, json!({})).await).await;
    assert!(issued["number"].as_str().unwrap().starts_with("330703-"));
    let old_permit = api::store::permits::find_by_number(app.state.store.conn(), &h.number)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(old_permit.status, api::store::permits::Status::Revoked);
    let reason = old_permit.status_reason.unwrap();
    assert!(
        reason.contains(issued["number"].as_str().unwrap()),
        "{reason}"
    );
    let verified = json_of(post(&app, &school, "/v1/verify", json!({ "qr": moved })).await).await;
    assert_eq!(verified["verdict"], "superseded", "{verified}");

    // The new permit is 金东区's own: no mismatch any more, in any of the three reports.
    let api = api_blockers(&app, &h.token, "330703").await;
    assert!(!api.contains(&mismatch), "{api:?}");
    let current = credential(&app, &h.token).await;
    assert_eq!(cli_blockers(&app, &current).await, api);
    let sdk = sdk_verifier(&app).await;
    let report = sdk
        .verify(current, std::time::SystemTime::now())
        .report
        .expect("a report");
    assert!(!report.blockers.contains(&Blocker::PermitIssuerMismatch));
}
