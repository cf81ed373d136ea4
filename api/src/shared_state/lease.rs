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
//!   is left ([`granted`]). A bucket whose leases are spent within [`LEASE_SPAN`] gets leases
//!   twice as large, up to that sixteenth ([`next_lease`]): only limits with more than a
//!   thousand or so hits left, hit that fast, lease more than [`MAX_LEASE`];
//! - one lease at a time per bucket and instance: a request holds its buckets ([`Buckets::hold`])
//!   while it leases, so the requests that find no leased hit while a lease is being taken wait
//!   for it and spend from it, instead of each taking a lease of its own.
//!
//! Where a limit has more than a thousand or so hits left ([`grows`]), a busy bucket's next
//! lease is taken *ahead* of need: the request that spends the lease down to a quarter
//! ([`refill_at`], [`Spent::refill`]) takes it, after its own hit was allowed, so that the
//! bucket's requests find leased hits while it is on its way instead of all waiting for Redis
//! (measured: waiting for each lease cost a verifier at thousands of requests a second a tenth
//! of its throughput, BENCHMARKS.md). There an instance holds up to a lease and a quarter of
//! each busy bucket, and that is what one that goes quiet can keep back.
//!
//! A lease lasts until its window ends as Redis counts it, measured from the moment the call that
//! took it was *sent* (Redis read the window's time left later than that), so no leased hit can
//! be spent in the next window.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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

/// How long a busy bucket's lease should last: leases that are spent faster grow
/// ([`next_lease`]), so that a bucket hit thousands of times a second does not wait for Redis
/// every few milliseconds.
pub const LEASE_SPAN: Duration = Duration::from_millis(50);

/// The next lease of a bucket whose limit had `left` hits left at its last answer, when that
/// answer brought the instance's leased hits to `held`, `lasted` ago: twice `held` if that came
/// sooner than [`LEASE_SPAN`], half of it if not, never less than [`lease_size`] and never more
/// than a [`LEASE_SHARE`]th of what was left. While that sixteenth is at most [`MAX_LEASE`] (below
/// 1 040 hits left: every limit this service sets by default) the two bounds meet, and the lease
/// is exactly [`lease_size`].
pub fn next_lease(left: u32, held: u32, lasted: Duration) -> u32 {
    let wanted = if lasted < LEASE_SPAN {
        held.saturating_mul(2)
    } else {
        held / 2
    };
    wanted.clamp(lease_size(left), (left / LEASE_SHARE).max(1))
}

/// How many of a lease of `lease` hits are granted when Redis counts `count` hits with it, of
/// `limit`: those that fit under the limit (0: the request is over it).
pub fn granted(lease: u32, count: u64, limit: u32) -> u32 {
    let before = count.saturating_sub(u64::from(lease));
    let fits = u64::from(limit).saturating_sub(before);
    u32::try_from(fits.min(u64::from(lease))).unwrap_or(lease)
}

/// Whether a bucket whose limit has `left` hits left beyond its leases is one whose leases
/// grow ([`next_lease`]) and are taken ahead of need ([`refill_at`]): while a [`LEASE_SHARE`]th
/// of it exceeds [`MAX_LEASE`] (more than 1 039 left). Below that — every limit this service
/// sets by default, and the end of any limit — a bucket waits for its leases, so that the
/// instances run out of a limit together rather than one still allowing while another refuses.
pub fn grows(left: u32) -> bool {
    left / LEASE_SHARE > MAX_LEASE
}

/// How many of `held` leased hits are left when the next lease is taken, ahead of need: a
/// quarter (only where leases [grow](grows)).
pub fn refill_at(held: u32) -> u32 {
    held / 4
}

/// A leased hit spent ([`Buckets::spend`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Spent {
    /// The hits the bucket has left after it (leased or not), as an unleased count would say.
    pub remaining: u32,
    /// This hit brought the lease down to its refill mark ([`refill_at`]) in a bucket whose
    /// leases [grow](grows): the request takes the next lease, so that the others find one when
    /// this one is spent.
    pub refill: bool,
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
    /// `left` when the last lease came in ...
    held: u32,
    /// ... at this instant.
    taken: Instant,
}

impl Lease {
    fn live(&self, now: Instant) -> bool {
        self.until > now && self.left > 0
    }

