//! Staff accounts on the wire (admins, issue 12 item 3). Password hashes never cross it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::store::staff;

/// A staff account as administrators see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct StaffAccount {
    /// The account id (`staff:<id>` in the audit log).
    pub id: i64,
    /// Login name.
    pub username: String,
    /// `officer`, `verifier` or `admin`.
    #[schema(value_type = String, example = "officer")]
    pub role: staff::Role,
    /// An officer's district code.
    pub district: Option<i32>,
    /// A verifier's organisation kind.
    #[schema(value_type = Option<String>, example = "police")]
    pub org_kind: Option<staff::OrgKind>,
    /// Whether the account is disabled.
    pub disabled: bool,
    /// Since when.
    pub disabled_at: Option<DateTime<Utc>>,
    /// Wrong passwords since the last success or unlock, from every address.
    pub failed_logins: i32,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

impl From<staff::Model> for StaffAccount {
    fn from(m: staff::Model) -> Self {
        StaffAccount {
            id: m.id,
            disabled: m.is_disabled(),
            disabled_at: m.disabled_since(),
            username: m.username,
            role: m.role,
            district: m.district,
            org_kind: m.org_kind,
            failed_logins: m.failed_logins,
            created_at: m.created_at,
        }
    }
}

/// `GET /v1/staff` → 200.
#[derive(Debug, Serialize, ToSchema)]
pub struct StaffList {
    /// Every account, oldest first.
    pub staff: Vec<StaffAccount>,
}

/// `POST /v1/staff/{id}/reset-password`: `{password}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetPasswordBody {
    /// The new password (at least 12 characters).
    #[schema(schema_with = super::schema::new_password)]
    pub password: String,
}
