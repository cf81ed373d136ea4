//! The verifier side (SPEC §2, §5): a [`Verifier`] holds the pinned root keys, the newest trust
//! list and the newest status list of each URI (shard) the app fetched, and verifies
//! `EP1:`/`EPP1:` texts offline. A thin wrapper of `crypto::TrustStore` (load rules, root-key
//! rotation, saved state, bundles); the verdict logic is `crypto::verify`, the report
//! `policy::report`.

use std::sync::{PoisonError, RwLock};
use std::time::SystemTime;

use chrono::TimeDelta;
use chrono::{DateTime, Utc};
use crypto::keys::{parse_public_key_hex, public_key_from_bytes, public_key_hex};
use crypto::status_list::StatusList;
use crypto::trust_list::TrustList;
use crypto::{TrustStore, VerifyingKey};

use crate::error::{Result, SdkError};
use crate::permit::Permit;
use crate::report::Report;
use crate::time::{instant, system_time};

/// The outcome of a verification (SPEC §2 codes, in check order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum Verdict {
    /// Genuine and in force.
    Valid,
    /// Not a well-formed `EP1:`/`EPP1:` text.
    Malformed,
    /// Signed by a key the trust list does not name for the permit's district.
    UnknownIssuer,
    /// Signed by a key marked compromised.
    IssuerKeyCompromised,
    /// Issued outside the signing key's validity.
    KeyNotValidAtIssuance,
    /// The issuer's signature does not verify.
    BadSignature,
    /// The holder's signature does not verify (or the permit has no holder key).
    BadHolderSignature,
    /// The presentation is older (or newer) than allowed, or does not answer the challenge.
    PresentationStale,
    /// Issued after `now`.
    NotYetValid,
    /// Past its validity: the annual endorsement is overdue.
    EndorsementOverdue,
    /// Suspended by the issuing bureau.
    Suspended,
    /// A newer signed version of the same permit exists: this copy is no longer in force; the
    /// holder should show the current one (fetched from the API).
    Superseded,
    /// Revoked.
    Revoked,
}

/// How strongly a `valid` permit is tied to the person presenting it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum Assurance {
    /// A fresh `EPP1:` presentation signed by the holder's device key.
    HolderBound,
    /// A static `EP1:` credential: anyone may show it; check the photo ID.
    Unbound,
}

/// Something the verifier should know although it does not change the verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum VerifyWarning {
    /// The status could not be checked (no status list held for the permit's URI, that list
    /// expired, or the index beyond it).
    StatusUnknown,
    /// The trust list held has expired: refresh it.
    TrustListStale,
    /// The device clock is earlier than the newest list held was issued.
    ClockSuspect,
}

/// What a list load did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum Change {
    /// No list was held; this one is now.
    Installed,
    /// A newer list (or the same list re-signed later) replaced the one held.
    Updated,
    /// The same list was offered again (nothing changed).
    Unchanged,
}

/// The result of [`Verifier::verify`].
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Verification {
    /// The verdict.
    pub verdict: Verdict,
    /// For `valid` only: holder-bound (`EPP1:`) or unbound (`EP1:`).
    pub assurance: Option<Assurance>,
    /// Warnings (status unknown, trust list stale, clock suspect).
    pub warnings: Vec<VerifyWarning>,
    /// The permit as the credential states it, whenever it decodes (whatever the verdict), so the
    /// verifier can show what was presented.
    pub permit: Option<Permit>,
    /// The SPEC §3 report at the permit's residence district as of `now` (its Asia/Shanghai day),
    /// from the permit's periods, lapses and issuer. Present only when the issuer's signature
    /// verified (verdicts from `bad_holder_signature` on), so it is never computed from forged
    /// data. The permit's status follows the verdict: `suspended` and `revoked` give that status;
    /// `superseded` gives the report of this (older) copy as active — the holder's current
    /// version is authoritative;
    /// `endorsement_overdue` gives the lapse SPEC §1.4 defines (open from the missed anniversary,
    /// the Asia/Shanghai day of `expires_at`); otherwise active.
    pub report: Option<Report>,
}