    /// Whether the next lease is due ahead of need: spent down to its refill mark
    /// ([`refill_at`]) in a bucket whose leases [grow](grows).
    fn refill_due(&self) -> bool {
        self.left <= refill_at(self.held) && grows(self.headroom)
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
    /// The buckets `keys` for one request, each once, in key order. Only a bucket seen for the
    /// first time costs an allocation (its key in the map).
    pub fn buckets<'k>(&self, keys: impl IntoIterator<Item = &'k str>) -> Buckets<'k> {
        let mut keys: Vec<&str> = keys.into_iter().collect();
        keys.sort_unstable();
        keys.dedup();
        // A panic while the map was held: fresh buckets (no lease is spent).
        let mut map = self.buckets.lock().ok();
        if let Some(map) = map.as_deref_mut() {
            sweep(map);
        }
        let slots = keys
            .into_iter()
            .map(|key| {
                let slot = map
                    .as_deref_mut()
                    .map_or_else(Arc::default, |map| slot(map, key));
                (key, slot)
            })
            .collect();
        Buckets {
            slots,
            leasing: Vec::new(),
        }
    }

    /// How many buckets are kept.
    #[cfg(test)]
    fn kept(&self) -> usize {
        self.buckets.lock().map(|b| b.len()).unwrap_or(0)
    }
}

/// The slot of `key` in `map`, added when new.
fn slot(map: &mut HashMap<String, Arc<Slot>>, key: &str) -> Arc<Slot> {
    if let Some(slot) = map.get(key) {
        return Arc::clone(slot);
    }
    let slot = Arc::<Slot>::default();
    map.insert(key.to_owned(), Arc::clone(&slot));
    slot
}

/// Past [`SWEEP_AT`] buckets, drops those no request holds and whose lease is spent or over.
fn sweep(map: &mut HashMap<String, Arc<Slot>>) {
    if map.len() < SWEEP_AT {
        return;
    }
    let now = Instant::now();
    map.retain(|_, slot| {
        Arc::strong_count(slot) > 1
            || slot
                .with(|lease| lease.is_some_and(|l| l.live(now)))
                .unwrap_or(false)
    });
}

/// Buckets one request counts in ([`Leases::buckets`]). Spending a leased hit takes no lock
/// but the lease's own, for a moment; a request that must take a lease first holds the buckets
/// ([`Buckets::hold`]), so that the requests arriving meanwhile wait for that lease and spend
/// from it, instead of each taking one of its own.
pub struct Buckets<'k> {
    slots: Vec<(&'k str, Arc<Slot>)>,
    leasing: Vec<OwnedMutexGuard<()>>,
}

impl Buckets<'_> {
    fn slot(&self, key: &str) -> Option<&Slot> {
        self.slots
            .iter()
            .find(|(held, _)| *held == key)
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

    /// Spends one leased hit of `key`, if one is held for the window running at `now`.
    pub fn spend(&self, key: &str, now: Instant) -> Option<Spent> {
        self.slot(key)?.with(|lease| {
            let lease = lease.as_mut().filter(|l| l.live(now))?;
            lease.left -= 1;
            Some(Spent {
                remaining: lease.headroom.saturating_add(lease.left),
                // The hit that reaches the mark asks, once; those after it do not.
                refill: lease.left == refill_at(lease.held) && lease.refill_due(),
            })
        })?
    }

    /// Whether the lease of `key` still wants the refill a [`Spent::refill`] asked for, at `now`
    /// (`false` once another request took it, or the window ended).
    pub fn refill_due(&self, key: &str, now: Instant) -> bool {
        self.slot(key)
            .and_then(|slot| {
                slot.with(|lease| lease.is_some_and(|l| l.until > now && l.refill_due()))
            })
            .unwrap_or(false)
    }

    /// How many hits to lease for `key` at `now` ([`next_lease`], from what was left at its last
    /// answer in this window and how long ago that was; 1 when there was none).
    pub fn lease_size(&self, key: &str, now: Instant) -> u32 {
        self.slot(key)
            .and_then(|slot| {
                slot.with(|lease| match lease {
                    Some(lease) if lease.until > now => {
                        next_lease(lease.headroom, lease.held, now.duration_since(lease.taken))
                    }
                    _ => 1,
                })
            })
            .unwrap_or(1)
    }

    /// Records a lease answered by Redis for `key`: `spare` hits to spend (beyond the one spent
    /// by the request that took it, if it needed one), `headroom` hits of the limit left after
    /// the lease, the window ending at `until`. Adds to a lease still held for the same window;
    /// the next lease is due once a quarter of what is then held is left ([`refill_at`]).
    /// Returns the hits the bucket has left.
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
                        held: left,
                        taken: now,
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
