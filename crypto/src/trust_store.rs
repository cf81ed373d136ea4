//! What a verifier holds between scans (SPEC §2, §5): the pinned root keys, the newest trust list
//! and the newest status list, loaded from bytes the caller fetched (`application/cose`,
//! `application/statuslist+cwt`). The mobile SDK wraps this type without logic of its own.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::keys::{KeyId, VerifyingKey};
use crate::status_list::StatusList;
use crate::trust_list::TrustList;
use crate::verify::{Verification, VerifyOptions, verify};
use crate::{Error, Result};

/// What a load did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Nothing was held; the list is now.
    Installed,
    /// A newer list replaced the one held.
    Updated,
    /// The same list was offered again.
    Unchanged,
}

/// A summary of what the store holds (for a settings screen or `/readyz`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoreState {
    /// Ids of the pinned root keys.
    pub root_key_ids: Vec<KeyId>,
    /// Sequence of the trust list held.
    pub trust_list_sequence: Option<u64>,
    /// Issued-at of the trust list held.
    pub trust_list_issued_at: Option<DateTime<Utc>>,
    /// Expires-at of the trust list held.
    pub trust_list_expires_at: Option<DateTime<Utc>>,
    /// URI of the status list held.
    pub status_list_uri: Option<String>,
    /// Issued-at of the status list held.
    pub status_list_issued_at: Option<DateTime<Utc>>,
    /// Expires-at of the status list held.
    pub status_list_expires_at: Option<DateTime<Utc>>,
}

/// Pinned root keys + the current trust list + the current status list.
#[derive(Debug, Clone)]
pub struct TrustStore {
    root_keys: Vec<VerifyingKey>,
    trust: Option<TrustList>,
    status: Option<StatusList>,
}

impl TrustStore {
    /// A store trusting lists signed by any of `root_keys` (pinned in the app or configuration).
    pub fn new(root_keys: Vec<VerifyingKey>) -> TrustStore {
        TrustStore {
            root_keys,
            trust: None,
            status: None,
        }
    }

    /// Loads a signed trust list. Refuses a list not signed by a pinned root key, an expired list
    /// (`now ≥ expires_at`), a lower sequence than the one held (rollback, SPEC §2) and a different
    /// list under the sequence held.
    pub fn load_trust_list(&mut self, bytes: &[u8], now: DateTime<Utc>) -> Result<Change> {
        let list = TrustList::verify(bytes, &self.root_keys)?;
        if now >= list.expires_at {
            return Err(Error::Expired(list.expires_at));
        }
        let change = match &self.trust {
            None => Change::Installed,
            Some(held) if list.sequence < held.sequence => {
                return Err(Error::Rollback {
                    held: held.sequence,
                    offered: list.sequence,
                });
            }
            Some(held) if list.sequence == held.sequence => {
                if *held == list {
                    return Ok(Change::Unchanged);
                }
                return Err(Error::Invalid(
                    "trust list (another list under the sequence held)",
                ));
            }
            Some(_) => Change::Updated,
        };
        self.trust = Some(list);
        Ok(change)
    }

    /// Loads a signed status list. Refuses a list not signed by a pinned root key, an expired list
    /// and, for the same URI, a list issued before the one held.
    pub fn load_status_list(&mut self, bytes: &[u8], now: DateTime<Utc>) -> Result<Change> {
        let list = StatusList::verify(bytes, &self.root_keys)?;
        if now >= list.expires_at {
            return Err(Error::Expired(list.expires_at));
        }
        let change = match &self.status {
            None => Change::Installed,
            Some(held) if *held == list => return Ok(Change::Unchanged),
            Some(held) if held.uri == list.uri && list.issued_at < held.issued_at => {
                return Err(Error::Invalid("status list (older than the one held)"));
            }
            Some(_) => Change::Updated,
        };
        self.status = Some(list);
        Ok(change)
    }

    /// The trust list held.
    pub fn trust_list(&self) -> Option<&TrustList> {
        self.trust.as_ref()
    }

    /// The status list held.
    pub fn status_list(&self) -> Option<&StatusList> {
        self.status.as_ref()
    }

    /// Verifies a QR text with what the store holds ([`crate::verify::verify`]). Without a trust
    /// list every credential is `unknown_issuer` (and `trust_list_stale` is warned).
    pub fn verify(&self, text: &str, now: DateTime<Utc>, options: &VerifyOptions) -> Verification {
        let empty;
        let trust = match &self.trust {
            Some(t) => t,
            None => {
                empty = TrustList {
                    sequence: 0,
                    issued_at: DateTime::UNIX_EPOCH,
                    expires_at: DateTime::UNIX_EPOCH,
                    keys: Vec::new(),
                };
                &empty
            }
        };
        verify(text, trust, self.status.as_ref(), now, options)
    }

    /// What the store holds.
    pub fn state(&self) -> StoreState {
        StoreState {
            root_key_ids: self.root_keys.iter().map(KeyId::of).collect(),
            trust_list_sequence: self.trust.as_ref().map(|t| t.sequence),
            trust_list_issued_at: self.trust.as_ref().map(|t| t.issued_at),
            trust_list_expires_at: self.trust.as_ref().map(|t| t.expires_at),
            status_list_uri: self.status.as_ref().map(|s| s.uri.clone()),
            status_list_issued_at: self.status.as_ref().map(|s| s.issued_at),
            status_list_expires_at: self.status.as_ref().map(|s| s.expires_at),
        }
    }
}
