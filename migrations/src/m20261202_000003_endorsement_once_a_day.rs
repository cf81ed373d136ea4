//! One endorsement per permit per day (SPEC §1.4, issue 12): a unique index on
//! `endorsements (permit_id, day)`, so two endorsements racing on one permit cannot both land
//! whatever the code above does.
//!
//! Existing rows are carried over; where a race left two or more endorsements of one permit on
//! one day, the first (lowest id) is kept and the others are deleted — the calendar replays one
//! endorsement per day, and the credential and the audit log were written by the first as well.
//! `down` drops the index (the deleted duplicates stay deleted).

use sea_orm_migration::prelude::*;

/// Dedupes `endorsements` and adds `uq_endorsements_permit_day`; `down` drops the index.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// The index's name.
const INDEX: &str = "uq_endorsements_permit_day";

#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let first_of_each_day = Query::select()
            .expr(Func::min(Expr::col(Endorsements::Id)))
            .from(Endorsements::Table)
            .group_by_columns([Endorsements::PermitId, Endorsements::Day])
            .to_owned();
        let duplicates = Query::delete()
            .from_table(Endorsements::Table)
            .and_where(Expr::col(Endorsements::Id).not_in_subquery(first_of_each_day))
            .to_owned();
        manager.get_connection().execute(&duplicates).await?;
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(Endorsements::Table)
                    .col(Endorsements::PermitId)
                    .col(Endorsements::Day)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(INDEX)
                    .table(Endorsements::Table)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Endorsements {
    Table,
    Id,
    PermitId,
    Day,
}