/// What the verifier holds, for a settings screen that shows how stale its data is.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct VerifierState {
    /// Key ids (16 hex digits) of the pinned root keys. After a trust list announced a
    /// successor root key: the successor's only.
    pub root_key_ids: Vec<String>,
    /// The pinned root keys themselves (64 hex digits each), in the order of `root_key_ids`.
    pub root_keys_hex: Vec<String>,
    /// The highest trust-list sequence accepted (that of the trust list held): a lower one is
    /// refused as a rollback, also after `export_state`/`import_state`.
    pub trust_list_sequence: Option<u64>,
    /// Every list held: the trust list first, then the status lists by URI.
    pub lists: Vec<ListInfo>,
}

/// Which kind of list a [`ListInfo`] describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum ListKind {
    /// The trust list (`application/cose`): the district keys.
    TrustList,
    /// A status list shard (`application/statuslist+cwt`).
    StatusList,
}

/// One list held, with its age at the `now` asked for.
///
/// `stale` tells the app to fetch the list again: a trust list once `now ≥ expires_at` (its
/// validity is used up; verifications then warn `trust_list_stale`), a status list once its age
/// reaches its `ttl` (the draft's cache lifetime) or it has expired. `expired` (`now ≥
/// expires_at`) means verification no longer uses it (a status list then gives
/// `status_unknown`). A list is kept after it expires, until a newer one replaces it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ListInfo {
    /// Trust list or status list.
    pub kind: ListKind,
    /// A status list's URI (`sub`, what permits point at); `None` for the trust list.
    pub uri: Option<String>,
    /// When it was issued (signed).
    pub issued_at: SystemTime,
    /// When it expires.
    pub expires_at: SystemTime,
    /// A status list's `ttl` in seconds; `None` for the trust list.
    pub ttl_seconds: Option<u64>,
    /// Seconds from its issue to `now` (negative: the device clock is behind).
    pub age_seconds: i64,
    /// Fetch it again (see the type's documentation).
    pub stale: bool,
    /// `now ≥ expires_at`.
    pub expired: bool,
}

/// What one list inside a bundle did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum ListOutcome {
    /// No list was held (for its URI); this one is now.
    Installed,
    /// It replaced the list held.
    Updated,
    /// The list held stays (the same list, or an earlier signature of it).
    Unchanged,
    /// Refused by the rules of `load_trust_list` / `load_status_list` (expired, rollback,
    /// older than held, conflicting, not signed by a pinned root, malformed); the list held
    /// stays. Load that list on its own to learn why.
    Refused,
}

/// One status list inside a bundle.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct BundleListLoad {
    /// Its URI, when it verified.
    pub uri: Option<String>,
    /// What it did.
    pub outcome: ListOutcome,
}

/// The result of [`Verifier::load_bundle`].
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct BundleLoad {
    /// When the bundle was assembled.
    pub issued_at: SystemTime,
    /// What the trust list did (loaded first).
    pub trust_list: ListOutcome,
    /// What each status list did, in bundle order.
    pub status_lists: Vec<BundleListLoad>,
}

/// Options of [`Verifier::verify_with_options`].
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct VerifyOptions {
    /// The largest `|now − presented_at|` accepted for `EPP1:`, in seconds (SPEC default 120).
    pub max_presentation_age_seconds: u32,
    /// A challenge (1–64 bytes) the presentation must carry exactly, for a live exchange where
    /// the verifier showed it to the holder first.
    pub expected_challenge: Option<Vec<u8>>,
}

/// An offline verifier: pinned root keys + the newest trust list + the newest status list of each
/// URI.
///
/// Thread-safe: verifications run in parallel; a list load waits for them and replaces the list
/// atomically. No method does I/O: the app fetches the lists (HTTP) and passes the bytes, and
/// persists [`Verifier::export_state`] itself.
#[derive(Debug, uniffi::Object)]
pub struct Verifier {
    store: RwLock<TrustStore>,
}

