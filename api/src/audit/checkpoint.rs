//! Checkpoints: the head of the audit chain signed by the audit key, stored in
//! `audit_checkpoints` and exported to an append-only place outside the database.
//!
//! A checkpoint signs the canonical text [`checkpoint_message`]:
//! `["epermit audit checkpoint v1", seq, hash, at, kid]` (JSON, `at` as the chain writes times).
//! Before signing, the entries since the previous checkpoint are checked (links and keyed
//! hashes): a chain edited since is never signed ([`CheckpointError::Broken`]).
//!
//! When: the server's background task ([`spawn`]) checks every second and takes one once
//! `audit.checkpoint_every_entries` entries are unanchored, or the oldest unanchored entry is
//! `audit.checkpoint_every_secs` old (an idle log needs no new checkpoint); on demand
//! ([`take`]); and at a clean shutdown (`Application::run_until_stopped`).
//!
//! Export ([`Exporter`]): every checkpoint not yet exported is sent, oldest first, and marked
//! exported only once the place took it — a failure is logged and retried at the next tick
//! (the row stays in the database meanwhile), and never delays a request: requests never wait
//! for an export. Two instances may export the same checkpoint twice; the verifier takes
//! identical lines once.

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend};
use serde::{Deserialize, Serialize};

use super::AuditKey;
use crate::config::AuditSettings;
use crate::keys::KeyError;
use crate::store::audit::{self, checkpoints};
use crate::store::{Store, StoreError};

/// Why no checkpoint was written.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// The entry `id` does not verify against the previous checkpoint: the chain was edited, so
    /// it is not signed (run `epermit audit verify`).
    #[error("the audit chain is broken at entry {id} since the last checkpoint: not signed")]
    Broken {
        /// The first entry that does not verify.
        id: i64,
    },
    /// The log ends before the latest checkpoint: entries were deleted.
    #[error("the audit log ends at entry {head} but a checkpoint anchors entry {checkpoint}")]
    Truncated {
        /// The last entry there is.
        head: i64,
        /// The latest checkpoint's sequence.
        checkpoint: i64,
    },
    /// Signing failed.
    #[error("signing: {0}")]
    Sign(#[from] KeyError),
    /// The database.
    #[error(transparent)]
    Store(StoreError),
}

impl From<CheckpointError> for KeyError {
    fn from(e: CheckpointError) -> Self {
        match e {
            CheckpointError::Sign(e) => e,
            CheckpointError::Store(e) => KeyError::Store(e),
            other => KeyError::Store(StoreError::Corrupt {
                table: "audit_log",
                problem: other.to_string(),
            }),
        }
    }
}

/// A checkpoint as it is exported (one JSON line) and read back by `epermit audit verify`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exported {
    /// The id of the head entry (0: empty log).
    pub seq: i64,
    /// Its hash.
    pub hash: String,
    /// When the checkpoint was taken (RFC 3339, microseconds).
    pub at: String,
    /// The audit key's id.
    pub kid: String,
    /// Ed25519 signature (hex) of [`checkpoint_message`].
    pub signature: String,
}

impl From<&checkpoints::Model> for Exported {
    fn from(c: &checkpoints::Model) -> Self {
        Exported {
            seq: c.seq,
            hash: c.hash.clone(),
            at: audit::canonical_at(c.at),
            kid: c.kid.clone(),
            signature: c.signature.clone(),
        }
    }
}

/// The text a checkpoint's signature covers.
pub fn checkpoint_message(seq: i64, hash: &str, at: &str, kid: &str) -> Vec<u8> {
    serde_json::json!(["epermit audit checkpoint v1", seq, hash, at, kid])
        .to_string()
        .into_bytes()
}

/// On PostgreSQL, takes the lock appends take (`LOCK TABLE audit_log IN EXCLUSIVE MODE`), so the
/// head cannot move while a checkpoint is taken; SQLite's `BEGIN IMMEDIATE` does that already.
pub async fn lock_log(txn: &DatabaseTransaction) -> Result<(), StoreError> {
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_unprepared("LOCK TABLE audit_log IN EXCLUSIVE MODE")
            .await?;
    }
    Ok(())
}

