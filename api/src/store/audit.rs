//! `audit_log`: the hash-chained audit log (SPEC §4 "Audit"). Every state change and every police
//! lookup of personal data appends an entry; `epermit audit verify` runs [`verify_chain`].
//!
//! Each entry's `hash` is the SHA-256 (hex) of the canonical JSON array
//! `[prev_hash, at, actor, action, subject, detail]`, where `at` is RFC 3339 UTC with microseconds
//! and `detail` is the stored JSON text; `prev_hash` is the previous entry's hash, or
//! [`GENESIS`] for the first. Changing, reordering or deleting any entry but the last breaks the
//! chain at the first entry whose link or hash no longer matches.
//!
//! # Keyed entries (issue 12 item 7)
//!
//! An unkeyed chain can be recomputed by anyone who can write the database. Once the audit key
//! exists (its first checkpoint is in [`checkpoints`]), every new entry's hash is instead
//! `hmac:<kid>:<hex>`: HMAC-SHA256 of the same canonical array under the *chain key* derived from
//! the audit key `kid` ([`register_chain_key`]), which lives in the key directory, not in the
//! database. Entries written before stay as they are and still verify (version 1, plain
//! SHA-256); a plain entry after a keyed one is a break. Signed checkpoints of the head
//! ([`checkpoints`]) anchor the chain against truncation.

use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, DatabaseTransaction, DbBackend, QueryOrder, QuerySelect};

use super::{Result, StoreError, sha256_hex};

pub mod checkpoints;

/// The prefix of a keyed entry hash: `hmac:<kid>:<64 hex>`.
pub const KEYED_PREFIX: &str = "hmac:";

/// The chain keys this process holds, by audit-key id (several services with their own key
/// directories may share one test process).
static CHAIN_KEYS: std::sync::LazyLock<
    std::sync::RwLock<std::collections::HashMap<String, [u8; 32]>>,
> = std::sync::LazyLock::new(Default::default);

/// Makes the chain key of audit key `kid` available to [`append`] and [`verify_chain`] in this
/// process (done when the audit key is opened).
pub fn register_chain_key(kid: &str, key: [u8; 32]) {
    if let Ok(mut keys) = CHAIN_KEYS.write() {
        keys.insert(kid.to_owned(), key);
    }
}

/// The chain key of audit key `kid`, if this process holds it.
pub fn chain_key(kid: &str) -> Option<[u8; 32]> {
    CHAIN_KEYS.read().ok().and_then(|k| k.get(kid).copied())
}

/// `prev_hash` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An entry.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    /// Primary key: the chain's order.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// When it happened (microsecond precision).
    pub at: DateTimeUtc,
    /// Who: `resident:12`, `staff:3`, `system`, `cli`.
    pub actor: String,
    /// What, as a stable code: `application.approve`, `permit.lookup`, …
    pub action: String,
    /// To what: `application:7`, `permit:330782-2026-000001`, …
    pub subject: String,
    /// Details as JSON text (no unmasked personal data).
    pub detail: String,
    /// The previous entry's hash.
    pub prev_hash: String,
    /// This entry's hash, unique.
    #[sea_orm(unique)]
    pub hash: String,
}

impl ActiveModelBehavior for ActiveModel {}

/// An entry to append.
#[derive(Clone, Debug)]
pub struct NewEntry {
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// To what.
    pub subject: String,
    /// Details.
    pub detail: serde_json::Value,
}

impl NewEntry {
    /// An entry: `actor` did `action` to `subject`, with `detail`.
    pub fn new(
        actor: impl Into<String>,
        action: impl Into<String>,
        subject: impl Into<String>,
        detail: serde_json::Value,
    ) -> Self {
        NewEntry {
            actor: actor.into(),
            action: action.into(),
            subject: subject.into(),
            detail,
        }
    }
}

/// Appends `entry` as the last write of `txn` and commits: how every state change ends, so a
/// change and its audit entry land together or not at all.
pub async fn commit_with_audit(
    txn: DatabaseTransaction,
    entry: NewEntry,
    now: DateTime<Utc>,
) -> Result<Model> {
    let appended = append(&txn, entry, now).await?;
    txn.commit().await?;
    Ok(appended)
}

