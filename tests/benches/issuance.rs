//! End-to-end issuance throughput (issue 14, item 6): approvals per second through the HTTP API
//! — `ISSUANCE_CLIENTS` officers approving prepared applications at once, each officer in its
//! own district (round robin over the nine), as a city's bureaus do — against `pgbench -N`
//! (simple updates) with the same number of clients on the same PostgreSQL, in its own
//! throwaway database, run just before and just after the approvals (the mean is the baseline).
//! Just before the approvals, pgbench also replays the approval's own SQL (`approval.pgbench`:
//! its statements on the prepared applications, rolled back) with as many clients: what the
//! database alone allows for this SQL, so the service's share of the gap to `pgbench -N` and the
//! SQL's share are printed apart.
//!
//! ```text
//! EPERMIT_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
//! EPERMIT_TEST_REDIS_URL=redis://127.0.0.1:6379 \
//!     cargo bench -p epermit-tests --bench issuance
//! ```
//!
//! Knobs (environment): `ISSUANCE_CLIENTS` (8), `ISSUANCE_APPLICATIONS` (2000, prepared through
//! the API: OTP log-in, registration import, counter assignment, application),
//! `PGBENCH_SECS` (10). Needs PostgreSQL: refuses to run on SQLite.
//!
//! Also prints the CPU time one approval costs, in this process (the service and its clients)
//! and in the PostgreSQL backends of the app's database, read from `/proc` around the approvals
//! (on a machine of few cores the sum bounds the rate as much as any lock does).

use std::process::Command;
use std::time::Instant;

use chrono::{Duration, NaiveDate};
use epermit_tests::approval_replay::{self, Approvals};
use epermit_tests::fixtures::{apply, assign_at_counter, id_number, post};
use epermit_tests::side_by_side::Length;
use epermit_tests::{TestApp, TestDatabase, side_by_side, spawn_app_with};
use serde_json::{Value, json};

fn knob(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// An officer and the applications prepared for it to approve.
struct Desk {
    token: String,
    applications: Vec<i64>,
}

/// The `n`th resident's phone and ID number, registered 400 days ago in `district`.
fn resident(n: u64, district: u32) -> (String, String) {
    let born = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()
        + Duration::days(i64::try_from(n / 1000).unwrap_or(0));
    let id = id_number(&format!(
        "{district}{}{:03}",
        born.format("%Y%m%d"),
        n % 1000
    ));
    (format!("139{n:08}"), id)
}

/// Prepares `count` submitted applications spread over `clients` officers: the registrations
/// imported in one file, then (one task per officer, at once) each resident logs in, is
/// assigned its ID number at the counter and applies.
async fn prepare(app: &TestApp, clients: u64, count: u64) -> Vec<Desk> {
    let districts = policy::District::ALL;
    let district_of = |i: u64| districts[(i % districts.len() as u64) as usize].code();
    let mut desks = Vec::new();
    for i in 0..clients {
        let token = app
            .staff_token(
                &format!("bench-officer-{i}"),
                "officer",
                Some(&district_of(i).to_string()),
                None,
            )
            .await;
        desks.push(Desk {
            token,
            applications: Vec::new(),
        });
    }
    let mut csv = "id_number,name,district,address,start,end\n".to_owned();
    let start = (policy::calendar::today() - Duration::days(400)).to_string();
    for n in 0..count {
        let district = district_of(n % clients);
        let (_, id) = resident(n, district);
        csv.push_str(&format!(
            "{id},张小明,{district},城北街道丽泽社区,{start},\n"
        ));
    }
    let file = app.data_dir.path().join("bench-registrations.csv");
    std::fs::write(&file, csv).expect("write the registrations");
    let imported = api::commands::import::import_file(&app.state.store, &file)
        .await
        .expect("import the registrations");
    assert_eq!(imported.imported, count, "every registration imported");
    let prepared = futures_util::future::join_all(desks.iter().enumerate().map(|(i, desk)| {
        let i = i as u64;
        async move {
            let mut ids = Vec::new();
            for n in (i..count).step_by(clients as usize) {
                let (phone, id) = resident(n, district_of(i));
                let token = app.resident_token(&phone).await;
                let r = assign_at_counter(app, &desk.token, &token, "张小明", &id).await;
                assert_eq!(r.status(), 200, "assign: {}", r.text().await.unwrap());
                let r = apply(app, &token).await;
                assert_eq!(r.status(), 201, "apply: {}", r.text().await.unwrap());
                let application: Value = r.json().await.expect("application");
                ids.push(application["id"].as_i64().expect("an id"));
            }
            ids
        }
    }))
    .await;
    for (desk, ids) in desks.iter_mut().zip(prepared) {
        desk.applications = ids;
    }
    desks
}

/// `pgbench -N` TPS with `clients` clients for `seconds` on the database at `url`.
fn pgbench(url: &str, clients: u64, seconds: u64) -> f64 {
    side_by_side::pgbench(url, clients, Length::Seconds(seconds), &["-N".to_owned()])
        .unwrap_or_else(|e| panic!("{e}"))
}

/// CPU time (user + system, seconds) process `pid` has used so far, from `/proc/<pid>/stat`
/// (Linux; its clock ticks are USER_HZ, 100 a second); `None` where it cannot be read.
fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The fields after the command name (which may hold spaces) start at field 3, the state.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i)?.parse::<f64>().ok();
    Some((ticks(11)? + ticks(12)?) / 100.0)
}

