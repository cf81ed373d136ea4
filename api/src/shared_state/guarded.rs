//! [`GuardedRedis`]: the service's shared store when `REDIS_URL` is set — [`RedisState`] behind a
//! circuit [`Breaker`], with a [`MemoryState`] beside it for the rate limits.
//!
//! Every call to Redis is bounded by the call timeout (`shared_store.call_timeout_ms`) and goes
//! through the breaker: once it is open, calls fail at once with
//! [`SharedStateError::Unavailable`] without touching the network, so a dead or hung Redis
//! costs at most one timeout. While it is open (or when a call fails) the **rate limits**
//! ([`SharedState::hit`], [`SharedState::hit_all`], [`SharedState::unhit`]) are counted in the
//! per-instance store instead: each instance then allows N, so the cluster-wide limit becomes N ×
//! instances during the outage, rather than no limit at all. Everything that needs the shared
//! truth — login codes, throttles, the revocation mirror, the cache — answers
//! `Unavailable` (503 where it matters), fast.
//!
//! The half-open probe is a `PING` sent in the background by the first call after the back-off
//! (that call itself does not wait for it), one at a time; its answer closes the breaker.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use super::breaker::{Admission, Breaker, Outcome, Phase};
use super::{
    GuessBudget, MemoryState, OtpCheck, RateDecision, RedisState, Result, SharedState,
    SharedStateError, ThrottlePolicy,
};

/// Redis behind a circuit breaker, with per-instance rate limits while it is out.
pub struct GuardedRedis {
    redis: RedisState,
    local: MemoryState,
    breaker: Arc<Breaker>,
    call_timeout: Duration,
    readiness_timeout: Duration,
}

fn circuit_open() -> SharedStateError {
    SharedStateError::Unavailable("Redis is out (circuit breaker open)".to_owned())
}

fn timed_out() -> SharedStateError {
    SharedStateError::Unavailable("Redis did not answer within the call timeout".to_owned())
}

/// `call`'s result if it ends within `timeout`. A thread kept off the CPU past the deadline may
/// find the answer already in the socket, unread: before calling it a timeout, the runtime gets
/// one turn (`yield_now` waits for its I/O driver) to hand the answer over.
async fn within<T>(timeout: Duration, call: impl Future<Output = T>) -> Option<T> {
    let mut call = std::pin::pin!(call);
    if let Ok(result) = tokio::time::timeout(timeout, call.as_mut()).await {
        return Some(result);
    }
    tokio::task::yield_now().await;
    match std::future::poll_fn(|cx| std::task::Poll::Ready(call.as_mut().poll(cx))).await {
        std::task::Poll::Ready(result) => Some(result),
        std::task::Poll::Pending => None,
    }
}

/// What an answer says about Redis: a malformed value is an answer all the same.
fn outcome_of<T>(result: &Result<T>) -> Outcome {
    match result {
        Ok(_) | Err(SharedStateError::Corrupt(_)) => Outcome::Success,
        Err(SharedStateError::Unavailable(_)) => Outcome::Failure,
    }
}

impl GuardedRedis {
    /// `redis` behind `breaker`; each call bounded by `call_timeout`, the readiness ping by
    /// `readiness_timeout` (at most `call_timeout`).
    pub fn new(
        redis: RedisState,
        breaker: Breaker,
        call_timeout: Duration,
        readiness_timeout: Duration,
    ) -> GuardedRedis {
        GuardedRedis {
            redis,
            local: MemoryState::default(),
            breaker: Arc::new(breaker),
            call_timeout,
            readiness_timeout: readiness_timeout.min(call_timeout),
        }
    }

    /// The breaker's phase now.
    pub fn phase(&self) -> Phase {
        self.breaker.phase()
    }

    /// Runs `call` against Redis if the breaker admits it, within `timeout`; a timeout counts
    /// as one (`timeout_opens`) or as an ordinary failure.
    async fn bounded<T>(
        &self,
        timeout: Duration,
        timeout_opens: bool,
        call: impl Future<Output = Result<T>>,
    ) -> Result<T> {
        match self.breaker.admit() {
            Admission::Call => {}
            Admission::Probe => {
                self.spawn_probe();
                return Err(circuit_open());
            }
            Admission::Refused => return Err(circuit_open()),
        }
        match within(timeout, call).await {
            Some(result) => {
                self.breaker.record(Admission::Call, outcome_of(&result));
                result
            }
            None => {
                let outcome = if timeout_opens {
                    Outcome::Timeout
                } else {
                    Outcome::Failure
                };
                self.breaker.record(Admission::Call, outcome);
                Err(timed_out())
            }
        }
    }

