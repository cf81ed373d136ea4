//! `idempotency_records`: the answer each `Idempotency-Key` got (SPEC §4 "Flows"), kept in the
//! database beside the state change it guards, so a retry after a restart replays it and a
//! request that failed or was killed leaves nothing behind (its transaction rolled back). The
//! rules — hashing the key, fingerprints, replay, expiry — are in [`crate::idempotency`].
//!
//! A record is the first write of its transaction ([`claim`]) and gets its answer as the last
//! one ([`answer`]); the unique index on (`scope`, `key_hash`) makes a concurrent duplicate wait
//! for the first transaction to end and then fail with [`StoreError::Conflict`].

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::entity::prelude::*;

use super::{Result, StoreError};

/// A record.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "idempotency_records")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// What the key is unique within: the operation and the caller (`applications:12`).
    pub scope: String,
    /// The key's blind index (keyed hash), never the key as sent.
    pub key_hash: String,
    /// SHA-256 (hex) of what identifies the request's content.
    pub fingerprint: String,
    /// The answer's HTTP status (set by [`answer`] before the commit).
    pub response_status: Option<i32>,
    /// The answer's JSON body (set by [`answer`] before the commit).
    pub response_body: Option<String>,
    /// When the key was first used; the record expires 24 h later.
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}

/// A committed answer: its status and JSON body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    /// The fingerprint of the request that got it.
    pub fingerprint: String,
    /// HTTP status.
    pub status: u16,
    /// JSON body.
    pub body: String,
}

/// The answer kept for (`scope`, `key_hash`) by a record created at or after `since`, if any.
pub async fn find<C: ConnectionTrait>(
    db: &C,
    scope: &str,
    key_hash: &str,
    since: DateTime<Utc>,
) -> Result<Option<Answer>> {
    let Some(row) = Entity::find()
        .filter(Column::Scope.eq(scope))
        .filter(Column::KeyHash.eq(key_hash))
        .filter(Column::CreatedAt.gte(since))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let (Some(status), Some(body)) = (row.response_status, row.response_body) else {
        return Err(StoreError::Corrupt {
            table: "idempotency_records",
            problem: format!("record {} was committed without its answer", row.id),
        });
    };
    let status = u16::try_from(status).map_err(|_| StoreError::Corrupt {
        table: "idempotency_records",
        problem: format!("record {} has status {status}", row.id),
    })?;
    Ok(Some(Answer {
        fingerprint: row.fingerprint,
        status,
        body,
    }))
}

/// Takes (`scope`, `key_hash`) for the caller's transaction, first removing a record of it
/// created before `since` (expired); returns the new record's id. While the transaction is open a
/// concurrent claim of the same key waits (PostgreSQL: on the unique index; SQLite: on the write
/// lock); once it commits, that claim fails with [`StoreError::Conflict`].
pub async fn claim<C: ConnectionTrait>(
    txn: &C,
    scope: &str,
    key_hash: &str,
    fingerprint: &str,
    now: DateTime<Utc>,
    since: DateTime<Utc>,
) -> Result<i64> {
    Entity::delete_many()
        .filter(Column::Scope.eq(scope))
        .filter(Column::KeyHash.eq(key_hash))
        .filter(Column::CreatedAt.lt(since))
        .exec(txn)
        .await?;
    let row = ActiveModel {
        scope: Set(scope.to_owned()),
        key_hash: Set(key_hash.to_owned()),
        fingerprint: Set(fingerprint.to_owned()),
        response_status: Set(None),
        response_body: Set(None),
        created_at: Set(now),
        ..Default::default()
    };
    Ok(Entity::insert(row).exec(txn).await?.last_insert_id)
}

/// Writes the answer of the record `id` claimed in this transaction.
pub async fn answer<C: ConnectionTrait>(txn: &C, id: i64, status: u16, body: &str) -> Result<()> {
    let row = ActiveModel {
        id: Set(id),
        response_status: Set(Some(i32::from(status))),
        response_body: Set(Some(body.to_owned())),
        ..Default::default()
    };
    Entity::update(row).exec(txn).await?;
    Ok(())
}

/// Deletes the records created before `before` (expired); returns how many.
pub async fn sweep<C: ConnectionTrait>(db: &C, before: DateTime<Utc>) -> Result<u64> {
    Ok(Entity::delete_many()
        .filter(Column::CreatedAt.lt(before))
        .exec(db)
        .await?
        .rows_affected)
}
