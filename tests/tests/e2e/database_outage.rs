//! With PostgreSQL gone — its link cut (a crashed server, a partition) or frozen (a hung server,
//! `kill -STOP`) — the database's circuit breaker opens: requests are answered 503
//! `service_unavailable` at once instead of each waiting for a connection until the pool's
//! acquire timeout, and `/readyz` says the database is down at once; once the database answers
//! again the breaker's background probe closes it and the same process serves reads and writes
//! again (issue 14 item 1).
//!
//! The acquire timeout is long here (30 s), and each bound a third of it: without the breaker
//! every request would wait the whole timeout. Nothing here is a performance figure; the
//! latencies measured are printed. These tests need PostgreSQL (`EPERMIT_TEST_DATABASE_URL`).

use std::time::{Duration, Instant};

use epermit_tests::cut_link::CutLink;
use epermit_tests::fixtures::issued_permit;
use epermit_tests::{TestApp, metric, spawn_app_behind_link};
use serde_json::Value;

/// `database_timeout_ms` in these tests.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest any answer may take while the database is out.
const BOUND: Duration = Duration::from_secs(10);
/// Requests measured with the breaker open.
const REQUESTS: usize = 20;

#[derive(Clone, Copy, Debug)]
enum Fault {
    Cut,
    Frozen,
}

/// `GET /v1/permits/me`: its status, problem type and latency.
async fn my_permit(app: &TestApp, token: &str) -> (u16, Value, Duration) {
    let started = Instant::now();
    let r = app
        .client
        .get(app.url("/v1/permits/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let retry_after = r.headers().contains_key("retry-after");
    let body: Value = r.json().await.unwrap_or(Value::Null);
    let took = started.elapsed();
    if status == 503 {
        assert!(retry_after, "a 503 without Retry-After: {body}");
    }
    (status, body, took)
}

async fn readyz(app: &TestApp) -> (u16, Value, Duration) {
    let started = Instant::now();
    let r = app.client.get(app.url("/readyz")).send().await.unwrap();
    let status = r.status().as_u16();
    let body = r.json::<Value>().await.unwrap();
    (status, body, started.elapsed())
}

async fn outage(fault: Fault) {
    if std::env::var("EPERMIT_TEST_DATABASE_URL").is_err() {
        eprintln!("skipped: EPERMIT_TEST_DATABASE_URL is not set (no PostgreSQL to lose)");
        return;
    }
    let timeout = ACQUIRE_TIMEOUT.as_millis().to_string();
    let (app, link) = spawn_app_behind_link(&[
        ("EPERMIT_DATABASE_TIMEOUT_MS", timeout.as_str()),
        ("EPERMIT_DATABASE_BREAKER__BACKOFF_MS", "100"),
        ("EPERMIT_DATABASE_BREAKER__MAX_BACKOFF_MS", "400"),
    ])
    .await;
    let link: CutLink = link.expect("PostgreSQL behind a link");
    let h = issued_permit(&app, "13900000061", "33070219900101126").await;
    let (status, body, _) = readyz(&app).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["database_breaker"], "closed", "{body}");
    assert_eq!((my_permit(&app, &h.token).await).0, 200);

    match fault {
        Fault::Cut => link.cut(),
        Fault::Frozen => link.freeze(),
    }

    // The first request finds the pooled connections dead (or hung): the breaker probes a
    // fresh connection, which fails (or times out), opens, and the request is answered.
    let (status, body, first) = my_permit(&app, &h.token).await;
    assert_eq!(status, 503, "{fault:?}: {body}");
    assert_eq!(body["type"], "service_unavailable", "{body}");
    assert!(first < BOUND, "{fault:?}: the first 503 took {first:?}");
    let (status, body, ready_took) = readyz(&app).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["database"], "down", "{body}");
    assert_ne!(body["database_breaker"], "closed", "{body}");
    assert!(ready_took < BOUND, "{fault:?}: /readyz took {ready_took:?}");
    let mut down = Vec::with_capacity(REQUESTS);
    for i in 0..REQUESTS {
        let (status, body, took) = my_permit(&app, &h.token).await;
        assert_eq!(status, 503, "{fault:?} request {i}: {body}");
        assert_eq!(body["type"], "service_unavailable");
        assert!(took < BOUND, "{fault:?} request {i} took {took:?}");
        down.push(took);
    }
    down.sort();
    assert!(
        metric(
            &app,
            "epermit_database_breaker_transitions_total{to=\"open\"}"
        )
        .await
            >= 1.0
    );

    link.restore().await;
    let back = Instant::now();
    let recovered = loop {
        let (status, body, _) = readyz(&app).await;
        if status == 200 {
            assert_eq!(body["status"], "ready", "{body}");
            assert_eq!(body["database_breaker"], "closed", "{body}");
            break back.elapsed();
        }
        assert!(
            back.elapsed() < Duration::from_secs(20),
            "{fault:?}: still down 20 s after the database's return: {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    // The same process reads and writes again.
    let (status, body, _) = my_permit(&app, &h.token).await;
    assert_eq!(status, 200, "{fault:?} after the return: {body}");
    issued_permit(&app, "13900000062", "33070219900101134").await;
    assert_eq!(
        metric(&app, "epermit_database_breaker_state").await,
        0.0,
        "closed"
    );
    eprintln!(
        "figures {fault:?}: first 503 in {first:?}; with the breaker open 503 in {:?} (median) \
         to {:?} (max); /readyz {ready_took:?}; ready {recovered:?} after the return",
        down[REQUESTS / 2],
        down[REQUESTS - 1]
    );
}

#[actix_web::test]
async fn with_postgres_cut_requests_get_503_at_once_and_the_service_reconnects_by_itself() {
    outage(Fault::Cut).await;
}

#[actix_web::test]
async fn with_postgres_hung_requests_get_503_at_once_and_the_service_reconnects_by_itself() {
    outage(Fault::Frozen).await;
}
