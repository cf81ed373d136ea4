//! The signed trust list and status lists the service publishes (SPEC §2), made from the database.
//!
//! **One list per sequence and time, on every instance.** A list is signed at a time derived from
//! the database, not from the instance: `iat` = the later of the moment its content last changed
//! and the start of the current re-signing window (windows of half its validity, counted from the
//! Unix epoch). Ed25519 signatures are deterministic, so every instance, before and after a
//! restart, serves byte-identical lists (one ETag) for one content and window; the trust list's
//! sequence moves only when its content does. A verifier refreshing from any instance therefore
//! sees the same sequence with a later `iat` (accepted: same content, newer) or a higher sequence
//! — never a different list under one sequence and time.
//!
//! **Status lists for a city.** Statuses live in fixed-size shards ([`crate::store::status`]),
//! each a Status List Token at its own URI — shard 0 at `<public url>/sl`, shard `n` at
//! `<public url>/s/<n in base 36>` — listed by the aggregation document at `<public url>/v1/status-lists`.
//! A status change rewrites one entry of one shard; readers re-sign (or, for `POST /v1/verify`,
//! reload) only the shards whose sequence moved, and concurrent verifications never rebuild in
//! parallel (one flight).

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{DateTime, Duration, SubsecRound, Utc};
use crypto::signer::Signer;
use crypto::status_list::StatusList;
use crypto::status_source::StatusSource;
use crypto::trust_list::TrustList;
use sha2::{Digest, Sha256};

use crate::keys::{self, KeyError, KeyRing};
use crate::store::status::shards;
use crate::store::{Store, lists};

/// How long a published trust list is valid; it is re-signed every half of it.
pub const TRUST_LIST_VALIDITY: Duration = Duration::days(7);
/// How long a published status list is valid; it is re-signed every half of it.
pub const STATUS_LIST_VALIDITY: Duration = Duration::hours(24);
/// How long a verifier may cache a status list (its `ttl`, and `Cache-Control: max-age`), in
/// seconds.
pub const STATUS_LIST_TTL_SECS: u64 = 300;
/// `Cache-Control: max-age` of the trust list, in seconds.
pub const TRUST_LIST_MAX_AGE_SECS: u64 = 3600;

/// A signed list ready to serve.
#[derive(Debug, Clone)]
pub struct SignedList {
    /// The list's sequence when it was signed (a shard's: the global status sequence at its last
    /// change).
    pub sequence: i64,
    /// The root key that signed it (the successor's after a root rotation).
    pub signer: crypto::keys::KeyId,
    /// Its `iat`.
    pub issued_at: DateTime<Utc>,
    /// The signed bytes.
    pub bytes: Vec<u8>,
    /// A strong ETag (hex SHA-256 of the bytes, quoted).
    pub etag: String,
}

impl SignedList {
    fn new(
        sequence: i64,
        signer: crypto::keys::KeyId,
        issued_at: DateTime<Utc>,
        bytes: Vec<u8>,
    ) -> Self {
        let etag = format!("\"{}\"", hex::encode(Sha256::digest(&bytes)));
        SignedList {
            sequence,
            signer,
            issued_at,
            bytes,
            etag,
        }
    }
}

/// When a list whose content last changed at `changed` is signed at `now`: the later of the two
/// moments `changed` and the start of the current window of `validity / 2`, in whole seconds.
/// The same on every instance, so their lists are byte-identical.
pub fn signing_time(
    changed: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    validity: Duration,
) -> DateTime<Utc> {
    let window = (validity / 2).num_seconds().max(1);
    let start = now.timestamp().div_euclid(window) * window;
    let start = DateTime::from_timestamp(start, 0).unwrap_or(DateTime::UNIX_EPOCH);
    changed
        .map(|c| c.trunc_subsecs(0))
        .filter(|c| *c > start)
        .unwrap_or(start)
}

/// `n` in base 36 (digits, then lower-case letters).
fn base36(n: i32) -> String {
    let mut n = u32::try_from(n).unwrap_or(0);
    let mut digits = Vec::new();
    loop {
        digits.push(char::from_digit(n % 36, 36).unwrap_or('0'));
        n /= 36;
        if n == 0 {
            break;
        }
    }
    digits.iter().rev().collect()
}

/// A shard number in base 36 as [`ListCache::shard_uri`] writes it (canonical: lower case, no
/// leading zero).
pub fn parse_base36(text: &str) -> Option<i32> {
    let canonical = !text.is_empty()
        && text.len() <= 6
        && !text.starts_with('0')
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase());
    canonical
        .then(|| i32::from_str_radix(text, 36).ok())
        .flatten()
}

