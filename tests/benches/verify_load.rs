//! Load benchmark of `POST /v1/verify` (issue 3): the whole service — bearer token, rate limits,
//! live lists from the database, metrics — against a bare actix handler that does only the
//! same signature work (`crypto::verify::verify` of the same `EPP1:` text against the same
//! lists), both driven by `wrk` in the same run on the same machine.
//!
//! ```text
//! apt-get install -y wrk
//! cargo bench -p epermit-tests --bench verify_load
//! ```
//!
//! Knobs (environment): `WRK_THREADS` (default 1), `WRK_CONNECTIONS` (16), `WRK_DURATION` in
//! seconds (15), `ROUNDS` (2: each round measures both, in alternating order),
//! `OPEN_LOOP_SECS` (0; when set, `oha` then sends to each server at half of the service's peak
//! rate for that long, open-loop with latency correction, for the p99 at half the peak rate),
//! `EPERMIT_VERIFY_RECHECK_MS` (the service's setting, default 1000; 0 reads the list sequences
//! on every request), `EPERMIT_TOKENS__REVOCATION_CHECK_MS` (likewise, default 1000: how long
//! an account's revocation epoch is trusted). The service runs on
//! SQLite + the in-process store unless `EPERMIT_TEST_DATABASE_URL` / `EPERMIT_TEST_REDIS_URL`
//! are set, as in the tests. No log subscriber is installed in either server.
//!
//! **Instruction counts** (the machine is too noisy for small differences in req/s): with
//! `PROFILE_SERVICE_REQUESTS` / `PROFILE_BARE_REQUESTS` set, wrk is not run; instead one
//! keep-alive connection sends that many requests, one after another, to each server (a fixed
//! count, for `valgrind --tool=callgrind`; at least one per server, which warms its caches), and
//! the process ends. The difference of two runs with different counts, divided by the difference
//! of the counts, is one request's instructions with start-up cancelled:
//! `scripts/callgrind-verify.sh` runs it (see BENCHMARKS.md).

use std::io::{Read, Write};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use actix_web::{App, HttpResponse, HttpServer, web};
use chrono::Utc;
use crypto::qr_text::{self, QrKind};
use crypto::signer::KeyFileSigner;
use crypto::trust_list::TrustList;
use crypto::verify::VerifyOptions;
use epermit_tests::fixtures::{credential, issued_permit, post, presentation};
use epermit_tests::side_by_side;
use epermit_tests::wrk::{self, Run};
use epermit_tests::{TestApp, spawn_app_with};
use serde::Deserialize;
use serde_json::{Value, json};

fn knob(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Sends to `url` at a constant `rate` (requests per second) for `seconds` with `oha`: an
/// open-loop load, each request's latency counted from when it was due to be sent (so a stall
/// of the server shows in the p99 instead of slowing the load down).
fn oha(url: &str, body: &Value, token: Option<&str>, rate: f64, seconds: u64) -> Run {
    let mut command = Command::new("oha");
    command
        .args([
            "--no-tui",
            "--output-format",
            "json",
            "--latency-correction",
            "-w",
        ])
        .arg(format!("--worker-threads={}", knob("WRK_THREADS", 1)))
        .arg(format!("-c{}", knob("WRK_CONNECTIONS", 16)))
        .arg(format!("-z{seconds}s"))
        .arg(format!("-q{rate:.0}"))
        .args(["-m", "POST", "-H", "Content-Type: application/json"])
        .arg("-d")
        .arg(body.to_string());
    if let Some(t) = token {
        command.arg("-H").arg(format!("Authorization: Bearer {t}"));
    }
    let output = command.arg(url).output().unwrap_or_else(|e| {
        panic!("cannot run oha ({e}): install it with `cargo install oha --locked --no-default-features --features native-tls`")
    });
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "oha failed: {text}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    side_by_side::parse_oha(&text).unwrap_or_else(|e| panic!("{e}:\n{text}"))
}

/// Runs wrk against `url` with the JSON body and optional bearer token.
fn wrk(url: &str, body: &Value, token: Option<&str>) -> Run {
    let dir = tempfile::tempdir().expect("temp dir");
    let script = dir.path().join("post.lua");
    let auth = token.map_or(String::new(), |t| {
        format!("wrk.headers[\"Authorization\"] = \"Bearer {t}\"\n")
    });
    let lua = format!(
        "wrk.method = \"POST\"\nwrk.body = [[{body}]]\n\
         wrk.headers[\"Content-Type\"] = \"application/json\"\n{auth}"
    );
    std::fs::write(&script, lua).expect("write wrk script");
    let output = Command::new("wrk")
        .arg(format!("-t{}", knob("WRK_THREADS", 1)))
        .arg(format!("-c{}", knob("WRK_CONNECTIONS", 16)))
        .arg(format!("-d{}s", knob("WRK_DURATION", 15)))
        .arg("--latency")
        .arg("-s")
        .arg(&script)
        .arg(url)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run wrk ({e}): install it with `apt-get install -y wrk`")
        });
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "wrk failed: {text}");
    wrk::parse(&text).unwrap_or_else(|e| panic!("{e}:\n{text}"))
}

