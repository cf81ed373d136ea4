//! With Redis gone — its link cut, or Redis hung (the link frozen, as `kill -STOP` freezes it) —
//! the shared store's circuit breaker opens (once its probe confirms the failed call):
//! `POST /v1/verify` answers about as fast as with Redis up (its rate limit counted per instance,
//! from the hits this instance counted while Redis was up, not from zero), `/readyz` says
//! `degraded` at once, login codes answer 503 at once; once Redis answers again the breaker closes
//! and Redis holds the truth again (a code sent before the outage logs in, the counters go on from
//! where Redis left them).
//!
//! Timing bounds are derived from a baseline measured in the same test, never absolute: the
//! outage median within twice the normal one plus [`MEDIAN_SLACK`], the 90th percentile within
//! twice the normal one plus [`EACH_SLACK`], and no answer later than the slowest normal one
//! plus one call timeout (the old behaviour was a wait for Redis in *every* request). These
//! tests need Redis (`EPERMIT_TEST_REDIS_URL`).

use std::time::{Duration, Instant};

use api::shared_state::lease::lease_size;
use epermit_tests::cut_link::CutLink;
use epermit_tests::fixtures::{credential, issued_permit};
use epermit_tests::{
    TestApp, metric_value as metric, metrics_text as metrics, spawn_app_behind_redis_link,
};
use serde_json::{Value, json};

/// Verifications measured with Redis up, and again with it down.
const BATCH: usize = 50;
/// The verifier's limit per minute in these tests (`rate_limits.verify.per_account`): room for
/// the hits with Redis up, those with it down, and some.
const LIMIT: usize = 2 * BATCH + 20;
/// Added to twice the normal median (scheduling noise on a shared machine).
const MEDIAN_SLACK: Duration = Duration::from_millis(5);
/// Added to twice the normal 90th percentile, and to the bounds of single answers.
const EACH_SLACK: Duration = Duration::from_millis(50);
/// The call timeout here (`shared_store.call_timeout_ms`; 250 ms by default): longer, so that a
/// machine busy with other builds does not open the breaker while Redis is up.
const CALL_TIMEOUT: Duration = Duration::from_millis(1000);
/// The default readiness bound (`shared_store.readiness_timeout_ms`), which these tests keep.
const READINESS_TIMEOUT: Duration = Duration::from_millis(50);

const PHONE: &str = "13900000051";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    Cut,
    Frozen,
}

/// The `p`-th percentile (nearest rank) of `samples`.
fn percentile(samples: &[Duration], p: usize) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)]
}

fn median(samples: &[Duration]) -> Duration {
    percentile(samples, 50)
}

async fn verify_once(app: &TestApp, token: &str, qr: &str) -> (u16, Duration) {
    let started = Instant::now();
    let r = app
        .client
        .post(app.url("/v1/verify"))
        .bearer_auth(token)
        .json(&json!({ "qr": qr }))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let _ = r.bytes().await;
    (status, started.elapsed())
}

/// `n` verifications, each 200; their latencies.
async fn verifications(app: &TestApp, token: &str, qr: &str, n: usize) -> Vec<Duration> {
    let mut samples = Vec::with_capacity(n);
    for i in 0..n {
        let (status, took) = verify_once(app, token, qr).await;
        assert_eq!(status, 200, "verification {i}");
        samples.push(took);
    }
    samples
}

/// Verifications until one is limited (429); how many were allowed before it.
async fn allowed_until_limited(app: &TestApp, token: &str, qr: &str) -> usize {
    for allowed in 0..=LIMIT {
        let (status, _) = verify_once(app, token, qr).await;
        match status {
            200 => continue,
            429 => return allowed,
            other => panic!("verification answered {other}"),
        }
    }
    panic!("no 429 after {} verifications", LIMIT + 1);
}

async fn readyz(app: &TestApp) -> (Value, Duration) {
    let started = Instant::now();
    let r = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 200, "the database is up");
    let body = r.json::<Value>().await.unwrap();
    (body, started.elapsed())
}

