//! The audit log on the wire.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult};
use crate::store::audit;

/// `?after=ID&limit=N`, and optional filters `action`, `actor`, `since`, `until`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct Page {
    /// The id after which the page starts (default 0).
    #[serde(default)]
    pub after: i64,
    /// 1–500, default 100.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u64>,
    /// Actions starting with this: `permit.` or `permit.suspend` (letters, digits, `.`, `_`).
    #[param(schema_with = super::schema::audit_action)]
    pub action: Option<String>,
    /// This actor exactly: `staff:3`, `resident:12`, `operator:cli`.
    #[param(schema_with = super::schema::audit_actor)]
    pub actor: Option<String>,
    /// Entries at or after this instant (RFC 3339).
    #[param(schema_with = super::schema::instant)]
    pub since: Option<String>,
    /// Entries before this instant (RFC 3339).
    #[param(schema_with = super::schema::instant)]
    pub until: Option<String>,
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

    /// The filters: 400 `invalid_field` (naming it) for an action or actor of other characters
    /// or longer than 64, 400 `invalid_date` for an instant that is not RFC 3339.
    pub fn filter(&self) -> ApiResult<audit::Filter> {
        let code = |text: &Option<String>, field: &'static str, extra: &[u8]| {
            let Some(text) = text.as_deref().map(str::trim).filter(|t| !t.is_empty()) else {
                return Ok(None);
            };
            let fits = text.len() <= super::schema::AUDIT_FILTER_MAX
                && text
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || extra.contains(&b));
            if !fits {
                return Err(ApiError::invalid(
                    "invalid_field",
                    field,
                    format!("`{field}` is at most 64 letters, digits and {extra:?} characters"),
                ));
            }
            Ok(Some(text.to_owned()))
        };
        let instant = |text: &Option<String>, field: &'static str| {
            let Some(text) = text.as_deref().map(str::trim).filter(|t| !t.is_empty()) else {
                return Ok(None);
            };
            DateTime::parse_from_rfc3339(text)
                .map(|t| Some(t.with_timezone(&Utc)))
                .map_err(|_| {
                    ApiError::invalid(
                        "invalid_date",
                        field,
                        format!("`{field}` is an RFC 3339 instant, e.g. 2026-12-01T00:00:00Z"),
                    )
                })
        };
        Ok(audit::Filter {
            action_prefix: code(&self.action, "action", b"._")?,
            actor: code(&self.actor, "actor", b":_-")?,
            since: instant(&self.since, "since")?,
            until: instant(&self.until, "until")?,
        })
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