    /// A call within the call timeout (a timeout opens the breaker).
    async fn call<T>(&self, call: impl Future<Output = Result<T>>) -> Result<T> {
        self.bounded(self.call_timeout, true, call).await
    }

    /// The half-open probe: a `PING` in the background, reported however it ends (a probe
    /// task dropped unfinished counts as failed, so the breaker cannot stay half-open).
    fn spawn_probe(&self) {
        struct Probe(Arc<Breaker>, Option<Outcome>);
        impl Drop for Probe {
            fn drop(&mut self) {
                self.0
                    .record(Admission::Probe, self.1.unwrap_or(Outcome::Failure));
            }
        }
        let probe = Probe(self.breaker.clone(), None);
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return; // no runtime to probe on: `probe` fails as it drops
        };
        let redis = self.redis.clone();
        let timeout = self.call_timeout;
        runtime.spawn(async move {
            let mut probe = probe;
            probe.1 = Some(match within(timeout, redis.ping()).await {
                Some(result) => outcome_of(&result),
                None => Outcome::Timeout,
            });
        });
    }

    /// A rate-limit decision: Redis' when it answers, else this instance's counters.
    async fn limit(&self, buckets: &[(&str, u32)], window: Duration) -> Result<RateDecision> {
        match self.call(self.redis.hit_all(buckets, window)).await {
            Err(SharedStateError::Unavailable(_)) => self.local.hit_all(buckets, window).await,
            other => other,
        }
    }
}

#[async_trait::async_trait]
impl SharedState for GuardedRedis {
    fn kind(&self) -> &'static str {
        "redis"
    }

    fn breaker(&self) -> Option<Phase> {
        Some(self.phase())
    }

    /// Readiness: refused at once while the breaker is open, else a `PING` bounded by the
    /// readiness timeout (whose expiry counts as an ordinary failure, not as a call timeout).
    async fn ping(&self) -> Result<()> {
        self.bounded(self.readiness_timeout, false, self.redis.ping())
            .await
    }

    async fn put_otp(
        &self,
        key: &str,
        code_hash: &str,
        ttl: Duration,
        max_attempts: u32,
    ) -> Result<()> {
        self.call(self.redis.put_otp(key, code_hash, ttl, max_attempts))
            .await
    }

    async fn check_otp(&self, key: &str, code_hash: &str) -> Result<OtpCheck> {
        self.call(self.redis.check_otp(key, code_hash)).await
    }

    async fn check_code(
        &self,
        key: &str,
        code_hash: &str,
        budget: &GuessBudget,
    ) -> Result<OtpCheck> {
        self.call(self.redis.check_code(key, code_hash, budget))
            .await
    }

    async fn delete_otp(&self, key: &str) -> Result<()> {
        self.call(self.redis.delete_otp(key)).await
    }

    async fn unhit(&self, bucket: &str) -> Result<()> {
        match self.call(self.redis.unhit(bucket)).await {
            Err(SharedStateError::Unavailable(_)) => self.local.unhit(bucket).await,
            other => other,
        }
    }

    async fn hit(&self, bucket: &str, limit: u32, window: Duration) -> Result<RateDecision> {
        self.limit(&[(bucket, limit)], window).await
    }

    async fn hit_all(&self, buckets: &[(&str, u32)], window: Duration) -> Result<RateDecision> {
        self.limit(buckets, window).await
    }

    async fn cache_get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        self.call(self.redis.cache_get(key)).await
    }

    async fn cache_set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<()> {
        self.call(self.redis.cache_set(key, value, ttl)).await
    }

    async fn throttle_wait(&self, key: &str) -> Result<Option<Duration>> {
        self.call(self.redis.throttle_wait(key)).await
    }

    async fn throttle_fail(&self, key: &str, policy: &ThrottlePolicy) -> Result<Duration> {
        self.call(self.redis.throttle_fail(key, policy)).await
    }

    async fn throttle_clear(&self, key: &str) -> Result<()> {
        self.call(self.redis.throttle_clear(key)).await
    }

    async fn epoch_get(&self, subject: &str) -> Result<Option<i64>> {
        self.call(self.redis.epoch_get(subject)).await
    }

    async fn epoch_raise(&self, subject: &str, epoch: i64, ttl: Duration) -> Result<i64> {
        self.call(self.redis.epoch_raise(subject, epoch, ttl)).await
    }
}
