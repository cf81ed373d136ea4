//! Logging in (SPEC §4 "Auth"): a one-time code to a phone and its exchange for tokens, staff
//! passwords with lock-out, and refresh tokens that rotate — a spent one presented again revokes
//! its whole family. Every path is rate-limited per client address and per account.

use actix_web::web;
use chrono::Utc;
use serde_json::json;

use crate::auth::jwt::{Principal, Role, Subject};
use crate::auth::password;
use crate::auth::session::{self, keyed, new_code, rate_limit};
use crate::domain::PhoneNumber;
use crate::error::{ApiError, ApiResult};
use crate::shared_state::OtpCheck;
use crate::state::AppState;
use crate::store::{audit, refresh_tokens, residents, staff};
use crate::wire::auth::{Login, StaffLoginBody, Tokens};

/// Sends a six-digit code to `phone` (valid `otp.ttl_secs`, `otp.max_attempts` guesses).
pub async fn send_code(state: &AppState, phone: &PhoneNumber, ip: &str) -> ApiResult<()> {
    let limits = &state.settings.rate_limits.otp;
    let account = keyed(state, "phone", phone.expose());
    let buckets = [
        (&format!("otp:ip:{ip}")[..], limits.per_ip),
        (&format!("otp:acct:{account}")[..], limits.per_account),
    ];
    rate_limit(state, &buckets, false).await?;
    let code = new_code();
    let otp = &state.settings.otp;
    let hashed = keyed(state, "otp", &code);
    state
        .shared
        .put_otp(&account, &hashed, otp.ttl(), otp.max_attempts)
        .await?;
    state.sender.send(phone, &code).map_err(ApiError::internal)
}

/// The problem for a one-time code that did not check out (login, binding a key).
pub(crate) fn code_refused(check: OtpCheck) -> ApiResult<()> {
    match check {
        OtpCheck::Ok => Ok(()),
        OtpCheck::Wrong { attempts_left } => Err(ApiError::invalid(
            "wrong_code",
            "code",
            format!("the code is wrong; {attempts_left} attempts left"),
        )
        .with("attempts_left", json!(attempts_left))),
        OtpCheck::Absent => Err(ApiError::invalid(
            "code_expired",
            "code",
            "no code is pending for this phone; request a new one",
        )),
        OtpCheck::TooManyAttempts => Err(ApiError::RateLimited {
            code: "too_many_attempts",
            retry_after: 1,
        }),
    }
}

/// Exchanges a code for tokens; the resident is created on first login.
pub async fn resident(state: &AppState, login: Login, ip: &str) -> ApiResult<Tokens> {
    let limits = &state.settings.rate_limits.login;
    let account = keyed(state, "phone", login.phone.expose());
    let buckets = [
        (&format!("login:ip:{ip}")[..], limits.per_ip),
        (&format!("login:acct:{account}")[..], limits.per_account),
    ];
    rate_limit(state, &buckets, false).await?;
    let check = state
        .shared
        .check_otp(&account, &keyed(state, "otp", &login.code))
        .await?;
    code_refused(check)?;
    let txn = state.store.begin().await?;
    let resident =
        residents::find_or_create_by_phone(&txn, state.store.sealer()?, login.phone.expose())
            .await?;
    let principal = Principal {
        subject: Subject::Resident(resident.id),
        role: Role::Resident,
    };
    let tokens = session::issue(state, &txn, principal, None).await?;
    txn.commit().await?;
    tracing::info!(resident = resident.id, phone = %login.phone, "resident logged in");
    Ok(tokens)
}

/// Records a wrong password: after `lockout.max_failures` the account is locked (audited).
async fn failed_password(state: &AppState, account: &staff::Model) -> ApiResult<()> {
    let now = Utc::now();
    let lock_for =
        chrono::Duration::seconds(i64::try_from(state.settings.lockout.lock_secs).unwrap_or(900));
    let txn = state.store.begin().await?;
    let max = state.settings.lockout.max_failures;
    let after = staff::record_failed_login(&txn, account.id, now, max, lock_for).await?;
    if after.is_locked(now) {
        let detail = json!({ "until": after.locked_until });
        let subject = format!("staff:{}", account.id);
        let entry = audit::NewEntry::new("system", "staff.locked", subject, detail);
        audit::commit_with_audit(txn, entry, now).await?;
    } else {
        txn.commit().await?;
    }
    Ok(())
}

/// A staff password login (argon2id); after `lockout.max_failures` failures the account is
/// locked for `lockout.lock_secs` (429 `account_locked`). Unknown usernames cost a hash too.
pub async fn staff(state: &AppState, body: StaffLoginBody, ip: &str) -> ApiResult<Tokens> {
    let limits = &state.settings.rate_limits.login;
    rate_limit(
        state,
        &[(&format!("staff-login:ip:{ip}")[..], limits.per_ip)],
        false,
    )
    .await?;
    let invalid = || ApiError::Unauthorized("unknown username or wrong password");
    let now = Utc::now();
    let account = staff::find_by_username(state.store.conn(), body.username.trim()).await?;
    let password_text = body.password;
    let Some(account) = account else {
        web::block(move || password::verify_against_nothing(&password_text)).await?;
        return Err(invalid());
    };
    if let Some(until) = account.locked_until.filter(|_| account.is_locked(now)) {
        let retry_after = (until - now).num_seconds().max(1).unsigned_abs();
        return Err(ApiError::RateLimited {
            code: "account_locked",
            retry_after,
        });
    }
    let stored = account.password_hash.clone();
    if !web::block(move || password::verify(&password_text, &stored)).await? {
        failed_password(state, &account).await?;
        return Err(invalid());
    }
    let principal = session::staff_principal(&account)
        .ok_or(ApiError::Forbidden("the account's role is incomplete"))?;
    let txn = state.store.begin().await?;
    staff::reset_failed_logins(&txn, account.id).await?;
    let tokens = session::issue(state, &txn, principal, None).await?;
    txn.commit().await?;
    Ok(tokens)
}

/// A refresh token for a new pair. Presenting a spent token again revokes its whole family
/// (someone holds a copy), audited.
pub async fn refresh(state: &AppState, refresh_token: &str) -> ApiResult<Tokens> {
    let invalid = || ApiError::Unauthorized("the refresh token is not valid");
    let now = Utc::now();
    let txn = state.store.begin().await?;
    let hash = refresh_tokens::hash_token(refresh_token.trim());
    let token = refresh_tokens::find_by_hash(&txn, &hash)
        .await?
        .ok_or_else(invalid)?;
    if token.spent_at.is_some() && token.revoked_at.is_none() {
        let revoked = refresh_tokens::revoke_family(&txn, &token.family, now).await?;
        let detail = json!({ "family": token.family, "revoked": revoked });
        let entry = audit::NewEntry::new("system", "auth.refresh_reuse", token.subject, detail);
        audit::commit_with_audit(txn, entry, now).await?;
        return Err(ApiError::Unauthorized(
            "the refresh token was used already; every session of this login is revoked",
        ));
    }
    if !token.is_usable(now) || !refresh_tokens::spend(&txn, token.id, now).await? {
        return Err(invalid());
    }
    let principal = session::principal_of(state, &token.subject).await?;
    let tokens = session::issue(state, &txn, principal, Some(token.family)).await?;
    txn.commit().await?;
    Ok(tokens)
}
