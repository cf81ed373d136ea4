//! Revocation epochs (issue 12 item 3): how a disabled account, a password reset or a logout
//! everywhere stops access tokens already issued, on every instance.
//!
//! Each account has an epoch in the database (`store::revocations`, 0 until first revoked); every
//! access token carries the epoch it was issued under, and a request is refused when the token's
//! epoch is older than the account's. Each instance remembers an account's epoch for at most
//! `tokens.revocation_check_ms` (default 1 s); after that it asks the shared store, which mirrors
//! the database (for `tokens.revocation_mirror_secs`, then it is read again from the database).
//! With the in-process store there is nothing shared to mirror into (another instance or the CLI
//! could not update it), so the epoch is read from the database after each check interval.
//!
//! **The bound:** a revocation is enforced at once on the instance that made it and within
//! `tokens.revocation_check_ms` on every other instance: with Redis because the change is written
//! to the mirror right after its commit (the CLI writes it too; should that write fail, within
//! `tokens.revocation_mirror_secs`), with the in-process store because the database is read.
//!
//! **When the shared store is down**, the epoch is read from the database instead (fail safe:
//! never "no revocation"); when the database is down too, the request is 503.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::error::ApiError;
use crate::shared_state::SharedState;
use crate::store::{Store, revocations};

/// How many accounts' epochs an instance remembers.
const CAPACITY: usize = 100_000;

/// The epochs this instance read lately.
pub struct Revocations {
    seen: quick_cache::sync::Cache<String, (i64, Instant)>,
    check: Duration,
    mirror: Duration,
    mirrored: bool,
}

impl Revocations {
    /// Remembers an epoch for `check`; a shared store (`mirrored`: Redis, not the in-process
    /// store) keeps its copy for `mirror`.
    pub fn new(check: Duration, mirror: Duration, mirrored: bool) -> Self {
        Revocations {
            seen: quick_cache::sync::Cache::new(CAPACITY),
            check,
            mirror,
            mirrored,
        }
    }

    /// The current epoch of `subject` (`staff:3`, `resident:12`): remembered, else from the shared
    /// store, else (absent there, or the store down) from the database.
    pub async fn current(
        &self,
        shared: &dyn SharedState,
        store: &Store,
        subject: &str,
    ) -> Result<i64, ApiError> {
        if let Some((epoch, at)) = self.seen.get(subject)
            && at.elapsed() < self.check
        {
            return Ok(epoch);
        }
        if !self.mirrored {
            let epoch = revocations::epoch(store.conn(), subject).await?;
            self.seen
                .insert(subject.to_owned(), (epoch, Instant::now()));
            return Ok(epoch);
        }
        let epoch = match shared.epoch_get(subject).await {
            Ok(Some(epoch)) => epoch,
            Ok(None) => {
                let stored = revocations::epoch(store.conn(), subject).await?;
                shared
                    .epoch_raise(subject, stored, self.mirror)
                    .await
                    .unwrap_or(stored)
            }
            Err(e) => {
                tracing::warn!(error = %e, "shared store unavailable: revocation epoch read from the database");
                revocations::epoch(store.conn(), subject).await?
            }
        };
        self.seen
            .insert(subject.to_owned(), (epoch, Instant::now()));
        Ok(epoch)
    }

    /// Makes a committed epoch known: at once on this instance, and in the shared store for the
    /// others. A failure to reach the shared store is logged (the others then read the database
    /// once their mirror entry lapses, or at once if the store is down for them too).
    pub async fn publish(&self, shared: &dyn SharedState, subject: &str, epoch: i64) {
        self.seen
            .insert(subject.to_owned(), (epoch, Instant::now()));
        if let Err(e) = shared.epoch_raise(subject, epoch, self.mirror).await {
            tracing::warn!(error = %e, subject, "could not mirror a revocation epoch");
        }
    }
}

/// Raises `subject`'s epoch in `txn`; call [`Revocations::publish`] (or [`publish_from_cli`])
/// with the result after the commit.
pub async fn bump(
    txn: &sea_orm::DatabaseTransaction,
    subject: &str,
    now: DateTime<Utc>,
) -> Result<i64, crate::store::StoreError> {
    revocations::bump(txn, subject, now).await
}

/// The CLI's [`Revocations::publish`]: writes the epoch to the shared store the settings name
/// (Redis), so running instances see it within their check interval. Without `REDIS_URL` there is
/// nothing shared to write to (see the module's bound). Returns whether it was written.
pub async fn publish_from_cli(
    settings: &crate::config::Settings,
    subject: &str,
    epoch: i64,
) -> bool {
    let Some(shared) = cli_shared_store(settings) else {
        return false;
    };
    shared
        .epoch_raise(subject, epoch, settings.tokens.revocation_mirror())
        .await
        .is_ok()
}

/// The shared store the running instances use, for a CLI command: Redis when `redis_url` is set
/// and a connection can be made; `None` with the in-process store (nothing outside the server to
/// reach) or when Redis is out of reach.
pub fn cli_shared_store(
    settings: &crate::config::Settings,
) -> Option<crate::shared_state::RedisState> {
    use secrecy::ExposeSecret;
    let url = settings.redis_url.as_ref()?;
    crate::shared_state::RedisState::connect(url.expose_secret(), &settings.redis_prefix).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shared_state::RedisState;

    #[tokio::test]
    async fn with_the_shared_store_down_the_epoch_is_read_from_the_database() {
        let store = Store::connect("sqlite::memory:").await.unwrap();
        let txn = store.begin().await.unwrap();
        revocations::bump(&txn, "staff:1", Utc::now())
            .await
            .unwrap();
        txn.commit().await.unwrap();
        // Nothing listens on port 1: every call fails as `Unavailable`.
        let down = RedisState::connect("redis://127.0.0.1:1", "epermit:test:").unwrap();
        let epochs = Revocations::new(Duration::ZERO, Duration::from_secs(60), true);
        assert_eq!(
            epochs.current(&down, &store, "staff:1").await.unwrap(),
            1,
            "not 0: a revocation is never forgotten because Redis is away"
        );
    }

    #[tokio::test]
    async fn a_remembered_epoch_is_trusted_only_for_the_check_interval() {
        let store = Store::connect("sqlite::memory:").await.unwrap();
        let local = crate::shared_state::MemoryState::default();
        let epochs = Revocations::new(Duration::from_millis(200), Duration::from_secs(60), false);
        assert_eq!(
            epochs.current(&local, &store, "resident:7").await.unwrap(),
            0
        );
        let txn = store.begin().await.unwrap();
        revocations::bump(&txn, "resident:7", Utc::now())
            .await
            .unwrap();
        txn.commit().await.unwrap();
        assert_eq!(
            epochs.current(&local, &store, "resident:7").await.unwrap(),
            0,
            "remembered"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert_eq!(
            epochs.current(&local, &store, "resident:7").await.unwrap(),
            1
        );
    }
}
