//! [`RedisState`]: shared state in Redis (`REDIS_URL`), shared by every API instance. Each
//! read-modify-write is one Lua script, so it is atomic across instances. Keys are prefixed
//! (`epermit:` by default) and all carry a TTL.

use std::sync::Arc;
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands, Script};

use super::lease::{Leases, Spent, granted};
use super::{
    GuessBudget, OtpCheck, RateDecision, Result, SharedState, SharedStateError, ThrottlePolicy,
    wall_millis,
};

/// The key prefix in production.
pub const DEFAULT_PREFIX: &str = "epermit:";

/// Replaces any pending code: `HSET h <hash> left <n>`, `PEXPIRE`.
const PUT_OTP: &str = r"
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'h', ARGV[1], 'left', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
";

/// Returns 0 absent, -1 ok (consumed), -2 too many attempts (voided), n > 0 wrong with n left.
const CHECK_OTP: &str = r"
local h = redis.call('HGET', KEYS[1], 'h')
if not h then return 0 end
if h == ARGV[1] then redis.call('DEL', KEYS[1]) return -1 end
local left = redis.call('HINCRBY', KEYS[1], 'left', -1)
if left <= 0 then redis.call('DEL', KEYS[1]) return -2 end
return left
";

/// A guess at a phone's code against its budget. KEYS: the code, wrong guesses in the window,
/// wrong guesses today; ARGV: the hash, per window, window ms, per day, day ms. Returns
/// {outcome, n}: {0, 0} absent, {-1, 0} ok (consumed), {-2, ms} too many (voided; ms until the
/// spent budget frees up), {1, n} wrong with n guesses left.
const CHECK_CODE: &str = r"
local function used(k) return tonumber(redis.call('GET', k) or '0') end
local function wait(k) local t = redis.call('PTTL', k) if t < 0 then return 0 end return t end
local pw, pd = tonumber(ARGV[2]), tonumber(ARGV[4])
local function spent(w, d)
  local r = -1
  if w >= pw then r = math.max(r, wait(KEYS[2])) end
  if d >= pd then r = math.max(r, wait(KEYS[3])) end
  return r
end
local r = spent(used(KEYS[2]), used(KEYS[3]))
if r >= 0 then redis.call('DEL', KEYS[1]) return {-2, r} end
local h = redis.call('HGET', KEYS[1], 'h')
if not h then return {0, 0} end
if h == ARGV[1] then redis.call('DEL', KEYS[1]) return {-1, 0} end
local w = redis.call('INCR', KEYS[2])
if w == 1 or redis.call('PTTL', KEYS[2]) < 0 then redis.call('PEXPIRE', KEYS[2], ARGV[3]) end
local d = redis.call('INCR', KEYS[3])
if d == 1 or redis.call('PTTL', KEYS[3]) < 0 then redis.call('PEXPIRE', KEYS[3], ARGV[5]) end
local left = redis.call('HINCRBY', KEYS[1], 'left', -1)
r = spent(w, d)
if r >= 0 then redis.call('DEL', KEYS[1]) return {-2, r} end
if left <= 0 then redis.call('DEL', KEYS[1]) return {-2, 0} end
return {1, math.min(left, pw - w, pd - d)}
";

/// Takes back one hit of a counter, keeping its TTL.
const UNHIT: &str = r"
if redis.call('EXISTS', KEYS[1]) == 1 and tonumber(redis.call('GET', KEYS[1])) > 0 then
  return redis.call('DECR', KEYS[1])
end
return 0
";

/// Fixed window over each key of KEYS, taking a lease of hits ([`super::lease`]): ARGV the
/// window (ms), then each key's lease. Returns {count, milliseconds left in the window} for each
/// key, flattened. (All keys live under one prefix on one node; a cluster would need a hash tag.)
const HIT: &str = r"
local out = {}
for i, key in ipairs(KEYS) do
  local n = redis.call('INCRBY', key, ARGV[1 + i])
  if n == tonumber(ARGV[1 + i]) then redis.call('PEXPIRE', key, ARGV[1]) end
  local ttl = redis.call('PTTL', key)
  if ttl < 0 then redis.call('PEXPIRE', key, ARGV[1]) ttl = tonumber(ARGV[1]) end
  out[2 * i - 1] = n
  out[2 * i] = ttl
end
return out
";

/// Counts a password failure: `{failures, until}` in a hash; returns the delay in milliseconds.
/// ARGV: free failures, base ms, cap ms, now (wall-clock ms), memory ms.
const THROTTLE_FAIL: &str = r"
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
local free = tonumber(ARGV[1])
local delay = 0
if n >= free then
  delay = tonumber(ARGV[2]) * (2 ^ math.min(n - free, 40))
  if delay > tonumber(ARGV[3]) then delay = tonumber(ARGV[3]) end
