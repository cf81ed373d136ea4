//! Sessions: issuing an access token with a rotating refresh token, one-time login codes, and the
//! rate limits in front of them.

use chrono::{Duration, Utc};
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};

use crate::auth::jwt::{OrgKind, Principal, Role, Subject};
use crate::error::ApiError;
use crate::shared_state::RateDecision;
use crate::state::AppState;
use crate::store::{StoreError, refresh_tokens, revocations, staff};
use crate::wire::auth::Tokens;

/// A keyed hash for keys of the shared store (never a raw phone number there).
pub fn keyed(state: &AppState, purpose: &str, value: &str) -> String {
    let mut h = Sha256::new();
    h.update(state.pepper);
    h.update(purpose.as_bytes());
    h.update([0]);
    h.update(value.as_bytes());
    hex::encode(h.finalize())
}

/// A fresh six-digit login code.
pub fn new_code() -> String {
    format!("{:06}", OsRng.next_u32() % 1_000_000)
}

/// Counts one hit on each `(bucket, limit)` (a minute's window, one call to the shared store) and
/// refuses with 429 when any bucket is past its limit. While Redis is out its circuit breaker
/// counts the hits on this instance instead (`shared_state::guarded`), so a limit still holds,
/// per instance. When the store cannot count at all, `fail_open` lets the request through
/// (verification keeps working); otherwise it is 503.
pub async fn rate_limit(
    state: &AppState,
    buckets: &[(&str, u32)],
    fail_open: bool,
) -> Result<(), ApiError> {
    match state
        .shared
        .hit_all(buckets, std::time::Duration::from_secs(60))
        .await
    {
        Ok(RateDecision::Allowed { .. }) => Ok(()),
        Ok(RateDecision::Limited { retry_after }) => Err(ApiError::RateLimited {
            code: "rate_limited",
            retry_after: retry_after.as_secs().max(1),
        }),
        Err(e) if fail_open => {
            tracing::warn!(error = %e, "shared store unavailable: rate limit skipped");
            Ok(())
        }
        Err(_) => Err(ApiError::Unavailable(
            "the shared store is unavailable; try again shortly",
        )),
    }
}

/// The principal a stored subject (`resident:12`, `staff:3`) stands for now (staff roles are
/// read from the account, so a changed role takes effect at the next refresh); a disabled staff
/// account stands for nobody.
pub async fn principal_of(state: &AppState, subject: &str) -> Result<Principal, ApiError> {
    let unauthorized = || ApiError::Unauthorized("the refresh token is not valid");
    let (kind, id) = subject.split_once(':').ok_or_else(unauthorized)?;
    let id: i64 = id.parse().map_err(|_| unauthorized())?;
    match kind {
        "resident" => Ok(Principal {
            subject: Subject::Resident(id),
            role: Role::Resident,
        }),
        "staff" => {
            let account = staff::get(state.store.conn(), id)
                .await
                .map_err(|e| match e {
                    StoreError::NotFound(_) => unauthorized(),
                    e => ApiError::internal(e),
                })?;
            if account.is_disabled() {
                return Err(unauthorized());
            }
            staff_principal(&account).ok_or_else(unauthorized)
        }
        _ => Err(unauthorized()),
    }
}

/// The principal of a staff account, if its role data is complete.
pub fn staff_principal(account: &staff::Model) -> Option<Principal> {
    let role = match account.role {
        staff::Role::Officer => Role::Officer(
            account
                .district
                .and_then(|d| policy::District::try_from(d).ok())?,
        ),
        staff::Role::Verifier => Role::Verifier(match account.org_kind? {
            staff::OrgKind::School => OrgKind::School,
            staff::OrgKind::Hospital => OrgKind::Hospital,
            staff::OrgKind::Police => OrgKind::Police,
        }),
        staff::Role::Admin => Role::Admin,
    };
    Some(Principal {
        subject: Subject::Staff(account.id),
        role,
    })
}

/// Issues an access token (under the account's current revocation epoch) and a refresh token:
/// of a new family for a login (`continues` = `None`), else of the family of the refresh token
/// just spent. The refresh token expires at the sooner of its idle deadline
/// (`tokens.refresh_idle_secs` from now) and its family's absolute one (`tokens.refresh_ttl_secs`
/// from the login), so refreshing never extends a session past its login's lifetime.
pub async fn issue<C: sea_orm::ConnectionTrait>(
    state: &AppState,
    db: &C,
    principal: Principal,
    continues: Option<&refresh_tokens::Model>,
) -> Result<Tokens, ApiError> {
    let now = Utc::now();
    let seconds = |secs: u64| Duration::seconds(i64::try_from(secs).unwrap_or(i64::MAX / 2_000));
    let tokens = &state.settings.tokens;
    let subject = crate::auth::extract::subject_name(&principal);
    let epoch = revocations::epoch(db, &subject).await?;
    let access_token =
        state
            .jwt
            .issue_at(principal, epoch, now, seconds(tokens.access_ttl_secs))?;
    let mut raw = [0u8; 32];
    OsRng.fill_bytes(&mut raw);
    let refresh_token = hex::encode(raw);
    let (family, login_at) = match continues {
        Some(spent) => (spent.family.clone(), spent.login_time()),
        None => (refresh_tokens::new_family(), now),
    };
    let expires_at = Ord::min(
        now + seconds(tokens.refresh_idle_secs),
        login_at + seconds(tokens.refresh_ttl_secs),
    );
    refresh_tokens::insert(
        db,
        &refresh_tokens::hash_token(&refresh_token),
        &family,
        &subject,
        login_at,
        expires_at,
    )
    .await?;
    Ok(Tokens {
        access_token,
        token_type: "Bearer",
        expires_in: tokens.access_ttl_secs,
        refresh_token,
    })
}