/// Takes a checkpoint of the current head now, unless the latest one already anchors it (then
/// that one is returned). See [`take_in`].
pub async fn take(store: &Store, key: &AuditKey) -> Result<checkpoints::Model, CheckpointError> {
    let txn = store.begin().await?;
    lock_log(&txn).await?;
    let taken = take_in(&txn, key, Utc::now()).await?;
    txn.commit().await.map_err(StoreError::from)?;
    match taken {
        Some(c) => Ok(c),
        None => checkpoints::latest(store.conn())
            .await?
            .ok_or(CheckpointError::Store(StoreError::NotFound("checkpoint"))),
    }
}

/// Inside `txn` (log locked): checks the entries since the latest checkpoint, then signs and
/// stores the head at `now`; `None` when the latest checkpoint is of this head already. The
/// first checkpoint (none before it) signs the head as it is: it anchors what exists.
pub async fn take_in(
    txn: &DatabaseTransaction,
    key: &AuditKey,
    now: DateTime<Utc>,
) -> Result<Option<checkpoints::Model>, CheckpointError> {
    let (seq, hash) = checkpoints::head(txn)
        .await?
        .unwrap_or((0, audit::GENESIS.to_owned()));
    let latest = checkpoints::latest(txn).await?;
    if let Some(latest) = &latest {
        if seq < latest.seq {
            return Err(CheckpointError::Truncated {
                head: seq,
                checkpoint: latest.seq,
            });
        }
        if seq == latest.seq {
            return Ok(None);
        }
        verify_since(txn, latest).await?;
    }
    let at = now.trunc_subsecs(6);
    let at_text = audit::canonical_at(at);
    let signature = key.sign(&checkpoint_message(seq, &hash, &at_text, key.kid()))?;
    Ok(checkpoints::insert(txn, seq, &hash, at, key.kid(), &signature).await?)
}

/// Checks the entries after `from` link to it and match their (keyed) hashes.
async fn verify_since<C: ConnectionTrait>(
    db: &C,
    from: &checkpoints::Model,
) -> Result<(), CheckpointError> {
    let mut prev = from.hash.clone();
    let mut after = from.seq;
    if from.seq > 0 {
        let anchored = audit::list(db, from.seq - 1, 1).await?;
        if anchored
            .first()
            .is_none_or(|e| e.id != from.seq || e.hash != from.hash)
        {
            return Err(CheckpointError::Broken { id: from.seq });
        }
    }
    loop {
        let page = audit::list(db, after, 1000).await?;
        let Some(last) = page.last() else {
            return Ok(());
        };
        after = last.id;
        for row in page {
            let keyed = audit::keyed_by(&row.hash).is_some();
            let expected = audit::expected_hash(&row, &prev);
            if row.prev_hash != prev || expected.as_deref() != Some(row.hash.as_str()) || !keyed {
                return Err(CheckpointError::Broken { id: row.id });
            }
            prev = row.hash;
        }
    }
}

/// Whether a checkpoint is due: `every_entries` entries unanchored, or the oldest unanchored
/// one at least `every_secs` old.
pub async fn due(store: &Store, settings: &AuditSettings) -> Result<bool, StoreError> {
    let db = store.conn();
    let Some(latest) = checkpoints::latest(db).await? else {
        return Ok(false);
    };
    let pending = checkpoints::entries_after(db, latest.seq).await?;
    if pending == 0 {
        return Ok(false);
    }
    if pending >= settings.checkpoint_every_entries {
        return Ok(true);
    }
    let oldest = audit::list(db, latest.seq, 1).await?;
    let age = oldest
        .first()
        .map_or(chrono::Duration::zero(), |e| Utc::now() - e.at);
    Ok(age
        >= chrono::Duration::seconds(
            i64::try_from(settings.checkpoint_every_secs).unwrap_or(i64::MAX),
        ))
}

/// Where checkpoints are exported (`audit.checkpoint_export`).
#[derive(Clone, Debug)]
pub enum Exporter {
    /// Nowhere: they stay in the database.
    None,
    /// Appended as JSON lines to this file (`O_APPEND`, created 0600 if missing, synced).
    File(PathBuf),
    /// `POST`ed as JSON to this URL; any 2xx answer counts as received.
    Url {
        /// The URL.
        url: String,
        /// The client (rustls, 10 s timeout).
        client: reqwest::Client,
    },
}

