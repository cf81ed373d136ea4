//! Status lists for a city (SPEC §2, issue 11): the status of every signed version of a permit
//! lives in one entry of a fixed-size shard, each shard published as its own Status List Token.
//!
//! - `status_shards`: one row per shard — its number, its size in entries, how many entries are
//!   taken, the packed 2-bit entries as published (`bits`, the draft's `lst` before compression),
//!   the global status sequence at its last change, and when it last changed.
//! - `credential_versions`: one row per signed version of a permit (issue, endorsement, key
//!   binding): which entry `(shard, idx)` it points at; unique, so no two versions share one.
//! - `permits.holder_key_bound_at`, `permits.holder_key_bound_from`: when and from which client
//!   address the holder's device key was bound (shown to the holder).
//! - `list_sequences.changed_at`: when a list's sequence last moved (microseconds since the Unix
//!   epoch, like `status_shards.changed_at`: plain integers read back exactly on both backends),
//!   so every instance signs the same list at the same `iat` (a verifier sees one list per sequence and time, not one per
//!   instance).
//!
//! Existing permits are carried over into shard 0, which keeps the legacy placement (index =
//! permit id, URI `<public url>/sl`): their credentials point there already.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, big_pk_auto, blob, integer, text_null, timestamp_with_time_zone,
    timestamp_with_time_zone_null,
};

/// Adds the shards, the versions and `list_sequences.changed_at`; `down` removes them.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// Entries of the legacy shard 0 at least (and its size when the largest permit id is smaller).
const LEGACY_SHARD_ENTRIES: i64 = 1 << 16;

#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            timestamp_with_time_zone_null(Permits::HolderKeyBoundAt),
            text_null(Permits::HolderKeyBoundFrom),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Permits::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(ListSequences::Table)
                    .add_column(big_integer_null(ListSequences::ChangedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(StatusShards::Table)
                    .col(integer(StatusShards::Id).primary_key())
                    .col(integer(StatusShards::Size))
                    .col(integer(StatusShards::Used))
                    .col(blob(StatusShards::Bits))
                    .col(big_integer(StatusShards::Sequence))
                    .col(big_integer(StatusShards::ChangedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CredentialVersions::Table)
                    .col(big_pk_auto(CredentialVersions::Id))
                    .col(big_integer(CredentialVersions::PermitId))
                    .col(integer(CredentialVersions::Shard))
                    .col(integer(CredentialVersions::Idx))
                    .col(timestamp_with_time_zone(CredentialVersions::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_credential_versions_permit")
                            .from(CredentialVersions::Table, CredentialVersions::PermitId)
                            .to(Permits::Table, Permits::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_credential_versions_shard")
                            .from(CredentialVersions::Table, CredentialVersions::Shard)
                            .to(StatusShards::Table, StatusShards::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_credential_versions_entry")
                    .table(CredentialVersions::Table)
                    .col(CredentialVersions::Shard)
                    .col(CredentialVersions::Idx)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_credential_versions_permit")
                    .table(CredentialVersions::Table)
                    .col(CredentialVersions::PermitId)
                    .to_owned(),
            )
            .await?;
        carry_over_permits(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            CredentialVersions::Table.into_iden(),
            StatusShards::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(ListSequences::Table)
                    .drop_column(ListSequences::ChangedAt)
                    .to_owned(),
            )
            .await?;
        for column in [Permits::HolderKeyBoundAt, Permits::HolderKeyBoundFrom] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Permits::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

/// The 2 status bits of a permit status as the legacy list published it.
fn bits_of(status: &str) -> u8 {
    match status {
        "suspended" => 2,
        "revoked" => 1,
        _ => 0,
    }
}

/// Shard 0 with one version per existing permit at index = permit id, its bits as the legacy
/// status list published them.
async fn carry_over_permits(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let select = Query::select()
        .columns([Permits::Id, Permits::Status])
        .from(Permits::Table)
        .order_by(Permits::Id, Order::Asc)
        .to_owned();
    let rows = db.query_all(&select).await?;
    let mut permits = Vec::with_capacity(rows.len());
    for row in rows {
        let id: i64 = row.try_get("", "id")?;
        let status: String = row.try_get("", "status")?;
        permits.push((id, status));
    }
    let last = permits.last().map_or(0, |p| p.0);
    let size = (Ord::max(last + 1, LEGACY_SHARD_ENTRIES) + 3) / 4 * 4;
    let mut bits = vec![0u8; usize::try_from(size / 4).unwrap_or(0)];
    for (id, status) in &permits {
        let (byte, shift) = (usize::try_from(id / 4).unwrap_or(0), (id % 4) * 2);
        if let Some(b) = bits.get_mut(byte) {
            *b |= bits_of(status) << shift;
        }
    }
    let insert = Query::insert()
        .into_table(StatusShards::Table)
        .columns([
            StatusShards::Id,
            StatusShards::Size,
            StatusShards::Used,
            StatusShards::Bits,
            StatusShards::Sequence,
            StatusShards::ChangedAt,
        ])
        .values_panic([
            0.into(),
            <i32 as TryFrom<i64>>::try_from(size)
                .unwrap_or(i32::MAX)
                .into(),
            <i32 as TryFrom<usize>>::try_from(permits.len())
                .unwrap_or(i32::MAX)
                .into(),
            bits.into(),
            0i64.into(),
            0i64.into(),
        ])
        .to_owned();
    db.execute(&insert).await?;
    let versions = Query::insert()
        .into_table(CredentialVersions::Table)
        .columns([
            CredentialVersions::PermitId,
            CredentialVersions::Shard,
            CredentialVersions::Idx,
            CredentialVersions::CreatedAt,
        ])
        .select_from(
            Query::select()
                .column(Permits::Id)
                .expr(Expr::val(0))
                .column(Permits::Id)
                .column(Permits::CreatedAt)
                .from(Permits::Table)
                .to_owned(),
        )
        .map_err(|e| DbErr::Migration(e.to_string()))?
        .to_owned();
    db.execute(&versions).await?;
    Ok(())
}

#[derive(DeriveIden)]
enum ListSequences {
    Table,
    ChangedAt,
}

#[derive(DeriveIden)]
enum StatusShards {
    Table,
    Id,
    Size,
    Used,
    Bits,
    Sequence,
    ChangedAt,
}

#[derive(DeriveIden)]
enum CredentialVersions {
    Table,
    Id,
    PermitId,
    Shard,
    Idx,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Permits {
    Table,
    Id,
    Status,
    CreatedAt,
    HolderKeyBoundAt,
    HolderKeyBoundFrom,
}