/// Polls `/readyz` until it says `ready` (10 s at most); the latency of that answer.
async fn ready(app: &TestApp) -> Duration {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (body, took) = readyz(app).await;
        if body["status"] == "ready" {
            assert_eq!(body["shared_store"]["breaker"], "closed", "{body}");
            return took;
        }
        assert!(Instant::now() < deadline, "not ready within 10 s: {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The whole story for one fault; prints the figures measured.
async fn outage(fault: Fault) {
    let limit = LIMIT.to_string();
    let call_timeout = CALL_TIMEOUT.as_millis().to_string();
    let Some((app, link)) = spawn_app_behind_redis_link(&[
        (
            "EPERMIT_SHARED_STORE__CALL_TIMEOUT_MS",
            call_timeout.as_str(),
        ),
        ("EPERMIT_RATE_LIMITS__VERIFY__PER_IP", "100000"),
        ("EPERMIT_RATE_LIMITS__VERIFY__PER_ACCOUNT", limit.as_str()),
        ("EPERMIT_SHARED_STORE__BREAKER_BACKOFF_MS", "100"),
        ("EPERMIT_SHARED_STORE__BREAKER_MAX_BACKOFF_MS", "400"),
    ])
    .await
    else {
        eprintln!("skipped: EPERMIT_TEST_REDIS_URL is not set (no Redis to lose)");
        return;
    };
    let h = issued_permit(&app, "13900000050", "33070219900101125").await;
    let qr = credential(&app, &h.token).await;
    let school = app
        .staff_token("school", "verifier", None, Some("school"))
        .await;
    assert_eq!(app.ask_code(PHONE).await.status(), 202);
    let code = app.last_code_for(PHONE).unwrap();

    // With Redis up.
    let normal = verifications(&app, &school, &qr, BATCH).await;
    let ready_normal = ready(&app).await;
    assert_eq!(
        metric(
            &metrics(&app).await,
            "epermit_shared_store_breaker_transitions_total{to=\"open\"}"
        ),
        0.0,
        "the breaker opened with Redis up: the machine is too busy for the call timeout"
    );
    let normal_median = median(&normal);
    let normal_p90 = percentile(&normal, 90);
    let normal_max = *normal.iter().max().unwrap();
    let each_bound = normal_max * 2 + EACH_SLACK;

    cut_or_freeze(&link, fault);

    // The breaker is still closed: readiness asks Redis, within its own bound.
    let (body, ready_first) = readyz(&app).await;
    assert_eq!(body["status"], "degraded", "{body}");
    assert_eq!(body["shared_store"]["state"], "down", "{body}");
    assert!(
        ready_first < READINESS_TIMEOUT + ready_normal * 2 + EACH_SLACK,
        "{fault:?}: the first /readyz took {ready_first:?} (normal {ready_normal:?})"
    );
    // A hung Redis costs one call timeout; the breaker's probe confirms it, and it opens.
    let (status, first) = verify_once(&app, &school, &qr).await;
    assert_eq!(status, 200);
    assert!(
        first < CALL_TIMEOUT + each_bound,
        "{fault:?}: the first verification took {first:?}"
    );
    let opened = Instant::now();
    while readyz(&app).await.0["shared_store"]["breaker"] == "closed" {
        assert!(
            opened.elapsed() < Duration::from_secs(10),
            "{fault:?}: the breaker did not open"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let down = verifications(&app, &school, &qr, BATCH).await;
    let down_median = median(&down);
    let down_p90 = percentile(&down, 90);
    let down_max = *down.iter().max().unwrap();
    assert!(
        down_median <= normal_median * 2 + MEDIAN_SLACK,
        "{fault:?}: median {down_median:?} with Redis down, {normal_median:?} with it up"
    );
    assert!(
        down_p90 <= normal_p90 * 2 + EACH_SLACK,
        "{fault:?}: 90th percentile {down_p90:?} with Redis down, {normal_p90:?} with it up"
    );
    assert!(
        down_max < normal_max + CALL_TIMEOUT,
        "{fault:?}: slowest {down_max:?} with Redis down, {normal_max:?} with it up"
    );
    let (body, ready_open) = readyz(&app).await;
    assert_eq!(body["status"], "degraded", "{body}");
    assert_ne!(body["shared_store"]["breaker"], "closed", "{body}");
    assert!(
        ready_open < ready_normal * 2 + EACH_SLACK,
        "{fault:?}: /readyz took {ready_open:?} with the breaker open (normal {ready_normal:?})"
    );

    // Login codes need the shared truth: 503 at once, and the code is kept.
    let started = Instant::now();
    let r = app.log_in(PHONE, &code).await;
    let login_took = started.elapsed();
    assert_eq!(r.status(), 503);
    assert!(r.headers().contains_key("retry-after"));
    assert!(
        login_took <= each_bound,
        "{fault:?}: a login took {login_took:?} with Redis down"
    );

    // The limit holds on this instance: the hits counted here with Redis up and during the
    // outage, the rest allowed (a counter started afresh at the outage would allow more).
    let allowed = allowed_until_limited(&app, &school, &qr).await;
    assert_eq!(allowed, LIMIT - 2 * BATCH - 1, "{fault:?}: local counter");

    link.restore().await;
    ready(&app).await;
    // Redis again: the code sent before the outage logs in; the verifier's count goes on from
    // Redis' (the baseline's hits), not from the local one (at the limit) nor from zero. After a
    // freeze, the call held in the link reached Redis once it thawed and its answer was lost:
    // its lease (one at most, `api::shared_state::lease`) is counted there and spent by nobody.
    let r = app.log_in(PHONE, &code).await;
    assert_eq!(r.status(), 200, "{fault:?}: the code kept in Redis");
    let allowed = allowed_until_limited(&app, &school, &qr).await;
    let held = match fault {
        Fault::Cut => 1,
        Fault::Frozen => lease_size(u32::try_from(LIMIT).unwrap()) as usize,
    };
    assert!(
        (LIMIT - BATCH - held..=LIMIT - BATCH).contains(&allowed),
        "{fault:?}: {allowed} allowed after Redis' return"
    );
    let metrics = metrics(&app).await;
    assert_eq!(
        metric(&metrics, "epermit_shared_store_breaker_state"),
        0.0,
        "closed"
    );
    assert!(
        metric(
            &metrics,
            "epermit_shared_store_breaker_transitions_total{to=\"open\"}"
        ) >= 1.0
    );
    assert!(
        metric(
            &metrics,
            "epermit_shared_store_breaker_transitions_total{to=\"closed\"}"
        ) >= 1.0
    );
    eprintln!(
        "figures {fault:?}: verify median normal {normal_median:?} down {down_median:?} \
         (p90 {normal_p90:?} / {down_p90:?}, max {normal_max:?} / {down_max:?}); first call \
         down {first:?}; readyz normal \
         {ready_normal:?}, first down {ready_first:?}, breaker open {ready_open:?}; login 503 in \
         {login_took:?}"
    );
}

fn cut_or_freeze(link: &CutLink, fault: Fault) {
    match fault {
        Fault::Cut => link.cut(),
        Fault::Frozen => link.freeze(),
    }
}

#[actix_web::test]
async fn with_redis_cut_verification_stays_fast_limits_hold_per_instance_and_redis_returns() {
    outage(Fault::Cut).await;
}

#[actix_web::test]
async fn with_redis_hung_verification_stays_fast_limits_hold_per_instance_and_redis_returns() {
    outage(Fault::Frozen).await;
}
