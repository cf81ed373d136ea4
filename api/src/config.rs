//! Layered settings (SPEC §4, issue 3 item 2): built-in defaults, then an optional TOML file
//! (`--config FILE`, or `EPERMIT_CONFIG`), then the environment. Secrets (database and Redis URLs,
//! which may carry passwords) are [`SecretString`]s: never printed, never
//! echoed in an error.
//!
//! Environment variables: `EPERMIT_BIND`, `EPERMIT_DATA_DIR`, `DATABASE_URL`, `REDIS_URL`,
//! `EPERMIT_PUBLIC_URL`, `EPERMIT_MAX_EVIDENCE_BYTES`, `EPERMIT_VERIFY_RECHECK_MS`,
//! `EPERMIT_DATABASE_TIMEOUT_MS`, `EPERMIT_TRUSTED_PROXIES` (comma-separated CIDRs), `EPERMIT_MODE`,
//! `EPERMIT_METRICS_BIND`, the SMS gateway's
//! `EPERMIT_SMS_GATEWAY_URL`, `EPERMIT_SMS_API_KEY`, `EPERMIT_SMS_SENDER_ID`,
//! `EPERMIT_SMS_TEMPLATE`, `EPERMIT_SMS_TIMEOUT_MS`, `EPERMIT_SMS_CONNECT_TIMEOUT_MS`,
//! `EPERMIT_SMS_RETRIES` (`EPERMIT_SMS_<KEY>` is short for `EPERMIT_SMS__<KEY>`), and any nested key as
//! `EPERMIT_<SECTION>__<KEY>`, e.g. `EPERMIT_OTP__TTL_SECS=120` or
//! `EPERMIT_RATE_LIMITS__LOGIN__PER_IP=30`. An empty variable counts as unset.
//!
//! The TOML file uses the same keys:
//!
//! ```toml
//! bind = "0.0.0.0:8080"
//! data_dir = "/var/lib/epermit"
//! public_url = "https://jhga.cn"
//! [otp]
//! ttl_secs = 300
//! max_attempts = 5
//! [auth]
//! max_concurrent_hashes = 2
//! daily_max_attempts = 20
//! cool_down_secs = 60
//! daily_per_phone = 10
//! daily_per_client = 100
//! [sms]
//! gateway_url = "https://sms.example.cn/v1/messages"
//! api_key = "…"
//! sender_id = "金华居住证"
//! template = "【金华居住证】您的登录验证码为 {code}，{minutes}分钟内有效。"
//! timeout_ms = 3000
//! retries = 2
//! [rate_limits.verify]
//! per_ip = 120
//! per_account = 600
//! [audit]
//! checkpoint_every_entries = 1000
//! checkpoint_every_secs = 300
//! checkpoint_export = "/mnt/worm/epermit-checkpoints.jsonl"
//! [shared_store]
//! call_timeout_ms = 250
//! readiness_timeout_ms = 50
//! breaker_failures = 3
//! breaker_backoff_ms = 500
//! breaker_max_backoff_ms = 5000
//! probe_timeout_ms = 1000
//! [database_breaker]
//! failures = 3
//! backoff_ms = 250
//! max_backoff_ms = 4000
//! probe_timeout_ms = 1000
//! suspect_after_ms = 500
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use figment::value::Value;
use secrecy::SecretString;
use serde::Deserialize;

/// Keys whose values are secret: their values never appear in an error.
const SECRET_KEYS: [&str; 3] = ["database_url", "redis_url", "sms.api_key"];

/// Top-level keys that `EPERMIT_*` variables may set (others, like `EPERMIT_CONFIG` or the test
/// variables, are not settings).
const ENV_KEYS: &[&str] = &[
    "bind",
    "redis_prefix",
    "data_dir",
    "public_url",
    "max_evidence_bytes",
    "verify_recheck_ms",
    "database_timeout_ms",
    "status_shard_entries",
    "otp",
    "rate_limits",
    "auth",
    "tokens",
    "audit",
    "trusted_proxies",
    "mode",
    "metrics_bind",
    "sms",
    "shared_store",
    "database_breaker",
];

/// The service's settings.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Listen address (`EPERMIT_BIND`, default `127.0.0.1:8080`).
    pub bind: SocketAddr,
    /// Data directory: SQLite database, keys, outbox (`EPERMIT_DATA_DIR`, default `./data`).
    pub data_dir: PathBuf,
    /// Database URL (`DATABASE_URL`); `None` = SQLite at `<data dir>/epermit.db`.
    pub database_url: Option<SecretString>,
    /// Redis URL (`REDIS_URL`); `None` = the in-process shared state (one instance only).
    pub redis_url: Option<SecretString>,
    /// Prefix of every Redis key (`EPERMIT_REDIS_PREFIX`, default `epermit:`): lets several
    /// deployments, or test runs, share one Redis.
    pub redis_prefix: String,
    /// Public base URL, used in the status-list URI (`EPERMIT_PUBLIC_URL`, default
    /// `https://jhga.cn`).
    pub public_url: String,
    /// One-time login codes.
    pub otp: OtpSettings,
    /// Rate limits per minute.
    pub rate_limits: RateLimits,
    /// Staff password checks: throttling, the argon2 semaphore, the failure alarm.
    pub auth: AuthSettings,
    /// Reverse proxies whose `Forwarded` / `X-Forwarded-For` headers name the client
    /// (`EPERMIT_TRUSTED_PROXIES=127.0.0.1/32,10.0.0.0/8`, or a TOML list of CIDRs; default
    /// none: the TCP peer is the client). See `routes::client_ip`.
    #[serde(deserialize_with = "cidr_list")]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Token lifetimes.
    pub tokens: TokenSettings,
    /// Largest accepted evidence upload in bytes (default 5 MiB).
    pub max_evidence_bytes: u64,
    /// How long `POST /v1/verify` may use the list sequences it last read before asking the
    /// database again, in milliseconds (`EPERMIT_VERIFY_RECHECK_MS`, default 1000, at most 60000;
    /// 0 = every request). A suspension or revocation made through this instance is seen by its
    /// next verification regardless; this bounds how late one made through *another* instance
    /// (or the CLI) is seen.
    pub verify_recheck_ms: u64,
    /// How long a request waits for a database connection before it is answered 503
    /// `service_unavailable`, in milliseconds (`EPERMIT_DATABASE_TIMEOUT_MS`, default 5000,
    /// 100–60000).
    pub database_timeout_ms: u64,
    /// Entries of each status-list shard opened from now on (`EPERMIT_STATUS_SHARD_ENTRIES`,
    /// default and most 65536 = 16 KiB of 2-bit entries; a multiple of 4 from 1024). The most
    /// keeps every index at 3 CBOR bytes, which the QR budget of SPEC §2 needs; 1295 shards of it
    /// (`/s/1` … `/s/zz`) hold 76 million entries at the 90 % fill the allocator keeps.
    pub status_shard_entries: u32,
    /// Signed checkpoints of the audit log (`[audit]`, `EPERMIT_AUDIT__*`).
    pub audit: AuditSettings,
    /// How the service runs (`EPERMIT_MODE`, `development` or `production`; default
    /// `development`, what `cargo run` gives). See [`Mode`].
    pub mode: Mode,
    /// Where `/metrics` is served on a separate, internal listener (`EPERMIT_METRICS_BIND`).
    /// Unset: `127.0.0.1:9100` in production; in development `/metrics` stays on the public
    /// listener. When a metrics listener runs, `/metrics` on the public listener is 404.
    pub metrics_bind: Option<SocketAddr>,
    /// The SMS gateway that delivers login codes.
    pub sms: SmsSettings,
    /// Redis' call timeouts and circuit breaker (`[shared_store]`, `EPERMIT_SHARED_STORE__*`).
    pub shared_store: SharedStoreSettings,
    /// The database's circuit breaker (`[database_breaker]`, `EPERMIT_DATABASE_BREAKER__*`).
    pub database_breaker: DatabaseBreakerSettings,
}