/// Every status list the service publishes, by URI: what `POST /v1/verify` checks against.
/// Shared: each verification takes the lists held with two reference counts, whatever the
/// number of shards (a rebuild copies the map, once, if a verification still holds it).
#[derive(Clone, Default)]
pub struct StatusLists(Arc<BTreeMap<String, Arc<StatusList>>>);

impl StatusSource for StatusLists {
    fn status_list(&self, uri: &str) -> Option<&StatusList> {
        self.0.get(uri).map(Arc::as_ref)
    }
}

impl StatusLists {
    /// How many lists.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The lists `POST /v1/verify` checks against, with the sequences they were built at.
#[derive(Clone)]
pub struct LiveLists {
    trust_sequence: i64,
    status_sequence: i64,
    /// The end of the re-signing window the lists were built in: past it, their times move on.
    window_ends: DateTime<Utc>,
    /// The trust list (every district key, with its state).
    pub trust: Arc<TrustList>,
    /// Every status list (shard), by URI.
    pub status: StatusLists,
}

/// The live lists, when their sequences were last read, and the generation current before.
struct Checked {
    lists: LiveLists,
    at: Instant,
    generation: u64,
}

/// The cache of the signed lists and of the live lists.
pub struct ListCache {
    public_url: String,
    trust: Mutex<Option<SignedList>>,
    shards: Mutex<HashMap<i32, SignedList>>,
    live: Mutex<Option<Checked>>,
    /// Held while the live lists are rebuilt, so concurrent verifications rebuild once.
    rebuild: tokio::sync::Mutex<()>,
    /// Counts the list changes committed through this instance ([`ListCache::changed`]).
    generation: AtomicU64,
    /// How long the live lists are used without reading the sequences again.
    recheck: std::time::Duration,
}

impl ListCache {
    /// An empty cache for the lists of `public_url`, whose live lists are rechecked against the
    /// database after `recheck`.
    pub fn new(public_url: &str, recheck: std::time::Duration) -> Self {
        ListCache {
            public_url: public_url.trim_end_matches('/').to_owned(),
            trust: Mutex::default(),
            shards: Mutex::default(),
            live: Mutex::default(),
            rebuild: tokio::sync::Mutex::new(()),
            generation: AtomicU64::new(0),
            recheck,
        }
    }

    /// The URI of shard `shard`: `<public url>/sl` for shard 0, `<public url>/s/<shard in base
    /// 36>` for the others (`/s/1` … `/s/zz` for the first 1295). Short on purpose: it travels in
    /// every QR code, whose SPEC §2 budget (`EPP1:` in version 15) leaves room for two base-36
    /// digits with the default public URL.
    pub fn shard_uri(&self, shard: i32) -> String {
        match shard {
            0 => format!("{}/sl", self.public_url),
            n => format!("{}/s/{}", self.public_url, base36(n)),
        }
    }

    /// The shard a URI of [`ListCache::shard_uri`] names.
    pub fn shard_of(&self, uri: &str) -> Option<i32> {
        let path = uri.strip_prefix(&self.public_url)?;
        if path == "/sl" {
            return Some(0);
        }
        parse_base36(path.strip_prefix("/s/")?).filter(|n| *n > 0)
    }

    /// The URI of the aggregation document listing every status list.
    pub fn aggregation_uri(&self) -> String {
        format!("{}/v1/status-lists", self.public_url)
    }