/// Sends `count` verifications of the holder's credential, presented by `device`, to `url` one
/// after another on one keep-alive connection, and checks that each is answered 200 `valid`.
/// A plain HTTP/1.1 client over a blocking socket, so that it adds next to nothing to an
/// instruction count of the process; a fresh presentation every minute (they are valid for
/// 120 s, and a run under callgrind is slow).
fn drive(url: &str, token: Option<&str>, cose: &[u8], device: &KeyFileSigner, count: u64) {
    let (host, path) = url
        .strip_prefix("http://")
        .and_then(|rest| rest.split_once('/'))
        .expect("an http:// URL");
    let request = || {
        let epp = crypto::presentation::present(cose, device, Utc::now(), None).expect("present");
        let body = json!({ "qr": qr_text::encode(QrKind::Presentation, &epp) }).to_string();
        let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
        format!(
            "POST /{path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n{auth}\r\n{body}",
            body.len()
        )
    };
    let mut socket = std::net::TcpStream::connect(host).expect("connect");
    socket.set_nodelay(true).expect("TCP_NODELAY");
    let (mut bytes, mut made) = (request(), Instant::now());
    let mut buffer = Vec::with_capacity(16 * 1024);
    for _ in 0..count {
        if made.elapsed().as_secs() >= 60 {
            (bytes, made) = (request(), Instant::now());
        }
        socket.write_all(bytes.as_bytes()).expect("send");
        buffer.clear();
        let (head, length) = loop {
            let mut chunk = [0; 8192];
            let n = socket.read(&mut chunk).expect("receive");
            assert!(n > 0, "the server closed the connection");
            buffer.extend_from_slice(&chunk[..n]);
            if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buffer[..end]).to_ascii_lowercase();
                let length: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .expect("Content-Length");
                break (end + 4, length);
            }
        };
        while buffer.len() < head + length {
            let mut chunk = [0; 8192];
            let n = socket.read(&mut chunk).expect("receive");
            assert!(n > 0, "the server closed the connection");
            buffer.extend_from_slice(&chunk[..n]);
        }
        let body = String::from_utf8_lossy(&buffer[head..head + length]);
        assert!(
            buffer.starts_with(b"HTTP/1.1 200") && body.contains(r#""verdict":"valid""#),
            "{}",
            String::from_utf8_lossy(&buffer)
        );
    }
}

#[derive(Deserialize)]
struct VerifyRequest {
    qr: String,
}

/// The lists the bare handler verifies against: the service's own, as `POST /v1/verify` sees them.
struct Lists {
    trust: Arc<TrustList>,
    status: api::signed_lists::StatusLists,
}

/// The baseline: JSON in, the same `crypto::verify::verify` call, JSON out; nothing else.
async fn bare_verify(lists: web::Data<Lists>, body: web::Json<VerifyRequest>) -> HttpResponse {
    let verification = crypto::verify::verify(
        body.qr.trim(),
        &lists.trust,
        &lists.status,
        Utc::now(),
        &VerifyOptions::default(),
    );
    HttpResponse::Ok().json(verification)
}

/// Arranges a holder-bound permit and a verifier; returns the verifier's token.
async fn arrange(app: &TestApp) -> (String, String, KeyFileSigner) {
    let holder = issued_permit(app, "13900000001", "33070219900101123").await;
    let device = KeyFileSigner::generate();
    let r = epermit_tests::fixtures::bind_device(app, &holder, &device).await;
    assert_eq!(r.status(), 200, "bind holder key");
    let verifier = app
        .staff_token("school-gate", "verifier", None, Some("school"))
        .await;
    (holder.token, verifier, device)
}

fn main() {
    // `cargo bench` passes `--bench`; any other argument is a filter we do not support.
    let system = actix_web::rt::System::new();
    system.block_on(run());
}

