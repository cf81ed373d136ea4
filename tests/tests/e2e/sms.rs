//! One-time codes that reach phones (issue 12 item 1): the real SMS gateway sender against a
//! local server playing the gateway, the development and production modes, `/metrics` on the
//! internal listener only.

use std::time::{Duration, Instant};

use epermit_tests::sms_gateway::{Answer, FakeGateway, GATEWAY_KEY};
use epermit_tests::{spawn_app, spawn_app_with, spawn_app_with_gateway};
use serde_json::Value;

const PHONE: &str = "13912345678";

#[actix_web::test]
async fn a_resident_logs_in_with_the_code_the_sms_gateway_received() {
    let gateway = FakeGateway::start().await;
    let app = spawn_app_with_gateway(&gateway, &[]).await;
    let r = app.ask_code("+86 139-1234-5678").await;
    assert_eq!(r.status(), 202);
    let received = gateway.received();
    assert_eq!(received.len(), 1);
    assert_eq!(
        received[0].authorization.as_deref(),
        Some(&format!("Bearer {GATEWAY_KEY}")[..])
    );
    assert_eq!(received[0].body["phone"], PHONE, "the number is normalised");
    assert!(received[0].idempotency_key.is_some());
    let code = gateway.last_code_for(PHONE).expect("a code in the message");
    assert!(
        !app.outbox().exists(),
        "with a gateway nothing goes to the outbox"
    );
    let r = app.log_in(PHONE, &code).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
}

#[actix_web::test]
async fn a_gateway_5xx_then_success_delivers_the_code_once_retried() {
    let gateway = FakeGateway::start().await;
    gateway.answer(&[Answer::Status(503), Answer::Status(200)]);
    let app = spawn_app_with_gateway(&gateway, &[]).await;
    assert_eq!(app.ask_code(PHONE).await.status(), 202);
    let received = gateway.received();
    assert_eq!(received.len(), 2, "one retry");
    assert_eq!(
        received[0].body["message_id"],
        received[1].body["message_id"]
    );
    assert_eq!(received[0].code(), received[1].code());
    let code = gateway.last_code_for(PHONE).unwrap();
    assert_eq!(app.log_in(PHONE, &code).await.status(), 200);
}

#[actix_web::test]
async fn a_gateway_that_keeps_failing_is_503_sms_unavailable_leaves_no_usable_code_and_is_counted()
{
    let gateway = FakeGateway::start().await;
    gateway.answer(&[Answer::Status(500)]);
    let app = spawn_app_with_gateway(
        &gateway,
        &[
            ("EPERMIT_SMS_RETRIES", "2"),
            ("EPERMIT_OTP__COOL_DOWN_SECS", "60"),
        ],
    )
    .await;
    let r = app.ask_code(PHONE).await;
    assert_eq!(r.status(), 503);
    assert!(r.headers().contains_key("retry-after"));
    let problem: Value = r.json().await.unwrap();
    assert_eq!(problem["type"], "sms_unavailable");
    assert_eq!(
        gateway.received().len(),
        3,
        "the first attempt and two retries"
    );
    // The code the gateway saw (and might have delivered late) cannot be used.
    let code = gateway.last_code_for(PHONE).unwrap();
    let r = app.log_in(PHONE, &code).await;
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["type"], "code_expired");
    // The failed send did not start the cool-down: once the gateway is back, a code comes at once.
    gateway.answer(&[Answer::Status(200)]);
    let r = app.ask_code(PHONE).await;
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
    let code = gateway.last_code_for(PHONE).unwrap();
    assert_eq!(app.log_in(PHONE, &code).await.status(), 200);
    // The outage shows on a dashboard: one code failed, one was sent.
    let metrics = epermit_tests::metrics_text(&app).await;
    for line in [
        "epermit_login_codes_total{outcome=\"failed\"} 1",
        "epermit_login_codes_total{outcome=\"sent\"} 1",
    ] {
        assert!(metrics.contains(line), "{line} in {metrics}");
    }
}

#[actix_web::test]
async fn a_gateway_that_does_not_answer_is_503_within_timeout_times_attempts() {
    let gateway = FakeGateway::start().await;
    gateway.answer(&[Answer::Sleep(Duration::from_secs(3))]);
    let app = spawn_app_with_gateway(
        &gateway,
        &[
            ("EPERMIT_SMS_TIMEOUT_MS", "400"),
            ("EPERMIT_SMS_RETRIES", "1"),
        ],
    )
    .await;
    let started = Instant::now();
    let r = app.ask_code(PHONE).await;
    let took = started.elapsed();
    assert_eq!(r.status(), 503);
    assert_eq!(r.json::<Value>().await.unwrap()["type"], "sms_unavailable");
    assert_eq!(gateway.received().len(), 2);
    // 2 attempts × 400 ms + one 100 ms wait, plus slack for the request itself.
    assert!(
        took < Duration::from_millis(2 * 400 + 100 + 700),
        "took {took:?}"
    );
    let code = gateway.last_code_for(PHONE).unwrap();
    assert_eq!(app.log_in(PHONE, &code).await.status(), 400);
}

