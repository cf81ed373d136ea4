//! Shared short-lived state (SPEC §4 "Redis", issue 3 item 3): what API instances share and may
//! lose without harm — one-time login codes, rate-limit counters, cached status
//! (idempotency records live in the database: [`crate::idempotency`]).
//! One trait, [`SharedState`], held as `Arc<dyn SharedState>`, with two implementations:
//! [`MemoryState`] (in-process, the default; one instance only) and [`RedisState`] (`REDIS_URL`).
//! The service holds Redis as a [`GuardedRedis`]: behind a circuit breaker ([`crate::breaker`]), with
//! short call timeouts, and with per-instance rate limits while Redis is out (see [`guarded`]).
//!
//! Staff password failures are throttled here, per (account, client address), with growing
//! delays ([`SharedState::throttle_fail`]); accounts' revocation epochs are mirrored here
//! ([`SharedState::epoch_get`]) from the database, which holds the truth (`store::revocations`).
//!
//! Every operation can fail with [`SharedStateError::Unavailable`] when Redis is down: treat it as
//! *degraded*. Verification must not depend on this store (skip its rate limit or cache on error);
//! logins answer 503. `/readyz` reports [`SharedState::ping`] and
//! [`SharedState::breaker`]. Behind the breaker, rate limits do not fail: they are counted per
//! instance while Redis is out. On Redis, a busy rate-limit bucket takes its hits in leases
//! ([`lease`]): one round trip per lease of up to 64 hits rather than one per request, never more
//! than the limit in total across instances.
//!
//! Keys passed in are logical (`otp:<phone key>`, `rl:login:ip:1.2.3.4`, …); the implementation
//! adds its prefix (`epermit:` by default on Redis). Pass a keyed hash of a phone number rather
//! than the number itself, so no personal data sits in Redis.

pub use crate::breaker;
pub mod guarded;
pub mod lease;
mod memory;
mod redis_state;

#[cfg(test)]
mod tests;

use std::time::Duration;

pub use guarded::GuardedRedis;
pub use memory::MemoryState;
pub use redis_state::{DEFAULT_PREFIX, RedisState};

/// What a shared-state call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum SharedStateError {
    /// The backing service is unreachable or failed (→ degraded, HTTP 503 where it matters).
    #[error("shared state unavailable: {0}")]
    Unavailable(String),
    /// A stored value could not be decoded.
    #[error("shared state holds a malformed value: {0}")]
    Corrupt(String),
}

/// The result of a shared-state call.
pub type Result<T, E = SharedStateError> = std::result::Result<T, E>;

/// The outcome of checking a one-time code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OtpCheck {
    /// The code matched; it is consumed.
    Ok,
    /// Wrong code; this many guesses remain.
    Wrong {
        /// Guesses left before the code is void.
        attempts_left: u32,
    },
    /// No code is pending (never sent, expired, or consumed).
    Absent,
    /// The last allowed guess was wrong, or the phone's guess budget is spent; the code is void.
    TooManyAttempts {
        /// When the spent budget frees up again (zero when only the code's own attempts are
        /// spent: a new code may be asked for).
        retry_after: Duration,
    },
}

/// How many wrong guesses one phone may make, whatever the number of codes sent to it (issue 12
/// item 2): a resend does not reset these counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GuessBudget {
    /// Wrong guesses allowed within `window`.
    pub per_window: u32,
    /// The window opened by the first wrong guess (a code's lifetime).
    pub window: Duration,
    /// Wrong guesses allowed within [`GuessBudget::DAY`].
    pub per_day: u32,
}

impl GuessBudget {
    /// The daily window: 24 hours from the first wrong guess counted.
    pub const DAY: Duration = Duration::from_secs(24 * 3600);
}

/// The outcome of a rate-limit hit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RateDecision {
    /// Within the limit.
    Allowed {
        /// Hits left in this window.
        remaining: u32,
    },
    /// Over the limit.
    Limited {
        /// When the window ends (for `Retry-After`, rounded up to seconds).
        retry_after: Duration,
    },
}

impl RateDecision {
    /// The decision over several buckets (see [`SharedState::hit_all`]); no bucket allows all.
    pub fn combine(decisions: impl IntoIterator<Item = RateDecision>) -> RateDecision {
        decisions.into_iter().fold(
            RateDecision::Allowed {
                remaining: u32::MAX,
            },
            |acc, d| match (acc, d) {
                (
                    RateDecision::Limited { retry_after: a },
                    RateDecision::Limited { retry_after: b },
                ) => RateDecision::Limited {
                    retry_after: a.max(b),
                },
                (limited @ RateDecision::Limited { .. }, RateDecision::Allowed { .. })
                | (RateDecision::Allowed { .. }, limited @ RateDecision::Limited { .. }) => limited,
                (
                    RateDecision::Allowed { remaining: a },
                    RateDecision::Allowed { remaining: b },
                ) => RateDecision::Allowed {
                    remaining: a.min(b),
                },
            },
        )
    }
}

