//! The review queue in index order (issue 14 item 5): `idx_applications_status_district`
//! becomes `idx_applications_queue` on `applications (status, district, id)`.
//!
//! The queue asks for the oldest page of one status in one district (`… WHERE status = ? AND
//! district = ? ORDER BY id LIMIT ?`). With the index on `(status, district)` only, PostgreSQL
//! at a million applications walked the primary key and filtered (18 ms for a page of 100);
//! with `id` as the third column the page is the first entries of one index range, whatever the
//! table's size. The new index serves every query the old one did (same leading columns).
//! `down` puts the old index back.

use sea_orm_migration::prelude::*;

/// Replaces the two-column index with the three-column one; `down` the reverse.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// The index the initial schema made.
const OLD: &str = "idx_applications_status_district";
/// Its replacement.
const NEW: &str = "idx_applications_queue";

#[derive(DeriveIden)]
enum Applications {
    Table,
    Id,
    Status,
    District,
}

/// The index `name` on `applications (status, district)`: the old one as it is, the new one
/// with `id` added.
fn queue_index(name: &str) -> IndexCreateStatement {
    Index::create()
        .name(name)
        .table(Applications::Table)
        .col(Applications::Status)
        .col(Applications::District)
        .to_owned()
}

#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(queue_index(NEW).col(Applications::Id).to_owned())
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name(OLD)
                    .table(Applications::Table)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_index(queue_index(OLD)).await?;
        manager
            .drop_index(
                Index::drop()
                    .name(NEW)
                    .table(Applications::Table)
                    .to_owned(),
            )
            .await
    }
}