#[actix_web::test]
async fn a_gateway_4xx_is_not_retried_and_is_503_sms_unavailable() {
    let gateway = FakeGateway::start().await;
    gateway.answer(&[Answer::Status(400), Answer::Status(200)]);
    let app = spawn_app_with_gateway(&gateway, &[("EPERMIT_SMS_RETRIES", "3")]).await;
    let r = app.ask_code(PHONE).await;
    assert_eq!(r.status(), 503);
    assert_eq!(r.json::<Value>().await.unwrap()["type"], "sms_unavailable");
    assert_eq!(gateway.received().len(), 1);
}

#[actix_web::test]
async fn a_wrong_gateway_key_is_a_4xx_and_the_key_is_never_in_the_answer() {
    let gateway = FakeGateway::start().await;
    let app = spawn_app_with(&[
        ("EPERMIT_SMS_GATEWAY_URL", &gateway.url),
        ("EPERMIT_SMS_API_KEY", "wrong-key-s3cr3t"),
    ])
    .await;
    let r = app.ask_code(PHONE).await;
    assert_eq!(r.status(), 503);
    let text = r.text().await.unwrap();
    assert!(!text.contains("s3cr3t"), "{text}");
    assert_eq!(gateway.received().len(), 1, "a 401 is not retried");
}

#[actix_web::test]
async fn production_serves_metrics_only_on_the_internal_listener() {
    let gateway = FakeGateway::start().await;
    let app = spawn_app_with_gateway(
        &gateway,
        &[
            ("EPERMIT_MODE", "production"),
            ("EPERMIT_METRICS_BIND", "127.0.0.1:0"),
            ("EPERMIT_OTP__COOL_DOWN_SECS", "60"),
        ],
    )
    .await;
    let r = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 404, "no metrics on the public listener");
    let internal = app.metrics_address.clone().expect("an internal listener");
    let r = app
        .client
        .get(format!("{internal}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    assert!(text.contains("# TYPE"), "{text}");
    let r = app
        .client
        .get(format!("{internal}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "the internal listener serves metrics only");
    // Production logs in through the gateway and writes no outbox.
    assert_eq!(app.ask_code(PHONE).await.status(), 202);
    let code = gateway.last_code_for(PHONE).unwrap();
    assert_eq!(app.log_in(PHONE, &code).await.status(), 200);
    assert!(!app.outbox().exists());
}

#[actix_web::test]
async fn development_keeps_metrics_public_unless_a_metrics_bind_is_set() {
    let app = spawn_app().await;
    assert!(app.metrics_address.is_none());
    let r = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 200);

    let app = spawn_app_with(&[("EPERMIT_METRICS_BIND", "127.0.0.1:0")]).await;
    let r = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let internal = app.metrics_address.clone().unwrap();
    let r = app
        .client
        .get(format!("{internal}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[actix_web::test]
async fn production_refuses_to_start_without_a_gateway_naming_the_setting() {
    for (env, missing) in [
        (vec![], "EPERMIT_SMS_GATEWAY_URL"),
        (
            vec![("EPERMIT_SMS_GATEWAY_URL", "https://sms.example.cn/v1/sms")],
            "EPERMIT_SMS_API_KEY",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut vars = vec![
            ("EPERMIT_MODE".to_owned(), "production".to_owned()),
            ("EPERMIT_BIND".to_owned(), "127.0.0.1:0".to_owned()),
            ("EPERMIT_METRICS_BIND".to_owned(), "127.0.0.1:0".to_owned()),
            (
                "EPERMIT_DATA_DIR".to_owned(),
                dir.path().display().to_string(),
            ),
        ];
        vars.extend(env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        let settings = api::config::Settings::load_from(None, vars).unwrap();
        let err = match api::startup::Application::build(settings).await {
            Ok(_) => panic!("production started without {missing}"),
            Err(e) => e.to_string(),
        };
        assert!(err.contains(missing), "{err}");
        assert!(
            std::fs::read_dir(dir.path()).unwrap().next().is_none(),
            "refused before touching the data directory"
        );
    }
}
