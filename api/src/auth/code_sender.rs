//! Sending one-time login codes (SPEC §4: the sender is pluggable; issue 12 item 1).
//!
//! - [`SmsGatewaySender`] posts each message to an SMS gateway over HTTPS (reqwest, rustls).
//! - [`OutboxSender`], in development mode only ([`crate::config::Mode`]), writes each message to
//!   `<data dir>/outbox.jsonl` (mode 0600) where a tester or the end-to-end tests read it, and logs
//!   it with the phone masked.
//!
//! # The gateway request
//!
//! One JSON `POST` to `sms.gateway_url`:
//!
//! ```text
//! POST <sms.gateway_url>
//! Authorization: Bearer <sms.api_key>
//! Idempotency-Key: <message_id>
//! Content-Type: application/json
//!
//! {"phone": "13812345678", "message": "【金华居住证】您的登录验证码为 123456，5分钟内有效。",
//!  "sender_id": "金华居住证", "message_id": "5f0c…(a UUID)"}
//! ```
//!
//! Any 2xx answer is delivery accepted. The `message_id` (and the `Idempotency-Key` header, the
//! same value) is the same for every attempt of one message, so a gateway that honours it sends a
//! retried message once. Each attempt may take `sms.connect_timeout_ms` to connect and
//! `sms.timeout_ms` in all; after a timeout, a connection error or a 5xx answer the sender tries
//! again, at most `sms.retries` more times, waiting 100 ms, 200 ms, 400 ms, … (at most 1 s) between
//! attempts — so a gateway that never answers costs at most about
//! `timeout × (retries + 1)` plus the waits. A 4xx answer (our request is wrong: a bad key, a
//! refused number) is not retried. The API key never appears in logs, errors or `Debug` output.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use chrono::Utc;
use secrecy::{ExposeSecret, SecretString};

use crate::config::SmsSettings;
use crate::domain::PhoneNumber;

/// Why a code could not be delivered (→ 503 `sms_unavailable`). Names no phone number and no
/// secret.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The gateway refused the message with a 4xx status (not retried).
    #[error("the SMS gateway refused the message (HTTP {0})")]
    Refused(u16),
    /// The gateway failed with a 5xx status on every attempt.
    #[error("the SMS gateway failed (HTTP {status}) after {attempts} attempts")]
    Failed {
        /// The last status.
        status: u16,
        /// Attempts made.
        attempts: u32,
    },
    /// The gateway could not be reached or did not answer in time on every attempt.
    #[error("the SMS gateway is unreachable ({kind}) after {attempts} attempts")]
    Unreachable {
        /// `timeout`, `connect` or `request`.
        kind: &'static str,
        /// Attempts made.
        attempts: u32,
    },
    /// The development outbox could not be written.
    #[error("the development outbox could not be written: {0}")]
    Outbox(#[from] std::io::Error),
}

/// Delivers a login code to a phone.
#[async_trait::async_trait]
pub trait CodeSender: Send + Sync {
    /// Sends `code` to `phone`; may do network I/O (it is awaited by the request that asked for
    /// the code). An error means the code did not reach the gateway: the caller must discard it.
    async fn send(&self, phone: &PhoneNumber, code: &str) -> Result<(), SendError>;

    /// What the sender is, for the start-up log (`sms-gateway <host>`, `outbox <path>`).
    fn describe(&self) -> String;
}

/// The message text a sender delivers, from the settings' template.
fn message(settings: &SmsSettings, code: &str, minutes: u64) -> String {
    settings.message(code, minutes)
}

/// The development sender: the outbox file and a masked log line.
pub struct OutboxSender {
    path: PathBuf,
    sms: SmsSettings,
    minutes: u64,
    lock: Mutex<()>,
}

impl OutboxSender {
    /// A sender appending to `<data_dir>/outbox.jsonl`; messages follow `sms.template` with codes
    /// valid `minutes`.
    pub fn new(data_dir: &std::path::Path, sms: &SmsSettings, minutes: u64) -> Self {
        OutboxSender {
            path: data_dir.join("outbox.jsonl"),
            sms: sms.clone(),
            minutes,
            lock: Mutex::new(()),
        }
    }

    /// Opens the outbox for appending, readable by its owner only (0600): created so, and
    /// tightened if it exists with wider permissions.
    fn open(&self) -> std::io::Result<std::fs::File> {
        let mut options = std::fs::OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
            options.mode(0o600);
            let file = options.open(&self.path)?;
            if file.metadata()?.permissions().mode() & 0o077 != 0 {
                file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
            }
            Ok(file)
        }
        #[cfg(not(unix))]
        options.open(&self.path)
    }
}

#[async_trait::async_trait]
impl CodeSender for OutboxSender {
    async fn send(&self, phone: &PhoneNumber, code: &str) -> Result<(), SendError> {
        let line = serde_json::json!({
            "at": Utc::now().to_rfc3339(),
            "phone": phone.expose(),
            "message": message(&self.sms, code, self.minutes),
            "code": code,
        });
        let _guard = self
            .lock
            .lock()
            .map_err(|_| std::io::Error::other("outbox lock poisoned"))?;
        let mut file = self.open()?;
        writeln!(file, "{line}")?;
        tracing::info!(phone = %phone, outbox = %self.path.display(), "login code written to the development outbox");
        Ok(())
    }

