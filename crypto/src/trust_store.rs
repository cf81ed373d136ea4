//! What a verifier holds between scans (SPEC §2, §5): the pinned root keys, the newest trust list
//! and the newest status list of every URI (the server publishes fixed-size shards, each a Status
//! List Token with its own `sub`), loaded from bytes the caller fetched (`application/cose`,
//! `application/statuslist+cwt`, or both in a [`crate::bundle::VerifierBundle`]). The mobile SDK
//! wraps this type without logic of its own.
//!
//! # Load rules
//!
//! Every list must be signed by a pinned root key and not be expired (`now < expires_at`).
//!
//! **Trust list** (SPEC §2: "a verifier never trusts a trust list with a lower sequence than one
//! it already holds"). The server re-signs an unchanged list periodically with a later
//! `issued_at` under the *same* sequence (the sequence increases only when the content — the keys
//! and the successor — changes), and two server instances sign byte-identical lists for the same
//! (sequence, issue time). So, against the list held:
//!
//! | offered | result |
//! | --- | --- |
//! | lower sequence than the highest seen | refused, [`Error::Rollback`] |
//! | same sequence, same content, later `issued_at` | [`Change::Updated`]: it replaces the held list, so `expires_at` moves on |
//! | same sequence, same content, same or earlier `issued_at` | [`Change::Unchanged`] (the held list stays) |
//! | same sequence, other content | refused, [`Error::Invalid`] |
//! | higher sequence | [`Change::Updated`] |
//!
//! **Status lists**, one per URI (`sub`): a list for a URI not held is [`Change::Installed`]; for a
//! URI held, the same list is [`Change::Unchanged`], a later `issued_at` replaces it
//! ([`Change::Updated`]), an earlier one — or another list under the same `issued_at` — is
//! refused ([`Error::Invalid`]). At most [`MAX_STATUS_LISTS`] URIs are held.
//!
//! **Root-key rotation.** A trust list whose payload names a `successor` (field 5, see
//! [`crate::trust_list`]) is accepted as usual, and the store pins the successor beside the old
//! root: during the announcement the service still signs every list with the old root, and the
//! phone keeps refreshing them. The first list (or bundle) signed by the successor retires the old
//! root: from then on the store pins *only* the successor, and lists signed by the old root are
//! refused with [`Error::RetiredRoot`]; lists signed by the successor follow the rules above (the
//! sequence carries on).
//!
//! # Saved state
//!
//! [`TrustStore::export`] writes the store as CBOR so it survives the app: {1 format version (1),
//! 2 [pinned root keys (32-byte bstr)…], 3 [retired root keys…], 4 the trust list held (its signed
//! bytes as received; absent when none), 5 [the status lists held (signed bytes)…], 6 the highest
//! trust-list sequence seen (absent when none), 7 the latest signed `issued_at` seen (epoch
//! seconds; absent when none)}. [`TrustStore::import`] re-verifies every list against the saved
//! pinned and retired roots (not their expiry: an expired list is still held, and verification
//! warns), so rollback refusal and `clock_suspect` survive a restart.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use ciborium::Value;
use serde::Serialize;

use crate::bundle::VerifierBundle;
use crate::cbor::{self, Map, int, uint};
use crate::keys::{KeyId, VerifyingKey, public_key_from_bytes};
use crate::status_list::StatusList;
use crate::trust_list::TrustList;
use crate::verify::{Verification, VerifyOptions, Warning, verify};
use crate::{Error, Result};

/// The most status lists (distinct URIs) a store holds.
pub const MAX_STATUS_LISTS: usize = 1024;
/// The most root keys (pinned or retired) a saved state holds.
pub const MAX_ROOT_KEYS: usize = 64;
/// The largest saved state [`TrustStore::import`] reads, in bytes.
pub const MAX_STATE_LEN: usize = 64 * 1024 * 1024;
/// The format version [`TrustStore::export`] writes (field 1).
pub const STATE_FORMAT: u64 = 1;

/// What a load did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Nothing was held (for this URI); the list is now.
    Installed,
    /// A newer list (or a re-signed one, issued later) replaced the one held.
    Updated,
    /// The same list was offered again, or an earlier signature of it: nothing changed.
    Unchanged,
}

