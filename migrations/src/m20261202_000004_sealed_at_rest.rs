//! Personal data sealed at rest (issue 12 item 8): the columns that hold ID numbers, phone
//! numbers and evidence sealed under the data key, and their blind indexes.
//!
//! - `residents.phone_index`, `residents.id_number_index`: keyed hashes (HMAC-SHA256) of the phone
//!   and the ID number, unique — the lookups and the one-resident-per-phone / per-ID-number
//!   constraints move here; `residents.phone_sealed`, `residents.id_number_sealed`: the values,
//!   encrypted (AEAD, bound to table, column and row).
//! - `residences.import_index`: the keyed dedupe key of an imported registration, unique.
//! - `evidence.key_id`: the data key that sealed the file (`NULL` for a file stored in clear).
//! - `data_keys`: the id of the data key the database is sealed under (the custody record).
//!
//! A migration has no key, so it cannot seal: the old clear columns (`residents.phone`,
//! `residents.id_number`, `residences.import_key`, clear `evidence.bytes`) stay readable until the
//! service, once it has loaded the data key, seals them at start-up in one transaction and
//! empties them (`api::sealing::carry_over`). The columns are added nullable, so existing rows
//! are valid as they are.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, text, text_null};

/// Adds the sealed and blind-index columns and `data_keys`; `down` removes them.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            Residents::PhoneIndex,
            Residents::PhoneSealed,
            Residents::IdNumberIndex,
            Residents::IdNumberSealed,
        ] {
            add_column(manager, Residents::Table, column).await?;
        }
        add_column(manager, Residences::Table, Residences::ImportIndex).await?;
        add_column(manager, Evidence::Table, Evidence::KeyId).await?;
        for (name, table, column) in [
            (
                "idx_residents_phone_index",
                Residents::Table.into_iden(),
                Residents::PhoneIndex.into_iden(),
            ),
            (
                "idx_residents_id_number_index",
                Residents::Table.into_iden(),
                Residents::IdNumberIndex.into_iden(),
            ),
            (
                "idx_residences_import_index",
                Residences::Table.into_iden(),
                Residences::ImportIndex.into_iden(),
            ),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(table)
                        .col(column)
                        .unique()
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(DataKeys::Table)
                    .col(text(DataKeys::Kid).primary_key())
                    .col(big_integer(DataKeys::CreatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(DataKeys::Table).if_exists().to_owned())
            .await?;
        for (name, table) in [
            ("idx_residents_phone_index", Residents::Table.into_iden()),
            (
                "idx_residents_id_number_index",
                Residents::Table.into_iden(),
            ),
            ("idx_residences_import_index", Residences::Table.into_iden()),
        ] {
            manager
                .drop_index(Index::drop().name(name).table(table).to_owned())
                .await?;
        }
        for (table, column) in [
            (
                Residents::Table.into_iden(),
                Residents::PhoneIndex.into_iden(),
            ),
            (
                Residents::Table.into_iden(),
                Residents::PhoneSealed.into_iden(),
            ),
            (
                Residents::Table.into_iden(),
                Residents::IdNumberIndex.into_iden(),
            ),
            (
                Residents::Table.into_iden(),
                Residents::IdNumberSealed.into_iden(),
            ),
            (
                Residences::Table.into_iden(),
                Residences::ImportIndex.into_iden(),
            ),
            (Evidence::Table.into_iden(), Evidence::KeyId.into_iden()),
        ] {
            manager
                .alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}

async fn add_column(
    manager: &SchemaManager<'_>,
    table: impl IntoIden,
    column: impl IntoIden,
) -> Result<(), DbErr> {
    manager
        .alter_table(
            Table::alter()
                .table(table)
                .add_column(text_null(column))
                .to_owned(),
        )
        .await
}

#[derive(DeriveIden)]
enum Residents {
    Table,
    PhoneIndex,
    PhoneSealed,
    IdNumberIndex,
    IdNumberSealed,
}

#[derive(DeriveIden)]
enum Residences {
    Table,
    ImportIndex,
}

#[derive(DeriveIden)]
enum Evidence {
    Table,
    KeyId,
}

#[derive(DeriveIden)]
enum DataKeys {
    Table,
    Kid,
    CreatedAt,
}
