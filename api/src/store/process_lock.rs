//! One process at a time: the locks that keep instances sharing a database or a data directory
//! from doing the same one-off work together.
//!
//! Two instances started at the same moment on fresh data would both run the migrations (one
//! failing on a table that already exists) and both create the first keys. Two kinds of lock
//! make the second wait until the first is done, and then find the work done:
//!
//! - [`database()`]: on PostgreSQL, `pg_advisory_lock(key)` held on a connection taken out of the
//!   pool for good: the connection is closed, never returned, when the lock is released or the
//!   holder dropped, so the lock ends with it (and with the process, if it dies holding it);
//! - [`file()`]: an exclusive lock (`flock`) on a file, for processes sharing a directory (a
//!   SQLite database, the key files); it too ends with its process.

use std::fs::File;
use std::path::Path;

use sea_orm::sqlx::{self, Postgres, pool::PoolConnection};
use sea_orm::{DatabaseConnection, DbBackend, DbErr, RuntimeErr};

/// The lock of [`super::Store::connect`]'s migrations.
pub const MIGRATIONS: i64 = 0x6570_6d74_0001;
/// The lock of the first start's keys ([`crate::first_start`]).
pub const FIRST_START: i64 = 0x6570_6d74_0002;

/// A held database lock; [`DatabaseLock::release`] it, or drop it (which closes its connection).
#[must_use = "the lock is released when dropped"]
pub struct DatabaseLock {
    connection: Option<PoolConnection<Postgres>>,
}

impl std::fmt::Debug for DatabaseLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseLock")
            .field("held", &self.connection.is_some())
            .finish()
    }
}

fn sqlx_err(err: sqlx::Error) -> DbErr {
    DbErr::Conn(RuntimeErr::SqlxError(std::sync::Arc::new(err)))
}

/// Takes the lock `key` on PostgreSQL, waiting while another session holds it (saying so in
/// the log, naming `what` waits); on SQLite returns at once, holding nothing.
pub async fn database(
    db: &DatabaseConnection,
    key: i64,
    what: &'static str,
) -> Result<DatabaseLock, DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(DatabaseLock { connection: None });
    }
    let mut connection = db
        .get_postgres_connection_pool()
        .acquire()
        .await
        .map_err(sqlx_err)?;
    connection.close_on_drop();
    let free: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
        .bind(key)
        .fetch_one(&mut *connection)
        .await
        .map_err(sqlx_err)?;
    if !free {
        tracing::info!(what, "another instance is doing this now; waiting for it");
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(key)
            .execute(&mut *connection)
            .await
            .map_err(sqlx_err)?;
    }
    Ok(DatabaseLock {
        connection: Some(connection),
    })
}

impl DatabaseLock {
    /// Releases the lock: closes its connection, which ends the session and every lock of it.
    pub async fn release(mut self) -> Result<(), DbErr> {
        match self.connection.take() {
            Some(connection) => connection.close().await.map_err(sqlx_err),
            None => Ok(()),
        }
    }
}

/// Takes an exclusive lock on the file at `path` (created if missing, never truncated),
/// waiting while another process holds it (saying so in the log, naming `what` waits). The
/// lock lasts as long as the returned file is open.
pub async fn file(path: &Path, what: &'static str) -> std::io::Result<File> {
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => {
            tracing::info!(what, "another process is doing this now; waiting for it");
            tokio::task::spawn_blocking(move || file.lock().map(|()| file))
                .await
                .map_err(std::io::Error::other)?
        }
        Err(std::fs::TryLockError::Error(e)) => Err(e),
    }
}