end
delay = math.floor(delay)
redis.call('HSET', KEYS[1], 'until', tonumber(ARGV[4]) + delay)
redis.call('PEXPIRE', KEYS[1], math.max(tonumber(ARGV[5]), delay))
return delay
";

/// Raises a mirrored epoch: sets ARGV[1] with a TTL of ARGV[2] ms unless the held value is at
/// least as high; returns the value held afterwards.
const EPOCH_RAISE: &str = r"
local held = redis.call('GET', KEYS[1])
if held and tonumber(held) >= tonumber(ARGV[1]) then return tonumber(held) end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return tonumber(ARGV[1])
";

/// Shared state in Redis through a reconnecting [`ConnectionManager`].
#[derive(Clone)]
pub struct RedisState {
    conn: ConnectionManager,
    prefix: String,
    put_otp: Script,
    check_otp: Script,
    check_code: Script,
    unhit: Script,
    hit: Script,
    throttle_fail: Script,
    epoch_raise: Script,
    /// Hits leased from the rate-limit counters, shared by every clone.
    leases: Arc<Leases>,
}

fn unavailable(err: redis::RedisError) -> SharedStateError {
    SharedStateError::Unavailable(err.to_string())
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

impl RedisState {
    /// Connects lazily to `url` with keys under `prefix` (use [`DEFAULT_PREFIX`]): the service
    /// starts even when Redis is down; calls then fail fast with
    /// [`SharedStateError::Unavailable`] until it is back. The URL is never echoed in errors.
    pub fn connect(url: &str, prefix: &str) -> Result<RedisState> {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(500));
        RedisState::open(url, prefix, config)
    }

    /// [`RedisState::connect`] for the service, whose circuit breaker bounds each call at
    /// the call timeout and each probe at the probe timeout (`shared_state::guarded`), the
    /// longer of them `longest`: a failed connection is not retried within a call (the breaker
    /// decides when to try again; the next call reconnects), and connecting and each answer time
    /// out here only after twice `longest` — a backstop, so that the caller's bound, not this
    /// one, tells a hung Redis from a failing one.
    pub fn connect_with_timeout(url: &str, prefix: &str, longest: Duration) -> Result<RedisState> {
        let backstop = longest.saturating_mul(2);
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(backstop))
            .set_response_timeout(Some(backstop))
            .set_number_of_retries(0);
        RedisState::open(url, prefix, config)
    }

    fn open(url: &str, prefix: &str, config: ConnectionManagerConfig) -> Result<RedisState> {
        use redis::IntoConnectionInfo;
        let invalid = |e: redis::RedisError| {
            SharedStateError::Unavailable(format!("invalid Redis URL ({:?})", e.kind()))
        };
        // TCP_NODELAY: a command written in two segments must not wait for a delayed ACK
        // (40 ms on Linux); the crate leaves Nagle on by default.
        let info = url
            .into_connection_info()
            .map_err(invalid)?
            .set_tcp_settings(redis::io::tcp::TcpSettings::default().set_nodelay(true));
        let client = redis::Client::open(info).map_err(invalid)?;
        let conn = ConnectionManager::new_lazy_with_config(client, config).map_err(unavailable)?;
        Ok(RedisState {
            conn,
            prefix: prefix.to_owned(),
            put_otp: Script::new(PUT_OTP),
            check_otp: Script::new(CHECK_OTP),
            check_code: Script::new(CHECK_CODE),
            unhit: Script::new(UNHIT),
            hit: Script::new(HIT),
            throttle_fail: Script::new(THROTTLE_FAIL),
            epoch_raise: Script::new(EPOCH_RAISE),
            leases: Arc::default(),
        })
    }

    fn key(&self, kind: &str, key: &str) -> String {
        format!("{}{kind}:{key}", self.prefix)
    }

    /// Leases hits in each bucket of `leasing` (one script call): for each, the hits Redis
    /// counts in its window with the lease, and the time left of that window.
    async fn lease(
        &self,
        leasing: &[Leasing<'_>],
        window: Duration,
    ) -> Result<Vec<(u64, Duration)>> {
        let mut invocation = self.hit.prepare_invoke();
        invocation.arg(millis(window));
        for leasing in leasing {
            invocation
                .key(self.key("rl", leasing.bucket))
                .arg(leasing.size);
        }
        let mut conn = self.conn.clone();
        let answers: Vec<(u64, i64)> = invocation
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)?;
        if answers.len() != leasing.len() {
            return Err(SharedStateError::Unavailable(
                "rate-limit script answered for the wrong number of buckets".to_owned(),
            ));
        }
        Ok(answers
            .into_iter()
            .map(|(count, ttl_ms)| {
                (
                    count,
                    Duration::from_millis(u64::try_from(ttl_ms).unwrap_or(0)),
                )
            })
            .collect())
    }
}

