//! [`Leases`]: the hits an instance has taken from a shared rate-limit counter ahead of need, so
//! that a busy bucket costs one round trip to Redis per lease rather than one per request.
//!
//! A lease never lets the instances together allow more than the limit: its hits are counted
//! in Redis when it is taken (`INCRBY`), and each is spent at most once, here. What a lease can
//! do is allow *fewer*: hits leased by an instance that then gets no more requests in the window
//! are lost to the others until the window ends. Two rules bound that:
//! - [`lease_size`]: a lease is a sixteenth of what the limit had left at the bucket's last
//!   answer, at most [`MAX_LEASE`], and a single hit once fewer than 32 were left (or nothing is
//!   known of the window yet) — so limits below 32 (the login and code limits) are counted hit
//!   by hit, as without leases, and near any limit the last hits are too. What is left may have
//!   shrunk since (other instances count too): a lease larger than what is left gets only what
//!   is left ([`granted`]);
//! - one lease at a time per bucket and instance: a request holds its buckets ([`Buckets::hold`])
//!   while it spends or leases, so the requests that arrive while a lease is being taken wait
//!   for it and spend from it, instead of each taking a lease of its own.
//!
//! A lease lasts until its window ends as Redis counts it, measured from the moment the call that
//! took it was *sent* (Redis read the window's time left later than that), so no leased hit can
//! be spent in the next window.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::{Mutex as BucketLock, OwnedMutexGuard};

/// The most hits one lease takes.
pub const MAX_LEASE: u32 = 64;

/// The share of what is left of a limit that one lease takes (1/16).
pub const LEASE_SHARE: u32 = 16;

/// How many hits a lease takes when the limit had `left` hits left at the last answer:
/// [`LEASE_SHARE`]th of them, at most [`MAX_LEASE`], at least 1.
pub fn lease_size(left: u32) -> u32 {
    (left / LEASE_SHARE).clamp(1, MAX_LEASE)
}

/// How many of a lease of `lease` hits are granted when Redis counts `count` hits with it, of
/// `limit`: those that fit under the limit (0: the request is over it).
pub fn granted(lease: u32, count: u64, limit: u32) -> u32 {
    let before = count.saturating_sub(u64::from(lease));
    let fits = u64::from(limit).saturating_sub(before);
    u32::try_from(fits.min(u64::from(lease))).unwrap_or(lease)
}

/// Past this many buckets, holding one first drops those no request holds and whose lease is
/// spent or over.
const SWEEP_AT: usize = 4096;

/// One bucket's leased hits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Lease {
    /// Leased hits not spent yet.
    left: u32,
    /// What the limit had left beyond every leased hit when the last lease was taken.
    headroom: u32,
    /// When the window the hits belong to ends.
    until: Instant,
}

impl Lease {
    fn live(&self, now: Instant) -> bool {
        self.until > now && self.left > 0
    }
}

/// A bucket: its lease, and the lock a request holds while it takes a lease for it.
#[derive(Debug, Default)]
struct Slot {
    lease: Mutex<Option<Lease>>,
    leasing: Arc<BucketLock<()>>,
}

impl Slot {
    fn with<T>(&self, f: impl FnOnce(&mut Option<Lease>) -> T) -> Option<T> {
        self.lease.lock().ok().map(|mut lease| f(&mut lease))
    }
}

/// The instance's leases, by bucket key.
#[derive(Debug, Default)]
pub struct Leases {
    buckets: Mutex<HashMap<String, Arc<Slot>>>,
}

