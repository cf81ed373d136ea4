//! Memory under a storm of failed staff logins (issue 12 item 4): 200 concurrent wrong-password
//! logins against a real `epermit serve` process, whose peak resident set (`VmHWM` of
//! `/proc/<pid>/status`) is read afterwards — the server's, not this test process's. Each argon2
//! verification holds a 19 MiB buffer; `auth.max_concurrent_hashes` bounds how many run at once.
//!
//! `cargo test -p api --test login_memory -- --nocapture` prints the peak with the default bound
//! (and asserts it stays under 512 MiB); add `--ignored` for the figure with the semaphore
//! effectively off (200 slots), which needs about 4 GB.

use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PASSWORD: &str = "correct horse battery staple";
const LOGINS: usize = 200;

fn epermit(data: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_epermit"));
    cmd.env("EPERMIT_DATA_DIR", data)
        .env_remove("DATABASE_URL")
        .env_remove("REDIS_URL")
        .env_remove("EPERMIT_CONFIG");
    cmd
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Peak resident set of `pid` in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/<pid>/status")
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One storm at a time: two at once would starve each other's server of CPU.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Starts a server with `max_hashes` slots, fires the logins, returns (peak RSS in MiB,
/// statuses by code).
async fn storm(max_hashes: u32, hash_wait_ms: u64) -> (u64, Vec<(u16, usize)>) {
    let _turn = ONE_AT_A_TIME.lock().await;
    let data = tempfile::tempdir().unwrap();
    let mut add = epermit(data.path())
        .args([
            "staff",
            "add",
            "--username",
            "officer1",
            "--role",
            "officer",
        ])
        .args(["--district", "330702"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    writeln!(add.stdin.take().unwrap(), "{PASSWORD}").unwrap();
    assert!(add.wait().unwrap().success(), "staff add");
    let port = free_port();
    let mut server = Server(
        epermit(data.path())
            .arg("serve")
            .env("EPERMIT_BIND", format!("127.0.0.1:{port}"))
            .env(
                "EPERMIT_AUTH__MAX_CONCURRENT_HASHES",
                max_hashes.to_string(),
            )
            .env("EPERMIT_AUTH__HASH_WAIT_MS", hash_wait_ms.to_string())
            .env("EPERMIT_AUTH__THROTTLE_AFTER_FAILURES", "100000")
            .env("EPERMIT_RATE_LIMITS__LOGIN__PER_IP", "100000")
            .env("EPERMIT_RATE_LIMITS__LOGIN__PER_ACCOUNT", "100000")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(data.path().join("server.log")).unwrap())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let start = Instant::now();
    while let Err(e) = client.get(format!("{base}/healthz")).send().await {
        if let Ok(Some(status)) = server.0.try_wait() {
            let log = std::fs::read_to_string(data.path().join("server.log")).unwrap_or_default();
            panic!("the server exited ({status}): {log}");
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the server starts: {e}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let idle = peak_rss_kib(server.0.id()) / 1024;
    let mut tasks = Vec::new();
    for _ in 0..LOGINS {
        let (client, url) = (client.clone(), format!("{base}/v1/auth/staff-login"));
        tasks.push(tokio::spawn(async move {
            client
                .post(url)
                .json(
                    &serde_json::json!({ "username": "officer1", "password": "wrong password!!" }),
                )
                .send()
                .await
                .map(|r| r.status().as_u16())
                .unwrap_or(0)
        }));
    }
    let mut statuses: Vec<(u16, usize)> = Vec::new();
    for task in tasks {
        let status = task.await.unwrap();
        match statuses.iter_mut().find(|(s, _)| *s == status) {
            Some((_, n)) => *n += 1,
            None => statuses.push((status, 1)),
        }
    }
    statuses.sort();
    let peak = peak_rss_kib(server.0.id()) / 1024;
    println!(
        "max_concurrent_hashes={max_hashes}: peak RSS {peak} MiB (idle {idle} MiB) after {LOGINS} \
         concurrent failed logins in {:?}; statuses {statuses:?}",
        start.elapsed()
    );
    (peak, statuses)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_concurrent_failed_logins_keep_the_server_under_512_mib() {
    let (peak, statuses) = storm(2, 2000).await;
    assert!(peak < 512, "peak RSS {peak} MiB");
    assert!(
        statuses.iter().any(|(s, _)| *s == 401),
        "logins were checked: {statuses:?}"
    );
    assert!(
        statuses.iter().all(|(s, _)| *s != 200 && *s != 500),
        "none got in, none crashed: {statuses:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs about 4 GB: the figure before the semaphore, for comparison"]
async fn two_hundred_concurrent_failed_logins_without_the_semaphore() {
    let (_, statuses) = storm(200, 600_000).await;
    assert!(statuses.iter().any(|(s, _)| *s == 401), "{statuses:?}");
}
