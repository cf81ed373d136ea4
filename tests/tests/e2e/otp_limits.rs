//! Codes that cannot be guessed or bombed (issue 12 item 2): a phone's wrong-guess budget holds
//! across resends, a resend cool-down, daily caps per phone and per client, PRC mobile numbers.

use epermit_tests::{spawn_app, spawn_app_with};
use serde_json::{Value, json};

const PHONE: &str = "13712345678";

/// A code that is not `code`.
fn other_than(code: &str) -> &'static str {
    if code == "000000" { "111111" } else { "000000" }
}

fn retry_after(r: &reqwest::Response) -> u64 {
    r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[actix_web::test]
async fn a_resend_does_not_reset_the_phones_wrong_guess_budget() {
    // At most otp.max_attempts (5) wrong guesses per phone per code lifetime, however many codes.
    let app = spawn_app_with(&[
        ("EPERMIT_RATE_LIMITS__LOGIN__PER_IP", "100"),
        ("EPERMIT_RATE_LIMITS__LOGIN__PER_ACCOUNT", "100"),
        ("EPERMIT_RATE_LIMITS__OTP__PER_IP", "100"),
        ("EPERMIT_RATE_LIMITS__OTP__PER_ACCOUNT", "100"),
    ])
    .await;
    for round in 0..2 {
        assert_eq!(app.ask_code(PHONE).await.status(), 202);
        let code = app.last_code_for(PHONE).unwrap();
        for guess in 0..2 {
            let r = app.log_in(PHONE, other_than(&code)).await;
            assert_eq!(r.status(), 400, "round {round} guess {guess}");
            let left = r.json::<Value>().await.unwrap()["attempts_left"].clone();
            assert_eq!(left, json!(5 - (round * 2 + guess + 1)));
        }
    }
    // Third code: one guess left; the fifth wrong guess spends the budget.
    assert_eq!(app.ask_code(PHONE).await.status(), 202);
    let code = app.last_code_for(PHONE).unwrap();
    let r = app.log_in(PHONE, other_than(&code)).await;
    assert_eq!(r.status(), 429);
    assert_eq!(
        r.json::<Value>().await.unwrap()["type"],
        "too_many_attempts"
    );
    // A fresh code, even the right one, is refused until the window ends.
    assert_eq!(app.ask_code(PHONE).await.status(), 202);
    let code = app.last_code_for(PHONE).unwrap();
    let r = app.log_in(PHONE, &code).await;
    assert_eq!(r.status(), 429);
    let wait = retry_after(&r);
    assert!((250..=300).contains(&wait), "Retry-After {wait}");
    assert_eq!(
        r.json::<Value>().await.unwrap()["type"],
        "too_many_attempts"
    );
}

#[actix_web::test]
async fn wrong_guesses_are_capped_per_phone_per_day() {
    let app = spawn_app_with(&[
        ("EPERMIT_OTP__TTL_SECS", "1"),
        ("EPERMIT_OTP__MAX_ATTEMPTS", "2"),
        ("EPERMIT_OTP__DAILY_MAX_ATTEMPTS", "3"),
    ])
    .await;
    assert_eq!(app.ask_code(PHONE).await.status(), 202);
    let code = app.last_code_for(PHONE).unwrap();
    assert_eq!(app.log_in(PHONE, other_than(&code)).await.status(), 400);
    assert_eq!(app.log_in(PHONE, other_than(&code)).await.status(), 429);
    // The one-second window ends; the day's budget has one guess left.
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    assert_eq!(app.ask_code(PHONE).await.status(), 202);
    let code = app.last_code_for(PHONE).unwrap();
    let r = app.log_in(PHONE, other_than(&code)).await;
    assert_eq!(r.status(), 429);
    assert!(retry_after(&r) > 23 * 3600, "until the day's window ends");
}

#[actix_web::test]
async fn a_second_code_within_the_cool_down_is_429_code_cool_down() {
    let app = spawn_app_with(&[("EPERMIT_OTP__COOL_DOWN_SECS", "60")]).await;
    let before = chrono::Utc::now();
    let r = app.ask_code(PHONE).await;
    assert_eq!(r.status(), 202);
    let sent: Value = r.json().await.unwrap();
    assert_eq!(sent["sent"], true);
    assert_eq!(sent["expires_in"], 300);
    assert_eq!(sent["retry_after_secs"], 60);
    let next: chrono::DateTime<chrono::Utc> =
        sent["next_code_at"].as_str().unwrap().parse().unwrap();
    let after = (next - before).num_seconds();
    assert!((59..=61).contains(&after), "next code in {after} s");

    let r = app.ask_code(PHONE).await;
    assert_eq!(r.status(), 429);
    let wait = retry_after(&r);
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
    assert_eq!(r.json::<Value>().await.unwrap()["type"], "code_cool_down");
    // Another phone is not held up.
    assert_eq!(app.ask_code("13712345679").await.status(), 202);
}

#[actix_web::test]
async fn codes_to_one_phone_are_capped_per_day_with_429_daily_limit() {
    let app = spawn_app_with(&[
        ("EPERMIT_OTP__DAILY_PER_PHONE", "3"),
        ("EPERMIT_RATE_LIMITS__OTP__PER_IP", "100"),
        ("EPERMIT_RATE_LIMITS__OTP__PER_ACCOUNT", "100"),
    ])
    .await;
    for _ in 0..3 {
        assert_eq!(app.ask_code(PHONE).await.status(), 202);
    }
    let r = app.ask_code(PHONE).await;
    assert_eq!(r.status(), 429);
    assert!(retry_after(&r) > 23 * 3600);
    assert_eq!(r.json::<Value>().await.unwrap()["type"], "daily_limit");
    assert_eq!(app.ask_code("13712345679").await.status(), 202);
}

#[actix_web::test]
async fn codes_asked_for_by_one_client_are_capped_per_day_with_429_daily_limit() {
    let app = spawn_app_with(&[
        ("EPERMIT_OTP__DAILY_PER_CLIENT", "3"),
        ("EPERMIT_RATE_LIMITS__OTP__PER_IP", "100"),
        ("EPERMIT_RATE_LIMITS__OTP__PER_ACCOUNT", "100"),
    ])
    .await;
    for i in 0..3 {
        assert_eq!(app.ask_code(&format!("1371234560{i}")).await.status(), 202);
    }
    let r = app.ask_code("13712345609").await;
    assert_eq!(r.status(), 429);
    assert!(retry_after(&r) > 23 * 3600);
    assert_eq!(r.json::<Value>().await.unwrap()["type"], "daily_limit");
}

#[actix_web::test]
async fn only_prc_mobile_numbers_get_a_code() {
    let app = spawn_app().await;
    for bad in [
        "+852 6123 4567",
        "0579-82345678",
        "12812345678",
        "1381234567８",
        "+1 415 555 0100",
    ] {
        let r = app.ask_code(bad).await;
        assert_eq!(r.status(), 400, "{bad}");
        let p: Value = r.json().await.unwrap();
        assert_eq!(
            (p["type"].as_str(), p["field"].as_str()),
            (Some("invalid_phone"), Some("phone"))
        );
    }
    assert_eq!(app.ask_code("0086 137 1234 5678").await.status(), 202);
    assert!(
        app.last_code_for(PHONE).is_some(),
        "stored under the normalised number"
    );
}