/// One status list held, for [`StoreState`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusListState {
    /// Its URI (`sub`).
    pub uri: String,
    /// Its `iat`.
    pub issued_at: DateTime<Utc>,
    /// Its `exp`.
    pub expires_at: DateTime<Utc>,
    /// Its `ttl`, in seconds: how long it may be cached before fetching it again.
    pub ttl_seconds: u64,
}

/// A summary of what the store holds (for a settings screen or `/readyz`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoreState {
    /// Ids of the pinned root keys (during an announced rotation the successor first, then the
    /// old root; once the successor has signed a list, the successor only).
    pub root_key_ids: Vec<KeyId>,
    /// Ids of the root keys retired by an announced rotation.
    pub retired_root_key_ids: Vec<KeyId>,
    /// Sequence of the trust list held.
    pub trust_list_sequence: Option<u64>,
    /// Issued-at of the trust list held.
    pub trust_list_issued_at: Option<DateTime<Utc>>,
    /// Expires-at of the trust list held.
    pub trust_list_expires_at: Option<DateTime<Utc>>,
    /// The highest trust-list sequence ever accepted (a lower one is a rollback).
    pub highest_sequence_seen: Option<u64>,
    /// The latest signed `issued_at` ever accepted (a clock before it is suspect).
    pub latest_signed_at: Option<DateTime<Utc>>,
    /// Every status list held, by URI.
    pub status_lists: Vec<StatusListState>,
}

/// What [`TrustStore::load_bundle`] did, list by list. A list refused inside a bundle leaves the
/// list held for it untouched and does not stop the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleLoad {
    /// The bundle's issue time.
    pub issued_at: DateTime<Utc>,
    /// The trust list's outcome (loaded first).
    pub trust_list: Result<Change>,
    /// Each status list's outcome, in bundle order, with its URI when it verified.
    pub status_lists: Vec<Result<(String, Change)>>,
}

/// Pinned root keys + the current trust list + the current status list of each URI.
#[derive(Debug, Clone)]
pub struct TrustStore {
    root_keys: Vec<VerifyingKey>,
    retired_roots: Vec<VerifyingKey>,
    trust: Option<(TrustList, Vec<u8>)>,
    status: BTreeMap<String, StatusList>,
    status_bytes: BTreeMap<String, Vec<u8>>,
    highest_sequence: Option<u64>,
    latest_signed_at: Option<DateTime<Utc>>,
}

impl TrustStore {
    /// A store trusting lists signed by any of `root_keys` (pinned in the app or configuration).
    pub fn new(root_keys: Vec<VerifyingKey>) -> TrustStore {
        TrustStore {
            root_keys,
            retired_roots: Vec::new(),
            trust: None,
            status: BTreeMap::new(),
            status_bytes: BTreeMap::new(),
            highest_sequence: None,
            latest_signed_at: None,
        }
    }

    /// Loads a signed trust list by the rules of the module documentation: signed by a pinned
    /// root (a retired one: [`Error::RetiredRoot`]), not expired at `now`, no rollback below the
    /// highest sequence seen, the same sequence only for the same content. A list naming a
    /// successor makes the store pin only the successor. On an error nothing changes.
    pub fn load_trust_list(&mut self, bytes: &[u8], now: DateTime<Utc>) -> Result<Change> {
        let roots = self.root_keys.clone();
        let list = self.signed(bytes, &roots, TrustList::verify)?;
        let successor = self.announced_successor();
        let change = self.accept_trust_list(list, bytes, now)?;
        self.retire_if_signed_by(successor, bytes, TrustList::verify);
        Ok(change)
    }

    /// Loads a signed status list by the rules of the module documentation: signed by a pinned
    /// root, not expired at `now`, and for a URI held, issued later than the list held (the same
    /// list again is [`Change::Unchanged`]). On an error nothing changes.
    pub fn load_status_list(&mut self, bytes: &[u8], now: DateTime<Utc>) -> Result<Change> {
        let roots = self.root_keys.clone();
        let list = self.signed(bytes, &roots, StatusList::verify)?;
        let successor = self.announced_successor();
        let change = self.accept_status_list(list, bytes, now)?;
        self.retire_if_signed_by(successor, bytes, StatusList::verify);
        Ok(change)
    }

