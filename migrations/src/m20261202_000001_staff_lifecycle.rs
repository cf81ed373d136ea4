//! Staff who can be stopped, sessions that end (issue 12 item 3):
//!
//! - `staff.disabled_at`: when an administrator disabled the account (microseconds since the Unix
//!   epoch; `NULL` = enabled). A disabled account cannot log in or refresh.
//! - `refresh_tokens.login_at`: when the token's family began, i.e. the login (microseconds since
//!   the Unix epoch), so refreshing cannot stretch a session past its absolute lifetime. Existing
//!   rows are carried over with the earliest `created_at` of their family.
//! - `revocations`: one row per account (`subject` = `staff:<id>` or `resident:<id>`) whose
//!   access tokens were revoked at least once: its revocation `epoch` (tokens carry the epoch they
//!   were issued under; an older one is refused) and when it last moved.
//!
//! Instants are plain integers, like `status_shards.changed_at`: they read back exactly on both
//! backends, also in columns added by `ALTER TABLE`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, big_integer_null, text};

/// Adds the columns and the table; `down` removes them.
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
            .alter_table(
                Table::alter()
                    .table(Staff::Table)
                    .add_column(big_integer_null(Staff::DisabledAt))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(RefreshTokens::Table)
                    .add_column(big_integer(RefreshTokens::LoginAt).default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Revocations::Table)
                    .col(text(Revocations::Subject).primary_key())
                    .col(big_integer(Revocations::Epoch))
                    .col(big_integer(Revocations::ChangedAt))
                    .to_owned(),
            )
            .await?;
        carry_over_logins(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(Revocations::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(RefreshTokens::Table)
                    .drop_column(RefreshTokens::LoginAt)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Staff::Table)
                    .drop_column(Staff::DisabledAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}

/// Sets each existing token's `login_at` to the earliest `created_at` of its family (whole
/// seconds; the backends spell "seconds since the epoch" differently). A value that cannot be read
/// becomes the time of the migration, so no session is cut short by it.
async fn carry_over_logins(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let now_micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| {
            <i64 as TryFrom<u128>>::try_from(d.as_micros()).unwrap_or(i64::MAX)
        });
    let first = match manager.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => {
            "CAST(EXTRACT(EPOCH FROM MIN(r.created_at)) AS BIGINT) * 1000000"
        }
        _ => "CAST(strftime('%s', MIN(r.created_at)) AS INTEGER) * 1000000",
    };
    let sql = format!(
        "UPDATE refresh_tokens SET login_at = COALESCE((SELECT {first} FROM refresh_tokens r \
         WHERE r.family = refresh_tokens.family), {now_micros})"
    );
    manager.get_connection().execute_unprepared(&sql).await?;
    Ok(())
}

#[derive(DeriveIden)]
enum Staff {
    Table,
    DisabledAt,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    LoginAt,
}

#[derive(DeriveIden)]
enum Revocations {
    Table,
    Subject,
    Epoch,
    ChangedAt,
}
