//! The signed trust list and status list the service publishes (SPEC §2), made from the database
//! and cached by sequence: a list is signed again only when its content changed (sequence bump)
//! or half its validity has passed, so its ETag is stable between changes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{DateTime, Duration, SubsecRound, Utc};
use crypto::status_list::{Status, StatusList};
use crypto::trust_list::TrustList;
use sha2::{Digest, Sha256};

use crate::keys::{self, KeyError, KeyRing};
use crate::store::{Store, lists, permits};

/// How long a published trust list is valid.
pub const TRUST_LIST_VALIDITY: Duration = Duration::days(7);
/// How long a published status list is valid.
pub const STATUS_LIST_VALIDITY: Duration = Duration::hours(24);
/// How long a verifier may cache the status list (its `ttl`), in seconds.
pub const STATUS_LIST_TTL_SECS: u64 = 300;

/// A signed list ready to serve.
#[derive(Debug, Clone)]
pub struct SignedList {
    /// The list's sequence when it was signed.
    pub sequence: i64,
    /// When it was signed.
    pub issued_at: DateTime<Utc>,
    /// The signed bytes.
    pub bytes: Vec<u8>,
    /// A strong ETag (hex SHA-256 of the bytes, quoted).
    pub etag: String,
}

impl SignedList {
    fn new(sequence: i64, issued_at: DateTime<Utc>, bytes: Vec<u8>) -> Self {
        let etag = format!("\"{}\"", hex::encode(Sha256::digest(&bytes)));
        SignedList {
            sequence,
            issued_at,
            bytes,
            etag,
        }
    }
}

/// The cache of both lists.
pub struct ListCache {
    trust: Mutex<Option<SignedList>>,
    status: Mutex<Option<SignedList>>,
    live: Mutex<Option<Checked>>,
    /// Counts the list changes committed through this instance ([`ListCache::changed`]).
    generation: AtomicU64,
    /// How long the live lists are used without reading the sequences again.
    recheck: std::time::Duration,
}

/// The live lists, when their sequences were last read, and the generation current before.
struct Checked {
    lists: LiveLists,
    at: Instant,
    generation: u64,
}

/// The unsigned lists `POST /v1/verify` checks against, with the sequences they were built at.
#[derive(Clone)]
pub struct LiveLists {
    trust_sequence: i64,
    status_sequence: i64,
    built_at: DateTime<Utc>,
    /// The trust list (every district key, with its state).
    pub trust: Arc<TrustList>,
    /// The status of every permit.
    pub status: Arc<StatusList>,
}

impl LiveLists {
    /// Whether the lists were built less than a tenth of the status list's validity before `now`.
    fn fresh_at(&self, now: DateTime<Utc>) -> bool {
        now < self.built_at + STATUS_LIST_VALIDITY / 10
    }
}

/// The URI of the status list, as permits name it (`<public url>/sl`; short on purpose, it
/// travels in every QR code). The list is served there and at `/v1/status-list`.
pub fn status_list_uri(public_url: &str) -> String {
    format!("{}/sl", public_url.trim_end_matches('/'))
}

fn fresh(
    cached: &Option<SignedList>,
    sequence: i64,
    now: DateTime<Utc>,
    validity: Duration,
) -> Option<SignedList> {
    cached
        .as_ref()
        .filter(|c| c.sequence == sequence && now < c.issued_at + validity / 2)
        .cloned()
}

impl ListCache {
    /// An empty cache whose live lists are rechecked against the database after `recheck`.
    pub fn new(recheck: std::time::Duration) -> Self {
        ListCache {
            trust: Mutex::default(),
            status: Mutex::default(),
            live: Mutex::default(),
            generation: AtomicU64::new(0),
            recheck,
        }
    }