    fn describe(&self) -> String {
        format!("outbox {}", self.path.display())
    }
}

/// The production sender: an HTTPS SMS gateway (see the module doc for the request).
pub struct SmsGatewaySender {
    client: reqwest::Client,
    url: String,
    api_key: SecretString,
    sms: SmsSettings,
    minutes: u64,
}

impl std::fmt::Debug for SmsGatewaySender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmsGatewaySender")
            .field("url", &self.url)
            .field("api_key", &"[REDACTED]")
            .field("retries", &self.sms.retries)
            .finish_non_exhaustive()
    }
}

/// Why an [`SmsGatewaySender`] could not be built.
#[derive(Debug, thiserror::Error)]
pub enum GatewaySetupError {
    /// A required setting is unset.
    #[error("`{0}` is not set")]
    Missing(&'static str),
    /// The HTTP client could not be built (TLS roots).
    #[error("the HTTP client could not be built: {0}")]
    Client(String),
}

/// The wait before attempt `n` (1-based retries): 100 ms, 200 ms, 400 ms, … at most 1 s.
fn backoff(retry: u32) -> Duration {
    Duration::from_millis((100u64 << retry.saturating_sub(1).min(4)).min(1000))
}

/// What one attempt came to.
enum Attempt {
    Delivered,
    Refused(u16),
    Retryable(SendError),
}

impl SmsGatewaySender {
    /// A sender for the gateway of `sms` (URL and key required); messages say codes are valid
    /// `minutes`.
    pub fn new(sms: &SmsSettings, minutes: u64) -> Result<Self, GatewaySetupError> {
        let url = sms
            .gateway_url
            .clone()
            .ok_or(GatewaySetupError::Missing("sms.gateway_url"))?;
        let api_key = sms
            .api_key
            .clone()
            .ok_or(GatewaySetupError::Missing("sms.api_key"))?;
        let client = reqwest::Client::builder()
            .connect_timeout(sms.connect_timeout())
            .timeout(sms.timeout())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| GatewaySetupError::Client(e.to_string()))?;
        Ok(SmsGatewaySender {
            client,
            url,
            api_key,
            sms: sms.clone(),
            minutes,
        })
    }

    /// The gateway's host, for logs (never the path or query, which might carry a token).
    fn host(&self) -> String {
        reqwest::Url::parse(&self.url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_else(|| "?".to_owned())
    }

    async fn attempt(&self, body: &serde_json::Value, id: &str, attempts: u32) -> Attempt {
        let sent = self
            .client
            .post(&self.url)
            .bearer_auth(self.api_key.expose_secret())
            .header("Idempotency-Key", id)
            .json(body)
            .send()
            .await;
        match sent {
            Ok(response) if response.status().is_success() => Attempt::Delivered,
            Ok(response) if response.status().is_client_error() => {
                Attempt::Refused(response.status().as_u16())
            }
            Ok(response) => Attempt::Retryable(SendError::Failed {
                status: response.status().as_u16(),
                attempts,
            }),
            Err(e) => Attempt::Retryable(SendError::Unreachable {
                kind: if e.is_timeout() {
                    "timeout"
                } else if e.is_connect() {
                    "connect"
                } else {
                    "request"
                },
                attempts,
            }),
        }
    }
}

#[async_trait::async_trait]
impl CodeSender for SmsGatewaySender {
    async fn send(&self, phone: &PhoneNumber, code: &str) -> Result<(), SendError> {
        let id = uuid::Uuid::new_v4().to_string();
        let body = serde_json::json!({
            "phone": phone.expose(),
            "message": message(&self.sms, code, self.minutes),
            "sender_id": self.sms.sender_id,
            "message_id": id,
        });
        let mut attempts = 0;
        loop {
            attempts += 1;
            match self.attempt(&body, &id, attempts).await {
                Attempt::Delivered => {
                    tracing::info!(phone = %phone, message_id = %id, attempts, "login code sent");
                    return Ok(());
                }
                Attempt::Refused(status) => {
                    tracing::error!(phone = %phone, message_id = %id, status, gateway = %self.host(), "the SMS gateway refused a login code");
                    return Err(SendError::Refused(status));
                }
                Attempt::Retryable(err) if attempts > self.sms.retries => {
                    tracing::error!(phone = %phone, message_id = %id, error = %err, gateway = %self.host(), "a login code could not be sent");
                    return Err(err);
                }
                Attempt::Retryable(err) => {
                    tracing::warn!(message_id = %id, error = %err, "SMS gateway attempt failed; retrying");
                    tokio::time::sleep(backoff(attempts)).await;
                }
            }
        }
    }

    fn describe(&self) -> String {
        format!("sms-gateway {}", self.host())
    }
}

#[cfg(test)]
mod tests;