/// The CPU time used so far by this process and by each PostgreSQL backend serving the app's
/// database (by backend pid).
async fn cpu_snapshot(app: &TestApp) -> (f64, Vec<(String, f64)>) {
    use sea_orm::ConnectionTrait;
    let rows = app
        .state
        .store
        .conn()
        .query_all_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()",
        ))
        .await
        .expect("list the backends");
    let backends = rows
        .iter()
        .filter_map(|r| r.try_get::<i32>("", "pid").ok())
        .filter_map(|pid| Some((pid.to_string(), cpu_seconds(&pid.to_string())?)))
        .collect();
    (cpu_seconds("self").unwrap_or(0.0), backends)
}

/// CPU seconds used between two snapshots: `(this process, the database's backends)` (a backend
/// opened in between counts from its start).
fn cpu_between(
    before: &(f64, Vec<(String, f64)>),
    after: &(f64, Vec<(String, f64)>),
) -> (f64, f64) {
    let backends = after
        .1
        .iter()
        .map(|(pid, t)| {
            let was = before.1.iter().find(|(p, _)| p == pid).map_or(0.0, |b| b.1);
            t - was
        })
        .sum();
    (after.0 - before.0, backends)
}

fn main() {
    let system = actix_web::rt::System::new();
    system.block_on(run());
}