/// How the service treats Redis when it fails (issue 14 items 1 and 2; `shared_state::guarded`,
/// `breaker`). Each call waits at most `call_timeout_ms`; `breaker_failures` failures in a row
/// open the circuit breaker, and so does a failed call or a timeout that a `PING` in the
/// background (within `probe_timeout_ms`) confirms — a timeout alone does not, since on a busy
/// machine a call may lose the CPU past its timeout. While it is open no call touches the
/// network: rate limits are counted per instance (each instance allows the limit, so the
/// cluster-wide limit becomes N × instances during the outage; the per-instance counts are kept
/// while Redis is up too, so they do not start from zero), login codes answer 503 at once, and
/// `/readyz` says `degraded`. After `breaker_backoff_ms` one `PING` probes Redis in the
/// background; each failed probe doubles the wait, up to `breaker_max_backoff_ms`; a
/// successful one closes the breaker. Without `REDIS_URL` none of this applies.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct SharedStoreSettings {
    /// The longest a call to Redis (connecting included) may take, in milliseconds
    /// (`EPERMIT_SHARED_STORE__CALL_TIMEOUT_MS`, default 250, 10–5000). A call that takes longer
    /// fails and has the breaker probe Redis.
    pub call_timeout_ms: u64,
    /// The longest `/readyz` waits for Redis' `PING` while the breaker is closed, in
    /// milliseconds (`EPERMIT_SHARED_STORE__READINESS_TIMEOUT_MS`, default 50, 1–90, and at most
    /// `call_timeout_ms`): `/readyz` answers within 100 ms whatever Redis does.
    pub readiness_timeout_ms: u64,
    /// Consecutive failed calls that open the breaker
    /// (`EPERMIT_SHARED_STORE__BREAKER_FAILURES`, default 3, at least 1).
    pub breaker_failures: u32,
    /// How long the breaker stays open before its first probe, in milliseconds
    /// (`EPERMIT_SHARED_STORE__BREAKER_BACKOFF_MS`, default 500, at least 1).
    pub breaker_backoff_ms: u64,
    /// The longest it stays open between probes, in milliseconds
    /// (`EPERMIT_SHARED_STORE__BREAKER_MAX_BACKOFF_MS`, default 5000, at least
    /// `breaker_backoff_ms`): how late, at worst, the service sees Redis back.
    pub breaker_max_backoff_ms: u64,
    /// The longest the breaker's probe `PING` may take, in milliseconds
    /// (`EPERMIT_SHARED_STORE__PROBE_TIMEOUT_MS`, default 1000, 10–10000): longer than a call's,
    /// so that a busy machine does not open the breaker on a healthy Redis.
    pub probe_timeout_ms: u64,
}

impl Default for SharedStoreSettings {
    fn default() -> Self {
        SharedStoreSettings {
            call_timeout_ms: 250,
            readiness_timeout_ms: 50,
            breaker_failures: 3,
            breaker_backoff_ms: 500,
            breaker_max_backoff_ms: 5000,
            probe_timeout_ms: 1000,
        }
    }
}

impl SharedStoreSettings {
    /// See [`SharedStoreSettings::call_timeout_ms`].
    pub fn call_timeout(&self) -> Duration {
        Duration::from_millis(self.call_timeout_ms)
    }

    /// See [`SharedStoreSettings::readiness_timeout_ms`].
    pub fn readiness_timeout(&self) -> Duration {
        Duration::from_millis(self.readiness_timeout_ms)
    }

    /// See [`SharedStoreSettings::probe_timeout_ms`].
    pub fn probe_timeout(&self) -> Duration {
        Duration::from_millis(self.probe_timeout_ms)
    }

    /// The breaker's policy.
    pub fn breaker_policy(&self) -> crate::breaker::BreakerPolicy {
        breaker_policy(
            self.breaker_failures,
            self.breaker_backoff_ms,
            self.breaker_max_backoff_ms,
        )
    }

    /// Range checks: the key and the problem.
    fn validate(&self) -> Result<(), (&'static str, &'static str)> {
        if !(10..=5000).contains(&self.call_timeout_ms) {
            return Err((
                "shared_store.call_timeout_ms",
                "must be between 10 and 5000",
            ));
        }
        if !(1..=90).contains(&self.readiness_timeout_ms)
            || self.readiness_timeout_ms > self.call_timeout_ms
        {
            return Err((
                "shared_store.readiness_timeout_ms",
                "must be between 1 and 90, and at most call_timeout_ms",
            ));
        }
        check_breaker(
            [
                "shared_store.breaker_failures",
                "shared_store.breaker_backoff_ms",
                "shared_store.breaker_max_backoff_ms",
                "shared_store.probe_timeout_ms",
            ],
            [
                u64::from(self.breaker_failures),
                self.breaker_backoff_ms,
                self.breaker_max_backoff_ms,
                self.probe_timeout_ms,
            ],
        )
    }
}

/// A breaker's policy from its settings.
fn breaker_policy(
    failures: u32,
    backoff_ms: u64,
    max_backoff_ms: u64,
) -> crate::breaker::BreakerPolicy {
    crate::breaker::BreakerPolicy {
        failures_to_open: failures,
        first_backoff: Duration::from_millis(backoff_ms),
        max_backoff: Duration::from_millis(max_backoff_ms),
    }
}

