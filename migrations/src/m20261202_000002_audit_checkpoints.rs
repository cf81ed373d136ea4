//! Signed checkpoints of the audit chain (issue 12 item 7): `audit_checkpoints` holds one row per
//! checkpoint — the head of the chain at that moment (`seq` = the id of the head entry, 0 for an
//! empty log, and its `hash`), when it was taken (`at`), the audit key that signed it (`kid`) and
//! the Ed25519 signature (`signature`, hex), and when it reached the external export
//! (`exported_at`, null until then, so a failed export is retried and no checkpoint is lost).
//! `seq` is unique: two instances checkpointing the same head write one row.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer_uniq, big_pk_auto, text, timestamp_with_time_zone, timestamp_with_time_zone_null,
};

/// Adds `audit_checkpoints`; `down` removes it.
#[derive(DeriveMigrationName)]
pub struct Migration;

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
                    .table(AuditCheckpoints::Table)
                    .col(big_pk_auto(AuditCheckpoints::Id))
                    .col(big_integer_uniq(AuditCheckpoints::Seq))
                    .col(text(AuditCheckpoints::Hash))
                    .col(timestamp_with_time_zone(AuditCheckpoints::At))
                    .col(text(AuditCheckpoints::Kid))
                    .col(text(AuditCheckpoints::Signature))
                    .col(timestamp_with_time_zone_null(AuditCheckpoints::ExportedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(AuditCheckpoints::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum AuditCheckpoints {
    Table,
    Id,
    Seq,
    Hash,
    At,
    Kid,
    Signature,
    ExportedAt,
}
