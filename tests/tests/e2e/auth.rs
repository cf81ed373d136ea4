//! Logging in: OTP for residents, throttled passwords for staff, rotating refresh tokens.

use epermit_tests::spawn_app;
use serde_json::{Value, json};

const PHONE: &str = "13812345678";

#[actix_web::test]
async fn a_resident_logs_in_with_the_code_from_the_outbox() {
    let app = spawn_app().await;
    let tokens = app.login_resident(PHONE).await;
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 900);
    let me: Value = app
        .client
        .get(app.url("/v1/me"))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["phone"], "138****5678");
    assert_eq!(me["profile_complete"], false);
}

#[actix_web::test]
async fn a_wrong_code_is_refused_with_attempts_left_and_a_used_code_is_gone() {
    let app = spawn_app().await;
    app.client
        .post(app.url("/v1/auth/otp"))
        .json(&json!({ "phone": PHONE }))
        .send()
        .await
        .unwrap();
    let code = app.last_code_for(PHONE).unwrap();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let r = app
        .client
        .post(app.url("/v1/auth/login"))
        .json(&json!({ "phone": PHONE, "code": wrong }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let p: Value = r.json().await.unwrap();
    assert_eq!(
        (
            p["type"].as_str(),
            p["field"].as_str(),
            p["attempts_left"].as_u64()
        ),
        (Some("wrong_code"), Some("code"), Some(4))
    );
    let r = app
        .client
        .post(app.url("/v1/auth/login"))
        .json(&json!({ "phone": PHONE, "code": code }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = app
        .client
        .post(app.url("/v1/auth/login"))
        .json(&json!({ "phone": PHONE, "code": code }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["type"], "code_expired");
}

#[actix_web::test]
async fn bad_phone_numbers_are_named_and_never_echoed() {
    let app = spawn_app().await;
    let r = app
        .client
        .post(app.url("/v1/auth/otp"))
        .json(&json!({ "phone": "12345" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let text = r.text().await.unwrap();
    let p: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        (p["type"].as_str(), p["field"].as_str()),
        (Some("invalid_phone"), Some("phone"))
    );
    assert!(!text.contains("12345"));
    let r = app
        .client
        .post(app.url("/v1/auth/otp"))
        .header("content-type", "application/json")
        .body("{\"phone\": 13812345678}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let text = r.text().await.unwrap();
    assert!(!text.contains("13812345678"), "{text}");
}

#[actix_web::test]
async fn otp_requests_are_rate_limited_per_account() {
    let app = spawn_app().await;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(
            app.client
                .post(app.url("/v1/auth/otp"))
                .json(&json!({ "phone": PHONE }))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16(),
        );
    }
    assert_eq!(statuses, [202, 202, 202, 429]);
}

#[actix_web::test]
async fn refresh_rotates_and_reuse_of_a_spent_token_revokes_the_family() {
    let app = spawn_app().await;
    let first = app.login_resident(PHONE).await;
    let r = app.refresh(&first["refresh_token"]).await;
    assert_eq!(r.status(), 200);
    let second: Value = r.json().await.unwrap();
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    // The first token again: a copy is out there, so the whole family goes.
    assert_eq!(app.refresh(&first["refresh_token"]).await.status(), 401);
    assert_eq!(app.refresh(&second["refresh_token"]).await.status(), 401);
    assert_eq!(app.refresh(&json!("not-a-token")).await.status(), 401);
}

#[actix_web::test]
async fn staff_password_failures_are_throttled_at_that_address_not_locked_for_everyone() {
    let app = spawn_app().await;
    app.staff_token("officer1", "officer", Some("330702"), None)
        .await;
    let attempt = |password: &'static str| {
        let app = &app;
        async move {
            app.client
                .post(app.url("/v1/auth/staff-login"))
                .json(&json!({ "username": "officer1", "password": password }))
                .send()
                .await
                .unwrap()
        }
    };
    let mut refusals = Vec::new();
    for _ in 0..3 {
        let r = attempt("wrong password!!").await;
        assert_eq!(r.status(), 401);
        refusals.push(r.text().await.unwrap());
    }
    let r = attempt("correct horse battery staple").await;
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    assert_eq!(r.json::<Value>().await.unwrap()["type"], "login_throttled");
    // The throttle lapses (1 s after the third failure): the account itself was never locked.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(attempt("correct horse battery staple").await.status(), 200);
    let r = app
        .client
        .post(app.url("/v1/auth/staff-login"))
        .json(&json!({ "username": "nobody", "password": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.text().await.unwrap(),
        refusals[0],
        "an unknown username gets the wrong password's answer"
    );
}

#[actix_web::test]
async fn a_profile_needs_a_valid_id_number() {
    let app = spawn_app().await;
    let token = app.resident_token(PHONE).await;
    let put = |body: Value| {
        let (app, token) = (&app, token.clone());
        async move {
            app.client
                .put(app.url("/v1/me"))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    let r = put(json!({ "name": "张小明", "id_number": "110105194912310021" })).await;
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["field"], "id_number");
    let r = put(json!({ "name": "张小明", "id_number": "11010519491231002X" })).await;
    assert_eq!(r.status(), 200);
    let me: Value = r.json().await.unwrap();
    assert_eq!(
        (me["id_number"].as_str(), me["profile_complete"].as_bool()),
        (Some("110105********002X"), Some(true))
    );
    let r = app.client.get(app.url("/v1/me")).send().await.unwrap();
    assert_eq!(r.status(), 401);
}