/// The range checks of a breaker's settings, `values` (failures, back-off, longest back-off,
/// probe timeout) under the keys `keys`.
fn check_breaker(
    keys: [&'static str; 4],
    values: [u64; 4],
) -> Result<(), (&'static str, &'static str)> {
    let [failures, backoff, max_backoff, probe] = values;
    if failures == 0 {
        return Err((keys[0], "must be greater than 0"));
    }
    if backoff == 0 {
        return Err((keys[1], "must be greater than 0"));
    }
    if max_backoff < backoff {
        return Err((keys[2], "must be at least the first back-off"));
    }
    if !(10..=10_000).contains(&probe) {
        return Err((keys[3], "must be between 10 and 10000"));
    }
    Ok(())
}

/// The circuit breaker in front of PostgreSQL (issue 14 item 1; `store::guard`, `breaker`):
/// with the database down, requests are answered 503 `service_unavailable` at once instead of
/// each waiting `database_timeout_ms` for a connection. A connection error (a lost or refused
/// connection, the server shutting down, no connection within the acquire timeout; not an
/// ordinary query error such as a unique violation) has the breaker try a fresh connection and
/// `SELECT 1` within `probe_timeout_ms` (so does a statement unanswered after
/// `suspect_after_ms`): when that fails too, or after `failures` such errors in a row, the
/// breaker opens, and the requests still waiting are answered 503 at once. While it is open no request touches the database and `/readyz`
/// answers 503 at once. After `backoff_ms` the same probe runs in the background, then after
/// twice the last wait, up to `max_backoff_ms`; its success closes the breaker (the service
/// reconnects by itself). On SQLite none of this applies.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseBreakerSettings {
    /// Consecutive connection errors that open the breaker without waiting for its probe
    /// (`EPERMIT_DATABASE_BREAKER__FAILURES`, default 3, at least 1).
    pub failures: u32,
    /// How long the breaker stays open before its first probe, in milliseconds
    /// (`EPERMIT_DATABASE_BREAKER__BACKOFF_MS`, default 250, at least 1).
    pub backoff_ms: u64,
    /// The longest it stays open between probes, in milliseconds
    /// (`EPERMIT_DATABASE_BREAKER__MAX_BACKOFF_MS`, default 4000, at least `backoff_ms`): how
    /// late, at worst, the service sees the database back.
    pub max_backoff_ms: u64,
    /// The longest a probe (connecting, then `SELECT 1`) may take, in milliseconds
    /// (`EPERMIT_DATABASE_BREAKER__PROBE_TIMEOUT_MS`, default 1000, 10–10000).
    pub probe_timeout_ms: u64,
    /// How long a statement may go unanswered before the breaker probes the server, in
    /// milliseconds (`EPERMIT_DATABASE_BREAKER__SUSPECT_AFTER_MS`, default 500, 10–60000): when
    /// the database dies with every pooled connection idle, the first request waits this long,
    /// plus the probe, rather than `database_timeout_ms`. A slow query on a healthy database
    /// costs one probe, nothing more.
    pub suspect_after_ms: u64,
}

impl Default for DatabaseBreakerSettings {
    fn default() -> Self {
        DatabaseBreakerSettings {
            failures: 3,
            backoff_ms: 250,
            max_backoff_ms: 4000,
            probe_timeout_ms: 1000,
            suspect_after_ms: 500,
        }
    }
}

impl DatabaseBreakerSettings {
    /// See [`DatabaseBreakerSettings::suspect_after_ms`].
    pub fn suspect_after(&self) -> Duration {
        Duration::from_millis(self.suspect_after_ms)
    }

    /// The breaker's policy.
    pub fn policy(&self) -> crate::breaker::BreakerPolicy {
        breaker_policy(self.failures, self.backoff_ms, self.max_backoff_ms)
    }

    /// See [`DatabaseBreakerSettings::probe_timeout_ms`].
    pub fn probe_timeout(&self) -> Duration {
        Duration::from_millis(self.probe_timeout_ms)
    }

    fn validate(&self) -> Result<(), (&'static str, &'static str)> {
        if !(10..=60_000).contains(&self.suspect_after_ms) {
            return Err((
                "database_breaker.suspect_after_ms",
                "must be between 10 and 60000",
            ));
        }
        check_breaker(
            [
                "database_breaker.failures",
                "database_breaker.backoff_ms",
                "database_breaker.max_backoff_ms",
                "database_breaker.probe_timeout_ms",
            ],
            [
                u64::from(self.failures),
                self.backoff_ms,
                self.max_backoff_ms,
                self.probe_timeout_ms,
            ],
        )
    }
}

/// Signed checkpoints of the audit chain (issue 12 item 7; `crate::audit`).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct AuditSettings {
    /// A checkpoint once this many entries are not yet anchored
    /// (`EPERMIT_AUDIT__CHECKPOINT_EVERY_ENTRIES`, default 1000).
    pub checkpoint_every_entries: u64,
    /// A checkpoint once the oldest unanchored entry is this old, in seconds
    /// (`EPERMIT_AUDIT__CHECKPOINT_EVERY_SECS`, default 300).
    pub checkpoint_every_secs: u64,
    /// Where checkpoints are exported, append-only (`EPERMIT_AUDIT__CHECKPOINT_EXPORT`): a file
    /// path (one JSON line per checkpoint, opened `O_APPEND`) or an `http(s)://` URL that
    /// receives each checkpoint as a JSON `POST`. Unset: checkpoints stay in the database only.
    pub checkpoint_export: Option<String>,
}

impl Default for AuditSettings {
    fn default() -> Self {
        AuditSettings {
            checkpoint_every_entries: 1000,
            checkpoint_every_secs: 300,
            checkpoint_export: None,
        }
    }
}

/// How the service runs.
#[derive(Clone, Copy, Debug, Default, Deserialize, serde::Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// For a developer's machine and the tests: without an SMS gateway, login codes are written
    /// to `<data dir>/outbox.jsonl` (0600) instead of being sent, and `/metrics` is served on the
    /// public listener unless `metrics_bind` is set. Announced at start-up.
    #[default]
    Development,
    /// A real deployment: refuses to start without an SMS gateway (`sms.gateway_url` and
    /// `sms.api_key`), never writes an outbox, and serves `/metrics` only on the internal
    /// listener.
    Production,
}

/// The HTTPS SMS gateway (see `auth::code_sender::SmsGatewaySender` for the request it gets).
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmsSettings {
    /// The gateway's endpoint (`EPERMIT_SMS_GATEWAY_URL`): `https://…`, or `http://` to a
    /// loopback address (a relay on the same host). Unset: no gateway (development only).
    pub gateway_url: Option<String>,
    /// The API key, sent as `Authorization: Bearer <key>` (`EPERMIT_SMS_API_KEY`); secret.
    pub api_key: Option<SecretString>,
    /// The sender id or signature registered with the gateway (`EPERMIT_SMS_SENDER_ID`, default
    /// `金华居住证`).
    pub sender_id: String,
    /// The message; `{code}` and `{minutes}` are replaced (`EPERMIT_SMS_TEMPLATE`).
    pub template: String,
    /// Most time one attempt may take, in milliseconds (`EPERMIT_SMS_TIMEOUT_MS`, default 3000,
    /// 100–30000).
    pub timeout_ms: u64,
    /// Most time connecting may take, in milliseconds (`EPERMIT_SMS_CONNECT_TIMEOUT_MS`, default
    /// 1000; `timeout_ms` when that is shorter).
    pub connect_timeout_ms: u64,
    /// Further attempts after a timeout, a connection error or a 5xx answer (never after a 4xx)
    /// (`EPERMIT_SMS_RETRIES`, default 2, at most 5).
    pub retries: u32,
}

