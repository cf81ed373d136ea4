//! Layered settings (SPEC §4, issue 3 item 2): built-in defaults, then an optional TOML file
//! (`--config FILE`, or `EPERMIT_CONFIG`), then the environment. Secrets (database and Redis URLs,
//! which may carry passwords) are [`SecretString`]s: never printed, never
//! echoed in an error.
//!
//! Environment variables: `EPERMIT_BIND`, `EPERMIT_DATA_DIR`, `DATABASE_URL`, `REDIS_URL`,
//! `EPERMIT_PUBLIC_URL`, `EPERMIT_MAX_EVIDENCE_BYTES`, `EPERMIT_VERIFY_RECHECK_MS`,
//! `EPERMIT_DATABASE_TIMEOUT_MS`, and any nested key as
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
//! [rate_limits.verify]
//! per_ip = 120
//! per_account = 600
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
const SECRET_KEYS: [&str; 2] = ["database_url", "redis_url"];

/// Top-level keys that `EPERMIT_*` variables may set (others, like `EPERMIT_CONFIG` or the test
/// variables, are not settings).
const ENV_KEYS: [&str; 12] = [
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
    "lockout",
    "tokens",
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
    /// Staff lock-out.
    pub lockout: LockoutSettings,
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
}

/// One-time login codes (SPEC §4 "Auth").
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct OtpSettings {
    /// Lifetime of a code in seconds (default 300).
    pub ttl_secs: u64,
    /// Wrong guesses before the code is void (default 5).
    pub max_attempts: u32,
}

/// A limit per minute, per client IP and per account (phone, username or verifier).
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Limit {
    /// Requests per minute from one IP address.
    pub per_ip: u32,
    /// Requests per minute for one account.
    pub per_account: u32,
}

/// Rate limits of the abusable endpoints.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimits {
    /// `POST /v1/auth/otp` (default 10 per IP, 3 per phone).
    pub otp: Limit,
    /// `POST /v1/auth/login` and `staff-login` (default 20 per IP, 10 per account).
    pub login: Limit,
    /// `POST /v1/verify` (default 120 per IP, 600 per verifier).
    pub verify: Limit,
    /// `PUT /v1/me` per resident account and hour (default 10;
    /// `EPERMIT_RATE_LIMITS__PROFILE_PER_HOUR`).
    pub profile_per_hour: u32,
}

/// Staff lock-out after repeated failed logins.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct LockoutSettings {
    /// Consecutive failures that lock the account (default 5).
    pub max_failures: u32,
    /// How long it stays locked, in seconds (default 900).
    pub lock_secs: u64,
}

/// Lifetimes of issued tokens.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct TokenSettings {
    /// Access token lifetime in seconds (default 900).
    pub access_ttl_secs: u64,
    /// Refresh token lifetime in seconds (default 30 days).
    pub refresh_ttl_secs: u64,
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
            lockout: LockoutSettings::default(),
            tokens: TokenSettings::default(),
            max_evidence_bytes: 5 * 1024 * 1024,
            verify_recheck_ms: 1000,
            database_timeout_ms: 5000,
            status_shard_entries: 1 << 16,
        }
    }
}

impl Default for OtpSettings {
    fn default() -> Self {
        OtpSettings {
            ttl_secs: 300,
            max_attempts: 5,
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
            profile_per_hour: 10,
        }
    }
}

impl Default for LockoutSettings {
    fn default() -> Self {
        LockoutSettings {
            max_failures: 5,
            lock_secs: 15 * 60,
        }
    }
}

impl Default for TokenSettings {
    fn default() -> Self {
        TokenSettings {
            access_ttl_secs: 15 * 60,
            refresh_ttl_secs: 30 * 24 * 3600,
        }
    }
}

impl OtpSettings {
    /// Lifetime of a code.
    pub fn ttl(&self) -> Duration {
        Duration::from_secs(self.ttl_secs)
    }
}

impl LockoutSettings {
    /// How long a locked account stays locked.
    pub fn lock_for(&self) -> Duration {
        Duration::from_secs(self.lock_secs)
    }
}

impl TokenSettings {
    /// Access token lifetime.
    pub fn access_ttl(&self) -> Duration {
        Duration::from_secs(self.access_ttl_secs)
    }
    /// Refresh token lifetime.
    pub fn refresh_ttl(&self) -> Duration {
        Duration::from_secs(self.refresh_ttl_secs)
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
        let mut figment = Figment::new();
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
        if !(self.public_url.starts_with("https://") || self.public_url.starts_with("http://")) {
            return Err(("public_url", "must start with https:// or http://"));
        }
        if self.public_url.ends_with('/') {
            return Err(("public_url", "must not end with /"));
        }
        if self.verify_recheck_ms > 60_000 {
            return Err(("verify_recheck_ms", "must be at most 60000"));
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
        if self.rate_limits.profile_per_hour == 0 {
            return Err(("rate_limits.profile_per_hour", "must be greater than 0"));
        }
        let positive: [(&'static str, u64); 13] = [
            ("otp.ttl_secs", self.otp.ttl_secs),
            ("otp.max_attempts", self.otp.max_attempts.into()),
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
            ("lockout.max_failures", self.lockout.max_failures.into()),
            ("lockout.lock_secs", self.lockout.lock_secs),
            ("tokens.access_ttl_secs", self.tokens.access_ttl_secs),
            ("tokens.refresh_ttl_secs", self.tokens.refresh_ttl_secs),
            ("max_evidence_bytes", self.max_evidence_bytes),
        ];
        match positive.iter().find(|(_, v)| *v == 0) {
            Some((key, _)) => Err((key, "must be greater than 0")),
            None => Ok(()),
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
                max_attempts: 5
            }
        );
        assert_eq!(s.lockout.max_failures, 5);
        assert_eq!(s.lockout.lock_for(), Duration::from_secs(900));
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
                max_attempts: 5
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
                max_attempts: 3
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
}