impl Leases {
    /// The buckets `keys` for one request, each once, in key order.
    pub fn buckets<'k>(&self, keys: impl IntoIterator<Item = &'k str>) -> Buckets {
        let mut keys: Vec<&str> = keys.into_iter().collect();
        keys.sort_unstable();
        keys.dedup();
        let Ok(mut buckets) = self.buckets.lock() else {
            // A panic while the map was held: fresh buckets (no lease is spent).
            return Buckets {
                slots: keys
                    .iter()
                    .map(|key| ((*key).to_owned(), Arc::default()))
                    .collect(),
                leasing: Vec::new(),
            };
        };
        if buckets.len() >= SWEEP_AT {
            let now = Instant::now();
            buckets.retain(|_, slot| {
                Arc::strong_count(slot) > 1
                    || slot
                        .with(|lease| lease.is_some_and(|l| l.live(now)))
                        .unwrap_or(false)
            });
        }
        Buckets {
            slots: keys
                .iter()
                .map(|key| {
                    let slot = buckets.entry((*key).to_owned()).or_default();
                    ((*key).to_owned(), Arc::clone(slot))
                })
                .collect(),
            leasing: Vec::new(),
        }
    }

    /// How many buckets are kept.
    #[cfg(test)]
    fn kept(&self) -> usize {
        self.buckets.lock().map(|b| b.len()).unwrap_or(0)
    }
}

/// Buckets one request counts in ([`Leases::buckets`]). Spending a leased hit takes no lock
/// but the lease's own, for a moment; a request that must take a lease first holds the buckets
/// ([`Buckets::hold`]), so that the requests arriving meanwhile wait for that lease and spend
/// from it, instead of each taking one of its own.
pub struct Buckets {
    slots: Vec<(String, Arc<Slot>)>,
    leasing: Vec<OwnedMutexGuard<()>>,
}

impl Buckets {
    fn slot(&self, key: &str) -> Option<&Slot> {
        self.slots
            .iter()
            .find(|(held, _)| held == key)
            .map(|(_, slot)| &**slot)
    }

    /// Holds every bucket for leasing, in key order (so two requests holding several cannot
    /// wait for each other); released when `self` is dropped.
    pub async fn hold(&mut self) {
        if !self.leasing.is_empty() {
            return;
        }
        for (_, slot) in &self.slots {
            let guard = Arc::clone(&slot.leasing).lock_owned().await;
            self.leasing.push(guard);
        }
    }

    /// Spends one leased hit of `key`, if one is held for the window running at `now`; returns
    /// the hits the bucket has left after it (leased or not), as an unleased count would.
    pub fn spend(&self, key: &str, now: Instant) -> Option<u32> {
        self.slot(key)?.with(|lease| {
            let lease = lease.as_mut().filter(|l| l.live(now))?;
            lease.left -= 1;
            Some(lease.headroom.saturating_add(lease.left))
        })?
    }

    /// How many hits to lease for `key` at `now` ([`lease_size`] of what was left at its last
    /// answer in this window; 1 when there was none).
    pub fn lease_size(&self, key: &str, now: Instant) -> u32 {
        self.slot(key)
            .and_then(|slot| {
                slot.with(|lease| match lease {
                    Some(lease) if lease.until > now => lease_size(lease.headroom),
                    _ => 1,
                })
            })
            .unwrap_or(1)
    }

    /// Records a lease answered by Redis for `key`: `spare` hits beyond the one spent by the
    /// request that took it, `headroom` hits of the limit left after the lease, the window
    /// ending at `until`. Adds to a lease still held for the same window. Returns the hits the
    /// bucket has left.
    pub fn take(&self, key: &str, spare: u32, headroom: u32, until: Instant, now: Instant) -> u32 {
        self.slot(key)
            .and_then(|slot| {
                slot.with(|lease| {
                    let left = match lease {
                        Some(held) if held.until > now => held.left.saturating_add(spare),
                        _ => spare,
                    };
                    *lease = Some(Lease {
                        left,
                        headroom,
                        until,
                    });
                    left
                })
            })
            .map_or(headroom.saturating_add(spare), |left| {
                headroom.saturating_add(left)
            })
    }

    /// Takes back one hit spent in `key` into its lease, when one is held for the window running
    /// at `now` (`false`: the hit must be taken back where it is counted, in Redis).
    pub fn give_back(&self, key: &str, now: Instant) -> bool {
        self.slot(key)
            .and_then(|slot| {
                slot.with(|lease| match lease {
                    Some(lease) if lease.until > now => {
                        lease.left = lease.left.saturating_add(1);
                        true
                    }
                    _ => false,
                })
            })
            .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests;