    /// Loads a [`VerifierBundle`]: its outer signature must be by a pinned root (else the error,
    /// and nothing changes); then the trust list is loaded first and every status list after it,
    /// each with the rules of [`TrustStore::load_trust_list`] / [`TrustStore::load_status_list`],
    /// all checked against the roots pinned when the bundle arrived (so the status lists of a
    /// bundle whose trust list announces a successor still load). Each outcome is reported.
    pub fn load_bundle(&mut self, bytes: &[u8], now: DateTime<Utc>) -> Result<BundleLoad> {
        let roots = self.root_keys.clone();
        let bundle = self.signed(bytes, &roots, VerifierBundle::verify)?;
        let successor = self.announced_successor();
        let trust_list = self
            .signed(&bundle.trust_list, &roots, TrustList::verify)
            .and_then(|list| self.accept_trust_list(list, &bundle.trust_list, now));
        let status_lists = bundle
            .status_lists
            .iter()
            .map(|bytes| {
                let list = self.signed(bytes, &roots, StatusList::verify)?;
                let uri = list.uri.clone();
                self.accept_status_list(list, bytes, now)
                    .map(|change| (uri, change))
            })
            .collect();
        self.saw_signed(bundle.issued_at);
        self.retire_if_signed_by(successor, bytes, VerifierBundle::verify);
        Ok(BundleLoad {
            issued_at: bundle.issued_at,
            trust_list,
            status_lists,
        })
    }

    /// The pinned root keys (during an announced rotation the successor first, then the old
    /// root; once the successor has signed a list, the successor only).
    pub fn root_keys(&self) -> &[VerifyingKey] {
        &self.root_keys
    }

    /// The root keys retired by announced rotations.
    pub fn retired_root_keys(&self) -> &[VerifyingKey] {
        &self.retired_roots
    }

    /// The trust list held.
    pub fn trust_list(&self) -> Option<&TrustList> {
        self.trust.as_ref().map(|(list, _)| list)
    }

    /// The status list held for `uri`.
    pub fn status_list(&self, uri: &str) -> Option<&StatusList> {
        self.status.get(uri)
    }

    /// Every status list held, by URI.
    pub fn status_lists(&self) -> &BTreeMap<String, StatusList> {
        &self.status
    }

    /// Verifies a QR text with what the store holds ([`crate::verify::verify`], the credential's
    /// status looked up by its URI among the lists held). Without a trust list every credential
    /// is `unknown_issuer` (and `trust_list_stale` is warned). `clock_suspect` also covers the
    /// latest signed time seen, so it survives an export and import.
    pub fn verify(&self, text: &str, now: DateTime<Utc>, options: &VerifyOptions) -> Verification {
        let empty;
        let trust = match &self.trust {
            Some((t, _)) => t,
            None => {
                empty = TrustList {
                    sequence: 0,
                    issued_at: DateTime::UNIX_EPOCH,
                    expires_at: DateTime::UNIX_EPOCH,
                    keys: Vec::new(),
                    successor: None,
                };
                &empty
            }
        };
        let mut v = verify(text, trust, &self.status, now, options);
        if self.latest_signed_at.is_some_and(|t| now < t)
            && !v.warnings.contains(&Warning::ClockSuspect)
        {
            v.warnings.push(Warning::ClockSuspect);
        }
        v
    }

    /// What the store holds.
    pub fn state(&self) -> StoreState {
        let trust = self.trust_list();
        StoreState {
            root_key_ids: self.root_keys.iter().map(KeyId::of).collect(),
            retired_root_key_ids: self.retired_roots.iter().map(KeyId::of).collect(),
            trust_list_sequence: trust.map(|t| t.sequence),
            trust_list_issued_at: trust.map(|t| t.issued_at),
            trust_list_expires_at: trust.map(|t| t.expires_at),
            highest_sequence_seen: self.highest_sequence,
            latest_signed_at: self.latest_signed_at,
            status_lists: self
                .status
                .values()
                .map(|l| StatusListState {
                    uri: l.uri.clone(),
                    issued_at: l.issued_at,
                    expires_at: l.expires_at,
                    ttl_seconds: l.ttl_seconds,
                })
                .collect(),
        }
    }

