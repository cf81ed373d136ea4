//! The audit log on the wire.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult};
use crate::store::audit;

/// `?after=ID&limit=N`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct Page {
    /// The id after which the page starts (default 0).
    #[serde(default)]
    pub after: i64,
    /// 1–500, default 100.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u64>,
}

impl Page {
    /// The page size: 400 `invalid_limit` outside 1–500.
    pub fn limit(&self) -> ApiResult<u64> {
        let limit = self.limit.unwrap_or(100);
        if !(1..=500).contains(&limit) {
            return Err(ApiError::invalid(
                "invalid_limit",
                "limit",
                "between 1 and 500",
            ));
        }
        Ok(limit)
    }
}

/// An audit entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntryView {
    /// Its place in the chain.
    pub id: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// Who: `resident:12`, `staff:3`, `system`, `cli`.
    pub actor: String,
    /// What: `permit.issue`, `permit.lookup`, …
    pub action: String,
    /// To what.
    pub subject: String,
    /// Details (no unmasked personal data).
    #[schema(value_type = Object)]
    pub detail: Value,
    /// The previous entry's hash.
    pub prev_hash: String,
    /// This entry's hash.
    pub hash: String,
}

impl From<audit::Model> for AuditEntryView {
    fn from(e: audit::Model) -> Self {
        AuditEntryView {
            id: e.id,
            at: e.at,
            actor: e.actor,
            action: e.action,
            subject: e.subject,
            detail: serde_json::from_str(&e.detail).unwrap_or_default(),
            prev_hash: e.prev_hash,
            hash: e.hash,
        }
    }
}

/// A page of the audit log.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    /// Oldest first.
    pub items: Vec<AuditEntryView>,
    /// The `after` of the next page (null when this one is empty).
    pub next_after: Option<i64>,
}

impl From<Vec<audit::Model>> for AuditPage {
    fn from(entries: Vec<audit::Model>) -> Self {
        AuditPage {
            next_after: entries.last().map(|e| e.id),
            items: entries.into_iter().map(AuditEntryView::from).collect(),
        }
    }
}

/// A signed checkpoint of the audit chain (`POST /v1/audit/checkpoints`).
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckpointView {
    /// The id of the head entry it anchors (0: empty log).
    pub seq: i64,
    /// That entry's hash.
    pub hash: String,
    /// When it was taken (RFC 3339, microseconds).
    pub at: String,
    /// The audit key that signed it.
    pub kid: String,
    /// Ed25519 signature (hex) of `["epermit audit checkpoint v1", seq, hash, at, kid]`.
    pub signature: String,
}

impl From<&audit::checkpoints::Model> for CheckpointView {
    fn from(c: &audit::checkpoints::Model) -> Self {
        CheckpointView {
            seq: c.seq,
            hash: c.hash.clone(),
            at: audit::canonical_at(c.at),
            kid: c.kid.clone(),
            signature: c.signature.clone(),
        }
    }
}
