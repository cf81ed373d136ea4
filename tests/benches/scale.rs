//! A city's worth of data (issue 14, item 5): p50/p99 of the calls that read or write one
//! resident's rows — `POST /v1/verify`, approving an application, the resident report, the
//! officer queue, the police look-up — at 10 k and 1 M seeded residents, side by side with the
//! ratio (goal: the large scale within 1.2× of the small one).
//!
//! ```text
//! EPERMIT_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
//!     cargo bench -p epermit-tests --bench scale
//! cargo bench -p epermit-tests --bench scale          # SQLite
//! ```
//!
//! Each scale runs in its own service with its own database (created and dropped, as in the
//! tests), seeded by `epermit seed`'s own code ([`api::commands::seed::seed`]): residents with
//! one to three registrations, 96 % holding a permit (1 % suspended, 0.5 % revoked), 2 % with a
//! pending application. Requests are sent one at a time, each timed from send to the last byte:
//! verify a random seeded permit's QR (a school verifier), approve a pending application (the
//! officer of its district; oldest first), the report of a random seeded holder (a resident
//! token minted for them), the officer queue (`GET /v1/applications?status=submitted`, an
//! officer of a random district), the police look-up of a random seeded permit number.
//!
//! Knobs (environment): `SCALE_BENCH_SCALES` (comma-separated resident counts; default
//! `10000,1000000`), `SAMPLES` (200 per call; approvals at most the pending applications).

use std::time::{Duration, Instant};

use api::auth::jwt::{Principal, Role, Subject};
use api::commands::seed::{self, Plan};
use api::store::status::layout::Rng;
use epermit_tests::fixtures::post;
use epermit_tests::{TestApp, spawn_app_with};
use policy::District;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;

