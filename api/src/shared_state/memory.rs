//! [`MemoryState`]: the in-process shared state (one API instance), a bounded map with expiry.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

use super::{
    GuessBudget, OtpCheck, RateDecision, Result, SharedState, ThrottlePolicy, constant_time_eq,
};

/// Entries kept at most by default; beyond, expired entries go first, then the soonest to expire.
pub const DEFAULT_CAPACITY: usize = 100_000;

enum Value {
    Otp {
        code_hash: String,
        attempts_left: u32,
    },
    Counter(u32),
    Bytes(Vec<u8>),
    Throttle {
        failures: u32,
        until: Instant,
    },
    Epoch(i64),
}

struct Entry {
    value: Value,
    expires: Instant,
}

/// In-process shared state: a `Mutex<HashMap>` with per-entry expiry, bounded in size.
pub struct MemoryState {
    map: Mutex<HashMap<String, Entry>>,
    capacity: usize,
}

impl Default for MemoryState {
    fn default() -> Self {
        MemoryState::new(DEFAULT_CAPACITY)
    }
}

impl MemoryState {
    /// A store holding at most `capacity` entries.
    pub fn new(capacity: usize) -> Self {
        MemoryState {
            map: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Entry>> {
        // A panic while holding the lock leaves a consistent map: every update is one insert.
        self.map
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Entries held, expired ones included (tests).
    #[cfg(test)]
    pub(super) fn entries(&self) -> usize {
        self.lock().len()
    }

    /// Inserts, making room first when full.
    fn insert(&self, map: &mut HashMap<String, Entry>, key: &str, value: Value, ttl: Duration) {
        let now = Instant::now();
        if !map.contains_key(key) && map.len() >= self.capacity {
            map.retain(|_, e| e.expires > now);
            if map.len() >= self.capacity
                && let Some(victim) = map
                    .iter()
                    .min_by_key(|(_, e)| e.expires)
                    .map(|(k, _)| k.clone())
            {
                map.remove(&victim);
            }
        }
        map.insert(
            key.to_owned(),
            Entry {
                value,
                expires: now + ttl,
            },
        );
    }

    /// One hit of the counter `bucket` in `map`, which the caller has locked.
    fn hit_locked(
        &self,
        map: &mut HashMap<String, Entry>,
        bucket: &str,
        limit: u32,
        window: Duration,
    ) -> RateDecision {
        let key = format!("rl:{bucket}");
        let (count, expires) = match Self::live(map, &key) {
            Some(Entry {
                value: Value::Counter(n),
                expires,
            }) => {
                *n = n.saturating_add(1);
                (*n, *expires)
            }
            _ => {
                self.insert(map, &key, Value::Counter(1), window);
                (1, Instant::now() + window)
            }
        };
        if count > limit {
            RateDecision::Limited {
                retry_after: expires.saturating_duration_since(Instant::now()),
            }
        } else {
            RateDecision::Allowed {
                remaining: limit - count,
            }
        }
    }

    /// The live entry under `key` (an expired one is removed).
    fn live<'m>(map: &'m mut HashMap<String, Entry>, key: &str) -> Option<&'m mut Entry> {
        let now = Instant::now();
        if map.get(key).is_some_and(|e| e.expires <= now) {
            map.remove(key);
        }
        map.get_mut(key)
    }
}

#[async_trait::async_trait]
impl SharedState for MemoryState {
    fn kind(&self) -> &'static str {
        "memory"
    }

    async fn ping(&self) -> Result<()> {
        Ok(())
    }

    async fn put_otp(
        &self,
        key: &str,
        code_hash: &str,
        ttl: Duration,
        max_attempts: u32,
    ) -> Result<()> {
        let mut map = self.lock();
        let value = Value::Otp {
            code_hash: code_hash.to_owned(),
            attempts_left: max_attempts.max(1),
        };
        self.insert(&mut map, &format!("otp:{key}"), value, ttl);
        Ok(())
    }

    async fn check_otp(&self, key: &str, code_hash: &str) -> Result<OtpCheck> {
        let key = format!("otp:{key}");
        let mut map = self.lock();
        let Some(entry) = Self::live(&mut map, &key) else {
            return Ok(OtpCheck::Absent);
        };
        let Value::Otp {
            code_hash: stored,
            attempts_left,
        } = &mut entry.value
        else {
            return Ok(OtpCheck::Absent);
        };
        if constant_time_eq(stored, code_hash) {
            map.remove(&key);
            return Ok(OtpCheck::Ok);
        }
        *attempts_left = attempts_left.saturating_sub(1);
        if *attempts_left == 0 {
            map.remove(&key);
            return Ok(OtpCheck::TooManyAttempts {
                retry_after: Duration::ZERO,
            });
        }
        Ok(OtpCheck::Wrong {
            attempts_left: *attempts_left,
        })
    }