    /// The store as CBOR bytes (layout in the module documentation), for [`TrustStore::import`].
    pub fn export(&self) -> Vec<u8> {
        let keys = |keys: &[VerifyingKey]| {
            Value::Array(
                keys.iter()
                    .map(|k| Value::Bytes(k.as_bytes().to_vec()))
                    .collect(),
            )
        };
        let mut fields = vec![
            (int(1), uint(STATE_FORMAT)),
            (int(2), keys(&self.root_keys)),
            (int(3), keys(&self.retired_roots)),
        ];
        if let Some((_, bytes)) = &self.trust {
            fields.push((int(4), Value::Bytes(bytes.clone())));
        }
        fields.push((
            int(5),
            Value::Array(
                self.status_bytes
                    .values()
                    .map(|b| Value::Bytes(b.clone()))
                    .collect(),
            ),
        ));
        if let Some(n) = self.highest_sequence {
            fields.push((int(6), uint(n)));
        }
        if let Some(t) = self.latest_signed_at {
            fields.push((int(7), cbor::time(t)));
        }
        // Encoding an in-memory value does not fail; an empty output would be refused by import.
        cbor::to_vec(&Value::Map(fields)).unwrap_or_default()
    }

    /// Reads bytes written by [`TrustStore::export`]: re-verifies every list against the saved
    /// pinned and retired roots (not expiry) and restores the highest sequence and the latest
    /// signed time. Refuses anything else — unknown version, no pinned root, a list that does not
    /// verify, two lists for one URI, truncated or oversized input — with an error; never panics.
    pub fn import(bytes: &[u8]) -> Result<TrustStore> {
        const WHAT: &str = "verifier state";
        if bytes.len() > MAX_STATE_LEN {
            return Err(Error::Malformed("verifier state (too large)"));
        }
        let mut m = Map::new(cbor::from_slice(bytes, WHAT)?, WHAT)?;
        cbor::as_u64(
            &m.require(1, "verifier state version")?,
            STATE_FORMAT..=STATE_FORMAT,
            "verifier state version",
        )?;
        let keys = |v: Value| -> Result<Vec<VerifyingKey>> {
            let raw = cbor::as_array(v, "verifier state root keys")?;
            if raw.len() > MAX_ROOT_KEYS {
                return Err(Error::Invalid("verifier state root keys (too many)"));
            }
            raw.into_iter()
                .map(|k| public_key_from_bytes(&cbor::as_bytes(k, "root key")?))
                .collect()
        };
        let root_keys = keys(m.require(2, "verifier state pinned roots")?)?;
        let retired_roots = keys(m.require(3, "verifier state retired roots")?)?;
        let trust = m
            .take_int(4)
            .map(|v| cbor::as_bytes(v, "verifier state trust list"))
            .transpose()?;
        let status = cbor::as_array(
            m.require(5, "verifier state status lists")?,
            "verifier state status lists",
        )?;
        let highest = m
            .take_int(6)
            .map(|v| cbor::as_u64(&v, 0..=u64::MAX, "verifier state sequence"))
            .transpose()?;
        let latest = m
            .take_int(7)
            .map(|v| cbor::as_time(&v, "verifier state signed time"))
            .transpose()?;
        m.finish()?;
        if root_keys.is_empty() {
            return Err(Error::Invalid("verifier state (no pinned root key)"));
        }
        if status.len() > MAX_STATUS_LISTS {
            return Err(Error::Invalid("verifier state status lists (too many)"));
        }
        let signers: Vec<VerifyingKey> = root_keys.iter().chain(&retired_roots).copied().collect();
        let mut store = TrustStore::new(root_keys);
        store.retired_roots = retired_roots;
        if let Some(bytes) = trust {
            let list = TrustList::verify(&bytes, &signers)?;
            store.saw_signed(list.issued_at);
            store.highest_sequence = Some(list.sequence);
            store.trust = Some((list, bytes));
        }
        for v in status {
            let bytes = cbor::as_bytes(v, "verifier state status list")?;
            let list = StatusList::verify(&bytes, &signers)?;
            if store.status.contains_key(&list.uri) {
                return Err(Error::Invalid(
                    "verifier state (two status lists for one URI)",
                ));
            }
            store.saw_signed(list.issued_at);
            store.status_bytes.insert(list.uri.clone(), bytes);
            store.status.insert(list.uri.clone(), list);
        }
        store.highest_sequence = store.highest_sequence.max(highest);
        if let Some(t) = latest {
            store.saw_signed(t);
        }
        Ok(store)
    }

