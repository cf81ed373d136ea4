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
//! pending application. All scales are seeded first and stay up; then each round measures them
//! side by side, interleaved request by request (A then B, B then A, …), so a change of
//! the machine's load during the run falls on every scale alike and the ratio stays fair.
//! Requests are sent one at a time, each timed from send to the last byte: verify a random
//! seeded permit's QR (a school verifier), approve a pending application (the officer of its
//! district; oldest first), the report of a random seeded holder (a resident token minted for
//! them), the officer queue of a random district twice — a page of 5 (`GET
//! /v1/applications?status=submitted&limit=5`: the same rows at every scale, so the figure shows
//! what the size of the city costs) and the console's own request (no `limit`: the default page of
//! 100, which at 10 k holds the ~15 a district has, so it also measures a bigger answer) — the
//! police look-up of a random seeded permit number. Each round picks new
//! permits and holders; the table of each round is printed, then the range of the ratios over
//! the rounds.
//!
//! Knobs (environment): `SCALE_BENCH_SCALES` (comma-separated resident counts; default
//! `10000,1000000`), `SAMPLES` (200 per call and round), `ROUNDS` (3; approvals per round: at
//! most half the smallest scale's pending applications divided by the rounds).

use std::time::{Duration, Instant};

use api::auth::jwt::{Principal, Role, Subject};
use api::commands::seed::{self, Plan};
use api::store::status::layout::Rng;
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

/// One timed request: its status must be `want`. Returns the body.
async fn timed(times: &mut Vec<Duration>, want: u16, request: reqwest::RequestBuilder) -> Vec<u8> {
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
    body.to_vec()
}

/// The calls measured.
#[derive(Clone, Copy, PartialEq)]
enum Call {
    Verify,
    Approve,
    Report,
    Queue,
    ConsoleQueue,
    Lookup,
}

impl Call {
    /// In the order they are printed.
    /// In the order they are measured and printed: the queues before the approvals take from
    /// them.
    const ALL: [Call; 6] = [
        Call::Verify,
        Call::Queue,
        Call::ConsoleQueue,
        Call::Approve,
        Call::Report,
        Call::Lookup,
    ];

    fn name(self) -> &'static str {
        match self {
            Call::Verify => "POST /v1/verify",
            Call::Approve => "approve",
            Call::Report => "report",
            Call::Queue => "queue, page of 5",
            Call::ConsoleQueue => "queue, console's",
            Call::Lookup => "police lookup",
        }
    }
}

/// One seeded scale, up for the whole run.
struct Scale {
    residents: u64,
    seed_s: f64,
    app: TestApp,
    school: String,
    police: String,
    /// (district code, an officer's token), one per district.
    officers: Vec<(String, String)>,
    rng: Rng,
}

async fn seeded(residents: u64) -> Scale {
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
    Scale {
        residents,
        seed_s,
        app,
        school,
        police,
        officers,
        rng: Rng(0x5eed ^ residents),
    }
}

