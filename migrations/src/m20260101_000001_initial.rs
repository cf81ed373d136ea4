//! The initial schema: residents and staff, refresh tokens, residence registrations, evidence,
//! applications, permits with their numbering and endorsements, signing keys, list sequences and
//! the hash-chained audit log (SPEC §1, §2, §4).
//!
//! `residents.phone` is nullable: a resident imported from the legacy system (`epermit import
//! residences`) is known by ID number only until they log in with their phone and claim the record.
//! Idempotency keys live in the shared short-lived store (issue 3 item 3), not here: the durable
//! outcome of a repeated request (the application row) is in its own table.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, big_pk_auto, blob, date, date_null, integer, integer_null, text,
    text_null, text_uniq, timestamp_with_time_zone, timestamp_with_time_zone_null,
};

/// Creates every table of the first release; `down` drops them again.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// A `CHECK (col IN (…))` guarding a closed vocabulary stored as text.
fn one_of<C: IntoIden + 'static>(col: C, values: &[&'static str]) -> SimpleExpr {
    Expr::col(col).is_in(values.iter().copied())
}

// The trait is declared with `&SchemaManager` (elided lifetime); async-trait needs the same spelling.
#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// One transaction on every backend (SQLite has transactional DDL too), so a failed
    /// migration leaves nothing half-made.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Residents::Table)
                    .col(big_pk_auto(Residents::Id))
                    .col(text_null(Residents::Phone).unique_key())
                    .col(text_null(Residents::Name))
                    .col(text_null(Residents::IdNumber).unique_key())
                    .col(timestamp_with_time_zone(Residents::CreatedAt))
                    .col(timestamp_with_time_zone(Residents::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Staff::Table)
                    .col(big_pk_auto(Staff::Id))
                    .col(text_uniq(Staff::Username))
                    .col(text(Staff::PasswordHash))
                    .col(
                        text(Staff::Role)
                            .check(one_of(Staff::Role, &["officer", "verifier", "admin"])),
                    )
                    .col(integer_null(Staff::District))
                    .col(
                        text_null(Staff::OrgKind)
                            .check(one_of(Staff::OrgKind, &["school", "hospital", "police"])),
                    )
                    .col(integer(Staff::FailedLogins).default(0))
                    .col(timestamp_with_time_zone_null(Staff::LockedUntil))
                    .col(timestamp_with_time_zone(Staff::CreatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RefreshTokens::Table)
                    .col(big_pk_auto(RefreshTokens::Id))
                    .col(text_uniq(RefreshTokens::TokenHash))
                    .col(text(RefreshTokens::Family))
                    .col(text(RefreshTokens::Subject))
                    .col(timestamp_with_time_zone(RefreshTokens::ExpiresAt))
                    .col(timestamp_with_time_zone_null(RefreshTokens::SpentAt))
                    .col(timestamp_with_time_zone_null(RefreshTokens::RevokedAt))
                    .col(timestamp_with_time_zone(RefreshTokens::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_refresh_tokens_family")
                    .table(RefreshTokens::Table)
                    .col(RefreshTokens::Family)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Residences::Table)
                    .col(big_pk_auto(Residences::Id))
                    .col(big_integer(Residences::ResidentId))
                    .col(integer(Residences::District))
                    .col(text(Residences::Address))
                    .col(date(Residences::StartDate))
                    .col(date_null(Residences::EndDate))
                    .col(
                        text(Residences::Status)
                            .check(one_of(Residences::Status, &["declared", "confirmed"])),
                    )
                    .col(big_integer_null(Residences::ConfirmedBy))
                    .col(timestamp_with_time_zone_null(Residences::ConfirmedAt))
                    .col(
                        text(Residences::Source)
                            .check(one_of(Residences::Source, &["declared", "imported"])),
                    )
                    .col(text_null(Residences::ImportKey).unique_key())
                    .col(timestamp_with_time_zone(Residences::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_residences_resident")
                            .from(Residences::Table, Residences::ResidentId)
                            .to(Residents::Table, Residents::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_residences_confirmed_by")
                            .from(Residences::Table, Residences::ConfirmedBy)
                            .to(Staff::Table, Staff::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_residences_resident")
                    .table(Residences::Table)
                    .col(Residences::ResidentId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_residences_district_status")
                    .table(Residences::Table)
                    .col(Residences::District)
                    .col(Residences::Status)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Evidence::Table)
                    .col(text(Evidence::Sha256).primary_key())
                    .col(text(Evidence::MediaType))
                    .col(big_integer(Evidence::Size))
                    .col(blob(Evidence::Bytes))
                    .col(timestamp_with_time_zone(Evidence::CreatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Applications::Table)
                    .col(big_pk_auto(Applications::Id))
                    .col(big_integer(Applications::ResidentId))
                    .col(integer(Applications::District))
                    .col(text(Applications::Basis).check(one_of(
                        Applications::Basis,
                        &["employment", "housing", "study"],
                    )))
                    .col(text(Applications::EvidenceSha256))
                    .col(text(Applications::Status).check(one_of(
                        Applications::Status,
                        &["submitted", "approved", "rejected"],
                    )))
                    .col(text_null(Applications::Reason))
                    .col(big_integer_null(Applications::DecidedBy))
                    .col(timestamp_with_time_zone_null(Applications::DecidedAt))
                    .col(timestamp_with_time_zone(Applications::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_applications_resident")
                            .from(Applications::Table, Applications::ResidentId)
                            .to(Residents::Table, Residents::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_applications_evidence")
                            .from(Applications::Table, Applications::EvidenceSha256)
                            .to(Evidence::Table, Evidence::Sha256),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_applications_decided_by")
                            .from(Applications::Table, Applications::DecidedBy)
                            .to(Staff::Table, Staff::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_applications_status_district")
                    .table(Applications::Table)
                    .col(Applications::Status)
                    .col(Applications::District)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_applications_resident")
                    .table(Applications::Table)
                    .col(Applications::ResidentId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Permits::Table)
                    .col(big_pk_auto(Permits::Id))
                    .col(text_uniq(Permits::Number))
                    .col(big_integer(Permits::ApplicationId).unique_key())
                    .col(big_integer(Permits::ResidentId))
                    .col(integer(Permits::District))
                    .col(date(Permits::IssuedOn))
                    .col(
                        text(Permits::Status)
                            .check(one_of(Permits::Status, &["active", "suspended", "revoked"])),
                    )
                    .col(text_null(Permits::StatusReason))
                    .col(text_null(Permits::HolderKey))
                    .col(text(Permits::Credential))
                    .col(date(Permits::ValidUntil))
                    .col(date_null(Permits::LastEndorsed))
                    .col(timestamp_with_time_zone(Permits::CreatedAt))
                    .col(timestamp_with_time_zone(Permits::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_permits_application")
                            .from(Permits::Table, Permits::ApplicationId)
                            .to(Applications::Table, Applications::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_permits_resident")
                            .from(Permits::Table, Permits::ResidentId)
                            .to(Residents::Table, Residents::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_permits_resident")
                    .table(Permits::Table)
                    .col(Permits::ResidentId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(PermitSequences::Table)
                    .col(integer(PermitSequences::District))
                    .col(integer(PermitSequences::Year))
                    .col(big_integer(PermitSequences::Next))
                    .primary_key(
                        Index::create()
                            .name("pk_permit_sequences")
                            .col(PermitSequences::District)
                            .col(PermitSequences::Year),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Endorsements::Table)
                    .col(big_pk_auto(Endorsements::Id))
                    .col(big_integer(Endorsements::PermitId))
                    .col(date(Endorsements::Day))
                    .col(
                        text(Endorsements::Timing)
                            .check(one_of(Endorsements::Timing, &["in_window", "late"])),
                    )
                    .col(date_null(Endorsements::LapseFrom))
                    .col(date_null(Endorsements::LapseUntil))
                    .col(integer(Endorsements::District))
                    .col(timestamp_with_time_zone(Endorsements::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_endorsements_permit")
                            .from(Endorsements::Table, Endorsements::PermitId)
                            .to(Permits::Table, Permits::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_endorsements_permit")
                    .table(Endorsements::Table)
                    .col(Endorsements::PermitId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(SigningKeys::Table)
                    .col(text(SigningKeys::Kid).primary_key())
                    .col(integer_null(SigningKeys::District))
                    .col(text(SigningKeys::PublicKey))
                    .col(timestamp_with_time_zone(SigningKeys::NotBefore))
                    .col(timestamp_with_time_zone_null(SigningKeys::NotAfter))
                    .col(text(SigningKeys::State).check(one_of(
                        SigningKeys::State,
                        &["active", "retired", "compromised"],
                    )))
                    .col(timestamp_with_time_zone(SigningKeys::CreatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ListSequences::Table)
                    .col(text(ListSequences::Name).primary_key())
                    .col(big_integer(ListSequences::Sequence))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(big_pk_auto(AuditLog::Id))
                    .col(timestamp_with_time_zone(AuditLog::At))
                    .col(text(AuditLog::Actor))
                    .col(text(AuditLog::Action))
                    .col(text(AuditLog::Subject))
                    .col(text(AuditLog::Detail))
                    .col(text(AuditLog::PrevHash))
                    .col(text_uniq(AuditLog::Hash))
                    .to_owned(),
            )
            .await?;

        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Children before parents, so the foreign keys never dangle.
        let tables: [DynIden; 12] = [
            AuditLog::Table.into_iden(),
            ListSequences::Table.into_iden(),
            SigningKeys::Table.into_iden(),
            Endorsements::Table.into_iden(),
            PermitSequences::Table.into_iden(),
            Permits::Table.into_iden(),
            Applications::Table.into_iden(),
            Evidence::Table.into_iden(),
            Residences::Table.into_iden(),
            RefreshTokens::Table.into_iden(),
            Staff::Table.into_iden(),
            Residents::Table.into_iden(),
        ];
        for table in tables {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Residents {
    Table,
    Id,
    Phone,
    Name,
    IdNumber,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Staff {
    Table,
    Id,
    Username,
    PasswordHash,
    Role,
    District,
    OrgKind,
    FailedLogins,
    LockedUntil,
    CreatedAt,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    Id,
    TokenHash,
    Family,
    Subject,
    ExpiresAt,
    SpentAt,
    RevokedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Residences {
    Table,
    Id,
    ResidentId,
    District,
    Address,
    StartDate,
    EndDate,
    Status,
    ConfirmedBy,
    ConfirmedAt,
    Source,
    ImportKey,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Evidence {
    Table,
    Sha256,
    MediaType,
    Size,
    Bytes,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Applications {
    Table,
    Id,
    ResidentId,
    District,
    Basis,
    EvidenceSha256,
    Status,
    Reason,
    DecidedBy,
    DecidedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Permits {
    Table,
    Id,
    Number,
    ApplicationId,
    ResidentId,
    District,
    IssuedOn,
    Status,
    StatusReason,
    HolderKey,
    Credential,
    ValidUntil,
    LastEndorsed,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum PermitSequences {
    Table,
    District,
    Year,
    Next,
}

#[derive(DeriveIden)]
enum Endorsements {
    Table,
    Id,
    PermitId,
    Day,
    Timing,
    LapseFrom,
    LapseUntil,
    District,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SigningKeys {
    Table,
    Kid,
    District,
    PublicKey,
    NotBefore,
    NotAfter,
    State,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ListSequences {
    Table,
    Name,
    Sequence,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    At,
    Actor,
    Action,
    Subject,
    Detail,
    PrevHash,
    Hash,
}
