//! Storage on sea-orm (SPEC §4 "Storage"): the [`Store`] connection, [`StoreError`], and one
//! sub-module per table group holding its entity and its queries.
//!
//! # How the route layer uses it
//!
//! Reads may run on [`Store::conn`]. Every state change runs in one transaction opened with
//! [`Store::begin`] and closed with `commit()` (dropping it rolls back):
//!
//! ```ignore
//! let txn = store.begin().await?;
//! if applications::decide(&txn, id, Decision::Approve, officer_id, now).await? {
//!     let seq = permits::allocate_number(&txn, district, year).await?;
//!     let permit = permits::insert(&txn, new_permit).await?;
//!     audit::append(&txn, entry, now).await?; // last write of the transaction
//! }
//! txn.commit().await?;
//! ```
//!
//! Inside a transaction, pass the transaction to *every* call: on the in-memory SQLite database
//! the pool has one connection, so a read through [`Store::conn`] while a transaction is open
//! waits for that transaction to end. Write functions take any [`ConnectionTrait`](sea_orm::ConnectionTrait) so they can be
//! composed; [`audit::append`] insists on a [`DatabaseTransaction`].
//!
//! A unique-constraint violation surfaces as [`StoreError::Conflict`] (HTTP 409). On PostgreSQL
//! it also aborts the transaction: roll back (drop it) and answer, do not go on using it.
//! Conditional updates (`decide`, `confirm`, `spend`, …) return `bool`: `true` when this call
//! changed the row, `false` when the row was not in the required state (someone else won).

pub mod applications;
pub mod audit;
pub mod endorsements;
pub mod evidence;
pub mod lists;
pub mod permits;
pub mod refresh_tokens;
pub mod residences;
pub mod residents;
pub mod signing_keys;
pub mod staff;

#[cfg(test)]
mod tests;

use std::path::Path;
use std::time::Duration;

use sea_orm::sqlx::sqlite::SqliteConnectOptions;
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, SqlErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use sha2::{Digest, Sha256};

use migrations::{Migrator, MigratorTrait};

/// Everything a storage call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint refused the write (→ HTTP 409). Names the constraint, never the value.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The row asked for does not exist (→ HTTP 404).
    #[error("not found: {0}")]
    NotFound(&'static str),
    /// The SQLite data directory could not be created.
    #[error("cannot create the data directory")]
    DataDir(#[source] std::io::Error),
    /// A value read back from the database does not fit its type (a corrupted row).
    #[error("corrupt row in {table}: {problem}")]
    Corrupt {
        /// The table holding the row.
        table: &'static str,
        /// What does not fit.
        problem: String,
    },
    /// Anything else the database reported (→ HTTP 500, logged).
    #[error("database: {0}")]
    Database(#[source] DbErr),
}

impl From<DbErr> for StoreError {
    fn from(err: DbErr) -> Self {
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(what)) => StoreError::Conflict(what),
            _ => StoreError::Database(err),
        }
    }
}

/// The result of a storage call.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The service's database: a sea-orm connection pool on SQLite or PostgreSQL, migrated on connect.
#[derive(Clone, Debug)]
pub struct Store {
    db: DatabaseConnection,
}

/// The embedded default database URL: `sqlite://<data dir>/epermit.db?mode=rwc`.
pub fn sqlite_url(data_dir: &Path) -> String {
    format!("sqlite://{}/epermit.db?mode=rwc", data_dir.display())
}

/// Lower-case hex SHA-256 of `bytes` (content addresses, token hashes, the audit chain).
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// For a `sqlite:` URL: `None` when it names an in-memory database, else the file path.
fn sqlite_file(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let memory =
        path.is_empty() || path == ":memory:" || query.split('&').any(|p| p == "mode=memory");
    (!memory).then_some(path)
}

impl Store {
    /// Connects to `url` (`sqlite:…` or `postgres://…`) and applies the pending migrations.
    ///
    /// For a SQLite file the parent directory is created; the file is opened in WAL mode with a
    /// busy timeout, so concurrent writers queue. An in-memory SQLite database (`sqlite::memory:`)
    /// keeps exactly one connection forever, since the database lives as long as a connection.
    pub async fn connect(url: &str) -> Result<Store> {
        let mut options = ConnectOptions::new(url);
        options
            // Statement logs and spans would carry bound values: personal data.
            .sqlx_logging(false)
            .record_stmt_in_spans(false)
            .connect_timeout(Duration::from_secs(10))
            .acquire_timeout(Duration::from_secs(30));
        if url.starts_with("sqlite:") {
            let configure = |o: SqliteConnectOptions| {
                o.busy_timeout(Duration::from_secs(15))
                    .foreign_keys(true)
                    .create_if_missing(true)
            };
            match sqlite_file(url) {
                None => {
                    options
                        .max_connections(1)
                        .min_connections(1)
                        .idle_timeout(None::<Duration>)
                        .max_lifetime(None::<Duration>);
                }
                Some(path) => {
                    if let Some(dir) = Path::new(path)
                        .parent()
                        .filter(|d| !d.as_os_str().is_empty())
                    {
                        std::fs::create_dir_all(dir).map_err(StoreError::DataDir)?;
                    }
                    options.max_connections(4).min_connections(1);
                }
            }
            options.map_sqlx_sqlite_opts(configure);
        } else {
            options.max_connections(16);
        }
        let db = Database::connect(options).await?;
        Migrator::up(&db, None).await?;
        Ok(Store { db })
    }

    /// Wraps an existing connection (already migrated).
    pub fn from_connection(db: DatabaseConnection) -> Store {
        Store { db }
    }

    /// The connection pool, for reads outside a transaction.
    pub fn conn(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Which database this is.
    pub fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    /// Opens the transaction of one state change. On SQLite it is `BEGIN IMMEDIATE`: the write
    /// lock is taken up front, so a transaction that reads before it writes cannot fail to upgrade
    /// when another writer got in between (writers queue on the busy timeout instead).
    pub async fn begin(&self) -> Result<DatabaseTransaction> {
        let options = TransactionOptions {
            sqlite_transaction_mode: (self.backend() == DbBackend::Sqlite)
                .then_some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        };
        Ok(self.db.begin_with_options(options).await?)
    }

    /// Readiness: one round trip to the database.
    pub async fn ping(&self) -> Result<()> {
        Ok(self.db.ping().await?)
    }

    /// Closes the pool (graceful shutdown).
    pub async fn close(self) -> Result<()> {
        Ok(self.db.close().await?)
    }
}

/// Maps "no row" to [`StoreError::NotFound`].
pub(crate) fn found<T>(row: Option<T>, what: &'static str) -> Result<T> {
    row.ok_or(StoreError::NotFound(what))
}