async fn run() {
    let limit = "1000000000";
    let recheck = knob("EPERMIT_VERIFY_RECHECK_MS", 1000).to_string();
    let revocation = knob("EPERMIT_TOKENS__REVOCATION_CHECK_MS", 1000).to_string();
    println!("service: verify_recheck_ms = {recheck}, revocation_check_ms = {revocation}");
    let app = spawn_app_with(&[
        ("EPERMIT_RATE_LIMITS__VERIFY__PER_IP", limit),
        ("EPERMIT_RATE_LIMITS__VERIFY__PER_ACCOUNT", limit),
        ("EPERMIT_VERIFY_RECHECK_MS", &recheck),
        ("EPERMIT_TOKENS__REVOCATION_CHECK_MS", &revocation),
    ])
    .await;
    let (holder, verifier, device) = arrange(&app).await;
    let live = app
        .state
        .lists
        .live(&app.state.store)
        .await
        .expect("live lists");
    let lists = web::Data::new(Lists {
        trust: live.trust,
        status: live.status,
    });
    let bare = HttpServer::new(move || {
        App::new()
            .app_data(lists.clone())
            .route("/verify", web::post().to(bare_verify))
    })
    .bind("127.0.0.1:0")
    .expect("bind the bare server");
    let bare_url = format!("http://{}/verify", bare.addrs()[0]);
    let bare = bare.run();
    let bare_handle = bare.handle();
    actix_web::rt::spawn(bare);
    let service_url = app.url("/v1/verify");

    let profile = ["PROFILE_SERVICE_REQUESTS", "PROFILE_BARE_REQUESTS"];
    if profile.iter().any(|k| std::env::var_os(k).is_some()) {
        let (_, cose) = qr_text::decode(&credential(&app, &holder).await).expect("credential");
        for (knob_name, url, token) in [
            (profile[0], service_url.clone(), Some(verifier.clone())),
            (profile[1], bare_url.clone(), None),
        ] {
            let count = knob(knob_name, 1).max(1);
            let (cose, device) = (cose.clone(), device.clone());
            actix_web::rt::task::spawn_blocking(move || {
                drive(&url, token.as_deref(), &cose, &device, count);
            })
            .await
            .expect("driver thread");
            println!("{knob_name}={count}: every one answered 200 valid");
        }
        bare_handle.stop(true).await;
        return;
    }

    let rounds = knob("ROUNDS", 2);
    let mut service_runs = Vec::new();
    let mut bare_runs = Vec::new();
    for round in 0..rounds {
        // A fresh presentation per round: they are valid for 120 s.
        let body = json!({ "qr": presentation(&app, &holder, &device).await });
        let check = post(&app, &verifier, "/v1/verify", body.clone()).await;
        let verdict: Value = check.json().await.expect("verdict");
        assert_eq!(verdict["verdict"], "valid", "{verdict}");
        let bare_check: Value = app
            .client
            .post(&bare_url)
            .json(&body)
            .send()
            .await
            .expect("bare verify")
            .json()
            .await
            .expect("bare verdict");
        assert_eq!(
            bare_check, verdict,
            "both servers must give the same answer"
        );
        let order = if round % 2 == 0 {
            [true, false]
        } else {
            [false, true]
        };
        for service in order {
            let (url, token) = if service {
                (service_url.clone(), Some(verifier.clone()))
            } else {
                (bare_url.clone(), None)
            };
            let body = body.clone();
            let run =
                actix_web::rt::task::spawn_blocking(move || wrk(&url, &body, token.as_deref()))
                    .await
                    .expect("wrk thread");
            println!(
                "round {round} {:<8} {:>9.0} req/s  p99 {:>7.2} ms",
                if service { "service" } else { "bare" },
                run.requests_per_sec,
                run.p99_ms
            );
            if service {
                service_runs.push(run);
            } else {
                bare_runs.push(run);
            }
        }
    }
    let best = |runs: &[Run]| Run {
        requests_per_sec: runs.iter().map(|r| r.requests_per_sec).fold(0.0, f64::max),
        p99_ms: runs.iter().map(|r| r.p99_ms).fold(f64::INFINITY, f64::min),
    };
    let (service, bare) = (best(&service_runs), best(&bare_runs));
    println!(
        "backend {}: POST /v1/verify {:.0} req/s, p99 {:.2} ms; bare handler {:.0} req/s, p99 {:.2} ms",
        app.backend(),
        service.requests_per_sec,
        service.p99_ms,
        bare.requests_per_sec,
        bare.p99_ms
    );
    println!(
        "ratio service/bare: throughput {:.2}×, p99 {:.2}×",
        service.requests_per_sec / bare.requests_per_sec,
        service.p99_ms / bare.p99_ms
    );
    let open_loop = knob("OPEN_LOOP_SECS", 0);
    let mut half = (0.0, f64::NAN, f64::NAN);
    if open_loop > 0 {
        let body = json!({ "qr": presentation(&app, &holder, &device).await });
        let rate = (service.requests_per_sec / 2.0).max(1.0);
        let mut at_half = Vec::new();
        for (url, token) in [
            (service_url.clone(), Some(verifier.clone())),
            (bare_url, None),
        ] {
            let body = body.clone();
            let run = actix_web::rt::task::spawn_blocking(move || {
                oha(&url, &body, token.as_deref(), rate, open_loop)
            })
            .await
            .expect("oha thread");
            at_half.push(run);
        }
        half = (rate, at_half[0].p99_ms, at_half[1].p99_ms);
        println!(
            "open loop at {rate:.0} req/s (half the service's peak) for {open_loop} s: \
             service p99 {:.2} ms ({:.0} req/s done), bare p99 {:.2} ms ({:.0} req/s done)",
            at_half[0].p99_ms,
            at_half[0].requests_per_sec,
            at_half[1].p99_ms,
            at_half[1].requests_per_sec
        );
    }
    // One line for scripts/bench.sh to read.
    println!(
        "SIDE-BY-SIDE verify backend={} service_rps={:.0} bare_rps={:.0} ratio={:.3} \
         half_rate={:.0} service_p99_at_half_ms={:.2} bare_p99_at_half_ms={:.2}",
        app.backend(),
        service.requests_per_sec,
        bare.requests_per_sec,
        service.requests_per_sec / bare.requests_per_sec,
        half.0,
        half.1,
        half.2
    );
    bare_handle.stop(true).await;
}