impl Default for SmsSettings {
    fn default() -> Self {
        SmsSettings {
            gateway_url: None,
            api_key: None,
            sender_id: "金华居住证".to_owned(),
            template: "【金华居住证】您的登录验证码为 {code}，{minutes}分钟内有效。".to_owned(),
            timeout_ms: 3000,
            connect_timeout_ms: 1000,
            retries: 2,
        }
    }
}

impl SmsSettings {
    /// See [`SmsSettings::timeout_ms`].
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }

    /// See [`SmsSettings::connect_timeout_ms`].
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_millis(self.connect_timeout_ms.min(self.timeout_ms))
    }

    /// The message for `code`, valid `minutes`.
    pub fn message(&self, code: &str, minutes: u64) -> String {
        self.template
            .replace("{code}", code)
            .replace("{minutes}", &minutes.to_string())
    }
}

/// One-time login codes (SPEC §4 "Auth").
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct OtpSettings {
    /// Lifetime of a code in seconds (default 300).
    pub ttl_secs: u64,
    /// Wrong guesses allowed per phone within one code lifetime (`ttl_secs`), however many codes
    /// are sent; the last one voids the pending code (default 5).
    pub max_attempts: u32,
    /// Wrong guesses allowed per phone in 24 hours (default 20). Past either budget, 429
    /// `too_many_attempts` with `Retry-After`.
    pub daily_max_attempts: u32,
    /// Seconds before another code may be sent to the same phone (default 60; 0 = none, refused
    /// in production): earlier is 429 `code_cool_down`.
    pub cool_down_secs: u64,
    /// Codes sent to one phone in 24 hours (default 10).
    pub daily_per_phone: u32,
    /// Codes sent at the request of one client address in 24 hours (default 100). Past either
    /// cap, 429 `daily_limit`. The 24 hours are a window opened by the first code counted.
    pub daily_per_client: u32,
}

/// A limit per minute, per client IP and per account (phone, username or verifier). Each
/// limit has its own defaults (see [`RateLimits`]); setting one of its two fields keeps the
/// other's default.
#[derive(Clone, Copy, Debug, Deserialize, serde::Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Limit {
    /// Requests per minute from one IP address.
    pub per_ip: u32,
    /// Requests per minute for one account.
    pub per_account: u32,
}

/// Rate limits of the abusable endpoints.
#[derive(Clone, Debug, Deserialize, serde::Serialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimits {
    /// `POST /v1/auth/otp` (default 10 per IP, 3 per phone).
    pub otp: Limit,
    /// `POST /v1/auth/login` and `staff-login` (default 20 per IP, 10 per account).
    pub login: Limit,
    /// `POST /v1/verify` (default 120 per IP, 600 per verifier).
    pub verify: Limit,
    /// `GET /v1/permits/{number}`: personal-data look-ups per police verifier account and hour
    /// (default 60; `EPERMIT_RATE_LIMITS__POLICE_LOOKUPS_PER_HOUR`, TOML
    /// `[rate_limits] police_lookups_per_hour`). Past it, 429 `rate_limited` with `Retry-After`.
    pub police_lookups_per_hour: u32,
    /// `PUT /v1/me` per resident account and hour (default 10;
    /// `EPERMIT_RATE_LIMITS__PROFILE_PER_HOUR`).
    pub profile_per_hour: u32,
}

/// Staff password checks (issue 12 item 4). Wrong passwords are throttled per (account, client
/// address), never by locking the account for everyone: after `throttle_after_failures`
/// failures from one address, that address waits `throttle_base_ms`, then twice as long after
/// each further failure, up to `throttle_max_secs` (429 `login_throttled`, `Retry-After`).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct AuthSettings {
    /// Failures from one address that are free of delay (default 3).
    pub throttle_after_failures: u32,
    /// The first delay, in milliseconds (default 1000).
    pub throttle_base_ms: u64,
    /// The longest delay, in seconds (default 300).
    pub throttle_max_secs: u64,
    /// Failures of one account, from all addresses since its last success, at which an audit
    /// entry `staff.login_failures` is written (default 20).
    pub failure_alarm: u32,
    /// Argon2 verifications that may run at once (default 2; each holds 19 MiB).
    pub max_concurrent_hashes: u32,
    /// How long a login waits for a free verification slot before 429 `busy`, in milliseconds
    /// (default 2000).
    pub hash_wait_ms: u64,
}

/// Lifetimes of issued tokens.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct TokenSettings {
    /// Access token lifetime in seconds (default 900).
    pub access_ttl_secs: u64,
    /// Absolute lifetime of a login's refresh family, counted from the login, in seconds
    /// (default 30 days); refreshing does not extend it.
    pub refresh_ttl_secs: u64,
    /// A refresh family not refreshed for this long ends, in seconds (default 7 days).
    pub refresh_idle_secs: u64,
    /// How long an instance may trust the revocation epoch it last read for an account, in
    /// milliseconds (default 1000, at most 60000). This bounds how late a revocation made on
    /// another instance (a disabled account, a password reset, a logout everywhere) stops that
    /// account's access tokens here; on the instance that made it, at once.
    pub revocation_check_ms: u64,
    /// How long Redis keeps its copy of an account's epoch before it is read from the database
    /// again, in seconds (default 60). Bounds how late a change is seen whose write to Redis
    /// failed (the in-process store keeps no copy: the database is read instead).
    pub revocation_mirror_secs: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./data"),
            database_url: None,
            redis_url: None,
            redis_prefix: crate::shared_state::DEFAULT_PREFIX.to_owned(),
            public_url: "https://jhga.cn".to_owned(),
            otp: OtpSettings::default(),
            rate_limits: RateLimits::default(),
            auth: AuthSettings::default(),
            trusted_proxies: Vec::new(),
            tokens: TokenSettings::default(),
            max_evidence_bytes: 5 * 1024 * 1024,
            verify_recheck_ms: 1000,
            database_timeout_ms: 5000,
            status_shard_entries: 1 << 16,
            audit: AuditSettings::default(),
            mode: Mode::Development,
            metrics_bind: None,
            sms: SmsSettings::default(),
            shared_store: SharedStoreSettings::default(),
            database_breaker: DatabaseBreakerSettings::default(),
        }
    }
}

impl Default for OtpSettings {
    fn default() -> Self {
        OtpSettings {
            ttl_secs: 300,
            max_attempts: 5,
            daily_max_attempts: 20,
            cool_down_secs: 60,
            daily_per_phone: 10,
            daily_per_client: 100,
        }
    }
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            otp: Limit {
                per_ip: 10,
                per_account: 3,
            },
            login: Limit {
                per_ip: 20,
                per_account: 10,
            },
            verify: Limit {
                per_ip: 120,
                per_account: 600,
            },
            police_lookups_per_hour: 60,
            profile_per_hour: 10,
        }
    }
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            throttle_after_failures: 3,
            throttle_base_ms: 1000,
            throttle_max_secs: 300,
            failure_alarm: 20,
            max_concurrent_hashes: 2,
            hash_wait_ms: 2000,
        }
    }
}