/// `samples` random seeded permits that are active: (number, credential, resident).
async fn pick(scale: &mut Scale, samples: usize) -> Vec<(String, String, i64)> {
    let mut picked = Vec::new();
    while picked.len() < samples {
        let ids: Vec<String> = (0..samples)
            .map(|_| (1 + scale.rng.below(scale.residents)).to_string())
            .collect();
        for r in rows(
            &scale.app,
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
    picked
}

/// The `n` oldest pending applications: (id, the token of an officer of its district).
async fn pending(scale: &Scale, n: usize) -> Vec<(i64, String)> {
    let found = rows(
        &scale.app,
        format!(
            "SELECT id, district FROM applications WHERE status = 'submitted' ORDER BY id LIMIT {n}"
        ),
    )
    .await;
    found
        .into_iter()
        .map(|r| {
            let id: i64 = r.try_get("", "id").expect("id");
            let district: i32 = r.try_get("", "district").expect("district");
            let officer = scale
                .officers
                .iter()
                .find(|(code, _)| *code == district.to_string())
                .expect("an officer of the district")
                .1
                .clone();
            (id, officer)
        })
        .collect()
}

/// The `i`-th request of `call` to `scale`, for the round's picks, and the status it must get.
fn request(
    scale: &mut Scale,
    call: Call,
    picked: &[(String, String, i64)],
    approvals: &[(i64, String)],
    i: usize,
) -> (reqwest::RequestBuilder, u16) {
    let app = &scale.app;
    let (number, qr, resident) = &picked[i % picked.len()];
    match call {
        Call::Verify => (
            app.client
                .post(app.url("/v1/verify"))
                .bearer_auth(&scale.school)
                .json(&json!({ "qr": qr })),
            200,
        ),
        Call::Approve => {
            let (id, officer) = &approvals[i];
            (
                app.client
                    .post(app.url(&format!("/v1/applications/{id}/approve")))
                    .bearer_auth(officer)
                    .json(&json!({})),
                201,
            )
        }
        Call::Report => {
            let principal = Principal {
                subject: Subject::Resident(*resident),
                role: Role::Resident,
            };
            let token = app
                .state
                .jwt
                .issue(principal, chrono::Utc::now(), chrono::Duration::minutes(30))
                .expect("token");
            (
                app.client
                    .get(app.url("/v1/permits/me/report"))
                    .bearer_auth(token),
                200,
            )
        }
        Call::Queue | Call::ConsoleQueue => {
            let at = scale.rng.below(scale.officers.len() as u64) as usize;
            let path = match call {
                Call::Queue => "/v1/applications?status=submitted&limit=5",
                _ => "/v1/applications?status=submitted",
            };
            (
                app.client
                    .get(app.url(path))
                    .bearer_auth(&scale.officers[at].1),
                200,
            )
        }
        Call::Lookup => (
            app.client
                .get(app.url(&format!("/v1/permits/{number}?purpose=case:ZJ-2026-000001")))
                .bearer_auth(&scale.police),
            200,
        ),
    }
}

/// Per scale, per call: (p50 ms, p99 ms, samples, mean rows of a queue page).
type Table = Vec<Vec<(f64, f64, usize, f64)>>;

/// The rows of a queue page.
fn page_rows(body: &[u8]) -> usize {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["items"].as_array().map(Vec::len))
        .expect("a page of applications")
}

/// One round: every call, interleaved over the scales.
async fn round(scales: &mut [Scale], samples: usize, approvals: usize) -> Table {
    let mut picks = Vec::new();
    let mut queued = Vec::new();
    for scale in scales.iter_mut() {
        picks.push(pick(scale, samples).await);
        queued.push(pending(scale, approvals).await);
    }
    let mut table = vec![Vec::new(); scales.len()];
    for call in Call::ALL {
        let n = if call == Call::Approve {
            approvals
        } else {
            samples
        };
        let mut times = vec![Vec::with_capacity(n); scales.len()];
        let mut rows = vec![0usize; scales.len()];
        for i in 0..n {
            // Every other request the other scale goes first, so neither always follows.
            let mut order: Vec<usize> = (0..scales.len()).collect();
            if i % 2 == 1 {
                order.reverse();
            }
            for s in order {
                let (request, want) = request(&mut scales[s], call, &picks[s], &queued[s], i);
                let body = timed(&mut times[s], want, request).await;
                if matches!(call, Call::Queue | Call::ConsoleQueue) {
                    rows[s] += page_rows(&body);
                }
            }
        }
        for (s, t) in times.iter_mut().enumerate() {
            let (p50, p99) = stats(t);
            table[s].push((p50, p99, t.len(), rows[s] as f64 / n.max(1) as f64));
        }
    }
    table
}

fn print(backend: &str, scales: &[Scale], label: &str, table: &Table) {
    println!("\nbackend {backend}, {label}: p50/p99 in ms (samples)");
    print!("{:<18}", "call");
    for s in scales {
        print!(" {:>24}", format!("{} residents", s.residents));
    }
    if scales.len() > 1 {
        print!(" {:>12} {:>12}", "ratio p50", "ratio p99");
    }
    println!();
    for (c, call) in Call::ALL.iter().enumerate() {
        print!("{:<18}", call.name());
        for column in table {
            let (p50, p99, n, rows) = column[c];
            let page = if rows > 0.0 {
                format!(", {rows:.0} rows")
            } else {
                String::new()
            };
            print!(" {:>24}", format!("{p50:.2}/{p99:.2} ({n}{page})"));
        }
        if let (Some(small), Some(large)) = (table.first(), table.last())
            && table.len() > 1
        {
            let (s, l) = (small[c], large[c]);
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
    let backend = if pg { "postgres" } else { "sqlite" };
    let counts: Vec<u64> = std::env::var("SCALE_BENCH_SCALES")
        .unwrap_or_else(|_| "10000,1000000".to_owned())
        .split(',')
        .map(|s| s.trim().parse().expect("a resident count"))
        .collect();
    let samples = knob("SAMPLES", 200) as usize;
    let rounds = knob("ROUNDS", 3).max(1) as usize;
    let mut scales = Vec::new();
    for residents in counts {
        scales.push(seeded(residents).await);
    }
    println!(
        "\nseed (s): {}",
        scales
            .iter()
            .map(|s| format!("{} residents {:.1}", s.residents, s.seed_s))
            .collect::<Vec<_>>()
            .join(", ")
    );
    // Each round approves its own applications: half the smallest scale's pending ones, shared
    // out, so its queue still fills a page of 5 in every district in the last round.
    let mut fewest = usize::MAX;
    for scale in &scales {
        fewest = fewest.min(pending(scale, samples * rounds).await.len());
    }
    let approvals = (fewest / 2 / rounds).min(samples);
    let mut ratios: Vec<Vec<(f64, f64)>> = vec![Vec::new(); Call::ALL.len()];
    for r in 1..=rounds {
        let t = Instant::now();
        let table = round(&mut scales, samples, approvals).await;
        print(
            backend,
            &scales,
            &format!("round {r} of {rounds} ({:.0} s)", t.elapsed().as_secs_f64()),
            &table,
        );
        if let (Some(small), Some(large)) = (table.first(), table.last()) {
            for (c, ratio) in ratios.iter_mut().enumerate() {
                ratio.push((large[c].0 / small[c].0, large[c].1 / small[c].1));
            }
        }
    }
    if scales.len() > 1 {
        println!(
            "\nbackend {backend}: ratio of the largest scale to the smallest, range over {rounds} rounds (goal ≤ 1.2×)"
        );
        for (call, ratio) in Call::ALL.iter().zip(&ratios) {
            let range = |f: fn(&(f64, f64)) -> f64| {
                let (lo, hi) = ratio
                    .iter()
                    .map(f)
                    .fold((f64::MAX, f64::MIN), |(lo, hi), x| (lo.min(x), hi.max(x)));
                format!("{lo:.2}–{hi:.2}×")
            };
            println!(
                "{:<18} p50 {:>14}   p99 {:>14}",
                call.name(),
                range(|r| r.0),
                range(|r| r.1)
            );
        }
    }
}
