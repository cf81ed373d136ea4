//! One instance at a time through the start's one-off work: the keys, the audit key and the
//! data key are created on the first start and only read on later ones (issue 14 item 4:
//! instances share one database and one key directory).
//!
//! Two instances started together on fresh data would each find no key and each make one: the
//! last file written wins on disk while the other instance signs with a key nobody trusts.
//! [`FirstStart::begin`] makes the second wait until the first is done, so it reads the keys
//! the first one made. It holds two locks ([`crate::store::process_lock`]):
//!
//! - the file [`LOCK_FILE`] in the data directory (instances sharing the directory);
//! - on PostgreSQL, the advisory lock [`process_lock::FIRST_START`] (instances on one database,
//!   whatever their directories).
//!
//! The migrations have their own lock, in [`crate::store::Store::connect`].

use std::fs::File;
use std::path::Path;

use crate::store::Store;
use crate::store::process_lock::{self, DatabaseLock};

/// The file in the data directory whose lock [`FirstStart`] holds.
pub const LOCK_FILE: &str = "first-start.lock";

/// Both locks, held until [`FirstStart::end`] (or drop).
#[derive(Debug)]
pub struct FirstStart {
    file: File,
    database: DatabaseLock,
}

/// Why the locks could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum FirstStartError {
    /// The lock file could not be opened or locked.
    #[error("cannot lock {path}: {source}")]
    File {
        /// The lock file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The database lock could not be taken or released.
    #[error("cannot take the database's first-start lock: {0}")]
    Database(#[from] sea_orm::DbErr),
}

impl FirstStart {
    /// Waits for any other instance's first start on this directory or database to end.
    pub async fn begin(data_dir: &Path, store: &Store) -> Result<FirstStart, FirstStartError> {
        let path = data_dir.join(LOCK_FILE);
        let file = process_lock::file(&path, "first start")
            .await
            .map_err(|source| FirstStartError::File {
                path: path.display().to_string(),
                source,
            })?;
        let database = process_lock::database(
            store.conn().pool(),
            process_lock::FIRST_START,
            "first start",
        )
        .await?;
        Ok(FirstStart { file, database })
    }

    /// Lets the next instance through.
    pub async fn end(self) -> Result<(), FirstStartError> {
        self.database.release().await?;
        drop(self.file);
        Ok(())
    }
}