    /// Tells the cache that a list change has been committed through this instance: the next
    /// [`ListCache::live`] reads the sequences again. Call it *after* the commit.
    pub fn changed(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// The signed trust list.
    pub async fn trust_list(&self, store: &Store, ring: &KeyRing) -> Result<SignedList, KeyError> {
        let now = Utc::now();
        let sequence = lists::get(store.conn(), lists::ListName::TrustList).await?;
        if let Some(hit) = self
            .trust
            .lock()
            .ok()
            .and_then(|c| fresh(&c, sequence, now, TRUST_LIST_VALIDITY))
        {
            return Ok(hit);
        }
        let list = keys::trust_list(store.conn(), now, TRUST_LIST_VALIDITY).await?;
        let signed = SignedList::new(sequence, now, list.sign(ring.root().as_ref())?);
        if let Ok(mut slot) = self.trust.lock() {
            *slot = Some(signed.clone());
        }
        Ok(signed)
    }

    /// The signed status list: entry `i` is the status of the permit with id `i`.
    pub async fn status_list(
        &self,
        store: &Store,
        ring: &KeyRing,
        uri: &str,
    ) -> Result<SignedList, KeyError> {
        let now = Utc::now();
        let sequence = lists::get(store.conn(), lists::ListName::StatusList).await?;
        if let Some(hit) = self
            .status
            .lock()
            .ok()
            .and_then(|c| fresh(&c, sequence, now, STATUS_LIST_VALIDITY))
        {
            return Ok(hit);
        }
        let list = self.current_status(store, uri).await?;
        let signed = SignedList::new(sequence, list.issued_at, list.sign(ring.root().as_ref())?);
        if let Ok(mut slot) = self.status.lock() {
            *slot = Some(signed.clone());
        }
        Ok(signed)
    }

    /// The lists as the database has them now (unsigned), for `POST /v1/verify`. Both sequences
    /// are read (one two-row read; each state change bumps one in its transaction) unless they
    /// were read less than `recheck` ago and no change has been committed through this instance
    /// since ([`ListCache::changed`]); the lists are rebuilt only when a sequence moved, or when a
    /// tenth of the status list's validity has passed — never a scan of every permit per call.
    pub async fn live(&self, store: &Store, uri: &str) -> Result<LiveLists, KeyError> {
        let now = Utc::now().trunc_subsecs(0);
        // Read before the sequences: a change committed after this load makes the entry stored
        // below stale, and the generation it is stored with says so.
        let generation = self.generation.load(Ordering::SeqCst);
        let recent = self.live.lock().ok().and_then(|c| {
            c.as_ref()
                .filter(|c| {
                    c.generation == generation
                        && c.at.elapsed() < self.recheck
                        && c.lists.fresh_at(now)
                })
                .map(|c| c.lists.clone())
        });
        if let Some(recent) = recent {
            return Ok(recent);
        }
        let at = Instant::now();
        let (trust_sequence, status_sequence) = lists::get_both(store.conn()).await?;
        let hit = self.live.lock().ok().and_then(|c| {
            c.as_ref()
                .map(|c| &c.lists)
                .filter(|c| {
                    c.trust_sequence == trust_sequence
                        && c.status_sequence == status_sequence
                        && c.fresh_at(now)
                })
                .cloned()
        });
        let lists = match hit {
            Some(hit) => hit,
            None => LiveLists {
                trust_sequence,
                status_sequence,
                built_at: now,
                trust: Arc::new(keys::trust_list(store.conn(), now, TRUST_LIST_VALIDITY).await?),
                status: Arc::new(self.current_status(store, uri).await?),
            },
        };
        if let Ok(mut slot) = self.live.lock() {
            *slot = Some(Checked {
                lists: lists.clone(),
                at,
                generation,
            });
        }
        Ok(lists)
    }

    /// The status list as the database has it now (unsigned).
    pub async fn current_status(&self, store: &Store, uri: &str) -> Result<StatusList, KeyError> {
        // Whole seconds, as the signed list carries them.
        let now = Utc::now().trunc_subsecs(0);
        let mut list = StatusList::new(uri, now, now + STATUS_LIST_VALIDITY, STATUS_LIST_TTL_SECS);
        for (id, status) in permits::statuses(store.conn()).await? {
            let Ok(index) = u32::try_from(id) else {
                continue;
            };
            let status = match status {
                permits::Status::Active => Status::Valid,
                permits::Status::Suspended => Status::Suspended,
                permits::Status::Revoked => Status::Invalid,
            };
            list.set(index, status)?;
        }
        Ok(list)
    }
}
