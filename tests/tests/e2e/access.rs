//! Access that can be taken away and limits that cannot be turned against users (issue 12 items
//! 3 and 4): staff disable/enable/unlock/reset-password, logout, refresh lifetimes, revocation
//! epochs across instances, password throttling per (account, client address), trusted proxies.

use std::time::{Duration, Instant};

use epermit_tests::{TestApp, spawn_app, spawn_app_with};
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery staple";
const PHONE: &str = "13812345678";

/// `POST /v1/auth/staff-login` at `base`, from `forwarded_for` when given.
async fn staff_login(
    app: &TestApp,
    base: &str,
    username: &str,
    password: &str,
    forwarded_for: Option<&str>,
) -> reqwest::Response {
    let mut request = app
        .client
        .post(format!("{base}/v1/auth/staff-login"))
        .json(&json!({ "username": username, "password": password }));
    if let Some(ip) = forwarded_for {
        request = request.header("x-forwarded-for", ip);
    }
    request.send().await.unwrap()
}

async fn staff_id(app: &TestApp, username: &str) -> i64 {
    api::store::staff::find_by_username(app.state.store.conn(), username)
        .await
        .unwrap()
        .expect("the account")
        .id
}

async fn get_status(app: &TestApp, base: &str, token: &str, path: &str) -> u16 {
    app.client
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Polls `path` at `base` with `token` until it is refused (401); the time that took. Panics
/// after `give_up`.
async fn refused_after(
    app: &TestApp,
    base: &str,
    token: &str,
    path: &str,
    give_up: Duration,
) -> Duration {
    let start = Instant::now();
    loop {
        match get_status(app, base, token, path).await {
            401 => return start.elapsed(),
            200 => {}
            other => panic!("{path}: unexpected {other}"),
        }
        assert!(
            start.elapsed() < give_up,
            "{path} still accepts the token after {give_up:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn admin_post(app: &TestApp, admin: &str, path: &str, body: Value) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .bearer_auth(admin)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// The bound of `tokens.revocation_check_ms` (default 1 s) with slack for a loaded machine.
const BOUND: Duration = Duration::from_millis(1000);
const SLACK: Duration = Duration::from_millis(1500);

#[actix_web::test]
async fn a_disabled_officers_token_stops_working_on_another_instance_within_the_check_interval() {
    let app = spawn_app().await;
    let (other, _) = app.another_instance().await;
    let admin = app.staff_token("root", "admin", None, None).await;
    let officer = app
        .staff_token("officer1", "officer", Some("330702"), None)
        .await;
    let id = staff_id(&app, "officer1").await;
    assert_eq!(
        get_status(&app, &other, &officer, "/v1/applications").await,
        200
    );
    assert_eq!(
        get_status(&app, &app.address, &officer, "/v1/applications").await,
        200
    );

    let r = admin_post(&app, &admin, &format!("/v1/staff/{id}/disable"), json!({})).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["disabled"], true);
    assert_eq!(
        get_status(&app, &app.address, &officer, "/v1/applications").await,
        401,
        "refused at once on the instance that disabled it"
    );
    let delay = refused_after(&app, &other, &officer, "/v1/applications", BOUND + SLACK).await;
    println!(
        "revocation delay on the other instance ({}): {} ms (bound {} ms)",
        app.backend(),
        delay.as_millis(),
        BOUND.as_millis()
    );
    assert_eq!(
        staff_login(&app, &other, "officer1", PASSWORD, None)
            .await
            .status(),
        401,
        "a disabled account cannot log in"
    );
}

#[actix_web::test]
async fn a_residents_logout_everywhere_stops_its_tokens_on_another_instance_within_the_check_interval()
 {
    let app = spawn_app().await;
    let (other, _) = app.another_instance().await;
    let phone_tokens = app.login_resident(PHONE).await;
    let second_login = app.login_resident(PHONE).await;
    let token = phone_tokens["access_token"].as_str().unwrap().to_owned();
    assert_eq!(get_status(&app, &other, &token, "/v1/me").await, 200);
    let r = admin_post(
        &app,
        &token,
        "/v1/auth/logout",
        json!({ "everywhere": true }),
    )
    .await;
    assert_eq!(r.status(), 200);
    let out: Value = r.json().await.unwrap();
    assert_eq!(
        (
            out["everywhere"].as_bool(),
            out["revoked_refresh_tokens"].as_u64()
        ),
        (Some(true), Some(2))
    );
    assert_eq!(get_status(&app, &app.address, &token, "/v1/me").await, 401);
    let delay = refused_after(&app, &other, &token, "/v1/me", BOUND + SLACK).await;
    println!(
        "logout-everywhere delay on the other instance ({}): {} ms (bound {} ms)",
        app.backend(),
        delay.as_millis(),
        BOUND.as_millis()
    );
    for login in [&phone_tokens, &second_login] {
        let r = app
            .client
            .post(format!("{other}/v1/auth/refresh"))
            .json(&json!({ "refresh_token": login["refresh_token"] }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "every login's refresh token is revoked");
    }
    // A new login works again.
    let fresh = app.resident_token(PHONE).await;
    assert_eq!(get_status(&app, &other, &fresh, "/v1/me").await, 200);
}

#[actix_web::test]
async fn logout_ends_that_login_only_and_refuses_another_accounts_refresh_token() {
    let app = spawn_app().await;
    let first = app.login_resident(PHONE).await;
    let second = app.login_resident(PHONE).await;
    let stranger = app.login_resident("13900000001").await;
    let token = first["access_token"].as_str().unwrap();
    let r = admin_post(
        &app,
        token,
        "/v1/auth/logout",
        json!({ "refresh_token": stranger["refresh_token"] }),
    )
    .await;
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<Value>().await.unwrap()["type"],
        "invalid_refresh_token"
    );
    let r = admin_post(&app, token, "/v1/auth/logout", json!({})).await;
    assert_eq!(r.status(), 400, "a refresh token or everywhere");
    let r = admin_post(
        &app,
        token,
        "/v1/auth/logout",
        json!({ "refresh_token": first["refresh_token"] }),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        app.refresh(&first["refresh_token"]).await.status(),
        401,
        "that login is over"
    );
    assert_eq!(
        app.refresh(&second["refresh_token"]).await.status(),
        200,
        "the other login goes on"
    );
    assert_eq!(app.refresh(&stranger["refresh_token"]).await.status(), 200);
    let entries = audit_actions(&app).await;
    assert!(entries.contains(&"auth.logout".to_owned()), "{entries:?}");
}

async fn audit_actions(app: &TestApp) -> Vec<String> {
    api::store::audit::list(app.state.store.conn(), 0, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect()
}

#[actix_web::test]
async fn a_refresh_family_ends_at_its_absolute_lifetime_however_often_it_is_refreshed() {
    let app = spawn_app_with(&[
        ("EPERMIT_TOKENS__REFRESH_TTL_SECS", "3"),
        ("EPERMIT_TOKENS__REFRESH_IDLE_SECS", "100"),
    ])
    .await;
    let mut refresh_token = app.login_resident(PHONE).await["refresh_token"].clone();
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(2000) {
        tokio::time::sleep(Duration::from_millis(700)).await;
        let r = app.refresh(&refresh_token).await;
        assert_eq!(
            r.status(),
            200,
            "within the lifetime at {:?}",
            start.elapsed()
        );
        refresh_token = r.json::<Value>().await.unwrap()["refresh_token"].clone();
    }
    tokio::time::sleep(Duration::from_millis(3300).saturating_sub(start.elapsed())).await;
    assert_eq!(
        app.refresh(&refresh_token).await.status(),
        401,
        "refreshing did not stretch the login past 3 s"
    );
}

#[actix_web::test]
async fn a_refresh_family_not_refreshed_within_the_idle_timeout_ends() {
    let app = spawn_app_with(&[
        ("EPERMIT_TOKENS__REFRESH_TTL_SECS", "100"),
        ("EPERMIT_TOKENS__REFRESH_IDLE_SECS", "2"),
    ])
    .await;
    let login = app.login_resident(PHONE).await;
    let r = app.refresh(&login["refresh_token"]).await;
    assert_eq!(r.status(), 200);
    let next: Value = r.json().await.unwrap();
    tokio::time::sleep(Duration::from_millis(2300)).await;
    assert_eq!(app.refresh(&next["refresh_token"]).await.status(), 401);
}

#[actix_web::test]
async fn admins_list_disable_enable_unlock_and_reset_staff_and_each_change_is_audited() {
    let app = spawn_app().await;
    let admin = app.staff_token("root", "admin", None, None).await;
    let officer = app
        .staff_token("officer1", "officer", Some("330702"), None)
        .await;
    let id = staff_id(&app, "officer1").await;
    let r = app
        .client
        .get(app.url("/v1/staff"))
        .bearer_auth(&officer)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "admins only");
    let r = app
        .client
        .get(app.url("/v1/staff"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    assert!(
        !text.contains("argon2") && !text.contains("password"),
        "{text}"
    );
    let list: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(list["staff"].as_array().unwrap().len(), 2);
    assert_eq!(list["staff"][1]["username"], "officer1");

    for action in ["disable", "enable", "unlock"] {
        let r = admin_post(&app, &admin, &format!("/v1/staff/{id}/{action}"), json!({})).await;
        assert_eq!(r.status(), 200, "{action}");
    }
    let r = admin_post(&app, &admin, &format!("/v1/staff/{id}/disable"), json!({})).await;
    assert_eq!(r.status(), 200);
    let r = admin_post(&app, &officer, &format!("/v1/staff/{id}/enable"), json!({})).await;
    assert_eq!(r.status(), 401, "its own token is revoked");
    let r = admin_post(&app, &admin, "/v1/staff/999/disable", json!({})).await;
    assert_eq!(r.status(), 404);
    let r = admin_post(&app, &admin, &format!("/v1/staff/{id}/enable"), json!({})).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        staff_login(&app, &app.address, "officer1", PASSWORD, None)
            .await
            .status(),
        200,
        "enabled again"
    );

    let r = admin_post(
        &app,
        &admin,
        &format!("/v1/staff/{id}/reset-password"),
        json!({ "password": "short" }),
    )
    .await;
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["field"], "password");
    let login: Value = staff_login(&app, &app.address, "officer1", PASSWORD, None)
        .await
        .json()
        .await
        .unwrap();
    let token = login["access_token"].as_str().unwrap();
    let r = admin_post(
        &app,
        &admin,
        &format!("/v1/staff/{id}/reset-password"),
        json!({ "password": "a brand new passphrase" }),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        get_status(&app, &app.address, token, "/v1/applications").await,
        401
    );
    let r = app.refresh(&login["refresh_token"]).await;
    assert_eq!(r.status(), 401, "its sessions are revoked");
    assert_eq!(
        staff_login(&app, &app.address, "officer1", PASSWORD, None)
            .await
            .status(),
        401
    );
    assert_eq!(
        staff_login(
            &app,
            &app.address,
            "officer1",
            "a brand new passphrase",
            None
        )
        .await
        .status(),
        200
    );
    let actions = audit_actions(&app).await;
    for action in [
        "staff.disable",
        "staff.enable",
        "staff.unlock",
        "staff.reset_password",
    ] {
        assert!(
            actions.contains(&action.to_owned()),
            "{action}: {actions:?}"
        );
    }
}

#[actix_web::test]
async fn a_disabled_officer_cannot_refresh() {
    let app = spawn_app().await;
    app.staff_token("officer1", "officer", Some("330702"), None)
        .await;
    let login: Value = staff_login(&app, &app.address, "officer1", PASSWORD, None)
        .await
        .json()
        .await
        .unwrap();
    let id = staff_id(&app, "officer1").await;
    // Disabled straight in the database (as the CLI does), refresh tokens left alone: the
    // refresh itself must refuse a disabled account.
    api::store::staff::set_disabled(app.state.store.conn(), id, Some(chrono::Utc::now()))
        .await
        .unwrap();
    let r = app.refresh(&login["refresh_token"]).await;
    assert_eq!(r.status(), 401);
}

/// The body of a refused login, without what differs by request (none expected).
async fn refused_body(r: reqwest::Response) -> (u16, String) {
    let status = r.status().as_u16();
    (status, r.text().await.unwrap())
}

#[actix_web::test]
async fn unknown_disabled_and_failing_accounts_get_byte_identical_answers() {
    let app = spawn_app().await;
    app.staff_token("officer1", "officer", Some("330702"), None)
        .await;
    app.staff_token("officer2", "officer", Some("330702"), None)
        .await;
    let id2 = staff_id(&app, "officer2").await;
    api::store::staff::set_disabled(app.state.store.conn(), id2, Some(chrono::Utc::now()))
        .await
        .unwrap();
    let unknown =
        refused_body(staff_login(&app, &app.address, "nobody", PASSWORD, None).await).await;
    let wrong =
        refused_body(staff_login(&app, &app.address, "officer1", "wrong password!!", None).await)
            .await;
    let disabled =
        refused_body(staff_login(&app, &app.address, "officer2", PASSWORD, None).await).await;
    assert_eq!(unknown.0, 401);
    assert_eq!(unknown, wrong);
    assert_eq!(unknown, disabled);
    // Throttled: the same 429 whether the account exists or not.
    let throttled = |user: &'static str| {
        let app = &app;
        async move {
            let mut last = None;
            for _ in 0..4 {
                last = Some(staff_login(app, &app.address, user, "wrong password!!", None).await);
            }
            let r = last.unwrap();
            let retry = r.headers().get("retry-after").cloned();
            (
                r.status().as_u16(),
                retry.is_some(),
                r.json::<Value>().await.unwrap()["type"].clone(),
            )
        }
    };
    let a = throttled("ghost").await;
    let b = throttled("officer1").await;
    assert_eq!(a, (429, true, json!("login_throttled")));
    assert_eq!(a, b);
}

#[actix_web::test]
async fn password_failures_slow_one_address_down_while_another_address_logs_in() {
    let app = spawn_app_with(&[("EPERMIT_TRUSTED_PROXIES", "127.0.0.1/32")]).await;
    app.staff_token("officer1", "officer", Some("330702"), None)
        .await;
    let attacker = Some("198.51.100.66");
    for _ in 0..3 {
        let r = staff_login(&app, &app.address, "officer1", "wrong password!!", attacker).await;
        assert_eq!(r.status(), 401);
    }
    let r = staff_login(&app, &app.address, "officer1", PASSWORD, attacker).await;
    assert_eq!(
        r.status(),
        429,
        "even the right password waits at that address"
    );
    assert_eq!(r.headers()["retry-after"], "1");
    let r = staff_login(
        &app,
        &app.address,
        "officer1",
        PASSWORD,
        Some("198.51.100.7"),
    )
    .await;
    assert_eq!(
        r.status(),
        200,
        "the officer's own address is not slowed down"
    );
    // The delay grows: 1 s after the third failure, 2 s after the fourth.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let r = staff_login(&app, &app.address, "officer1", "wrong password!!", attacker).await;
    assert_eq!(r.status(), 401);
    let r = staff_login(&app, &app.address, "officer1", PASSWORD, attacker).await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "2");
}

#[actix_web::test]
async fn an_untrusted_peers_forwarded_for_is_ignored_so_spoofing_does_not_escape_the_throttle() {
    let app = spawn_app().await;
    app.staff_token("officer1", "officer", Some("330702"), None)
        .await;
    for n in 0..3 {
        let spoofed = format!("203.0.113.{n}");
        let r = staff_login(
            &app,
            &app.address,
            "officer1",
            "wrong password!!",
            Some(&spoofed),
        )
        .await;
        assert_eq!(r.status(), 401);
    }
    let r = staff_login(
        &app,
        &app.address,
        "officer1",
        PASSWORD,
        Some("203.0.113.99"),
    )
    .await;
    assert_eq!(r.status(), 429, "every attempt came from the one peer");
}

#[actix_web::test]
async fn an_admin_unlock_lifts_the_throttle_of_every_address() {
    let app = spawn_app_with(&[("EPERMIT_TRUSTED_PROXIES", "127.0.0.1/32")]).await;
    let admin = app.staff_token("root", "admin", None, None).await;
    app.staff_token("officer1", "officer", Some("330702"), None)
        .await;
    let id = staff_id(&app, "officer1").await;
    for ip in ["198.51.100.1", "198.51.100.2"] {
        for _ in 0..3 {
            staff_login(&app, &app.address, "officer1", "wrong password!!", Some(ip)).await;
        }
        let r = staff_login(&app, &app.address, "officer1", PASSWORD, Some(ip)).await;
        assert_eq!(r.status(), 429);
    }
    let r = admin_post(&app, &admin, &format!("/v1/staff/{id}/unlock"), json!({})).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["failed_logins"], 0);
    for ip in ["198.51.100.1", "198.51.100.2"] {
        let r = staff_login(&app, &app.address, "officer1", PASSWORD, Some(ip)).await;
        assert_eq!(r.status(), 200, "{ip}");
    }
}