async fn run() {
    let Ok(admin_url) = std::env::var("EPERMIT_TEST_DATABASE_URL") else {
        eprintln!("issuance: set EPERMIT_TEST_DATABASE_URL (the bench measures PostgreSQL)");
        std::process::exit(2);
    };
    let clients = knob("ISSUANCE_CLIENTS", 8).max(1);
    let count = knob("ISSUANCE_APPLICATIONS", 2000).max(clients);
    let seconds = knob("PGBENCH_SECS", 10).max(1);
    let many = "1000000000";
    let app = spawn_app_with(&[
        ("EPERMIT_RATE_LIMITS__OTP__PER_IP", many),
        ("EPERMIT_RATE_LIMITS__OTP__PER_ACCOUNT", many),
        ("EPERMIT_RATE_LIMITS__LOGIN__PER_IP", many),
        ("EPERMIT_RATE_LIMITS__LOGIN__PER_ACCOUNT", many),
        ("EPERMIT_OTP__DAILY_PER_CLIENT", many),
    ])
    .await;
    let at = Instant::now();
    let desks = prepare(&app, clients, count).await;
    println!(
        "prepared {count} applications for {clients} officers in {:.1} s",
        at.elapsed().as_secs_f64()
    );

    // Dropped at the end of the run.
    let pgbench_database = TestDatabase::create(&admin_url, "epermit_bench_pgbench").await;
    let url = pgbench_database.url();
    let init = Command::new("pgbench")
        .args(["-i", "-q", "-s", "1"])
        .arg(&url)
        .output()
        .expect("pgbench -i");
    assert!(
        init.status.success(),
        "pgbench -i: {}",
        String::from_utf8_lossy(&init.stderr)
    );
    let before = {
        let url = url.clone();
        actix_web::rt::task::spawn_blocking(move || pgbench(&url, clients, seconds))
            .await
            .expect("pgbench thread")
    };

    let ids = desks.iter().flat_map(|d| d.applications.iter().copied());
    let (first, last) = (ids.clone().min().unwrap_or(1), ids.max().unwrap_or(1));
    assert_eq!(
        last - first + 1,
        i64::try_from(count).unwrap_or(i64::MAX),
        "the prepared applications' ids are contiguous (the replay draws from first..=last)"
    );
    let officer = api::store::staff::find_by_username(app.state.store.conn(), "bench-officer-0")
        .await
        .expect("read the staff")
        .expect("the bench's first officer");
    let approvals = Approvals {
        first,
        last,
        officer: officer.id,
    };
    let sql_tps = {
        use secrecy::ExposeSecret;
        let url = app.state.settings.database_url().expose_secret().to_owned();
        actix_web::rt::task::spawn_blocking(move || {
            approval_replay::replay(&url, clients, Length::Seconds(seconds), approvals)
        })
        .await
        .expect("pgbench thread")
        .unwrap_or_else(|e| panic!("{e}"))
    };

    let cpu_before = cpu_snapshot(&app).await;
    let at = Instant::now();
    let issued = futures_util::future::join_all(desks.iter().map(|desk| async {
        for id in &desk.applications {
            let r = post(
                &app,
                &desk.token,
                &format!("/v1/applications/{id}/approve"),
                json!({}),
            )
            .await;
            assert_eq!(r.status(), 201, "approve: {}", r.text().await.unwrap());
        }
        desk.applications.len()
    }))
    .await
    .into_iter()
    .sum::<usize>();
    let elapsed = at.elapsed().as_secs_f64();
    let approvals = issued as f64 / elapsed;
    let (cpu_app, cpu_db) = cpu_between(&cpu_before, &cpu_snapshot(&app).await);

    let after = {
        let url = url.clone();
        actix_web::rt::task::spawn_blocking(move || pgbench(&url, clients, seconds))
            .await
            .expect("pgbench thread")
    };
    drop(pgbench_database);
    let tps = (before + after) / 2.0;
    println!(
        "{issued} approvals by {clients} officers in {elapsed:.2} s: {approvals:.1} approvals/s; \
         pgbench -N with {clients} clients: {before:.1} TPS before, {after:.1} after"
    );
    let per = |seconds: f64| seconds * 1000.0 / issued.max(1) as f64;
    println!(
        "CPU per approval: {:.2} ms in this process (service and clients), {:.2} ms in \
         PostgreSQL backends ({:.0} % and {:.0} % of one core over the run)",
        per(cpu_app),
        per(cpu_db),
        cpu_app * 100.0 / elapsed,
        cpu_db * 100.0 / elapsed
    );
    println!(
        "the approval's SQL alone (approval.pgbench, rolled back) with {clients} clients: \
         {sql_tps:.1} TPS, {:.3}× pgbench -N; the approvals reach {:.3}× of it",
        sql_tps / tps,
        approvals / sql_tps
    );
    println!(
        "SIDE-BY-SIDE issuance clients={clients} approvals={issued} approvals_per_sec={approvals:.2} \
         pgbench_tps={tps:.2} ratio={:.3} approval_sql_tps={sql_tps:.2} sql_ratio={:.3}",
        approvals / tps,
        sql_tps / tps
    );
}
