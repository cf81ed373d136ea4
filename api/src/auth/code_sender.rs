//! Sending one-time login codes (SPEC §4: the sender is pluggable). Without an SMS gateway the
//! development sender writes each message to the log with the phone masked and, in full, as one
//! JSON line to `<data dir>/outbox.jsonl` (where a tester or the end-to-end tests read it).

use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;

use chrono::Utc;

use crate::domain::PhoneNumber;

/// Delivers a login code to a phone.
pub trait CodeSender: Send + Sync {
    /// Sends `code` to `phone`.
    fn send(&self, phone: &PhoneNumber, code: &str) -> std::io::Result<()>;
}

/// The development sender: the outbox file and a masked log line.
pub struct OutboxSender {
    path: PathBuf,
    lock: Mutex<()>,
}

impl OutboxSender {
    /// A sender appending to `<data_dir>/outbox.jsonl`.
    pub fn new(data_dir: &std::path::Path) -> Self {
        OutboxSender {
            path: data_dir.join("outbox.jsonl"),
            lock: Mutex::new(()),
        }
    }
}

impl CodeSender for OutboxSender {
    fn send(&self, phone: &PhoneNumber, code: &str) -> std::io::Result<()> {
        let line = serde_json::json!({
            "at": Utc::now().to_rfc3339(),
            "phone": phone.expose(),
            "message": format!("【金华居住证】您的登录验证码为 {code}，5分钟内有效。"),
            "code": code,
        });
        let _guard = self
            .lock
            .lock()
            .map_err(|_| std::io::Error::other("outbox lock poisoned"))?;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        writeln!(file, "{line}")?;
        tracing::info!(phone = %phone, outbox = %self.path.display(), "login code written to the development outbox");
        Ok(())
    }
}