/// Why the chain does not verify.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The entry with this id does not link to its predecessor or does not match its hash.
    #[error("audit chain broken at entry {id}")]
    BrokenLink {
        /// The first broken entry.
        id: i64,
    },
    /// A keyed entry names an audit key this process does not hold.
    #[error("audit entry {id} is keyed with audit key {kid}, which is not loaded")]
    KeyMissing {
        /// The entry.
        id: i64,
        /// The audit key it names.
        kid: String,
    },
    /// The log could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// `at` as the chain and the checkpoints sign it: RFC 3339 UTC with microseconds.
pub fn canonical_at(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// The hash of an entry with these fields.
pub fn entry_hash(
    prev_hash: &str,
    at: DateTime<Utc>,
    actor: &str,
    action: &str,
    subject: &str,
    detail: &str,
) -> String {
    let canonical =
        serde_json::json!([prev_hash, canonical_at(at), actor, action, subject, detail]);
    sha256_hex(canonical.to_string().as_bytes())
}

/// The keyed hash of an entry with these fields under `key`, the chain key of audit key `kid`:
/// `hmac:<kid>:<hex HMAC-SHA256>`.
#[allow(clippy::too_many_arguments)]
pub fn keyed_entry_hash(
    kid: &str,
    key: &[u8; 32],
    prev_hash: &str,
    at: DateTime<Utc>,
    actor: &str,
    action: &str,
    subject: &str,
    detail: &str,
) -> String {
    use hmac::Mac;
    let canonical =
        serde_json::json!([prev_hash, canonical_at(at), actor, action, subject, detail]);
    let mut mac = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(key)
        .expect("HMAC takes a key of any length");
    mac.update(canonical.to_string().as_bytes());
    format!(
        "{KEYED_PREFIX}{kid}:{}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// The audit key that keys `hash`, if it is a keyed hash.
pub fn keyed_by(hash: &str) -> Option<&str> {
    hash.strip_prefix(KEYED_PREFIX)?
        .split_once(':')
        .map(|(kid, _)| kid)
}

/// What the hash of `row` should be, given the hash before it: keyed like `row` says it is
/// (`Ok(None)` when it names a key this process does not hold).
pub fn expected_hash(row: &Model, prev_hash: &str) -> Option<String> {
    match keyed_by(&row.hash) {
        Some(kid) => chain_key(kid).map(|key| {
            keyed_entry_hash(
                kid,
                &key,
                prev_hash,
                row.at,
                &row.actor,
                &row.action,
                &row.subject,
                &row.detail,
            )
        }),
        None => Some(entry_hash(
            prev_hash,
            row.at,
            &row.actor,
            &row.action,
            &row.subject,
            &row.detail,
        )),
    }
}

/// Appends an entry at `now`, linked to the latest one. Reading the latest hash and inserting
/// happen in the caller's transaction; on PostgreSQL the table is first locked
/// (`LOCK TABLE audit_log IN EXCLUSIVE MODE`, readers still pass) so concurrent appends cannot
/// fork the chain; SQLite serialises writers already ([`super::Store::begin`] is
/// `BEGIN IMMEDIATE`). Make it the last write of the transaction to hold the lock briefly.
pub async fn append(
    txn: &DatabaseTransaction,
    entry: NewEntry,
    now: DateTime<Utc>,
) -> Result<Model> {
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_unprepared("LOCK TABLE audit_log IN EXCLUSIVE MODE")
            .await?;
    }
    let prev_hash = Entity::find()
        .select_only()
        .column(Column::Hash)
        .order_by_desc(Column::Id)
        .into_tuple::<String>()
        .one(txn)
        .await?
        .unwrap_or_else(|| GENESIS.to_owned());
    let at = now.trunc_subsecs(6);
    let detail = entry.detail.to_string();
    // Keyed once the chain is: by the key of the entry before, else of the latest checkpoint.
    let kid = match keyed_by(&prev_hash) {
        Some(kid) => Some(kid.to_owned()),
        None => checkpoints::latest_kid(txn).await?,
    };
    let hash = match kid {
        Some(kid) => {
            let key = chain_key(&kid).ok_or_else(|| StoreError::Corrupt {
                table: "audit_checkpoints",
                problem: format!(
                    "the audit chain is keyed with audit key {kid}, which this process has not \
                     loaded (open the audit key first)"
                ),
            })?;
            keyed_entry_hash(
                &kid,
                &key,
                &prev_hash,
                at,
                &entry.actor,
                &entry.action,
                &entry.subject,
                &detail,
            )
        }
        None => entry_hash(
            &prev_hash,
            at,
            &entry.actor,
            &entry.action,
            &entry.subject,
            &detail,
        ),
    };
    let row = ActiveModel {
        at: Set(at),
        actor: Set(entry.actor),
        action: Set(entry.action),
        subject: Set(entry.subject),
        detail: Set(detail),
        prev_hash: Set(prev_hash),
        hash: Set(hash),
        ..Default::default()
    };
    Ok(Entity::insert(row).exec_with_returning(txn).await?)
}

/// Entries with `id > after`, oldest first, at most `limit` (the admin listing, paged by id).
pub async fn list<C: ConnectionTrait>(db: &C, after: i64, limit: u64) -> Result<Vec<Model>> {
    Ok(Entity::find()
        .filter(Column::Id.gt(after))
        .order_by_asc(Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

/// What `GET /v1/audit` narrows the log to (each `None` matches everything).
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Actions starting with this (`permit.` matches `permit.suspend`, `permit.revoke`, …).
    pub action_prefix: Option<String>,
    /// This actor exactly (`staff:3`, `resident:12`, `operator:cli`, …).
    pub actor: Option<String>,
    /// Entries at or after this instant.
    pub since: Option<DateTime<Utc>>,
    /// Entries before this instant.
    pub until: Option<DateTime<Utc>>,
}

/// Up to `limit` entries after `after` that match `filter`, oldest first.
pub async fn list_filtered<C: ConnectionTrait>(
    db: &C,
    filter: &Filter,
    after: i64,
    limit: u64,
) -> Result<Vec<Model>> {
    let mut query = Entity::find().filter(Column::Id.gt(after));
    if let Some(prefix) = &filter.action_prefix {
        query = query.filter(Column::Action.starts_with(prefix.as_str()));
    }
    if let Some(actor) = &filter.actor {
        query = query.filter(Column::Actor.eq(actor.as_str()));
    }
    if let Some(since) = filter.since {
        query = query.filter(Column::At.gte(since));
    }
    if let Some(until) = filter.until {
        query = query.filter(Column::At.lt(until));
    }
    Ok(query.order_by_asc(Column::Id).limit(limit).all(db).await?)
}

/// Walks the whole chain (in pages of 1000) and returns how many entries verified, or the first
/// broken link. A plain (unkeyed) entry after a keyed one is a broken link. This checks the
/// chain alone; `crate::audit::verify` also checks it against the signed checkpoints.
pub async fn verify_chain<C: ConnectionTrait>(db: &C) -> Result<u64, AuditError> {
    let mut prev = GENESIS.to_owned();
    let mut after = i64::MIN;
    let mut count = 0u64;
    let mut keyed = false;
    loop {
        let page = list(db, after, 1000).await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        for row in page {
            let Some(expected) = expected_hash(&row, &prev) else {
                return Err(AuditError::KeyMissing {
                    id: row.id,
                    kid: keyed_by(&row.hash).unwrap_or_default().to_owned(),
                });
            };
            let is_keyed = keyed_by(&row.hash).is_some();
            if row.prev_hash != prev || row.hash != expected || (keyed && !is_keyed) {
                return Err(AuditError::BrokenLink { id: row.id });
            }
            keyed |= is_keyed;
            prev = row.hash;
            count += 1;
        }
    }
    Ok(count)
}