/// A lease to take for a bucket in [`RedisState::hit_all`].
struct Leasing<'b> {
    bucket: &'b str,
    limit: u32,
    /// Hits to lease ([`super::lease::lease_size`]).
    size: u32,
    /// Taken ahead of need: the request's own hit in this bucket was spent from the lease
    /// already, so all the granted hits go to the lease.
    ahead: bool,
}

/// The decision for hits all spent from leases.
fn allowed(spent: impl IntoIterator<Item = Spent>) -> RateDecision {
    RateDecision::combine(spent.into_iter().map(|s| RateDecision::Allowed {
        remaining: s.remaining,
    }))
}

#[async_trait::async_trait]
impl SharedState for RedisState {
    fn kind(&self) -> &'static str {
        "redis"
    }

    async fn ping(&self) -> Result<()> {
        let mut conn = self.conn.clone();
        let _: String = redis::cmd("PING")
            .query_async(&mut conn)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn put_otp(
        &self,
        key: &str,
        code_hash: &str,
        ttl: Duration,
        max_attempts: u32,
    ) -> Result<()> {
        let mut conn = self.conn.clone();
        let _: i64 = self
            .put_otp
            .key(self.key("otp", key))
            .arg(code_hash)
            .arg(max_attempts.max(1))
            .arg(millis(ttl))
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn check_otp(&self, key: &str, code_hash: &str) -> Result<OtpCheck> {
        let mut conn = self.conn.clone();
        let outcome: i64 = self
            .check_otp
            .key(self.key("otp", key))
            .arg(code_hash)
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)?;
        Ok(match outcome {
            0 => OtpCheck::Absent,
            -1 => OtpCheck::Ok,
            -2 => OtpCheck::TooManyAttempts {
                retry_after: Duration::ZERO,
            },
            n if n > 0 => OtpCheck::Wrong {
                attempts_left: u32::try_from(n).unwrap_or(u32::MAX),
            },
            other => {
                return Err(SharedStateError::Corrupt(format!(
                    "otp check answered {other}"
                )));
            }
        })
    }

    async fn check_code(
        &self,
        key: &str,
        code_hash: &str,
        budget: &GuessBudget,
    ) -> Result<OtpCheck> {
        let mut conn = self.conn.clone();
        let (outcome, n): (i64, i64) = self
            .check_code
            .key(self.key("otp", key))
            .key(self.key("otpfail", key))
            .key(self.key("otpfail-day", key))
            .arg(code_hash)
            .arg(budget.per_window.max(1))
            .arg(millis(budget.window))
            .arg(budget.per_day.max(1))
            .arg(millis(GuessBudget::DAY))
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)?;
        Ok(match outcome {
            0 => OtpCheck::Absent,
            -1 => OtpCheck::Ok,
            -2 => OtpCheck::TooManyAttempts {
                retry_after: Duration::from_millis(u64::try_from(n).unwrap_or(0)),
            },
            1 => OtpCheck::Wrong {
                attempts_left: u32::try_from(n).unwrap_or(0),
            },
            other => {
                return Err(SharedStateError::Corrupt(format!(
                    "code check answered {other}"
                )));
            }
        })
    }

    async fn delete_otp(&self, key: &str) -> Result<()> {
        let mut conn = self.conn.clone();
        let _: i64 = conn.del(self.key("otp", key)).await.map_err(unavailable)?;
        Ok(())
    }

    async fn unhit(&self, bucket: &str) -> Result<()> {
        if self
            .leases
            .buckets([bucket])
            .give_back(bucket, Instant::now())
        {
            return Ok(());
        }
        let mut conn = self.conn.clone();
        let _: i64 = self
            .unhit
            .key(self.key("rl", bucket))
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn hit(&self, bucket: &str, limit: u32, window: Duration) -> Result<RateDecision> {
        self.hit_all(&[(bucket, limit)], window).await
    }

    /// Spends a leased hit of each bucket that holds one ([`super::lease`]), and leases hits in
    /// Redis, in one script call, for the others and for those whose lease ran low (none when
    /// every bucket had a lease to spare). While it leases, the request holds its buckets, so a
    /// lease is taken once however many requests need it at that moment.
    async fn hit_all(&self, buckets: &[(&str, u32)], window: Duration) -> Result<RateDecision> {
        // Leases are kept by bucket name: the key prefix is the same for all of this store's.
        let mut held = self
            .leases
            .buckets(buckets.iter().map(|(bucket, _)| *bucket));
        let now = Instant::now();
        let mut spent: Vec<Option<Spent>> = buckets
            .iter()
            .map(|(bucket, _)| held.spend(bucket, now))
            .collect();
        if spent.iter().all(|s| s.is_some_and(|s| !s.refill)) {
            return Ok(allowed(spent.into_iter().flatten()));
        }
        held.hold().await;
        // Another request may have leased meanwhile.
        let sent = Instant::now();
        for ((bucket, _), spent) in buckets.iter().zip(&mut spent) {
            if spent.is_none() {
                *spent = held.spend(bucket, sent);
            }
        }
        let leasing: Vec<Leasing<'_>> = buckets
            .iter()
            .zip(&spent)
            .filter_map(|(&(bucket, limit), spent)| {
                let ahead = match spent {
                    None => false,
                    Some(spent) if spent.refill && held.refill_due(bucket, sent) => true,
                    Some(_) => return None,
                };
                let size = held.lease_size(bucket, sent);
                Some(Leasing {
                    bucket,
                    limit,
                    size,
                    ahead,
                })
            })
            .collect();
        let decided = allowed(spent.iter().flatten().copied());
        if leasing.is_empty() {
            return Ok(decided);
        }
        let answers = match self.lease(&leasing, window).await {
            Ok(answers) => answers,
            // This request's hits were all leased already: a lease taken ahead that failed is
            // taken when the bucket runs dry, by the request that finds it so.
            Err(error) if leasing.iter().all(|l| l.ahead) => {
                tracing::debug!(%error, "taking a rate-limit lease ahead of need failed");
                return Ok(decided);
            }
            Err(error) => return Err(error),
        };
        let now = Instant::now();
        let mut decisions = vec![decided];
        for (leasing, (count, ttl)) in leasing.into_iter().zip(answers) {
            let headroom =
                u32::try_from(u64::from(leasing.limit).saturating_sub(count)).unwrap_or(0);
            let granted = granted(leasing.size, count, leasing.limit);
            if leasing.ahead {
                held.take(leasing.bucket, granted, headroom, sent + ttl, now);
                continue;
            }
            let remaining = held.take(
                leasing.bucket,
                granted.saturating_sub(1),
                headroom,
                sent + ttl,
                now,
            );
            decisions.push(if granted == 0 {
                RateDecision::Limited { retry_after: ttl }
            } else {
                RateDecision::Allowed { remaining }
            });
        }
        Ok(RateDecision::combine(decisions))
    }

    async fn cache_get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let mut conn = self.conn.clone();
        conn.get(self.key("cache", key)).await.map_err(unavailable)
    }

    async fn cache_set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<()> {
        let mut conn = self.conn.clone();
        let _: () = conn
            .pset_ex(self.key("cache", key), value, millis(ttl))
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn throttle_wait(&self, key: &str) -> Result<Option<Duration>> {
        let mut conn = self.conn.clone();
        let until: Option<u64> = conn
            .hget(self.key("thr", key), "until")
            .await
            .map_err(unavailable)?;
        let now = wall_millis();
        Ok(until
            .filter(|until| *until > now)
            .map(|until| Duration::from_millis(until - now)))
    }

    async fn throttle_fail(&self, key: &str, policy: &ThrottlePolicy) -> Result<Duration> {
        let mut conn = self.conn.clone();
        let delay: u64 = self
            .throttle_fail
            .key(self.key("thr", key))
            .arg(policy.free)
            .arg(millis(policy.base))
            .arg(millis(policy.cap))
            .arg(wall_millis())
            .arg(millis(policy.memory))
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)?;
        Ok(Duration::from_millis(delay))
    }

    async fn throttle_clear(&self, key: &str) -> Result<()> {
        let mut conn = self.conn.clone();
        let _: i64 = conn.del(self.key("thr", key)).await.map_err(unavailable)?;
        Ok(())
    }

    async fn epoch_get(&self, subject: &str) -> Result<Option<i64>> {
        let mut conn = self.conn.clone();
        conn.get(self.key("epoch", subject))
            .await
            .map_err(unavailable)
    }

    async fn epoch_raise(&self, subject: &str, epoch: i64, ttl: Duration) -> Result<i64> {
        let mut conn = self.conn.clone();
        self.epoch_raise
            .key(self.key("epoch", subject))
            .arg(epoch)
            .arg(millis(ttl))
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)
    }
}