impl Default for TokenSettings {
    fn default() -> Self {
        TokenSettings {
            access_ttl_secs: 15 * 60,
            refresh_ttl_secs: 30 * 24 * 3600,
            refresh_idle_secs: 7 * 24 * 3600,
            revocation_check_ms: 1000,
            revocation_mirror_secs: 60,
        }
    }
}

impl OtpSettings {
    /// Lifetime of a code.
    pub fn ttl(&self) -> Duration {
        Duration::from_secs(self.ttl_secs)
    }

    /// See [`OtpSettings::cool_down_secs`].
    pub fn cool_down(&self) -> Duration {
        Duration::from_secs(self.cool_down_secs)
    }

    /// Whole minutes a code is valid (at least 1), for the message.
    pub fn ttl_minutes(&self) -> u64 {
        self.ttl_secs.div_ceil(60).max(1)
    }
}

impl AuthSettings {
    /// See [`AuthSettings::hash_wait_ms`].
    pub fn hash_wait(&self) -> Duration {
        Duration::from_millis(self.hash_wait_ms)
    }
}

/// A list of CIDRs from a comma-separated string (an environment variable) or a list (TOML). A
/// bare address counts as its single-host network.
fn cidr_list<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<ipnet::IpNet>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Form {
        Text(String),
        List(Vec<String>),
    }
    let items: Vec<String> = match Form::deserialize(d)? {
        Form::Text(text) => text.split(',').map(str::to_owned).collect(),
        Form::List(list) => list,
    };
    items
        .iter()
        .map(|item| item.trim())
        .filter(|item| !item.is_empty())
        .map(|item| {
            item.parse::<ipnet::IpNet>()
                .or_else(|_| item.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map(|net| net.trunc())
                .map_err(|_| serde::de::Error::custom(format!("`{item}` is not a CIDR")))
        })
        .collect()
}

impl TokenSettings {
    /// Access token lifetime.
    pub fn access_ttl(&self) -> Duration {
        Duration::from_secs(self.access_ttl_secs)
    }
    /// Refresh family lifetime from the login.
    pub fn refresh_ttl(&self) -> Duration {
        Duration::from_secs(self.refresh_ttl_secs)
    }
    /// Refresh family idle timeout.
    pub fn refresh_idle(&self) -> Duration {
        Duration::from_secs(self.refresh_idle_secs)
    }
    /// See [`TokenSettings::revocation_check_ms`].
    pub fn revocation_check(&self) -> Duration {
        Duration::from_millis(self.revocation_check_ms)
    }
    /// See [`TokenSettings::revocation_mirror_secs`].
    pub fn revocation_mirror(&self) -> Duration {
        Duration::from_secs(self.revocation_mirror_secs)
    }
}

/// A setting that cannot be used. Names the key and where it came from; never a secret's value.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A value is malformed or out of range.
    #[error("invalid setting `{key}` (from {origin}): {problem}")]
    Invalid {
        /// The dotted key, e.g. `otp.ttl_secs`.
        key: String,
        /// `the defaults`, `config file <path>` or `environment variable <NAME>`.
        origin: String,
        /// What is wrong.
        problem: String,
    },
    /// The configuration file named does not exist or cannot be read.
    #[error("config file {path}: {problem}")]
    File {
        /// The path given.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
}

/// The environment variable that sets `key` (`database_url` → `DATABASE_URL`,
/// `otp.ttl_secs` → `EPERMIT_OTP__TTL_SECS`).
fn env_name(key: &str) -> String {
    match key {
        "database_url" | "redis_url" => key.to_ascii_uppercase(),
        _ if key.starts_with("sms.") => format!("EPERMIT_SMS_{}", key[4..].to_ascii_uppercase()),
        _ => format!("EPERMIT_{}", key.replace('.', "__").to_ascii_uppercase()),
    }
}

/// The settings-relevant variables of `env` as `(dotted key, value)`.
fn env_layer(env: impl IntoIterator<Item = (String, String)>) -> Vec<(String, String)> {
    let mut layer = Vec::new();
    for (name, value) in env {
        if value.trim().is_empty() {
            continue;
        }
        let key = match name.as_str() {
            "DATABASE_URL" | "REDIS_URL" => name.to_ascii_lowercase(),
            _ => match name.strip_prefix("EPERMIT_") {
                // `EPERMIT_SMS_API_KEY` is short for `EPERMIT_SMS__API_KEY`.
                Some(rest) if rest.starts_with("SMS_") => {
                    format!("sms.{}", rest["SMS_".len()..].to_ascii_lowercase())
                }
                Some(rest) => rest.to_ascii_lowercase().replace("__", "."),
                None => continue,
            },
        };
        let top = key.split('.').next().unwrap_or_default();
        if ENV_KEYS.contains(&top) || key == "database_url" || key == "redis_url" {
            layer.push((key, value));
        }
    }
    layer.sort();
    layer
}

impl Settings {
    /// Loads the settings: defaults ← `file` (or `EPERMIT_CONFIG` when `file` is `None`) ← the
    /// process environment.
    pub fn load(file: Option<&Path>) -> Result<Settings, ConfigError> {
        let from_env = std::env::var_os("EPERMIT_CONFIG")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        let file = file.map(Path::to_path_buf).or(from_env);
        Settings::load_from(file.as_deref(), std::env::vars())
    }

