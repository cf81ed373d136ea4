//! [`GuardedRedis`]: the service's shared store when `REDIS_URL` is set — [`RedisState`] behind a
//! circuit [`Breaker`], with a [`MemoryState`] beside it for the rate limits.
//!
//! Every call to Redis is bounded by the call timeout (`shared_store.call_timeout_ms`) and goes
//! through the breaker: once it is open, calls fail at once with
//! [`SharedStateError::Unavailable`] without touching the network, so a dead or hung Redis
//! costs at most a timeout and a probe. A timeout alone does not open it (on a busy machine one
//! call may lose the CPU past its timeout): the breaker's confirming `PING`, bounded by
//! `shared_store.probe_timeout_ms`, decides.
//!
//! The **rate limits** ([`SharedState::hit`], [`SharedState::hit_all`], [`SharedState::unhit`])
//! are counted in the per-instance store as well as in Redis while Redis answers (Redis'
//! decision stands), and in the per-instance store alone while the breaker is open or a call
//! fails: each instance then allows N, so the cluster-wide limit becomes N × instances during the
//! outage, rather than no limit at all — and a client's counts do not start again from zero
//! when the breaker opens in the middle of its burst. Everything that needs the shared truth —
//! login codes, throttles, the revocation mirror, the cache — answers `Unavailable` (503 where
//! it matters), fast.
//!
//! The probes (confirming and half-open) are `PING`s the breaker sends in the background, one
//! at a time (a second `PING` when the first fails: the first command after Redis restarted
//! fails on the dropped connection and reconnects); no call waits for them.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use super::breaker::{Admission, Breaker, BreakerPolicy, Outcome, Phase};
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

/// The timeouts of [`GuardedRedis`] (`[shared_store]`).
#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    /// Each call to Redis.
    pub call: Duration,
    /// The readiness `PING` while the breaker is closed (at most `call`).
    pub readiness: Duration,
    /// The breaker's probes.
    pub probe: Duration,
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
    /// `redis` behind a breaker with `policy` reporting to `observer`, bounded by `timeouts`.
    pub fn new(
        redis: RedisState,
        policy: BreakerPolicy,
        observer: Box<dyn Fn(Phase) + Send + Sync>,
        timeouts: Timeouts,
    ) -> GuardedRedis {
        let probed = redis.clone();
        let probe_timeout = timeouts.probe;
        let breaker = Breaker::new(
            "shared store",
            policy,
            observer,
            Box::new(move || {
                let redis = probed.clone();
                Box::pin(async move {
                    // The first command on a connection Redis dropped (it restarted) fails and
                    // has the connection manager reconnect: one more `PING` tells.
                    let ping_twice = async {
                        match redis.ping().await {
                            Err(SharedStateError::Unavailable(_)) => redis.ping().await,
                            answered => answered,
                        }
                    };
                    match within(probe_timeout, ping_twice).await {
                        Some(result) => outcome_of(&result),
                        None => Outcome::Timeout,
                    }
                })
            }),
        );
        GuardedRedis {
            redis,
            local: MemoryState::default(),
            breaker,
            call_timeout: timeouts.call,
            readiness_timeout: timeouts.readiness.min(timeouts.call),
        }
    }

    /// The breaker's phase now.
    pub fn phase(&self) -> Phase {
        self.breaker.phase()
    }

    /// Runs `call` against Redis if the breaker admits it, within `timeout`.
    async fn bounded<T>(
        &self,
        timeout: Duration,
        call: impl Future<Output = Result<T>>,
    ) -> Result<T> {
        if self.breaker.admit() != Admission::Call {
            return Err(circuit_open());
        }
        match within(timeout, call).await {
            Some(result) => {
                self.breaker.record(Admission::Call, outcome_of(&result));
                result
            }
            None => {
                self.breaker.record(Admission::Call, Outcome::Timeout);
                Err(timed_out())
            }
        }
    }

    /// A call within the call timeout.
    async fn call<T>(&self, call: impl Future<Output = Result<T>>) -> Result<T> {
        self.bounded(self.call_timeout, call).await
    }

    /// A rate-limit decision: Redis' when it answers, else this instance's counters.
    /// The per-instance count goes on while Redis answers, so that the fallback starts from
    /// the recent hits and not from zero.
    async fn limit(&self, buckets: &[(&str, u32)], window: Duration) -> Result<RateDecision> {
        let shared = self.call(self.redis.hit_all(buckets, window)).await;
        let local = self.local.hit_all(buckets, window).await;
        match shared {
            Err(SharedStateError::Unavailable(_)) => local,
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
    /// readiness timeout (whose expiry, like a call's, starts the breaker's confirming probe).
    async fn ping(&self) -> Result<()> {
        self.bounded(self.readiness_timeout, self.redis.ping())
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
        let shared = self.call(self.redis.unhit(bucket)).await;
        let local = self.local.unhit(bucket).await;
        match shared {
            Err(SharedStateError::Unavailable(_)) => local,
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
