//! Bad input at the permit, verification, auth and audit endpoints: a 4xx problem document with
//! a stable code naming the field, and nothing written (the audit chain and the permit are as
//! they were). Registrations, applications and profiles have their own files.

use epermit_tests::fixtures::{get, issued_permit, post, put};
use epermit_tests::{TestApp, spawn_app};
use serde_json::{Value, json};

use crate::residences::assert_problem;

/// What a refused request must leave untouched: the audit log's length and the holder's permit.
async fn snapshot(app: &TestApp, holder: &str) -> (usize, Value) {
    let audit = api::store::audit::list(app.state.store.conn(), 0, 10_000)
        .await
        .unwrap()
        .len();
    let permit: Value = get(app, holder, "/v1/permits/me")
        .await
        .json()
        .await
        .unwrap();
    (audit, permit["permit"].clone())
}

#[actix_web::test]
async fn bad_input_at_permit_verify_auth_and_audit_endpoints_is_named_and_writes_nothing() {
    let app = spawn_app().await;
    let h = issued_permit(&app, "13900000007", "33070219900101123").await;
    let school = app
        .staff_token("school", "verifier", None, Some("school"))
        .await;
    let admin = app.staff_token("root", "admin", None, None).await;
    let before = snapshot(&app, &h.token).await;
    let suspend = format!("/v1/permits/{}/suspend", h.number);

    // Holder key: not hex, wrong length, missing; a malformed challenge, signature or code.
    let binding = |key: &str, challenge: &str, signature: &str, code: &str| json!({ "public_key": key, "challenge": challenge, "signature": signature, "code": code });
    let (key, challenge, signature) = ("ab".repeat(32), "cd".repeat(32), "ef".repeat(64));
    let device = crypto::signer::KeyFileSigner::generate();
    let good_key = crypto::keys::public_key_hex(&crypto::signer::Signer::public_key(&device));
    for bad in ["zz", "00", &"ab".repeat(33), &key] {
        let body = binding(bad, &challenge, &signature, "123456");
        let r = put(&app, &h.token, "/v1/permits/me/holder-key", body).await;
        assert_problem(r, 400, "invalid_public_key", Some("public_key")).await;
    }
    for (body, code, field) in [
        (
            binding(&good_key, "zz", &signature, "123456"),
            "invalid_challenge",
            "challenge",
        ),
        (
            binding(&good_key, &challenge, "00", "123456"),
            "invalid_signature",
            "signature",
        ),
        (
            binding(&good_key, &challenge, &signature, "12"),
            "invalid_code",
            "code",
        ),
        // Well-formed, but not the device key's signature over a challenge of ours.
        (
            binding(&good_key, &challenge, &signature, "123456"),
            "bad_proof",
            "signature",
        ),
    ] {
        let r = put(&app, &h.token, "/v1/permits/me/holder-key", body).await;
        assert_problem(r, 400, code, Some(field)).await;
    }
    let r = put(&app, &h.token, "/v1/permits/me/holder-key", json!({})).await;
    assert_problem(r, 400, "missing_field", Some("public_key")).await;

    // Report target: not a code, not in Jinhua.
    let r = get(&app, &h.token, "/v1/permits/me/report?target=abc").await;
    assert_problem(r, 400, "invalid_district", Some("target")).await;
    let r = get(&app, &h.token, "/v1/permits/me/report?target=110101").await;
    assert_problem(r, 400, "target_not_in_jinhua", Some("target")).await;

    // Status changes: a reason of 2–500 characters.
    for reason in [json!(""), json!("x"), json!("长".repeat(501))] {
        let r = post(&app, &h.officer, &suspend, json!({ "reason": reason })).await;
        assert_problem(r, 400, "invalid_reason", Some("reason")).await;
    }
    // A value of the wrong JSON type is named like a missing one (every JSON body alike).
    let r = post(&app, &h.officer, &suspend, json!({ "reason": 42 })).await;
    assert_problem(r, 400, "invalid_field", Some("reason")).await;
    let r = post(&app, &h.officer, &suspend, json!({})).await;
    assert_problem(r, 400, "missing_field", Some("reason")).await;

    // Verification: no QR, a QR longer than any QR code holds, not JSON at all.
    let r = post(&app, &school, "/v1/verify", json!({})).await;
    assert_problem(r, 400, "missing_field", Some("qr")).await;
    let r = post(
        &app,
        &school,
        "/v1/verify",
        json!({ "qr": "A".repeat(5000) }),
    )
    .await;
    assert_problem(r, 400, "qr_too_long", Some("qr")).await;
    let r = app
        .client
        .post(app.url("/v1/verify"))
        .bearer_auth(&school)
        .header("content-type", "application/json")
        .body("{\"qr\": ")
        .send()
        .await
        .unwrap();
    assert_problem(r, 400, "invalid_body", Some("body")).await;
    let r = app
        .client
        .post(app.url("/v1/verify"))
        .bearer_auth(&school)
        .header("content-type", "text/plain")
        .body("EP1:…")
        .send()
        .await
        .unwrap();
    assert_problem(r, 400, "invalid_body", Some("body")).await;

    // Auth: malformed codes and missing fields; the phone is never echoed.
    let r = post(
        &app,
        "",
        "/v1/auth/login",
        json!({ "phone": "13900000007", "code": "12" }),
    )
    .await;
    let body = assert_problem(r, 400, "invalid_code", Some("code")).await;
    assert!(!body.to_string().contains("13900000007"), "{body}");
    let r = post(
        &app,
        "",
        "/v1/auth/login",
        json!({ "phone": "13900000007" }),
    )
    .await;
    assert_problem(r, 400, "missing_field", Some("code")).await;
    let r = post(
        &app,
        "",
        "/v1/auth/staff-login",
        json!({ "username": "root" }),
    )
    .await;
    assert_problem(r, 400, "missing_field", Some("password")).await;
    let r = post(&app, "", "/v1/auth/refresh", json!({})).await;
    assert_problem(r, 400, "missing_field", Some("refresh_token")).await;

    // Audit paging.
    for query in ["limit=0", "limit=501"] {
        let r = get(&app, &admin, &format!("/v1/audit?{query}")).await;
        assert_problem(r, 400, "invalid_limit", Some("limit")).await;
    }
    let r = get(&app, &admin, "/v1/audit?after=yesterday").await;
    assert_problem(r, 400, "invalid_query", Some("query")).await;

    // A JSON body over 64 KiB.
    let r = post(
        &app,
        &school,
        "/v1/verify",
        json!({ "qr": "A".repeat(70_000) }),
    )
    .await;
    assert_eq!(r.status(), 413);

    assert_eq!(
        snapshot(&app, &h.token).await,
        before,
        "a refused request wrote something"
    );
}
