//! Helpers of the end-to-end tests: [`spawn_app`] starts the real service on port 0 with a fresh
//! database — SQLite and the in-process store by default, PostgreSQL and Redis when
//! `EPERMIT_TEST_DATABASE_URL` / `EPERMIT_TEST_REDIS_URL` are set — and [`TestApp`] drives it over
//! HTTP as a client would.

use std::path::PathBuf;

use api::config::Settings;
use api::startup::Application;
use api::state::AppState;
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};

pub mod approval_replay;
pub mod browser;
pub mod cut_link;
pub mod fixtures;
pub mod side_by_side;
pub mod sms_gateway;
pub mod wrk;

/// A running service and a client for it.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    /// An HTTP client (no cookies, no redirects).
    pub client: reqwest::Client,
    /// The service's state, for arranging what a test needs (staff accounts, …).
    pub state: actix_web::web::Data<AppState>,
    /// The data directory (keys, outbox); removed at the end.
    pub data_dir: tempfile::TempDir,
    /// Stops the server as a signal would (`stop(true)`: a clean shutdown).
    pub server: actix_web::dev::ServerHandle,
    /// The running server; ends after a stop, once `run_until_stopped` has finished.
    pub serving: tokio::task::JoinHandle<std::io::Result<()>>,
    /// `http://127.0.0.1:<port>` of the internal `/metrics` listener, when one runs
    /// (production mode, or `EPERMIT_METRICS_BIND`).
    pub metrics_address: Option<String>,
    pg: TestDatabase,
}

