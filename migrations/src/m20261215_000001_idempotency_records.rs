//! Idempotency records in the database (issue 14, SPEC §4 "Flows", "Errors"): `idempotency_records`
//! holds one row per (`scope`, `key_hash`) — the keyed hash of an `Idempotency-Key` (never the key
//! as sent), the fingerprint of the request it first came with, and the answer it got
//! (`response_status`, `response_body`), written in the same transaction as the state change it
//! guards. The unique index on (`scope`, `key_hash`) is what makes a concurrent duplicate wait and
//! lose; `created_at` (indexed) dates the record for its 24 h expiry.
//!
//! The answer columns are nullable only because the record is the first write of its transaction
//! and its answer the last: a committed row always has both.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_pk_auto, integer_null, text, text_null, timestamp_with_time_zone,
};

/// Adds `idempotency_records`; `down` removes it.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// The unique index of a key within its scope.
const UNIQUE: &str = "uq_idempotency_records_scope_key";
/// The index the expiry sweep reads.
const CREATED: &str = "idx_idempotency_records_created_at";

#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(IdempotencyRecords::Table)
                    .col(big_pk_auto(IdempotencyRecords::Id))
                    .col(text(IdempotencyRecords::Scope))
                    .col(text(IdempotencyRecords::KeyHash))
                    .col(text(IdempotencyRecords::Fingerprint))
                    .col(integer_null(IdempotencyRecords::ResponseStatus))
                    .col(text_null(IdempotencyRecords::ResponseBody))
                    .col(timestamp_with_time_zone(IdempotencyRecords::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(UNIQUE)
                    .table(IdempotencyRecords::Table)
                    .col(IdempotencyRecords::Scope)
                    .col(IdempotencyRecords::KeyHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(CREATED)
                    .table(IdempotencyRecords::Table)
                    .col(IdempotencyRecords::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(IdempotencyRecords::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum IdempotencyRecords {
    Table,
    Id,
    Scope,
    KeyHash,
    Fingerprint,
    ResponseStatus,
    ResponseBody,
    CreatedAt,
}