/// How password failures slow one (account, client) pair down: the first `free` failures cost
/// nothing; the failure after which the count is `free` imposes `base`, each further one twice the
/// last, at most `cap`. The count is forgotten `memory` after the last failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Failures without delay.
    pub free: u32,
    /// The first delay.
    pub base: Duration,
    /// The longest delay.
    pub cap: Duration,
    /// How long a count is kept after its last failure.
    pub memory: Duration,
}

impl ThrottlePolicy {
    /// The delay imposed after the `failures`-th failure.
    pub fn delay_after(&self, failures: u32) -> Duration {
        if failures < self.free {
            return Duration::ZERO;
        }
        let doublings = (failures - self.free).min(32);
        self.base
            .checked_mul(1u32 << doublings.min(31))
            .unwrap_or(self.cap)
            .min(self.cap)
    }
}

/// Milliseconds since the Unix epoch by the wall clock (shared by instances, unlike `Instant`).
fn wall_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Short-lived state shared between API instances.
#[async_trait::async_trait]
pub trait SharedState: Send + Sync + 'static {
    /// Which implementation (`memory` or `redis`), for logs and `/readyz`.
    fn kind(&self) -> &'static str;

    /// Readiness: whether the backing service answers.
    async fn ping(&self) -> Result<()>;

    /// The phase of the circuit breaker in front of the backing service, if there is one.
    fn breaker(&self) -> Option<breaker::Phase> {
        None
    }

    /// Stores a one-time code (its hash) for `key`, replacing any pending one, valid for `ttl`,
    /// allowing `max_attempts` guesses.
    async fn put_otp(
        &self,
        key: &str,
        code_hash: &str,
        ttl: Duration,
        max_attempts: u32,
    ) -> Result<()>;

    /// Checks a guess; a right guess consumes the code, the last wrong one voids it.
    async fn check_otp(&self, key: &str, code_hash: &str) -> Result<OtpCheck>;

    /// Checks a guess at a phone's login code against the phone's [`GuessBudget`] as well as
    /// the code's own attempts, in one atomic step: every wrong guess counts against the budget,
    /// kept apart from the code so that a new code does not reset it. While the budget is spent
    /// every guess (right or wrong) is `TooManyAttempts` and the pending code is void.
    async fn check_code(
        &self,
        key: &str,
        code_hash: &str,
        budget: &GuessBudget,
    ) -> Result<OtpCheck>;

    /// Removes any pending code of `key` (a code that could not be delivered).
    async fn delete_otp(&self, key: &str) -> Result<()>;

    /// Takes back one hit counted in `bucket` by [`SharedState::hit`] (e.g. for a request that
    /// turned out to have no effect), keeping its window; nothing when the bucket is empty.
    async fn unhit(&self, bucket: &str) -> Result<()>;

    /// Counts one hit in `bucket` within a fixed window of `window`; more than `limit` hits in
    /// the window are limited.
    async fn hit(&self, bucket: &str, limit: u32, window: Duration) -> Result<RateDecision>;

    /// Counts one hit in each `(bucket, limit)` (e.g. per IP and per account) in one call — one
    /// round trip where the store is remote. Limited when any bucket is: the latest window end
    /// is the one to wait for; otherwise the fewest hits left.
    async fn hit_all(&self, buckets: &[(&str, u32)], window: Duration) -> Result<RateDecision> {
        let mut decisions = Vec::with_capacity(buckets.len());
        for (bucket, limit) in buckets {
            decisions.push(self.hit(bucket, *limit, window).await?);
        }
        Ok(RateDecision::combine(decisions))
    }

    /// A cached value, if present and fresh.
    async fn cache_get(&self, key: &str) -> Result<Option<Vec<u8>>>;

    /// Caches a value for `ttl`.
    async fn cache_set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<()>;

    /// How long the pair `key` (an account and a client address) must still wait before its next
    /// password attempt; `None` when it may try now.
    async fn throttle_wait(&self, key: &str) -> Result<Option<Duration>>;

    /// Counts a password failure of the pair `key` under `policy`; returns the delay it now
    /// imposes (zero while failures are free).
    async fn throttle_fail(&self, key: &str, policy: &ThrottlePolicy) -> Result<Duration>;

    /// Forgets the failures of the pair `key` (after a successful login).
    async fn throttle_clear(&self, key: &str) -> Result<()>;

    /// The mirrored revocation epoch of `subject` (`staff:3`), if the store holds one.
    async fn epoch_get(&self, subject: &str) -> Result<Option<i64>>;

    /// Raises the mirrored epoch of `subject` to `epoch` unless it is higher already (so a stale
    /// read of the database cannot lower it); a raised value is kept for `ttl`. Returns the value
    /// held afterwards.
    async fn epoch_raise(&self, subject: &str, epoch: i64, ttl: Duration) -> Result<i64>;
}

/// Compares two strings in time independent of where they differ.
fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}
