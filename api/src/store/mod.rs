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
//! waits for that transaction to end. Write functions take any [`ConnectionTrait`] so they can be
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
pub mod guard;
pub mod idempotency;
pub mod lists;
pub mod permits;
pub mod process_lock;
pub mod refresh_tokens;
pub mod residences;
pub mod residents;
pub mod revocations;
pub mod signing_keys;
pub mod staff;
pub mod status;

#[cfg(test)]
mod tests;

use std::path::Path;
use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseTransaction, DbBackend, DbErr, SqlErr,
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
    /// The SQLite file's migration lock (`<file>.migrations.lock`) could not be taken.
    #[error("cannot lock the database file for its migrations")]
    MigrationLock(#[source] std::io::Error),
    /// A value read back from the database does not fit its type (a corrupted row).
    #[error("corrupt row in {table}: {problem}")]
    Corrupt {
        /// The table holding the row.
        table: &'static str,
        /// What does not fit.
        problem: String,
    },
    /// The database cannot be reached: no connection within the pool's acquire timeout, a
    /// connection lost, the server shutting down, or SQLite busy past its timeout (→ HTTP 503).
    #[error("database unavailable: {0}")]
    Unavailable(#[source] DbErr),
    /// Anything else the database reported (→ HTTP 500, logged).
    #[error("database: {0}")]
    Database(#[source] DbErr),
    /// Personal data was to be sealed or opened, but no data key is installed
    /// ([`Store::with_sealer`]; a programming error of the caller).
    #[error("no data key is installed: personal data cannot be sealed or opened")]
    NoDataKey,
}

impl From<DbErr> for StoreError {
    fn from(err: DbErr) -> Self {
        if let Some(SqlErr::UniqueConstraintViolation(what)) = err.sql_err() {
            return StoreError::Conflict(what);
        }
        if is_unavailable(&err) {
            StoreError::Unavailable(err)
        } else {
            StoreError::Database(err)
        }
    }
}

/// A statement the query builder refused to build (values not matching the columns named): a
/// programming error, reported like any other database error (→ HTTP 500, logged).
impl From<sea_orm::sea_query::error::Error> for StoreError {
    fn from(err: sea_orm::sea_query::error::Error) -> Self {
        StoreError::Database(DbErr::Custom(err.to_string()))
    }
}

/// Whether `err` says the database is out of reach rather than that a statement failed.
fn is_unavailable(err: &DbErr) -> bool {
    use sea_orm::RuntimeErr;
    let runtime = match err {
        DbErr::ConnectionAcquire(_) => return true,
        DbErr::Conn(e) | DbErr::Exec(e) | DbErr::Query(e) => e,
        _ => return false,
    };
    let RuntimeErr::SqlxError(e) = runtime else {
        return matches!(err, DbErr::Conn(_));
    };
    sqlx_unavailable(e)
}

/// Whether the driver's `err` says the database is out of reach.
fn sqlx_unavailable(err: &sea_orm::sqlx::Error) -> bool {
    use sea_orm::sqlx::Error as Sqlx;
    match err {
        Sqlx::Io(_)
        | Sqlx::Tls(_)
        | Sqlx::Protocol(_)
        | Sqlx::PoolTimedOut
        | Sqlx::PoolClosed
        | Sqlx::WorkerCrashed => true,
        Sqlx::Database(db) => db.code().is_some_and(|code| unavailable_code(&code)),
        _ => false,
    }
}

/// SQLSTATE class 08 (connection exception) and 57P01–57P03 (the server is shutting down or
/// starting), and SQLite's `SQLITE_BUSY` (5) and `SQLITE_LOCKED` (6) past the busy timeout.
fn unavailable_code(code: &str) -> bool {
    code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "5" | "6")
}

/// The result of a storage call.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The service's database: a sea-orm connection pool on SQLite or PostgreSQL, migrated on connect.
#[derive(Clone, Debug)]
pub struct Store {
    db: guard::GuardedDb,
    sealer: Option<std::sync::Arc<crate::sealing::Sealer>>,
}

/// How long a request waits for a database connection by default before it is answered 503.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a SQLite statement waits for another connection's write lock before it fails with
/// `SQLITE_BUSY` (→ HTTP 503).
pub const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(15);

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
    /// [`Store::connect_with_timeout`] with [`DEFAULT_TIMEOUT`].
    pub async fn connect(url: &str) -> Result<Store> {
        Store::connect_with_timeout(url, DEFAULT_TIMEOUT).await
    }

    /// Connects to `url` (`sqlite:…` or `postgres://…`) and applies the pending migrations.
    /// `timeout` bounds how long a request waits for a connection: past it, the call fails with
    /// [`StoreError::Unavailable`] (HTTP 503) instead of hanging.
    ///
    /// For a SQLite file the parent directory is created and every connection sets
    /// `journal_mode=WAL` (readers never wait for a writer, nor a writer for readers),
    /// `synchronous=NORMAL` (in WAL mode, durable up to the last checkpointed commit on power loss,
    /// never corrupt) and a busy timeout of [`SQLITE_BUSY_TIMEOUT`], so concurrent writers queue
    /// instead of failing with "database is locked". An in-memory SQLite database
    /// (`sqlite::memory:`) has no journal to choose and keeps exactly one connection forever, since
    /// the database lives as long as a connection.
    pub async fn connect_with_timeout(url: &str, timeout: Duration) -> Result<Store> {
        let mut options = ConnectOptions::new(url);
        options
            // Statement logs and spans would carry bound values: personal data.
            .sqlx_logging(false)
            .record_stmt_in_spans(false)
            .connect_timeout(timeout)
            .acquire_timeout(timeout);
        if url.starts_with("sqlite:") {
            let file = sqlite_file(url).is_some();
            let configure = move |o: SqliteConnectOptions| {
                let o = o
                    .busy_timeout(SQLITE_BUSY_TIMEOUT)
                    .foreign_keys(true)
                    .create_if_missing(true);
                if file {
                    o.journal_mode(SqliteJournalMode::Wal)
                        .synchronous(SqliteSynchronous::Normal)
                } else {
                    o
                }
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
        // One process at a time (see process_lock): instances started together on fresh data
        // would otherwise both create the tables. A SQLite file is locked beside itself.
        let file_lock = match sqlite_file(url) {
            Some(path) => Some(
                process_lock::file(Path::new(&format!("{path}.migrations.lock")), "migrations")
                    .await
                    .map_err(StoreError::MigrationLock)?,
            ),
            None => None,
        };
        let lock = process_lock::database(&db, process_lock::MIGRATIONS, "migrations").await?;
        Migrator::up(&db, None).await?;
        lock.release().await?;
        drop(file_lock);
        Ok(Store {
            db: guard::GuardedDb::new(db),
            sealer: None,
        })
    }

    /// On PostgreSQL, this store behind a circuit breaker set up by `guard`, whose probe
    /// connects to `url` (see [`guard`]); on SQLite, the store as it is (a file has no link to
    /// lose).
    pub fn with_breaker(mut self, url: &str, guard: guard::Guard) -> Store {
        if self.backend() == DbBackend::Postgres {
            self.db.guard(url, guard);
        }
        self
    }

    /// The phase of the database's circuit breaker, if there is one.
    pub fn breaker(&self) -> Option<crate::breaker::Phase> {
        self.db.phase()
    }

    /// This store with the data key that seals and opens personal data
    /// ([`crate::sealing::open`] gives it under the custody rule).
    pub fn with_sealer(mut self, sealer: std::sync::Arc<crate::sealing::Sealer>) -> Store {
        self.sealer = Some(sealer);
        self
    }

    /// The data key: seals and opens ID numbers, phones and evidence, computes blind indexes.
    pub fn sealer(&self) -> Result<&crate::sealing::Sealer> {
        self.sealer.as_deref().ok_or(StoreError::NoDataKey)
    }

    /// The connection pool, for reads outside a transaction (behind the circuit breaker).
    pub fn conn(&self) -> &guard::GuardedDb {
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
        let pool = self.db.pool();
        Ok(self.db.guarded(pool.begin_with_options(options)).await?)
    }

    /// Readiness: one round trip to the database (refused at once while the breaker is open).
    pub async fn ping(&self) -> Result<()> {
        Ok(self.db.guarded(self.db.pool().ping()).await?)
    }

    /// Closes the pool (graceful shutdown).
    pub async fn close(self) -> Result<()> {
        Ok(self.db.pool().clone().close().await?)
    }
}

/// The Jinhua district a row of `table` stores as its integer code; a code that is not one is a
/// corrupted row.
pub fn district(code: i32, table: &'static str) -> Result<policy::District> {
    policy::District::try_from(code).map_err(|_| StoreError::Corrupt {
        table,
        problem: format!("district {code} is not a Jinhua code"),
    })
}

/// Maps "no row" to [`StoreError::NotFound`].
pub(crate) fn found<T>(row: Option<T>, what: &'static str) -> Result<T> {
    row.ok_or(StoreError::NotFound(what))
}