    /// The successor the trust list held announces while the old root is still pinned beside it.
    fn announced_successor(&self) -> Option<VerifyingKey> {
        let successor = self.trust.as_ref()?.0.successor?;
        (self.root_keys.len() > 1 && self.root_keys.contains(&successor)).then_some(successor)
    }

    /// After a rotation was announced: when `bytes` (accepted) were signed by the `successor`,
    /// the other roots retire and the store pins the successor alone.
    fn retire_if_signed_by<T>(
        &mut self,
        successor: Option<VerifyingKey>,
        bytes: &[u8],
        verify: fn(&[u8], &[VerifyingKey]) -> Result<T>,
    ) {
        let Some(successor) = successor else {
            return;
        };
        if verify(bytes, &[successor]).is_ok() {
            for old in std::mem::replace(&mut self.root_keys, vec![successor]) {
                if old != successor && !self.retired_roots.contains(&old) {
                    self.retired_roots.push(old);
                }
            }
        }
    }

    /// `verify(bytes, roots)`, telling a list signed by a retired root ([`Error::RetiredRoot`])
    /// from one signed by a stranger.
    fn signed<T>(
        &self,
        bytes: &[u8],
        roots: &[VerifyingKey],
        verify: fn(&[u8], &[VerifyingKey]) -> Result<T>,
    ) -> Result<T> {
        match verify(bytes, roots) {
            Err(Error::UnknownSigner) if verify(bytes, &self.retired_roots).is_ok() => {
                Err(Error::RetiredRoot)
            }
            other => other,
        }
    }

    fn accept_trust_list(
        &mut self,
        list: TrustList,
        bytes: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Change> {
        if now >= list.expires_at {
            return Err(Error::Expired(list.expires_at));
        }
        if let Some(held) = self.highest_sequence.filter(|&h| list.sequence < h) {
            return Err(Error::Rollback {
                held,
                offered: list.sequence,
            });
        }
        let change = match &self.trust {
            None => Change::Installed,
            Some((held, _)) if list.sequence == held.sequence => {
                if !held.same_content(&list) {
                    return Err(Error::Invalid(
                        "trust list (other content under the sequence held)",
                    ));
                }
                if list.issued_at <= held.issued_at {
                    return Ok(Change::Unchanged);
                }
                Change::Updated
            }
            Some(_) => Change::Updated,
        };
        if let Some(successor) = list.successor
            && !self.root_keys.contains(&successor)
        {
            // Pinned beside the old root until a list signed by the successor arrives.
            self.root_keys.insert(0, successor);
            self.retired_roots.retain(|k| *k != successor);
        }
        self.saw_signed(list.issued_at);
        self.highest_sequence = self.highest_sequence.max(Some(list.sequence));
        self.trust = Some((list, bytes.to_vec()));
        Ok(change)
    }

    fn accept_status_list(
        &mut self,
        list: StatusList,
        bytes: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Change> {
        if now >= list.expires_at {
            return Err(Error::Expired(list.expires_at));
        }
        let change = match self.status.get(&list.uri) {
            None if self.status.len() >= MAX_STATUS_LISTS => {
                return Err(Error::Invalid(
                    "status list (the store holds the most it can)",
                ));
            }
            None => Change::Installed,
            Some(held) if *held == list => return Ok(Change::Unchanged),
            Some(held) if list.issued_at > held.issued_at => Change::Updated,
            Some(held) if list.issued_at == held.issued_at => {
                return Err(Error::Invalid(
                    "status list (another list under the issue time held)",
                ));
            }
            Some(_) => return Err(Error::Invalid("status list (older than the one held)")),
        };
        self.saw_signed(list.issued_at);
        self.status_bytes.insert(list.uri.clone(), bytes.to_vec());
        self.status.insert(list.uri.clone(), list);
        Ok(change)
    }

    fn saw_signed(&mut self, t: DateTime<Utc>) {
        self.latest_signed_at = self.latest_signed_at.max(Some(t));
    }
}