#[uniffi::export]
impl Verifier {
    /// A verifier trusting lists signed by any of `root_keys_hex` (64 hex digits each, the
    /// Jinhua bureau's root public keys, pinned in the app). No I/O; costs microseconds.
    ///
    /// Throws `InvalidRootKey` for a malformed key or an empty list.
    #[uniffi::constructor]
    pub fn new(root_keys_hex: Vec<String>) -> Result<Verifier> {
        let keys = root_keys_hex
            .iter()
            .map(|k| parse_public_key_hex(k))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| SdkError::InvalidRootKey)?;
        Self::with_keys(keys)
    }

    /// As [`Verifier::new`], with each root key as its 32 raw bytes. No I/O; costs microseconds.
    #[uniffi::constructor]
    pub fn with_root_key_bytes(root_keys: Vec<Vec<u8>>) -> Result<Verifier> {
        let keys = root_keys
            .iter()
            .map(|k| public_key_from_bytes(k))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| SdkError::InvalidRootKey)?;
        Self::with_keys(keys)
    }

    /// A verifier restored from [`Verifier::export_state`] bytes the app saved: the pinned root
    /// keys (after a rotation: the successor), the lists held (verified again), the highest
    /// trust-list sequence and the latest signed time seen, so rollback refusal and
    /// `clock_suspect` survive a restart. Does not block (no I/O); costs one signature check per
    /// list plus inflating the status lists, about a millisecond per 100 000 entries.
    ///
    /// Throws `StateMalformed` for bytes that are not a saved state or whose lists do not verify:
    /// then start from the pinned keys (`Verifier(rootKeysHex)`) and fetch the lists again.
    #[uniffi::constructor]
    pub fn import_state(state: Vec<u8>) -> Result<Verifier> {
        let store = TrustStore::import(&state).map_err(|_| SdkError::StateMalformed)?;
        Ok(Verifier {
            store: RwLock::new(store),
        })
    }

    /// The verifier's state as bytes for the app to persist (a file, the app's database) and
    /// give to [`Verifier::import_state`] at the next start: pinned roots, retired roots, the
    /// lists held as the signed bytes received, the highest sequence and latest signed time seen.
    /// Not secret (every list is public), but keep it where other apps cannot replace it: it
    /// names the pinned root keys. Does not block (no I/O); costs a copy of the lists held.
    pub fn export_state(&self) -> Vec<u8> {
        self.read().export()
    }

    /// Loads a trust list (`application/cose`, the bytes the app fetched) and keeps it if it is
    /// signed by a pinned root key (a retired one: `ListFromRetiredRoot`), not expired at `now`,
    /// and not a rollback: a lower sequence than the highest seen is refused; the same sequence
    /// with the same keys is the server's periodic re-signing — `UPDATED` when issued later (it
    /// replaces the list held, so its expiry moves on), `UNCHANGED` otherwise; the same sequence
    /// with other keys is refused. A list announcing a successor root key makes the verifier
    /// pin only the successor from then on (`state(now).rootKeyIds`). Returns what changed; on an
    /// error the list held stays. No I/O; costs one signature check plus parsing, well under a
    /// millisecond for a few dozen keys.
    pub fn load_trust_list(&self, bytes: Vec<u8>, now: SystemTime) -> Result<Change> {
        let now = instant(now);
        let mut store = self.write();
        let result = store.load_trust_list(&bytes, now);
        result.map(Change::from).map_err(|e| {
            SdkError::from_list_load(e, || TrustList::verify(&bytes, store.root_keys()).is_ok())
        })
    }

    /// Loads a status list (`application/statuslist+cwt`, one shard: its URI is its `sub`) and
    /// keeps it if it is signed by a pinned root key, not expired at `now`, and, when a list for
    /// the same URI is held, issued later than it (the same list again is `UNCHANGED`). Lists for
    /// different URIs are held side by side. Returns what changed; on an error the list held
    /// stays. No I/O; costs one signature check and inflating the list (about a millisecond per
    /// 100 000 entries).
    pub fn load_status_list(&self, bytes: Vec<u8>, now: SystemTime) -> Result<Change> {
        let now = instant(now);
        let mut store = self.write();
        let result = store.load_status_list(&bytes, now);
        result.map(Change::from).map_err(|e| {
            SdkError::from_list_load(e, || StatusList::verify(&bytes, store.root_keys()).is_ok())
        })
    }

    /// Loads a verifier bundle (`application/epermit-verifier-bundle+cose`: a trust list and
    /// status lists signed again as one file by a root key). Throws as the list loads do when the
    /// bundle itself is not signed by a pinned root or is malformed (nothing changes then);
    /// otherwise loads the trust list first and then every status list, each by the rules of
    /// `loadTrustList`/`loadStatusList`, and reports each outcome (a refused list leaves the one
    /// held and does not stop the others). No I/O; costs one signature check per list plus one.
    pub fn load_bundle(&self, bytes: Vec<u8>, now: SystemTime) -> Result<BundleLoad> {
        let now = instant(now);
        let load = self
            .write()
            .load_bundle(&bytes, now)
            .map_err(|e| SdkError::from_list_load(e, || false))?;
        let outcome = |r: std::result::Result<crypto::Change, crypto::Error>| {
            r.map_or(ListOutcome::Refused, ListOutcome::from)
        };
        Ok(BundleLoad {
            issued_at: system_time(load.issued_at),
            trust_list: outcome(load.trust_list),
            status_lists: load
                .status_lists
                .into_iter()
                .map(|r| match r {
                    Ok((uri, change)) => BundleListLoad {
                        uri: Some(uri),
                        outcome: ListOutcome::from(change),
                    },
                    Err(_) => BundleListLoad {
                        uri: None,
                        outcome: ListOutcome::Refused,
                    },
                })
                .collect(),
        })
    }

    /// Verifies an `EP1:` or `EPP1:` QR text offline at `now` (SPEC §2), with the default
    /// options (presentations at most 120 s old, no challenge). Never throws: every problem is a
    /// verdict. No I/O; costs two signature checks plus decoding, about 0.15 ms on a 2-core
    /// x86-64 server core (see the crate's bench), a few times that on a low-end phone.
    pub fn verify(&self, text: String, now: SystemTime) -> Verification {
        self.run(&text, now, &crypto::VerifyOptions::default())
    }

    /// As [`Verifier::verify`], with the presentation age limit and an expected challenge chosen
    /// by the verifier. No I/O; same cost.
    pub fn verify_with_options(
        &self,
        text: String,
        now: SystemTime,
        options: VerifyOptions,
    ) -> Verification {
        let options = crypto::VerifyOptions {
            max_presentation_age: TimeDelta::seconds(i64::from(
                options.max_presentation_age_seconds,
            )),
            expected_challenge: options.expected_challenge,
        };
        self.run(&text, now, &options)
    }

    /// What the verifier holds, each list with its age and staleness at `now` (see
    /// [`ListInfo`]). Does not block (no I/O); costs microseconds.
    pub fn state(&self, now: SystemTime) -> VerifierState {
        let now = instant(now);
        let store = self.read();
        let mut lists = Vec::new();
        if let Some(t) = store.trust_list() {
            let expired = now >= t.expires_at;
            lists.push(ListInfo {
                kind: ListKind::TrustList,
                uri: None,
                issued_at: system_time(t.issued_at),
                expires_at: system_time(t.expires_at),
                ttl_seconds: None,
                age_seconds: age_seconds(t.issued_at, now),
                stale: expired,
                expired,
            });
        }
        for l in store.status_lists().values() {
            let expired = now >= l.expires_at;
            let age = age_seconds(l.issued_at, now);
            let past_ttl = u64::try_from(age).is_ok_and(|age| age >= l.ttl_seconds);
            lists.push(ListInfo {
                kind: ListKind::StatusList,
                uri: Some(l.uri.clone()),
                issued_at: system_time(l.issued_at),
                expires_at: system_time(l.expires_at),
                ttl_seconds: Some(l.ttl_seconds),
                age_seconds: age,
                stale: expired || past_ttl,
                expired,
            });
        }
        VerifierState {
            root_key_ids: store
                .root_keys()
                .iter()
                .map(|k| crypto::KeyId::of(k).to_string())
                .collect(),
            root_keys_hex: store.root_keys().iter().map(public_key_hex).collect(),
            trust_list_sequence: store.state().highest_sequence_seen,
            lists,
        }
    }
}