fn knob(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Median and p99 of `samples`, in milliseconds.
fn stats(samples: &mut [Duration]) -> (f64, f64) {
    if samples.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    samples.sort();
    let at = |q: f64| {
        let i = ((samples.len() as f64 - 1.0) * q).round() as usize;
        samples[i].as_secs_f64() * 1e3
    };
    (at(0.5), at(0.99))
}

async fn rows(app: &TestApp, sql: String) -> Vec<sea_orm::QueryResult> {
    let db = app.state.store.conn();
    db.query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect("query")
}

/// One timed request: its status must be `want`.
async fn timed(times: &mut Vec<Duration>, want: u16, request: reqwest::RequestBuilder) {
    let t = Instant::now();
    let r = request.send().await.expect("request");
    let status = r.status();
    let body = r.bytes().await.expect("body");
    times.push(t.elapsed());
    assert_eq!(
        status.as_u16(),
        want,
        "{}",
        String::from_utf8_lossy(&body[..body.len().min(300)])
    );
}

/// One scale's results: (name, p50, p99) per call.
struct Row {
    residents: u64,
    seed_s: f64,
    calls: Vec<(&'static str, (f64, f64), usize)>,
}

async fn measure(residents: u64) -> Row {
    let app = spawn_app_with(&[
        ("EPERMIT_RATE_LIMITS__VERIFY__PER_IP", "100000000"),
        ("EPERMIT_RATE_LIMITS__VERIFY__PER_ACCOUNT", "100000000"),
        ("EPERMIT_RATE_LIMITS__POLICE_LOOKUPS_PER_HOUR", "100000000"),
    ])
    .await;
    let state = &app.state;
    let started = Instant::now();
    let report = seed::seed(
        &state.store,
        &state.keys,
        &state.lists,
        state.settings.status_shard_entries,
        &Plan {
            residents,
            append: false,
        },
    )
    .await
    .expect("seed");
    let seed_s = started.elapsed().as_secs_f64();
    println!(
        "{}: {residents} residents, {} permits, {} pending, {} shards: seeded in {seed_s:.1} s",
        app.backend(),
        report.permits,
        report.pending,
        report.shards
    );
    let samples = knob("SAMPLES", 200) as usize;
    let mut rng = Rng(0x5eed ^ residents);
    let school = app
        .staff_token("school-bench", "verifier", None, Some("school"))
        .await;
    let police = app
        .staff_token("police-bench", "verifier", None, Some("police"))
        .await;
    let mut officers = Vec::new();
    for d in District::ALL {
        let code = d.code().to_string();
        officers.push((
            code.clone(),
            app.staff_token(&format!("officer-{code}"), "officer", Some(&code), None)
                .await,
        ));
    }

    // Random seeded permits that are active: (number, credential, resident).
    let mut picked = Vec::new();
    while picked.len() < samples {
        let ids: Vec<String> = (0..samples)
            .map(|_| (1 + rng.below(residents)).to_string())
            .collect();
        for r in rows(
            &app,
            format!(
                "SELECT number, credential, resident_id FROM permits WHERE status = 'active' \
                 AND resident_id IN ({})",
                ids.join(",")
            ),
        )
        .await
        {
            let number: String = r.try_get("", "number").expect("number");
            let credential: String = r.try_get("", "credential").expect("credential");
            let resident: i64 = r.try_get("", "resident_id").expect("resident");
            picked.push((number, credential, resident));
        }
    }
    picked.truncate(samples);

    let mut verify = Vec::new();
    for (_, qr, _) in &picked {
        let request = app
            .client
            .post(app.url("/v1/verify"))
            .bearer_auth(&school)
            .json(&json!({ "qr": qr }));
        timed(&mut verify, 200, request).await;
    }

    let mut report_times = Vec::new();
    let now = chrono::Utc::now();
    for (_, _, resident) in &picked {
        let principal = Principal {
            subject: Subject::Resident(*resident),
            role: Role::Resident,
        };
        let token = state
            .jwt
            .issue(principal, now, chrono::Duration::minutes(30))
            .expect("token");
        let request = app
            .client
            .get(app.url("/v1/permits/me/report"))
            .bearer_auth(token);
        timed(&mut report_times, 200, request).await;
    }

    let mut lookup = Vec::new();
    for (number, _, _) in &picked {
        let request = app
            .client
            .get(app.url(&format!("/v1/permits/{number}?purpose=case:ZJ-2026-000001")))
            .bearer_auth(&police);
        timed(&mut lookup, 200, request).await;
    }

    let mut queue = Vec::new();
    for _ in 0..samples {
        let (_, officer) = &officers[rng.below(officers.len() as u64) as usize];
        let request = app
            .client
            .get(app.url("/v1/applications?status=submitted"))
            .bearer_auth(officer);
        timed(&mut queue, 200, request).await;
    }

    // Approvals: the oldest pending applications, round the districts.
    let pending = rows(
        &app,
        format!(
            "SELECT id, district FROM applications WHERE status = 'submitted' ORDER BY id LIMIT {}",
            samples
        ),
    )
    .await;
    let mut approve = Vec::new();
    for r in pending {
        let id: i64 = r.try_get("", "id").expect("id");
        let district: i32 = r.try_get("", "district").expect("district");
        let officer = &officers
            .iter()
            .find(|(code, _)| *code == district.to_string())
            .expect("an officer of the district")
            .1;
        let t = Instant::now();
        let response = post(
            &app,
            officer,
            &format!("/v1/applications/{id}/approve"),
            json!({}),
        )
        .await;
        let status = response.status();
        let _ = response.bytes().await;
        approve.push(t.elapsed());
        assert_eq!(status, 201, "approve {id}");
    }

    Row {
        residents,
        seed_s,
        calls: vec![
            ("POST /v1/verify", stats(&mut verify), verify.len()),
            ("approve", stats(&mut approve), approve.len()),
            ("report", stats(&mut report_times), report_times.len()),
            ("officer queue", stats(&mut queue), queue.len()),
            ("police lookup", stats(&mut lookup), lookup.len()),
        ],
    }
}

fn print(backend: &str, rows: &[Row]) {
    println!("\nbackend {backend}: p50/p99 in ms (samples)");
    print!("{:<18}", "call");
    for r in rows {
        print!(" {:>24}", format!("{} residents", r.residents));
    }
    if rows.len() > 1 {
        print!(" {:>12} {:>12}", "ratio p50", "ratio p99");
    }
    println!();
    print!("{:<18}", "seed (s)");
    for r in rows {
        print!(" {:>24.1}", r.seed_s);
    }
    println!();
    for (i, (name, _, _)) in rows[0].calls.iter().enumerate() {
        print!("{name:<18}");
        for r in rows {
            let (_, (p50, p99), n) = r.calls[i];
            print!(" {:>24}", format!("{p50:.2}/{p99:.2} ({n})"));
        }
        if let (Some(small), Some(large)) = (rows.first(), rows.last())
            && rows.len() > 1
        {
            let (s, l) = (small.calls[i].1, large.calls[i].1);
            print!(" {:>11.2}× {:>11.2}×", l.0 / s.0, l.1 / s.1);
        }
        println!();
    }
}

fn main() {
    let system = actix_web::rt::System::new();
    system.block_on(run());
}

async fn run() {
    let pg = std::env::var("EPERMIT_TEST_DATABASE_URL").is_ok();
    let scales: Vec<u64> = std::env::var("SCALE_BENCH_SCALES")
        .unwrap_or_else(|_| "10000,1000000".to_owned())
        .split(',')
        .map(|s| s.trim().parse().expect("a resident count"))
        .collect();
    let mut rows = Vec::new();
    for residents in scales {
        let t = Instant::now();
        rows.push(measure(residents).await);
        println!(
            "scale {residents}: {:.1} s in all",
            t.elapsed().as_secs_f64()
        );
    }
    print(if pg { "postgres" } else { "sqlite" }, &rows);
}
