//! Sessions: issuing an access token with a rotating refresh token, one-time login codes, and the
//! rate limits in front of them.

use chrono::{Duration, Utc};
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};

use crate::auth::jwt::{OrgKind, Principal, Role, Subject};
use crate::error::ApiError;
use crate::shared_state::RateDecision;
use crate::state::AppState;
use crate::store::{StoreError, refresh_tokens, staff};
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
/// refuses with 429 when any bucket is past its limit. When the shared store is down,
/// `fail_open` lets the request through (verification keeps working); otherwise it is 503.
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
/// read from the account, so a changed role takes effect at the next refresh).
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

fn subject_name(p: &Principal) -> String {
    match p.subject {
        Subject::Resident(id) => format!("resident:{id}"),
        Subject::Staff(id) => format!("staff:{id}"),
    }
}

/// Issues an access token and a refresh token of `family` (a new family for a login).
pub async fn issue<C: sea_orm::ConnectionTrait>(
    state: &AppState,
    db: &C,
    principal: Principal,
    family: Option<String>,
) -> Result<Tokens, ApiError> {
    let now = Utc::now();
    let access_ttl =
        Duration::seconds(i64::try_from(state.settings.tokens.access_ttl_secs).unwrap_or(900));
    let refresh_ttl =
        Duration::seconds(i64::try_from(state.settings.tokens.refresh_ttl_secs).unwrap_or(86_400));
    let access_token = state.jwt.issue(principal, now, access_ttl)?;
    let mut raw = [0u8; 32];
    OsRng.fill_bytes(&mut raw);
    let refresh_token = hex::encode(raw);
    let family = family.unwrap_or_else(refresh_tokens::new_family);
    refresh_tokens::insert(
        db,
        &refresh_tokens::hash_token(&refresh_token),
        &family,
        &subject_name(&principal),
        now + refresh_ttl,
    )
    .await?;
    Ok(Tokens {
        access_token,
        token_type: "Bearer",
        expires_in: state.settings.tokens.access_ttl_secs,
        refresh_token,
    })
}