#[actix_web::test]
async fn an_account_crossing_the_failure_alarm_is_audited_once() {
    let app = spawn_app_with(&[
        ("EPERMIT_AUTH__FAILURE_ALARM", "4"),
        ("EPERMIT_AUTH__THROTTLE_AFTER_FAILURES", "100"),
    ])
    .await;
    app.staff_token("officer1", "officer", Some("330702"), None)
        .await;
    for _ in 0..6 {
        let r = staff_login(&app, &app.address, "officer1", "wrong password!!", None).await;
        assert_eq!(r.status(), 401);
    }
    let alarms = audit_actions(&app)
        .await
        .into_iter()
        .filter(|a| a == "staff.login_failures")
        .count();
    assert_eq!(alarms, 1);
}

#[actix_web::test]
async fn when_every_hash_slot_is_taken_a_login_waits_briefly_then_gets_busy() {
    let app = spawn_app_with(&[
        ("EPERMIT_AUTH__MAX_CONCURRENT_HASHES", "1"),
        ("EPERMIT_AUTH__HASH_WAIT_MS", "100"),
    ])
    .await;
    let slot = app.state.hash_slots.acquire().await.unwrap();
    let asked = Instant::now();
    let r = staff_login(&app, &app.address, "nobody", PASSWORD, None).await;
    assert!(
        asked.elapsed() < Duration::from_secs(2),
        "it waited only briefly: {:?}",
        asked.elapsed()
    );
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "1");
    assert_eq!(r.json::<Value>().await.unwrap()["type"], "busy");
    drop(slot);
    let r = staff_login(&app, &app.address, "nobody", PASSWORD, None).await;
    assert_eq!(r.status(), 401);
}