    async fn check_code(
        &self,
        key: &str,
        code_hash: &str,
        budget: &GuessBudget,
    ) -> Result<OtpCheck> {
        let (otp, in_window, in_day) = (
            format!("otp:{key}"),
            format!("otpfail:{key}"),
            format!("otpfail-day:{key}"),
        );
        let mut map = self.lock();
        let now = Instant::now();
        // The longest wait among the spent budgets, if any is spent.
        let spent = |map: &mut HashMap<String, Entry>| -> Option<Duration> {
            [(&in_window, budget.per_window), (&in_day, budget.per_day)]
                .into_iter()
                .filter_map(|(k, limit)| match Self::live(map, k) {
                    Some(Entry {
                        value: Value::Counter(n),
                        expires,
                    }) if *n >= limit => Some(expires.saturating_duration_since(now)),
                    _ => None,
                })
                .max()
        };
        if let Some(retry_after) = spent(&mut map) {
            map.remove(&otp);
            return Ok(OtpCheck::TooManyAttempts { retry_after });
        }
        let code_left = match Self::live(&mut map, &otp) {
            Some(Entry {
                value:
                    Value::Otp {
                        code_hash: stored,
                        attempts_left,
                    },
                ..
            }) => {
                if constant_time_eq(stored, code_hash) {
                    map.remove(&otp);
                    return Ok(OtpCheck::Ok);
                }
                *attempts_left = attempts_left.saturating_sub(1);
                *attempts_left
            }
            _ => return Ok(OtpCheck::Absent),
        };
        let mut phone_left = u32::MAX;
        for (k, limit, window) in [
            (&in_window, budget.per_window, budget.window),
            (&in_day, budget.per_day, GuessBudget::DAY),
        ] {
            let n = match Self::live(&mut map, k) {
                Some(Entry {
                    value: Value::Counter(n),
                    ..
                }) => {
                    *n = n.saturating_add(1);
                    *n
                }
                _ => {
                    self.insert(&mut map, k, Value::Counter(1), window);
                    1
                }
            };
            phone_left = phone_left.min(limit.saturating_sub(n));
        }
        if let Some(retry_after) = spent(&mut map) {
            map.remove(&otp);
            return Ok(OtpCheck::TooManyAttempts { retry_after });
        }
        if code_left == 0 {
            map.remove(&otp);
            return Ok(OtpCheck::TooManyAttempts {
                retry_after: Duration::ZERO,
            });
        }
        Ok(OtpCheck::Wrong {
            attempts_left: code_left.min(phone_left),
        })
    }

    async fn delete_otp(&self, key: &str) -> Result<()> {
        self.lock().remove(&format!("otp:{key}"));
        Ok(())
    }

    async fn unhit(&self, bucket: &str) -> Result<()> {
        let key = format!("rl:{bucket}");
        let mut map = self.lock();
        if let Some(Entry {
            value: Value::Counter(n),
            ..
        }) = Self::live(&mut map, &key)
        {
            *n = n.saturating_sub(1);
        }
        Ok(())
    }

    async fn hit(&self, bucket: &str, limit: u32, window: Duration) -> Result<RateDecision> {
        Ok(self.hit_locked(&mut self.lock(), bucket, limit, window))
    }

    /// Every bucket under one lock, in order, as [`SharedState::hit`] one after another would.
    async fn hit_all(&self, buckets: &[(&str, u32)], window: Duration) -> Result<RateDecision> {
        let mut map = self.lock();
        Ok(RateDecision::combine(buckets.iter().map(
            |(bucket, limit)| self.hit_locked(&mut map, bucket, *limit, window),
        )))
    }

    async fn cache_get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let mut map = self.lock();
        Ok(match Self::live(&mut map, &format!("cache:{key}")) {
            Some(Entry {
                value: Value::Bytes(bytes),
                ..
            }) => Some(bytes.clone()),
            _ => None,
        })
    }

    async fn cache_set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<()> {
        let mut map = self.lock();
        self.insert(
            &mut map,
            &format!("cache:{key}"),
            Value::Bytes(value.to_vec()),
            ttl,
        );
        Ok(())
    }

    async fn throttle_wait(&self, key: &str) -> Result<Option<Duration>> {
        let mut map = self.lock();
        let now = Instant::now();
        Ok(match Self::live(&mut map, &format!("thr:{key}")) {
            Some(Entry {
                value: Value::Throttle { until, .. },
                ..
            }) if *until > now => Some(*until - now),
            _ => None,
        })
    }

    async fn throttle_fail(&self, key: &str, policy: &ThrottlePolicy) -> Result<Duration> {
        let key = format!("thr:{key}");
        let mut map = self.lock();
        let failures = match Self::live(&mut map, &key) {
            Some(Entry {
                value: Value::Throttle { failures, .. },
                ..
            }) => failures.saturating_add(1),
            _ => 1,
        };
        let delay = policy.delay_after(failures);
        let value = Value::Throttle {
            failures,
            until: Instant::now() + delay,
        };
        self.insert(&mut map, &key, value, policy.memory.max(delay));
        Ok(delay)
    }

    async fn throttle_clear(&self, key: &str) -> Result<()> {
        self.lock().remove(&format!("thr:{key}"));
        Ok(())
    }

    async fn epoch_get(&self, subject: &str) -> Result<Option<i64>> {
        let mut map = self.lock();
        Ok(match Self::live(&mut map, &format!("epoch:{subject}")) {
            Some(Entry {
                value: Value::Epoch(epoch),
                ..
            }) => Some(*epoch),
            _ => None,
        })
    }

    async fn epoch_raise(&self, subject: &str, epoch: i64, ttl: Duration) -> Result<i64> {
        let key = format!("epoch:{subject}");
        let mut map = self.lock();
        if let Some(Entry {
            value: Value::Epoch(held),
            ..
        }) = Self::live(&mut map, &key)
            && *held >= epoch
        {
            return Ok(*held);
        }
        self.insert(&mut map, &key, Value::Epoch(epoch), ttl);
        Ok(epoch)
    }
}