    /// Tells the cache that a list change has been committed through this instance: the next
    /// [`ListCache::live`] reads the sequences again. Call it *after* the commit.
    pub fn changed(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// The signed trust list as published at `now`.
    pub async fn trust_list(
        &self,
        store: &Store,
        ring: &KeyRing,
        now: DateTime<Utc>,
    ) -> Result<SignedList, KeyError> {
        let (sequence, changed) = lists::stamp(store.conn(), lists::ListName::TrustList).await?;
        let issued_at = signing_time(changed, now, TRUST_LIST_VALIDITY);
        let signer = ring.list_signer(store.conn()).await?;
        let kid = signer.key_id();
        let cached = self.trust.lock().ok().and_then(|c| c.clone());
        let fresh =
            |c: &SignedList| c.sequence == sequence && c.issued_at == issued_at && c.signer == kid;
        if let Some(hit) = cached.filter(fresh) {
            return Ok(hit);
        }
        let list = keys::trust_list(store.conn(), issued_at, TRUST_LIST_VALIDITY).await?;
        let signed = SignedList::new(sequence, kid, issued_at, list.sign(signer.as_ref())?);
        if let Ok(mut slot) = self.trust.lock() {
            *slot = Some(signed.clone());
        }
        Ok(signed)
    }

    /// Shard `shard` as a list, its `iat` derived from its last change at `now`.
    fn shard_list(&self, shard: shards::Model, now: DateTime<Utc>) -> Result<StatusList, KeyError> {
        let issued_at = signing_time(Some(shard.changed()), now, STATUS_LIST_VALIDITY);
        let list = StatusList::from_packed(
            self.shard_uri(shard.id),
            issued_at,
            issued_at + STATUS_LIST_VALIDITY,
            STATUS_LIST_TTL_SECS,
            shard.bits,
        )?;
        Ok(list.with_aggregation_uri(self.aggregation_uri()))
    }

    /// The signed status list of shard `shard` as published at `now`, `None` when there is no
    /// such shard.
    pub async fn status_list(
        &self,
        store: &Store,
        ring: &KeyRing,
        shard: i32,
        now: DateTime<Utc>,
    ) -> Result<Option<SignedList>, KeyError> {
        let Some((_, sequence, changed)) = shards::stamp(store.conn(), shard).await? else {
            return Ok(None);
        };
        let issued_at = signing_time(Some(changed), now, STATUS_LIST_VALIDITY);
        let signer = ring.list_signer(store.conn()).await?;
        let kid = signer.key_id();
        let cached = self.shards.lock().ok().and_then(|c| c.get(&shard).cloned());
        let fresh =
            |c: &SignedList| c.sequence == sequence && c.issued_at == issued_at && c.signer == kid;
        if let Some(hit) = cached.filter(fresh) {
            return Ok(Some(hit));
        }
        let row = shards::get(store.conn(), shard).await?;
        let sequence = row.sequence;
        let list = self.shard_list(row, now)?;
        let signed = SignedList::new(sequence, kid, list.issued_at, list.sign(signer.as_ref())?);
        if let Ok(mut slots) = self.shards.lock() {
            slots.insert(shard, signed.clone());
        }
        Ok(Some(signed))
    }

    /// The verifier bundle at `now` (SPEC §5, issue 11 item 6): the signed trust list and every
    /// signed status list, assembled and signed as one by the root key, for a desk or phone that
    /// loads its lists from one file. Its `iat` is the latest of the lists'.
    pub async fn bundle(
        &self,
        store: &Store,
        ring: &KeyRing,
        now: DateTime<Utc>,
    ) -> Result<SignedList, KeyError> {
        let trust = self.trust_list(store, ring, now).await?;
        let mut issued_at = trust.issued_at;
        let mut sequence = trust.sequence;
        let mut status_lists = Vec::new();
        for (shard, ..) in shards::stamps(store.conn()).await? {
            if let Some(list) = self.status_list(store, ring, shard, now).await? {
                issued_at = issued_at.max(list.issued_at);
                sequence = sequence.max(list.sequence);
                status_lists.push(list.bytes);
            }
        }
        let bundle = crypto::bundle::VerifierBundle {
            issued_at,
            trust_list: trust.bytes,
            status_lists,
        };
        let signer = ring.list_signer(store.conn()).await?;
        let bytes = bundle.sign(signer.as_ref())?;
        Ok(SignedList::new(sequence, signer.key_id(), issued_at, bytes))
    }

    /// The URI of every status list, for the aggregation document.
    pub async fn status_list_uris(&self, store: &Store) -> Result<Vec<String>, KeyError> {
        let stamps = shards::stamps(store.conn()).await?;
        Ok(stamps.iter().map(|(id, ..)| self.shard_uri(*id)).collect())
    }

    /// The live lists held, if they may still be used without asking the database.
    fn recent(&self, now: DateTime<Utc>, generation: u64) -> Option<LiveLists> {
        self.live.lock().ok().and_then(|c| {
            c.as_ref()
                .filter(|c| {
                    c.generation == generation
                        && c.at.elapsed() < self.recheck
                        && now < c.lists.window_ends
                })
                .map(|c| c.lists.clone())
        })
    }

    /// The lists as the database has them now (unsigned), for `POST /v1/verify`. The sequences
    /// are read (one two-row read) unless they were read less than `recheck` ago and no change
    /// has been committed through this instance since ([`ListCache::changed`]); then only the
    /// trust list (when its sequence moved) and the shards whose sequence moved are reloaded, by
    /// one caller at a time — everything when a re-signing window has passed.
    pub async fn live(&self, store: &Store) -> Result<LiveLists, KeyError> {
        let now = Utc::now().trunc_subsecs(0);
        // Read before the sequences: a change committed after this load makes the entry stored
        // below stale, and the generation it is stored with says so.
        let generation = self.generation.load(Ordering::SeqCst);
        if let Some(recent) = self.recent(now, generation) {
            return Ok(recent);
        }
        let _one_flight = self.rebuild.lock().await;
        if let Some(recent) = self.recent(now, generation) {
            return Ok(recent);
        }
        let at = Instant::now();
        let (trust_sequence, status_sequence) = lists::get_both(store.conn()).await?;
        let held = self
            .live
            .lock()
            .ok()
            .and_then(|c| c.as_ref().map(|c| c.lists.clone()))
            .filter(|l| now < l.window_ends);
        let lists = self
            .rebuilt(store, held, trust_sequence, status_sequence, now)
            .await?;
        if let Ok(mut slot) = self.live.lock() {
            *slot = Some(Checked {
                lists: lists.clone(),
                at,
                generation,
            });
        }
        Ok(lists)
    }

    /// `held` brought up to the sequences given: the trust list rebuilt if its sequence moved,
    /// the shards changed since `held` reloaded; all of it when nothing is held.
    async fn rebuilt(
        &self,
        store: &Store,
        held: Option<LiveLists>,
        trust_sequence: i64,
        status_sequence: i64,
        now: DateTime<Utc>,
    ) -> Result<LiveLists, KeyError> {
        let window = (STATUS_LIST_VALIDITY / 2).num_seconds();
        let window_ends =
            DateTime::from_timestamp((now.timestamp() / window + 1) * window, 0).unwrap_or(now);
        let trust = match &held {
            Some(h) if h.trust_sequence == trust_sequence => h.trust.clone(),
            _ => {
                let (_, changed) = lists::stamp(store.conn(), lists::ListName::TrustList).await?;
                let issued_at = signing_time(changed, now, TRUST_LIST_VALIDITY);
                Arc::new(keys::trust_list(store.conn(), issued_at, TRUST_LIST_VALIDITY).await?)
            }
        };
        let (mut status, since) = match held {
            Some(h) => (h.status, h.status_sequence),
            None => (StatusLists::default(), -1),
        };
        if status_sequence != since {
            for shard in shards::changed_after(store.conn(), since).await? {
                let list = self.shard_list(shard, now)?;
                Arc::make_mut(&mut status.0).insert(list.uri.clone(), Arc::new(list));
            }
        }
        Ok(LiveLists {
            trust_sequence,
            status_sequence,
            window_ends,
            trust,
            status,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_uris_are_short_and_name_their_shard() {
        let lists = ListCache::new("https://jhga.cn", std::time::Duration::ZERO);
        for (shard, uri) in [
            (0, "https://jhga.cn/sl"),
            (1, "https://jhga.cn/s/1"),
            (35, "https://jhga.cn/s/z"),
            (36, "https://jhga.cn/s/10"),
            (1295, "https://jhga.cn/s/zz"),
        ] {
            assert_eq!(lists.shard_uri(shard), uri);
            assert_eq!(lists.shard_of(uri), Some(shard), "{uri}");
        }
        for other in [
            "https://jhga.cn/s/0",
            "https://jhga.cn/s/01",
            "https://jhga.cn/s/Z",
            "https://jhga.cn/s/",
            "https://other.cn/sl",
        ] {
            assert_eq!(lists.shard_of(other), None, "{other}");
        }
    }

    #[test]
    fn lists_are_signed_at_the_later_of_their_change_and_the_window_start() {
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().to_utc();
        let validity = Duration::hours(24);
        // Windows of 12 h from the epoch: 00:00 and 12:00 UTC.
        assert_eq!(
            signing_time(None, at("2026-12-01T10:30:00Z"), validity),
            at("2026-12-01T00:00:00Z")
        );
        assert_eq!(
            signing_time(
                Some(at("2026-12-01T09:15:42.7Z")),
                at("2026-12-01T10:30:00Z"),
                validity
            ),
            at("2026-12-01T09:15:42Z")
        );
        assert_eq!(
            signing_time(
                Some(at("2026-11-30T09:15:42Z")),
                at("2026-12-01T13:00:00Z"),
                validity
            ),
            at("2026-12-01T12:00:00Z")
        );
    }
}