/// Whole seconds from `issued` to `now`, negative when the clock is behind.
fn age_seconds(issued: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    (now - issued).num_seconds()
}

impl Verifier {
    fn with_keys(keys: Vec<VerifyingKey>) -> Result<Verifier> {
        if keys.is_empty() {
            return Err(SdkError::InvalidRootKey);
        }
        Ok(Verifier {
            store: RwLock::new(TrustStore::new(keys)),
        })
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, TrustStore> {
        self.store.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, TrustStore> {
        self.store.write().unwrap_or_else(PoisonError::into_inner)
    }

    fn run(&self, text: &str, now: SystemTime, options: &crypto::VerifyOptions) -> Verification {
        let now = instant(now);
        let v = self.read().verify(text, now, options);
        let report = v.report(now).as_ref().map(Report::from);
        Verification {
            verdict: v.verdict.into(),
            assurance: v.assurance.map(Assurance::from),
            warnings: v.warnings.into_iter().map(VerifyWarning::from).collect(),
            permit: v.permit.as_ref().map(Permit::from),
            report,
        }
    }
}

impl From<crypto::Verdict> for Verdict {
    fn from(v: crypto::Verdict) -> Verdict {
        match v {
            crypto::Verdict::Valid => Verdict::Valid,
            crypto::Verdict::Malformed => Verdict::Malformed,
            crypto::Verdict::UnknownIssuer => Verdict::UnknownIssuer,
            crypto::Verdict::IssuerKeyCompromised => Verdict::IssuerKeyCompromised,
            crypto::Verdict::KeyNotValidAtIssuance => Verdict::KeyNotValidAtIssuance,
            crypto::Verdict::BadSignature => Verdict::BadSignature,
            crypto::Verdict::BadHolderSignature => Verdict::BadHolderSignature,
            crypto::Verdict::PresentationStale => Verdict::PresentationStale,
            crypto::Verdict::NotYetValid => Verdict::NotYetValid,
            crypto::Verdict::EndorsementOverdue => Verdict::EndorsementOverdue,
            crypto::Verdict::Suspended => Verdict::Suspended,
            crypto::Verdict::Superseded => Verdict::Superseded,
            crypto::Verdict::Revoked => Verdict::Revoked,
        }
    }
}

impl From<crypto::Assurance> for Assurance {
    fn from(a: crypto::Assurance) -> Assurance {
        match a {
            crypto::Assurance::HolderBound => Assurance::HolderBound,
            crypto::Assurance::Unbound => Assurance::Unbound,
        }
    }
}

impl From<crypto::Warning> for VerifyWarning {
    fn from(w: crypto::Warning) -> VerifyWarning {
        match w {
            crypto::Warning::StatusUnknown => VerifyWarning::StatusUnknown,
            crypto::Warning::TrustListStale => VerifyWarning::TrustListStale,
            crypto::Warning::ClockSuspect => VerifyWarning::ClockSuspect,
        }
    }
}

impl From<crypto::Change> for Change {
    fn from(c: crypto::Change) -> Change {
        match c {
            crypto::Change::Installed => Change::Installed,
            crypto::Change::Updated => Change::Updated,
            crypto::Change::Unchanged => Change::Unchanged,
        }
    }
}

impl From<crypto::Change> for ListOutcome {
    fn from(c: crypto::Change) -> ListOutcome {
        match c {
            crypto::Change::Installed => ListOutcome::Installed,
            crypto::Change::Updated => ListOutcome::Updated,
            crypto::Change::Unchanged => ListOutcome::Unchanged,
        }
    }
}
