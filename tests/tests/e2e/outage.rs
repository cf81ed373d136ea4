//! With the database gone, every route family answers 503 `service_unavailable` with
//! `Retry-After` — never a 404 or a 500, and never later than its connection timeout. On
//! PostgreSQL the network link to the server is cut (a partition, a crashed server); on the
//! embedded SQLite the connection pool is closed under the running service.

use std::time::{Duration, Instant};

use crypto::signer::Signer;
use epermit_tests::fixtures::{credential, issued_permit};
use epermit_tests::spawn_app_behind_link;
use serde_json::{Value, json};

/// The connection timeout the service runs with here, and how much later than it an answer may
/// come (scheduling, the request itself).
const TIMEOUT_MS: u64 = 1000;
const SLACK: Duration = Duration::from_millis(2500);

#[actix_web::test]
async fn with_the_database_gone_every_route_family_answers_503_within_its_timeout() {
    let timeout = TIMEOUT_MS.to_string();
    let (app, link) = spawn_app_behind_link(&[
        ("EPERMIT_DATABASE_TIMEOUT_MS", timeout.as_str()),
        ("EPERMIT_VERIFY_RECHECK_MS", "0"),
    ])
    .await;
    let h = issued_permit(&app, "13900000031", "33070219900101123").await;
    let qr = credential(&app, &h.token).await;
    let school = app
        .staff_token("school", "verifier", None, Some("school"))
        .await;
    let police = app
        .staff_token("police", "verifier", None, Some("police"))
        .await;
    let admin = app.staff_token("root", "admin", None, None).await;
    let refresh = app.login_resident("13900000032").await["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let number = h.number.clone();
    let device = crypto::signer::KeyFileSigner::generate();
    let device_key = crypto::keys::public_key_hex(&device.public_key());
    let r = app
        .client
        .post(app.url("/v1/auth/otp"))
        .json(&json!({ "phone": "13900000033" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let code = app.last_code_for("13900000033").unwrap();

    match &link {
        Some(link) => link.cut(),
        None => app.state.store.conn().pool().clone().close().await.unwrap(),
    }

    let pdf = || {
        reqwest::multipart::Form::new()
            .text("basis", "employment")
            .part(
                "evidence",
                reqwest::multipart::Part::bytes(b"%PDF-1.7\n%%EOF\n".to_vec()),
            )
    };
    let reason = json!({ "reason": "核查中" });
    let calls: Vec<(&str, String, &str, Option<Value>)> = vec![
        (
            "POST",
            "/v1/auth/login".into(),
            "",
            Some(json!({ "phone": "13900000033", "code": code })),
        ),
        (
            "POST",
            "/v1/auth/staff-login".into(),
            "",
            Some(json!({ "username": "root", "password": "x" })),
        ),
        (
            "POST",
            "/v1/auth/refresh".into(),
            "",
            Some(json!({ "refresh_token": refresh })),
        ),
        ("GET", "/v1/me".into(), &h.token, None),
        (
            "PUT",
            "/v1/me".into(),
            &h.token,
            Some(json!({ "name": "张三", "id_number": "11010519491231002X" })),
        ),
        ("GET", "/v1/residences".into(), &h.token, None),
        (
            "POST",
            "/v1/residences".into(),
            &h.token,
            Some(
                json!({ "district": "330702", "address": "城北街道", "start": policy::calendar::today().to_string() }),
            ),
        ),
        (
            "POST",
            "/v1/residences/1/end".into(),
            &h.token,
            Some(json!({ "end": policy::calendar::today().to_string() })),
        ),
        ("POST", "/v1/residences/1/confirm".into(), &h.officer, None),
        ("GET", "/v1/applications".into(), &h.officer, None),
        ("GET", "/v1/applications/1".into(), &h.officer, None),
        ("POST", "/v1/applications".into(), &h.token, None),
        (
            "POST",
            "/v1/applications/1/approve".into(),
            &h.officer,
            None,
        ),
        (
            "POST",
            "/v1/applications/1/reject".into(),
            &h.officer,
            Some(reason.clone()),
        ),
        (
            "GET",
            "/v1/applications/1/evidence".into(),
            &h.officer,
            None,
        ),
        ("GET", "/v1/permits/me".into(), &h.token, None),
        ("GET", "/v1/permits/me/report".into(), &h.token, None),
        ("GET", "/v1/permits/me/qr.png".into(), &h.token, None),
        ("POST", "/v1/permits/me/endorsements".into(), &h.token, None),
        (
            "PUT",
            "/v1/permits/me/holder-key".into(),
            &h.token,
            Some(
                json!({ "public_key": device_key, "challenge": "ab".repeat(32), "signature": "cd".repeat(64), "code": "123456" }),
            ),
        ),
        (
            "POST",
            format!("/v1/permits/{number}/suspend"),
            &h.officer,
            Some(reason.clone()),
        ),
        (
            "GET",
            format!("/v1/permits/{number}?purpose=case:ZJ-2026-001234"),
            &police,
            None,
        ),
        (
            "POST",
            "/v1/verify".into(),
            &school,
            Some(json!({ "qr": qr })),
        ),
        ("GET", "/v1/trust-list".into(), "", None),
        ("GET", "/v1/status-list".into(), "", None),
        ("GET", "/v1/audit".into(), &admin, None),
    ];
    for (method, path, token, body) in calls {
        let mut request = app
            .client
            .request(method.parse().unwrap(), app.url(&path))
            .bearer_auth(token);
        request = match (&body, path.as_str()) {
            (Some(body), _) => request.json(body),
            (None, "/v1/applications") => request.multipart(pdf()),
            (None, _) => request,
        };
        let started = Instant::now();
        let r = request.send().await.unwrap();
        let elapsed = started.elapsed();
        let status = r.status();
        let retry_after = r.headers().get("retry-after").cloned();
        let text = r.text().await.unwrap_or_default();
        assert_eq!(status, 503, "{method} {path} ({}): {text}", app.backend());
        let problem: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(problem["type"], "service_unavailable", "{method} {path}");
        assert!(retry_after.is_some(), "{method} {path} has no Retry-After");
        assert!(
            elapsed < Duration::from_millis(TIMEOUT_MS) + SLACK,
            "{method} {path} took {elapsed:?} ({})",
            app.backend()
        );
    }
    let r = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(r.json::<Value>().await.unwrap()["database"], "down");
}
