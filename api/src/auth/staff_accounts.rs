//! The staff lifecycle (issue 12 item 3): disable, enable, unlock, reset a password — the same
//! rules for `epermit staff …` (actor `operator:cli`) and the admin API (actor `staff:<id>`). Each
//! change is one transaction ending in its audit entry. Disabling and resetting a password revoke
//! every refresh token of the account and raise its revocation epoch, so its access tokens stop
//! working too ([`crate::auth::revocation`]); the caller publishes the new epoch after the commit.

use chrono::Utc;
use serde_json::json;

use crate::auth::revocation;
use crate::store::{Store, StoreError, audit, refresh_tokens, staff};

/// A change to a staff account.
#[derive(Clone)]
pub enum Change {
    /// Refuse logins and refreshes; revoke its sessions and tokens.
    Disable,
    /// Allow logins again.
    Enable,
    /// Clear the failure count (and the throttles of every address, by the caller).
    Unlock,
    /// Replace the password (an argon2id PHC string hashed by the caller); revoke its sessions
    /// and tokens.
    ResetPassword {
        /// The new hash.
        password_hash: String,
    },
}

impl Change {
    /// The audit action.
    fn action(&self) -> &'static str {
        match self {
            Change::Disable => "staff.disable",
            Change::Enable => "staff.enable",
            Change::Unlock => "staff.unlock",
            Change::ResetPassword { .. } => "staff.reset_password",
        }
    }
}

/// What a change did.
#[derive(Debug)]
pub struct Applied {
    /// The account afterwards.
    pub account: staff::Model,
    /// Whether anything changed (disabling a disabled account changes nothing and is not
    /// audited).
    pub changed: bool,
    /// The account's new revocation epoch, to publish after the commit.
    pub epoch: Option<i64>,
}

/// Applies `change` to account `id` on behalf of `actor`, audited.
pub async fn apply(
    store: &Store,
    actor: &str,
    id: i64,
    change: Change,
) -> Result<Applied, StoreError> {
    let now = Utc::now();
    let subject = format!("staff:{id}");
    let txn = store.begin().await?;
    let before = staff::get(&txn, id).await?;
    let mut detail = json!({ "username": before.username });
    let (changed, revokes) = match &change {
        Change::Disable => (staff::set_disabled(&txn, id, Some(now)).await?, true),
        Change::Enable => (staff::set_disabled(&txn, id, None).await?, false),
        Change::Unlock => {
            staff::reset_failed_logins(&txn, id).await?;
            detail["failed_logins"] = json!(before.failed_logins);
            (true, false)
        }
        Change::ResetPassword { password_hash } => {
            staff::set_password_hash(&txn, id, password_hash).await?;
            staff::reset_failed_logins(&txn, id).await?;
            (true, true)
        }
    };
    if !changed {
        drop(txn);
        return Ok(Applied {
            account: before,
            changed: false,
            epoch: None,
        });
    }
    let epoch = if revokes {
        let revoked = refresh_tokens::revoke_subject(&txn, &subject, now).await?;
        let epoch = revocation::bump(&txn, &subject, now).await?;
        detail["revoked_refresh_tokens"] = json!(revoked);
        detail["epoch"] = json!(epoch);
        Some(epoch)
    } else {
        None
    };
    let account = staff::get(&txn, id).await?;
    let entry = audit::NewEntry::new(actor, change.action(), subject, detail);
    audit::commit_with_audit(txn, entry, now).await?;
    Ok(Applied {
        account,
        changed: true,
        epoch,
    })
}

/// The shared-store key whose value is part of every throttle key of account `id`: replacing
/// it (unlock) forgets the failures of every address at once.
pub fn throttle_generation_key(id: i64) -> String {
    format!("throttle-generation:staff:{id}")
}