    /// Loads the settings from `file` and the given environment (tests pass their own).
    pub fn load_from(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Settings, ConfigError> {
        // The rate limits' defaults as a layer of their own: a `Limit` has no field defaults
        // (each limit has its own), so a file or variable that sets only `per_ip` (e.g.
        // `EPERMIT_RATE_LIMITS__OTP__PER_IP`) merges over them instead of lacking `per_account`.
        let mut figment =
            Figment::new().merge(Serialized::default("rate_limits", RateLimits::default()));
        if let Some(path) = file {
            if !path.is_file() {
                return Err(ConfigError::File {
                    path: path.to_owned(),
                    problem: "not found".to_owned(),
                });
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        let env = env_layer(env);
        for (key, value) in &env {
            let Ok(value) = value.parse::<Value>();
            figment = figment.merge(Serialized::default(key, value));
        }
        let origin = |key: &str| -> String {
            if env
                .iter()
                .any(|(k, _)| k == key || key.starts_with(&format!("{k}.")))
            {
                format!("environment variable {}", env_name(key))
            } else if let Some(path) = file {
                format!("config file {}", path.display())
            } else {
                "the defaults".to_owned()
            }
        };
        let settings: Settings = figment.extract().map_err(|err| {
            let err = err
                .into_iter()
                .next()
                .unwrap_or_else(|| figment::Error::from("unknown error".to_owned()));
            let key = err.path.join(".");
            let secret = SECRET_KEYS.iter().any(|s| key == *s);
            let problem = describe(&err.kind, secret);
            ConfigError::Invalid {
                origin: origin(&key),
                key,
                problem,
            }
        })?;
        settings
            .validate()
            .map_err(|(key, problem)| ConfigError::Invalid {
                origin: origin(key),
                key: key.to_owned(),
                problem: problem.to_owned(),
            })?;
        Ok(settings)
    }

    /// Range checks serde cannot express.
    fn validate(&self) -> Result<(), (&'static str, &'static str)> {
        self.shared_store.validate()?;
        self.database_breaker.validate()?;
        if !(self.public_url.starts_with("https://") || self.public_url.starts_with("http://")) {
            return Err(("public_url", "must start with https:// or http://"));
        }
        if self.public_url.ends_with('/') {
            return Err(("public_url", "must not end with /"));
        }
        if self.verify_recheck_ms > 60_000 {
            return Err(("verify_recheck_ms", "must be at most 60000"));
        }
        if self.tokens.revocation_check_ms > 60_000 {
            return Err(("tokens.revocation_check_ms", "must be at most 60000"));
        }
        if !(100..=60_000).contains(&self.database_timeout_ms) {
            return Err(("database_timeout_ms", "must be between 100 and 60000"));
        }
        if !(1024..=65_536).contains(&self.status_shard_entries)
            || !self.status_shard_entries.is_multiple_of(4)
        {
            return Err((
                "status_shard_entries",
                "must be a multiple of 4 from 1024 to 65536",
            ));
        }
        if self
            .audit
            .checkpoint_export
            .as_deref()
            .is_some_and(|e| e.trim().is_empty())
        {
            return Err(("audit.checkpoint_export", "must be a file path or a URL"));
        }
        if !(100..=30_000).contains(&self.sms.timeout_ms) {
            return Err(("sms.timeout_ms", "must be between 100 and 30000"));
        }
        if self.sms.retries > 5 {
            return Err(("sms.retries", "must be at most 5"));
        }
        if !self.sms.template.contains("{code}") {
            return Err(("sms.template", "must contain {code}"));
        }
        if let Some(url) = &self.sms.gateway_url
            && !gateway_url_allowed(url)
        {
            return Err((
                "sms.gateway_url",
                "must start with https://, or http://127.0.0.1, http://[::1] or http://localhost",
            ));
        }
        if self.mode == Mode::Production && self.otp.cool_down_secs == 0 {
            return Err(("otp.cool_down_secs", "must be greater than 0 in production"));
        }
        let positive: &[(&'static str, u64)] = &[
            (
                "rate_limits.police_lookups_per_hour",
                self.rate_limits.police_lookups_per_hour.into(),
            ),
            (
                "rate_limits.profile_per_hour",
                self.rate_limits.profile_per_hour.into(),
            ),
            (
                "audit.checkpoint_every_entries",
                self.audit.checkpoint_every_entries,
            ),
            (
                "audit.checkpoint_every_secs",
                self.audit.checkpoint_every_secs,
            ),
            ("otp.ttl_secs", self.otp.ttl_secs),
            ("otp.max_attempts", self.otp.max_attempts.into()),
            ("otp.daily_max_attempts", self.otp.daily_max_attempts.into()),
            ("otp.daily_per_phone", self.otp.daily_per_phone.into()),
            ("otp.daily_per_client", self.otp.daily_per_client.into()),
            ("sms.connect_timeout_ms", self.sms.connect_timeout_ms),
            ("rate_limits.otp.per_ip", self.rate_limits.otp.per_ip.into()),
            (
                "rate_limits.otp.per_account",
                self.rate_limits.otp.per_account.into(),
            ),
            (
                "rate_limits.login.per_ip",
                self.rate_limits.login.per_ip.into(),
            ),
            (
                "rate_limits.login.per_account",
                self.rate_limits.login.per_account.into(),
            ),
            (
                "rate_limits.verify.per_ip",
                self.rate_limits.verify.per_ip.into(),
            ),
            (
                "rate_limits.verify.per_account",
                self.rate_limits.verify.per_account.into(),
            ),
            ("auth.throttle_base_ms", self.auth.throttle_base_ms),
            ("auth.throttle_max_secs", self.auth.throttle_max_secs),
            ("auth.failure_alarm", self.auth.failure_alarm.into()),
            (
                "auth.max_concurrent_hashes",
                self.auth.max_concurrent_hashes.into(),
            ),
            ("auth.hash_wait_ms", self.auth.hash_wait_ms),
            ("tokens.refresh_idle_secs", self.tokens.refresh_idle_secs),
            (
                "tokens.revocation_mirror_secs",
                self.tokens.revocation_mirror_secs,
            ),
            ("tokens.access_ttl_secs", self.tokens.access_ttl_secs),
            ("tokens.refresh_ttl_secs", self.tokens.refresh_ttl_secs),
            ("max_evidence_bytes", self.max_evidence_bytes),
        ];
        match positive.iter().find(|(_, v)| *v == 0) {
            Some((key, _)) => Err((key, "must be greater than 0")),
            None => Ok(()),
        }
    }

    /// Where the internal `/metrics` listener binds, if one runs (see [`Settings::metrics_bind`]).
    pub fn metrics_listener(&self) -> Option<SocketAddr> {
        match (self.metrics_bind, self.mode) {
            (Some(addr), _) => Some(addr),
            (None, Mode::Production) => Some(SocketAddr::from(([127, 0, 0, 1], 9100))),
            (None, Mode::Development) => None,
        }
    }

    /// See [`Settings::database_timeout_ms`].
    pub fn database_timeout(&self) -> Duration {
        Duration::from_millis(self.database_timeout_ms)
    }

    /// See [`Settings::verify_recheck_ms`].
    pub fn verify_recheck(&self) -> Duration {
        Duration::from_millis(self.verify_recheck_ms)
    }

    /// The database URL: the configured one, or the embedded SQLite file under the data directory.
    pub fn database_url(&self) -> SecretString {
        match &self.database_url {
            Some(url) => url.clone(),
            None => SecretString::from(crate::store::sqlite_url(&self.data_dir)),
        }
    }
}

/// Whether `url` may be the SMS gateway: HTTPS, or plain HTTP to this host only.
fn gateway_url_allowed(url: &str) -> bool {
    let host_of = |rest: &str| rest.split(['/', '?']).next().unwrap_or_default().to_owned();
    if let Some(rest) = url.strip_prefix("https://") {
        return !host_of(rest).is_empty();
    }
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let authority = host_of(rest);
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    matches!(host, "127.0.0.1" | "::1" | "localhost")
}

/// A figment error kind in words; a secret's value is never shown.
fn describe(kind: &figment::error::Kind, secret: bool) -> String {
    use figment::error::Kind;
    match kind {
        Kind::InvalidType(actual, expected) | Kind::InvalidValue(actual, expected) if secret => {
            let _ = actual;
            format!("expected {expected}")
        }
        Kind::Message(_) if secret => "malformed value".to_owned(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn toml(text: &str) -> tempfile::NamedTempFile {
        let file = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
        std::fs::write(file.path(), text).unwrap();
        file
    }

    #[test]
    fn defaults_need_nothing() {
        let s = Settings::load_from(None, env(&[])).unwrap();
        assert_eq!(s.bind, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(s.data_dir, PathBuf::from("./data"));
        assert!(s.redis_url.is_none());
        assert_eq!(s.database_timeout(), Duration::from_secs(5));
        assert_eq!(
            s.database_url().expose_secret(),
            "sqlite://./data/epermit.db?mode=rwc"
        );
        assert_eq!(s.public_url, "https://jhga.cn");
        assert_eq!(
            s.otp,
            OtpSettings {
                ttl_secs: 300,
                max_attempts: 5,
                ..OtpSettings::default()
            }
        );
        assert_eq!(s.auth, AuthSettings::default());
        assert!(s.trusted_proxies.is_empty());
        assert_eq!(s.tokens.refresh_idle(), Duration::from_secs(7 * 24 * 3600));
        assert_eq!(s.tokens.revocation_check(), Duration::from_secs(1));
        assert_eq!(s.tokens.access_ttl(), Duration::from_secs(900));
        assert_eq!(s.tokens.refresh_ttl(), Duration::from_secs(30 * 24 * 3600));
        assert_eq!(s.max_evidence_bytes, 5 * 1024 * 1024);
        assert_eq!(s.verify_recheck(), Duration::from_secs(1));
    }

    #[test]
    fn the_file_overrides_the_defaults() {
        let file = toml(
            "bind = \"0.0.0.0:9000\"\ndata_dir = \"/srv/epermit\"\n[otp]\nttl_secs = 120\n\
             [rate_limits.verify]\nper_ip = 5\nper_account = 6\n",
        );
        let s = Settings::load_from(Some(file.path()), env(&[])).unwrap();
        assert_eq!(s.bind, "0.0.0.0:9000".parse().unwrap());
        assert_eq!(s.data_dir, PathBuf::from("/srv/epermit"));
        assert_eq!(
            s.otp,
            OtpSettings {
                ttl_secs: 120,
                max_attempts: 5,
                ..OtpSettings::default()
            }
        );
        assert_eq!(
            s.rate_limits.verify,
            Limit {
                per_ip: 5,
                per_account: 6
            }
        );
        assert_eq!(s.rate_limits.login, RateLimits::default().login);
    }

    #[test]
    fn one_field_of_a_limit_keeps_the_others_default() {
        let file = toml("[rate_limits.login]\nper_account = 4\n");
        let vars = env(&[
            ("EPERMIT_RATE_LIMITS__OTP__PER_IP", "7"),
            ("EPERMIT_RATE_LIMITS__VERIFY__PER_ACCOUNT", "9"),
        ]);
        let s = Settings::load_from(Some(file.path()), vars).unwrap();
        let defaults = RateLimits::default();
        assert_eq!(
            s.rate_limits.otp,
            Limit {
                per_ip: 7,
                ..defaults.otp
            }
        );
        assert_eq!(
            s.rate_limits.verify,
            Limit {
                per_account: 9,
                ..defaults.verify
            }
        );
        assert_eq!(
            s.rate_limits.login,
            Limit {
                per_account: 4,
                ..defaults.login
            }
        );
        assert_eq!(
            s.rate_limits.police_lookups_per_hour,
            defaults.police_lookups_per_hour
        );
    }

    #[test]
    fn the_environment_overrides_the_file() {
        let file = toml("bind = \"0.0.0.0:9000\"\n[otp]\nttl_secs = 120\nmax_attempts = 3\n");
        let vars = env(&[
            ("EPERMIT_BIND", "127.0.0.1:7000"),
            ("EPERMIT_OTP__TTL_SECS", "60"),
            ("DATABASE_URL", "postgres://u:pw@db/epermit"),
            ("REDIS_URL", "redis://cache:6379"),
            ("EPERMIT_CONFIG", "ignored.toml"),
            ("EPERMIT_TEST_DATABASE_URL", "not a setting"),
            ("EPERMIT_REDIS_PREFIX", ""),
            ("PATH", "/bin"),
        ]);
        let s = Settings::load_from(Some(file.path()), vars).unwrap();
        assert_eq!(s.bind, "127.0.0.1:7000".parse().unwrap());
        assert_eq!(
            s.otp,
            OtpSettings {
                ttl_secs: 60,
                max_attempts: 3,
                ..OtpSettings::default()
            }
        );
        assert_eq!(
            s.database_url().expose_secret(),
            "postgres://u:pw@db/epermit"
        );
        assert_eq!(
            s.redis_url
                .as_ref()
                .map(|u| u.expose_secret().to_owned())
                .as_deref(),
            Some("redis://cache:6379")
        );
        assert_eq!(
            s.redis_prefix,
            crate::shared_state::DEFAULT_PREFIX,
            "an empty variable is unset"
        );
        assert!(
            !format!("{s:?}").contains("pw@"),
            "secrets are redacted in Debug"
        );
    }

    #[test]
    fn a_bad_value_is_named_with_its_origin() {
        let err = Settings::load_from(None, env(&[("EPERMIT_OTP__TTL_SECS", "soon")])).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("`otp.ttl_secs`") && text.contains("EPERMIT_OTP__TTL_SECS"),
            "{text}"
        );

        let err = Settings::load_from(None, env(&[("EPERMIT_BIND", "somewhere")])).unwrap_err();
        assert!(err.to_string().contains("`bind`"), "{err}");

        let file = toml("[otp]\nmax_attempts = 0\n");
        let err = Settings::load_from(Some(file.path()), env(&[]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`otp.max_attempts`")
                && err.contains("config file")
                && err.contains("greater than 0"),
            "{err}"
        );

        let file = toml("bnid = \"x\"\n");
        let err = Settings::load_from(Some(file.path()), env(&[]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("bnid"),
            "an unknown key in the file is named: {err}"
        );

        let err = Settings::load_from(None, env(&[("EPERMIT_PUBLIC_URL", "jhga.cn")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("`public_url`"), "{err}");

        let err = Settings::load_from(None, env(&[("EPERMIT_VERIFY_RECHECK_MS", "600000")]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`verify_recheck_ms`") && err.contains("at most 60000"),
            "{err}"
        );

        let missing = Path::new("/nonexistent/epermit.toml");
        assert!(matches!(
            Settings::load_from(Some(missing), env(&[])),
            Err(ConfigError::File { .. })
        ));
    }

    #[test]
    fn trusted_proxies_are_cidrs_from_the_environment_or_the_file() {
        let s = Settings::load_from(
            None,
            env(&[(
                "EPERMIT_TRUSTED_PROXIES",
                "127.0.0.1/32, 10.0.0.0/8,::1,2001:db8::/32",
            )]),
        )
        .unwrap();
        let nets: Vec<String> = s.trusted_proxies.iter().map(|n| n.to_string()).collect();
        assert_eq!(
            nets,
            ["127.0.0.1/32", "10.0.0.0/8", "::1/128", "2001:db8::/32"]
        );
        let file = toml("trusted_proxies = [\"192.168.0.0/16\"]\n");
        let s = Settings::load_from(Some(file.path()), env(&[])).unwrap();
        assert_eq!(s.trusted_proxies.len(), 1);
        let err = Settings::load_from(None, env(&[("EPERMIT_TRUSTED_PROXIES", "10.0.0.0/33")]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("trusted_proxies") && err.contains("10.0.0.0/33"),
            "{err}"
        );
    }

    #[test]
    fn sms_settings_come_from_short_environment_names_and_the_key_stays_secret() {
        let s = Settings::load_from(
            None,
            env(&[
                ("EPERMIT_MODE", "production"),
                ("EPERMIT_SMS_GATEWAY_URL", "https://sms.example.cn/send"),
                ("EPERMIT_SMS_API_KEY", "key-s3cr3t"),
                ("EPERMIT_SMS_TEMPLATE", "code {code}, {minutes} min"),
                ("EPERMIT_SMS_TIMEOUT_MS", "800"),
                ("EPERMIT_SMS_RETRIES", "1"),
                ("EPERMIT_METRICS_BIND", "127.0.0.1:9200"),
            ]),
        )
        .unwrap();
        assert_eq!(s.mode, Mode::Production);
        assert_eq!(
            s.sms.gateway_url.as_deref(),
            Some("https://sms.example.cn/send")
        );
        assert_eq!(s.sms.timeout(), Duration::from_millis(800));
        assert_eq!(s.sms.retries, 1);
        assert_eq!(s.sms.message("123456", 5), "code 123456, 5 min");
        assert_eq!(
            s.metrics_listener(),
            Some("127.0.0.1:9200".parse().unwrap())
        );
        assert!(!format!("{s:?}").contains("s3cr3t"), "the key is redacted");

        let defaults = Settings::load_from(None, env(&[])).unwrap();
        assert_eq!(defaults.mode, Mode::Development, "cargo run is development");
        assert_eq!(defaults.metrics_listener(), None);
        let production = Settings::load_from(None, env(&[("EPERMIT_MODE", "production")])).unwrap();
        assert_eq!(
            production.metrics_listener(),
            Some("127.0.0.1:9100".parse().unwrap())
        );
    }

    #[test]
    fn a_plain_http_gateway_is_refused_unless_it_is_on_this_host() {
        for ok in [
            "https://sms.example.cn/x",
            "http://127.0.0.1:8081/x",
            "http://localhost/x",
            "http://[::1]:9/x",
        ] {
            let r = Settings::load_from(None, env(&[("EPERMIT_SMS_GATEWAY_URL", ok)]));
            assert!(r.is_ok(), "{ok}");
        }
        for bad in [
            "http://sms.example.cn/x",
            "http://127.0.0.1.example.cn/x",
            "ftp://x",
            "https://",
        ] {
            let err = Settings::load_from(None, env(&[("EPERMIT_SMS_GATEWAY_URL", bad)]))
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("`sms.gateway_url`") && err.contains("EPERMIT_SMS_GATEWAY_URL"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn a_bad_secret_is_named_but_not_echoed() {
        let file = toml("database_url = 12345678\n");
        let err = Settings::load_from(Some(file.path()), env(&[]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`database_url`") && !err.contains("12345678"),
            "{err}"
        );
    }

    #[test]
    fn the_shared_store_breaker_is_set_from_the_file_or_the_environment_and_range_checked() {
        let s = Settings::load_from(None, env(&[])).unwrap();
        assert_eq!(s.shared_store, SharedStoreSettings::default());
        assert_eq!(s.shared_store.call_timeout(), Duration::from_millis(250));
        let file = toml("[shared_store]\ncall_timeout_ms = 400\nbreaker_failures = 5\n");
        let s = Settings::load_from(
            Some(file.path()),
            env(&[("EPERMIT_SHARED_STORE__BREAKER_MAX_BACKOFF_MS", "2000")]),
        )
        .unwrap();
        let policy = s.shared_store.breaker_policy();
        assert_eq!(s.shared_store.call_timeout(), Duration::from_millis(400));
        assert_eq!(policy.failures_to_open, 5);
        assert_eq!(policy.first_backoff, Duration::from_millis(500));
        assert_eq!(policy.max_backoff, Duration::from_secs(2));
        for (name, value, key) in [
            (
                "EPERMIT_SHARED_STORE__CALL_TIMEOUT_MS",
                "0",
                "call_timeout_ms",
            ),
            (
                "EPERMIT_SHARED_STORE__READINESS_TIMEOUT_MS",
                "100",
                "readiness_timeout_ms",
            ),
            (
                "EPERMIT_SHARED_STORE__BREAKER_FAILURES",
                "0",
                "breaker_failures",
            ),
            (
                "EPERMIT_SHARED_STORE__BREAKER_MAX_BACKOFF_MS",
                "100",
                "breaker_max_backoff_ms",
            ),
            (
                "EPERMIT_SHARED_STORE__PROBE_TIMEOUT_MS",
                "5",
                "probe_timeout_ms",
            ),
        ] {
            let err = Settings::load_from(None, env(&[(name, value)]))
                .unwrap_err()
                .to_string();
            assert!(
                err.contains(&format!("`shared_store.{key}`")) && err.contains(name),
                "{name}={value}: {err}"
            );
        }
    }

    #[test]
    fn the_database_breaker_is_set_from_the_file_or_the_environment_and_range_checked() {
        let s = Settings::load_from(None, env(&[])).unwrap();
        assert_eq!(s.database_breaker, DatabaseBreakerSettings::default());
        assert_eq!(s.database_breaker.policy().failures_to_open, 3);
        assert_eq!(
            s.database_breaker.policy().first_backoff,
            Duration::from_millis(250)
        );
        let file = toml("[database_breaker]\nfailures = 2\nprobe_timeout_ms = 300\n");
        let s = Settings::load_from(
            Some(file.path()),
            env(&[("EPERMIT_DATABASE_BREAKER__MAX_BACKOFF_MS", "2000")]),
        )
        .unwrap();
        let policy = s.database_breaker.policy();
        assert_eq!(policy.failures_to_open, 2);
        assert_eq!(policy.max_backoff, Duration::from_secs(2));
        assert_eq!(
            s.database_breaker.probe_timeout(),
            Duration::from_millis(300)
        );
        for (name, value, key) in [
            ("EPERMIT_DATABASE_BREAKER__FAILURES", "0", "failures"),
            ("EPERMIT_DATABASE_BREAKER__BACKOFF_MS", "0", "backoff_ms"),
            (
                "EPERMIT_DATABASE_BREAKER__MAX_BACKOFF_MS",
                "100",
                "max_backoff_ms",
            ),
            (
                "EPERMIT_DATABASE_BREAKER__PROBE_TIMEOUT_MS",
                "20000",
                "probe_timeout_ms",
            ),
        ] {
            let err = Settings::load_from(None, env(&[(name, value)]))
                .unwrap_err()
                .to_string();
            assert!(
                err.contains(&format!("`database_breaker.{key}`")) && err.contains(name),
                "{name}={value}: {err}"
            );
        }
    }
}
