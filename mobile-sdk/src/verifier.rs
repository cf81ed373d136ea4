//! The verifier side (SPEC §2, §5): a [`Verifier`] holds the pinned root keys and the newest trust
//! and status lists the app fetched, and verifies `EP1:`/`EPP1:` texts offline. A thin wrapper of
//! `crypto::TrustStore`; the verdict logic is `crypto::verify`, the report `policy::report`.

use std::sync::{PoisonError, RwLock};
use std::time::SystemTime;

use chrono::TimeDelta;
use crypto::keys::{parse_public_key_hex, public_key_from_bytes};
use crypto::status_list::StatusList;
use crypto::trust_list::TrustList;
use crypto::{TrustStore, VerifyingKey};
use policy::PermitStatus;
use policy::calendar::day_in_shanghai;

use crate::error::{Result, SdkError};
use crate::permit::Permit;
use crate::report::{self, Report};
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
    /// The status could not be checked (no status list, expired, another list, index beyond it).
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
    /// A newer list replaced the one held.
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
    /// `endorsement_overdue` gives the lapse SPEC §1.4 defines (open from the missed anniversary,
    /// the Asia/Shanghai day of `expires_at`); otherwise active.
    pub report: Option<Report>,
}

/// What the verifier holds, for a settings screen that shows how stale its data is.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct VerifierState {
    /// Key ids (16 hex digits) of the pinned root keys.
    pub root_key_ids: Vec<String>,
    /// Sequence of the trust list held.
    pub trust_list_sequence: Option<u64>,
    /// When the trust list held was issued.
    pub trust_list_issued_at: Option<SystemTime>,
    /// When the trust list held expires (refresh before).
    pub trust_list_expires_at: Option<SystemTime>,
    /// Seconds from the trust list's issue to `now` (negative: the clock is behind).
    pub trust_list_age_seconds: Option<i64>,
    /// URI of the status list held.
    pub status_list_uri: Option<String>,
    /// When the status list held was issued.
    pub status_list_issued_at: Option<SystemTime>,
    /// When the status list held expires.
    pub status_list_expires_at: Option<SystemTime>,
    /// Seconds from the status list's issue to `now`.
    pub status_list_age_seconds: Option<i64>,
    /// Seconds the status list asks to be cached (its `ttl`): refresh after that.
    pub status_list_ttl_seconds: Option<u64>,
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

/// An offline verifier: pinned root keys + the newest trust list and status list.
///
/// Thread-safe: verifications run in parallel; a list load waits for them and replaces the list
/// atomically. No method does I/O: the app fetches the lists (HTTP) and passes the bytes.
#[derive(Debug, uniffi::Object)]
pub struct Verifier {
    store: RwLock<TrustStore>,
    /// The pinned keys again (the store keeps its own copy private), to classify a refused list.
    roots: Vec<VerifyingKey>,
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

    /// Loads a trust list (`application/cose`, the bytes the app fetched) and keeps it if it is
    /// signed by a pinned root key, not expired at `now`, and not a rollback (its sequence is at
    /// least the one held; the same sequence must be the same list). Returns what changed; on an
    /// error the list held stays. No I/O; costs one signature check plus parsing, well under a
    /// millisecond for a few dozen keys.
    pub fn load_trust_list(&self, bytes: Vec<u8>, now: SystemTime) -> Result<Change> {
        let now = instant(now);
        let mut store = self.store.write().unwrap_or_else(PoisonError::into_inner);
        store
            .load_trust_list(&bytes, now)
            .map(Change::from)
            .map_err(|e| {
                SdkError::from_list_load(e, || TrustList::verify(&bytes, &self.roots).is_ok())
            })
    }

    /// Loads a status list (`application/statuslist+cwt`) and keeps it if it is signed by a
    /// pinned root key, not expired at `now`, and (for the same URI) not issued before the one
    /// held. Returns what changed; on an error the list held stays. No I/O; costs one signature
    /// check and inflating the list (about a millisecond per 100 000 entries).
    pub fn load_status_list(&self, bytes: Vec<u8>, now: SystemTime) -> Result<Change> {
        let now = instant(now);
        let mut store = self.store.write().unwrap_or_else(PoisonError::into_inner);
        store
            .load_status_list(&bytes, now)
            .map(Change::from)
            .map_err(|e| {
                SdkError::from_list_load(e, || StatusList::verify(&bytes, &self.roots).is_ok())
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

    /// What the verifier holds, with the lists' ages at `now`. No I/O; costs nanoseconds.
    pub fn state(&self, now: SystemTime) -> VerifierState {
        let now = instant(now);
        let store = self.store.read().unwrap_or_else(PoisonError::into_inner);
        let s = store.state();
        let age = |t: Option<chrono::DateTime<chrono::Utc>>| t.map(|t| (now - t).num_seconds());
        VerifierState {
            root_key_ids: s.root_key_ids.iter().map(ToString::to_string).collect(),
            trust_list_sequence: s.trust_list_sequence,
            trust_list_issued_at: s.trust_list_issued_at.map(system_time),
            trust_list_expires_at: s.trust_list_expires_at.map(system_time),
            trust_list_age_seconds: age(s.trust_list_issued_at),
            status_list_uri: s.status_list_uri,
            status_list_issued_at: s.status_list_issued_at.map(system_time),
            status_list_expires_at: s.status_list_expires_at.map(system_time),
            status_list_age_seconds: age(s.status_list_issued_at),
            status_list_ttl_seconds: store.status_list().map(|l| l.ttl_seconds),
        }
    }
}

impl Verifier {
    fn with_keys(keys: Vec<VerifyingKey>) -> Result<Verifier> {
        if keys.is_empty() {
            return Err(SdkError::InvalidRootKey);
        }
        Ok(Verifier {
            store: RwLock::new(TrustStore::new(keys.clone())),
            roots: keys,
        })
    }

    fn run(&self, text: &str, now: SystemTime, options: &crypto::VerifyOptions) -> Verification {
        let now = instant(now);
        let v = self
            .store
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .verify(text, now, options);
        let report = v.permit.as_ref().and_then(|claims| {
            let (status, lapse) = match v.verdict {
                crypto::Verdict::Malformed
                | crypto::Verdict::UnknownIssuer
                | crypto::Verdict::IssuerKeyCompromised
                | crypto::Verdict::KeyNotValidAtIssuance
                | crypto::Verdict::BadSignature => return None,
                crypto::Verdict::Suspended => (PermitStatus::Suspended, None),
                crypto::Verdict::Revoked => (PermitStatus::Revoked, None),
                crypto::Verdict::EndorsementOverdue => (
                    PermitStatus::Active,
                    policy::Lapse::new(day_in_shanghai(claims.expires_at), None).ok(),
                ),
                crypto::Verdict::Valid
                | crypto::Verdict::BadHolderSignature
                | crypto::Verdict::PresentationStale
                | crypto::Verdict::NotYetValid => (PermitStatus::Active, None),
            };
            Some(report::for_claims(
                claims,
                claims.residence,
                day_in_shanghai(now),
                status,
                lapse,
            ))
        });
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