/// Every byte at rest of the database at `url`: for `postgres://…`, the output of `pg_dump` (from
/// `PATH` or `/usr/lib/postgresql/*/bin`); for SQLite, `<data_dir>/epermit.db` with its `-wal` and
/// `-shm` files.
pub fn dump_database(url: &str, data_dir: &std::path::Path) -> Vec<u8> {
    if url.starts_with("postgres") {
        let mut candidates = vec![PathBuf::from("pg_dump")];
        if let Ok(dirs) = std::fs::read_dir("/usr/lib/postgresql") {
            candidates.extend(dirs.flatten().map(|d| d.path().join("bin/pg_dump")));
        }
        for pg_dump in candidates {
            if let Ok(out) = std::process::Command::new(&pg_dump)
                .arg("--dbname")
                .arg(url)
                .output()
            {
                assert!(
                    out.status.success(),
                    "pg_dump failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                return out.stdout;
            }
        }
        panic!("pg_dump is not installed (PATH or /usr/lib/postgresql/*/bin)");
    }
    let mut bytes = Vec::new();
    for suffix in ["", "-wal", "-shm"] {
        if let Ok(b) = std::fs::read(data_dir.join(format!("epermit.db{suffix}"))) {
            bytes.extend(b);
        }
    }
    assert!(
        !bytes.is_empty(),
        "no SQLite database in {}",
        data_dir.display()
    );
    bytes
}

/// The database URL of `name` on the server of `admin_url`.
pub fn with_database(admin_url: &str, name: &str) -> String {
    let (base, query) = admin_url
        .split_once('?')
        .map_or((admin_url, None), |(b, q)| (b, Some(q)));
    let cut = base
        .rfind('/')
        .filter(|&i| i > "postgres://".len())
        .unwrap_or(base.len());
    match query {
        Some(q) => format!("{}/{name}?{q}", &base[..cut]),
        None => format!("{}/{name}", &base[..cut]),
    }
}

/// Starts the service on a free port with a fresh database and data directory.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// [`spawn_app`] with extra settings, as `EPERMIT_*` environment variables would give them
/// (e.g. `("EPERMIT_RATE_LIMITS__VERIFY__PER_IP", "1000000")`).
pub async fn spawn_app_with(settings: &[(&str, &str)]) -> TestApp {
    spawn(settings, None).await
}

/// [`spawn_app_with`] with login codes sent through `gateway` (the real SMS gateway sender)
/// rather than the development outbox.
pub async fn spawn_app_with_gateway(
    gateway: &sms_gateway::FakeGateway,
    settings: &[(&str, &str)],
) -> TestApp {
    let from_gateway = gateway.settings();
    let mut all: Vec<(&str, &str)> = from_gateway.iter().map(|(k, v)| (*k, v.as_str())).collect();
    all.extend_from_slice(settings);
    spawn(&all, None).await
}

/// [`spawn_app_with`] on PostgreSQL reached through a [`cut_link::CutLink`] the test can cut;
/// `None` on the embedded SQLite (there is no link to cut).
pub async fn spawn_app_behind_link(
    settings: &[(&str, &str)],
) -> (TestApp, Option<cut_link::CutLink>) {
    let Ok(admin_url) = std::env::var("EPERMIT_TEST_DATABASE_URL") else {
        return (spawn(settings, None).await, None);
    };
    let target = postgres_addr(&admin_url);
    let link = cut_link::CutLink::start(target).await;
    let app = spawn(settings, Some(link.addr)).await;
    (app, Some(link))
}

/// [`spawn_app_with`] on Redis reached through a [`cut_link::CutLink`] the test can cut, freeze
/// and restore; `None` without `EPERMIT_TEST_REDIS_URL` (the in-process store has no link).
pub async fn spawn_app_behind_redis_link(
    settings: &[(&str, &str)],
) -> Option<(TestApp, cut_link::CutLink)> {
    let url = std::env::var("EPERMIT_TEST_REDIS_URL").ok()?;
    let after_scheme = url.split_once("://").map_or(url.as_str(), |(_, rest)| rest);
    let authority = after_scheme.split(['/', '?']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    let host_port = if host_port.contains(':') {
        host_port.to_owned()
    } else {
        format!("{host_port}:6379")
    };
    let target = host_port
        .replace("localhost", "127.0.0.1")
        .parse()
        .expect("a host:port in EPERMIT_TEST_REDIS_URL");
    let link = cut_link::CutLink::start(target).await;
    let redis_url = via(&url, link.addr);
    let mut all = vec![("REDIS_URL", redis_url.as_str())];
    all.extend_from_slice(settings);
    Some((spawn(&all, None).await, link))
}

/// The text of `GET /metrics`.
pub async fn metrics_text(app: &TestApp) -> String {
    let r = app.client.get(app.url("/metrics")).send().await.unwrap();
    r.text().await.unwrap()
}

/// The value of the metric line `name` (`epermit_…{label="…"}`) in `text`; 0 when absent.
pub fn metric_value(text: &str, name: &str) -> f64 {
    text.lines()
        .filter_map(|line| line.strip_prefix(name))
        .find_map(|rest| rest.strip_prefix(' '))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(0.0)
}

/// The value of the metric `name` at `GET /metrics`; 0 when absent.
pub async fn metric(app: &TestApp, name: &str) -> f64 {
    metric_value(&metrics_text(app).await, name)
}

/// The `host:port` of a `postgres://user@host:port/db` URL (port 5432 when absent).
fn postgres_addr(url: &str) -> std::net::SocketAddr {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = after_scheme.split(['/', '?']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    let host_port = if host_port.contains(':') {
        host_port.to_owned()
    } else {
        format!("{host_port}:5432")
    };
    let host_port = host_port.replace("localhost", "127.0.0.1");
    host_port
        .parse()
        .expect("a host:port in EPERMIT_TEST_DATABASE_URL")
}

/// `url` with its host and port replaced by `addr`.
fn via(url: &str, addr: std::net::SocketAddr) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let user = authority
        .rsplit_once('@')
        .map(|(u, _)| format!("{u}@"))
        .unwrap_or_default();
    format!("{scheme}://{user}{addr}{tail}")
}

/// What a test service starts on: its settings, a fresh data directory and, when
/// `EPERMIT_TEST_DATABASE_URL` is set, a fresh PostgreSQL database (dropped with this).
pub struct Fresh {
    /// The settings of the test's environment plus the test's own.
    pub settings: Settings,
    /// The data directory the settings name; removed when dropped.
    pub data_dir: tempfile::TempDir,
    database: TestDatabase,
}

/// A fresh PostgreSQL database of a test or bench (admin URL, name), dropped with this.
pub struct TestDatabase(Option<(String, String)>);

impl TestDatabase {
    /// Creates `<prefix>_<uuid>` on the server of `admin_url`.
    pub async fn create(admin_url: &str, prefix: &str) -> TestDatabase {
        let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
        let admin = Database::connect(admin_url)
            .await
            .expect("PostgreSQL admin connection");
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await
            .expect("create a test database");
        TestDatabase(Some((admin_url.to_owned(), name)))
    }

    /// Its URL (empty once dropped).
    pub fn url(&self) -> String {
        self.0
            .as_ref()
            .map(|(admin_url, name)| with_database(admin_url, name))
            .unwrap_or_default()
    }
}

/// Fresh settings as [`spawn_app_with`] starts on, without starting anything: for tests that
/// build the service themselves. `database_via` routes the database through another address.
pub async fn fresh(settings: &[(&str, &str)], database_via: Option<std::net::SocketAddr>) -> Fresh {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut env = vec![
        ("EPERMIT_BIND".to_owned(), "127.0.0.1:0".to_owned()),
        (
            "EPERMIT_DATA_DIR".to_owned(),
            data_dir.path().display().to_string(),
        ),
        (
            "EPERMIT_REDIS_PREFIX".to_owned(),
            format!("epermit:test:{}:", uuid::Uuid::new_v4().simple()),
        ),
        // Tests ask for codes in quick succession; those of the cool-down set it themselves.
        ("EPERMIT_OTP__COOL_DOWN_SECS".to_owned(), "0".to_owned()),
    ];
    let mut database = TestDatabase(None);
    if let Ok(admin_url) = std::env::var("EPERMIT_TEST_DATABASE_URL") {
        database = TestDatabase::create(&admin_url, "epermit_e2e").await;
        let url = database.url();
        let url = database_via.map_or(url.clone(), |addr| via(&url, addr));
        env.push(("DATABASE_URL".to_owned(), url));
    }
    if let Ok(url) = std::env::var("EPERMIT_TEST_REDIS_URL")
        && !settings.iter().any(|(k, _)| *k == "REDIS_URL")
    {
        env.push(("REDIS_URL".to_owned(), url));
    }
    env.extend(
        settings
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    let settings = Settings::load_from(None, env).expect("test settings");
    Fresh {
        settings,
        data_dir,
        database,
    }
}

async fn spawn(settings: &[(&str, &str)], database_via: Option<std::net::SocketAddr>) -> TestApp {
    let Fresh {
        settings,
        data_dir,
        database,
    } = fresh(settings, database_via).await;
    let app = Application::build(settings)
        .await
        .expect("the service starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    let metrics_address = app
        .metrics_port()
        .map(|port| format!("http://127.0.0.1:{port}"));
    let state = app.state();
    let server = app.handle();
    let serving = actix_web::rt::spawn(app.run_until_stopped());
    TestApp {
        address,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("HTTP client"),
        state,
        data_dir,
        server,
        serving,
        metrics_address,
        pg: database,
    }
}

impl TestApp {
    /// The URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Which backends this app runs on, for messages: `sqlite+memory` or `postgres+redis`.
    pub fn backend(&self) -> &'static str {
        if self.pg.0.is_some() {
            "postgres"
        } else {
            "sqlite"
        }
    }

    /// Every byte the database of this app holds at rest, as a backup would carry it: the SQLite
    /// file with its `-wal` and `-shm`, or a `pg_dump` of the PostgreSQL test database.
    pub fn database_dump(&self) -> Vec<u8> {
        use secrecy::ExposeSecret;
        dump_database(
            self.state.settings.database_url().expose_secret(),
            &self.state.settings.data_dir,
        )
    }

    /// The outbox the development code sender writes to.
    pub fn outbox(&self) -> PathBuf {
        self.data_dir.path().join("outbox.jsonl")
    }

    /// The last login code sent to `phone` (read from the development outbox).
    pub fn last_code_for(&self, phone: &str) -> Option<String> {
        let text = std::fs::read_to_string(self.outbox()).ok()?;
        text.lines()
            .rev()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|v| v["phone"] == phone)
            .and_then(|v| v["code"].as_str().map(str::to_owned))
    }

    /// `GET path` without a token, answered 200 with JSON: the document.
    pub async fn get_json(&self, path: &str) -> Value {
        let r = self.client.get(self.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 200, "GET {path}");
        r.json().await.unwrap()
    }

    /// `POST /v1/auth/otp` for `phone`: asks for a login code.
    pub async fn ask_code(&self, phone: &str) -> reqwest::Response {
        self.client
            .post(self.url("/v1/auth/otp"))
            .json(&json!({ "phone": phone }))
            .send()
            .await
            .unwrap()
    }

    /// `POST /v1/auth/login` with `phone` and `code`.
    pub async fn log_in(&self, phone: &str, code: &str) -> reqwest::Response {
        self.client
            .post(self.url("/v1/auth/login"))
            .json(&json!({ "phone": phone, "code": code }))
            .send()
            .await
            .unwrap()
    }

    /// `POST /v1/auth/refresh` with `refresh_token` (as the login or refresh answer gave it).
    pub async fn refresh(&self, refresh_token: &Value) -> reqwest::Response {
        self.client
            .post(self.url("/v1/auth/refresh"))
            .json(&json!({ "refresh_token": refresh_token }))
            .send()
            .await
            .unwrap()
    }

    /// Logs a resident in through the OTP flow and returns the token response.
    pub async fn login_resident(&self, phone: &str) -> Value {
        let r = self.ask_code(phone).await;
        assert_eq!(
            r.status(),
            202,
            "otp: {}",
            r.text().await.unwrap_or_default()
        );
        let code = self.last_code_for(phone).expect("a code in the outbox");
        let r = self.log_in(phone, &code).await;
        assert_eq!(r.status(), 200, "login");
        r.json().await.unwrap()
    }

    /// A resident's access token.
    pub async fn resident_token(&self, phone: &str) -> String {
        self.login_resident(phone).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Creates a staff account the way `epermit staff add` does, then logs it in; returns the
    /// access token. `role` is officer|verifier|admin.
    pub async fn staff_token(
        &self,
        username: &str,
        role: &str,
        district: Option<&str>,
        org: Option<&str>,
    ) -> String {
        let password = "correct horse battery staple";
        api::commands::staff::add(&self.state.store, username, role, district, org, password)
            .await
            .expect("staff account");
        let r = self
            .client
            .post(self.url("/v1/auth/staff-login"))
            .json(&json!({ "username": username, "password": password }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "staff login");
        r.json::<Value>().await.unwrap()["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

impl TestApp {
    /// Another instance of this service: the same settings, so the same data directory (keys),
    /// database and shared store (Redis, when set; else each instance has its own in-process
    /// store), on its own port. Returns its base URL and state.
    pub async fn another_instance(&self) -> (String, actix_web::web::Data<AppState>) {
        let other = Application::build(self.state.settings.clone())
            .await
            .expect("another instance starts on the same keys and database");
        let url = format!("http://127.0.0.1:{}", other.port());
        let state = other.state();
        actix_web::rt::spawn(other.run_until_stopped());
        (url, state)
    }
}

// issue 14: restarts
impl TestApp {
    /// Restarts the service as an operator does: a clean stop (in-flight requests finish), then
    /// [`TestApp::start_again`].
    pub async fn restart(&mut self) {
        self.stop(true).await;
        self.start_again().await;
    }

    /// Stops the server: cleanly (`graceful`: in-flight requests finish first), or as `kill -9`
    /// does it (requests in flight are dropped wherever they are).
    pub async fn stop(&mut self, graceful: bool) {
        self.server.stop(graceful).await;
        (&mut self.serving)
            .await
            .expect("the server task")
            .expect("the server stopped");
    }

    /// After [`TestApp::stop`]: a new process on the same settings — data directory, database,
    /// shared store — on a new port (a new in-process store when there is no Redis). `self` then
    /// drives the new one.
    pub async fn start_again(&mut self) {
        let app = Application::build(self.state.settings.clone())
            .await
            .expect("the service starts again on its data");
        self.address = format!("http://127.0.0.1:{}", app.port());
        self.metrics_address = app
            .metrics_port()
            .map(|port| format!("http://127.0.0.1:{port}"));
        self.state = app.state();
        self.server = app.handle();
        self.serving = actix_web::rt::spawn(app.run_until_stopped());
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = self.0.take() {
            // Best effort: drop the test database from a separate thread with its own runtime.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build();
                if let Ok(rt) = rt {
                    rt.block_on(async {
                        if let Ok(admin) = Database::connect(&admin_url).await {
                            let _ = admin
                                .execute_unprepared(&format!(
                                    "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                                ))
                                .await;
                        }
                    });
                }
            })
            .join();
        }
    }
}