impl Exporter {
    /// The exporter the settings name.
    pub fn from_settings(settings: &AuditSettings) -> Exporter {
        match settings.checkpoint_export.as_deref().map(str::trim) {
            None | Some("") => Exporter::None,
            Some(url) if url.starts_with("https://") || url.starts_with("http://") => {
                let client = reqwest::Client::builder()
                    .timeout(Duration::from_secs(10))
                    .build()
                    .unwrap_or_default();
                Exporter::Url {
                    url: url.to_owned(),
                    client,
                }
            }
            Some(path) => Exporter::File(PathBuf::from(path)),
        }
    }

    async fn send(&self, checkpoint: &Exported) -> Result<(), String> {
        match self {
            Exporter::None => Ok(()),
            Exporter::File(path) => {
                let path = path.clone();
                let mut line = serde_json::to_string(checkpoint).map_err(|e| e.to_string())?;
                line.push('\n');
                tokio::task::spawn_blocking(move || append_line(&path, &line))
                    .await
                    .map_err(|e| e.to_string())?
                    .map_err(|e| e.to_string())
            }
            Exporter::Url { url, client } => {
                let r = client
                    .post(url)
                    .json(checkpoint)
                    .send()
                    .await
                    .map_err(|e| e.without_url().to_string())?;
                if r.status().is_success() {
                    Ok(())
                } else {
                    Err(format!("the export URL answered {}", r.status()))
                }
            }
        }
    }

    /// Sends every checkpoint not yet exported, oldest first, marking each once it got there;
    /// stops at the first failure (logged; the next call retries). Returns how many went out.
    pub async fn export_pending(&self, store: &Store) -> Result<u64, StoreError> {
        if matches!(self, Exporter::None) {
            return Ok(0);
        }
        let mut sent = 0;
        loop {
            let batch = checkpoints::unexported(store.conn(), 100).await?;
            if batch.is_empty() {
                return Ok(sent);
            }
            for c in batch {
                if let Err(e) = self.send(&Exported::from(&c)).await {
                    tracing::warn!(seq = c.seq, error = %e, "audit checkpoint export failed; will retry");
                    return Ok(sent);
                }
                checkpoints::mark_exported(store.conn(), c.id, Utc::now()).await?;
                sent += 1;
            }
        }
    }
}

fn append_line(path: &std::path::Path, line: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(line.as_bytes())?;
    file.sync_data()
}

/// One tick of the background task: a checkpoint if [`due`], then the pending exports.
pub async fn tick(store: &Store, key: &AuditKey, settings: &AuditSettings, exporter: &Exporter) {
    match due(store, settings).await {
        Ok(true) => {
            if let Err(e) = take(store, key).await {
                tracing::error!(error = %e, "audit checkpoint not written");
            }
        }
        Ok(false) => {}
        Err(e) => tracing::warn!(error = %e, "audit checkpoint check failed"),
    }
    if let Err(e) = exporter.export_pending(store).await {
        tracing::warn!(error = %e, "audit checkpoint export: database");
    }
}

/// Starts the background task on the current runtime: [`tick`] every second until aborted.
pub fn spawn(
    store: Store,
    key: AuditKey,
    settings: AuditSettings,
    exporter: Exporter,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(Duration::from_secs(1));
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            tick(&store, &key, &settings, &exporter).await;
        }
    })
}

/// At a clean shutdown: a last checkpoint of the head and the pending exports (bounded by 10 s
/// so a dead export place cannot hold the shutdown).
pub async fn at_shutdown(store: &Store, key: &AuditKey, exporter: &Exporter) {
    let work = async {
        match take(store, key).await {
            Ok(c) => tracing::info!(seq = c.seq, "audit checkpoint at shutdown"),
            Err(e) => tracing::error!(error = %e, "audit checkpoint at shutdown not written"),
        }
        if let Err(e) = exporter.export_pending(store).await {
            tracing::warn!(error = %e, "audit checkpoint export at shutdown");
        }
    };
    if tokio::time::timeout(Duration::from_secs(10), work)
        .await
        .is_err()
    {
        tracing::warn!("audit checkpoint at shutdown timed out");
    }
}
