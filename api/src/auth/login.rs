//! Logging in (SPEC §4 "Auth"): a one-time code to a phone and its exchange for tokens, staff
//! passwords throttled per (account, client address), refresh tokens that rotate — a spent one
//! presented again revokes its whole family — and logging out. Every path is rate-limited per
//! client address and per account.

use chrono::Utc;
use serde_json::json;

use crate::auth::extract::subject_name;
use crate::auth::jwt::{Principal, Role, Subject};
use crate::auth::password;
use crate::auth::session::{self, keyed, new_code, rate_limit};
use crate::auth::staff_accounts::throttle_generation_key;
use crate::domain::PhoneNumber;
use crate::error::{ApiError, ApiResult};
use crate::shared_state::{GuessBudget, OtpCheck, RateDecision, ThrottlePolicy};
use crate::state::AppState;
use crate::store::{audit, refresh_tokens, residents, revocations, staff};
use crate::wire::auth::{LoggedOut, Login, StaffLoginBody, Tokens};

/// When a code was sent: the next may be asked for `retry_after_secs` from now, at
/// `next_code_at`.
#[derive(Clone, Copy, Debug)]
pub struct CodeSent {
    /// Seconds until the next code may be asked for (`otp.cool_down_secs`).
    pub retry_after_secs: u64,
    /// When the next code may be asked for.
    pub next_code_at: chrono::DateTime<Utc>,
}

/// The wrong-guess budget of a phone (issue 12 item 2): `otp.max_attempts` per code lifetime and
/// `otp.daily_max_attempts` per 24 hours, however many codes are sent.
pub(crate) fn guess_budget(state: &AppState) -> GuessBudget {
    let otp = &state.settings.otp;
    GuessBudget {
        per_window: otp.max_attempts,
        window: otp.ttl(),
        per_day: otp.daily_max_attempts,
    }
}

/// Sends a six-digit code to `phone` (valid `otp.ttl_secs`), asked for from client address
/// `ip`. Refused with 429 `code_cool_down` within `otp.cool_down_secs` of the last code to the
/// phone, 429 `daily_limit` past `otp.daily_per_phone` or `otp.daily_per_client` codes in 24
/// hours (a window opened by the first code counted), both with `Retry-After`. When the sender
/// fails the code is discarded, the cool-down and daily counts are taken back, and the answer is
/// 503 `sms_unavailable`.
pub async fn send_code(state: &AppState, phone: &PhoneNumber, ip: &str) -> ApiResult<CodeSent> {
    let limits = &state.settings.rate_limits.otp;
    let account = keyed(state, "phone", phone.expose());
    let buckets = [
        (&format!("otp:ip:{ip}")[..], limits.per_ip),
        (&format!("otp:acct:{account}")[..], limits.per_account),
    ];
    rate_limit(state, &buckets, false).await?;
    let otp = &state.settings.otp;
    let cool_down = format!("otp:cool:{account}");
    let mut counted: Vec<String> = Vec::with_capacity(3);
    if otp.cool_down_secs > 0 {
        if let RateDecision::Limited { retry_after } =
            state.shared.hit(&cool_down, 1, otp.cool_down()).await?
        {
            return Err(ApiError::RateLimited {
                code: "code_cool_down",
                retry_after: seconds(retry_after),
            });
        }
        counted.push(cool_down);
    }
    let (per_phone, per_client) = (
        format!("otp:day:acct:{account}"),
        format!("otp:day:ip:{ip}"),
    );
    let daily = [
        (&per_phone[..], otp.daily_per_phone),
        (&per_client[..], otp.daily_per_client),
    ];
    let decision = state.shared.hit_all(&daily, GuessBudget::DAY).await;
    counted.extend([per_phone.clone(), per_client.clone()]);
    match decision {
        Ok(RateDecision::Allowed { .. }) => {}
        Ok(RateDecision::Limited { retry_after }) => {
            take_back(state, &counted[..counted.len() - 2]).await;
            return Err(ApiError::RateLimited {
                code: "daily_limit",
                retry_after: seconds(retry_after),
            });
        }
        Err(e) => {
            take_back(state, &counted[..counted.len() - 2]).await;
            return Err(e.into());
        }
    }
    let code = new_code();
    let hashed = keyed(state, "otp", &code);
    if let Err(e) = state
        .shared
        .put_otp(&account, &hashed, otp.ttl(), otp.max_attempts)
        .await
    {
        take_back(state, &counted).await;
        return Err(e.into());
    }
    let sent = state.sender.send(phone, &code).await;
    state.metrics.observe_login_code(sent.is_ok());
    if let Err(e) = sent {
        // No usable code is left behind: the phone never got it.
        if let Err(err) = state.shared.delete_otp(&account).await {
            tracing::error!(error = %err, "an undelivered login code could not be discarded");
        }
        take_back(state, &counted).await;
        return Err(e.into());
    }
    Ok(CodeSent {
        retry_after_secs: otp.cool_down_secs,
        next_code_at: Utc::now()
            + chrono::Duration::seconds(i64::try_from(otp.cool_down_secs).unwrap_or(i64::MAX / 2)),
    })
}

/// Whole seconds to wait, at least 1 (for `Retry-After`).
fn seconds(d: std::time::Duration) -> u64 {
    d.as_secs_f64().ceil().max(1.0) as u64
}

/// Takes back the hits a code that was not sent had counted (best effort: a failure only makes
/// the limits stricter).
async fn take_back(state: &AppState, buckets: &[String]) {
    for bucket in buckets {
        if let Err(e) = state.shared.unhit(bucket).await {
            tracing::warn!(error = %e, "a limit count could not be taken back");
        }
    }
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
        OtpCheck::TooManyAttempts { retry_after } => Err(ApiError::RateLimited {
            code: "too_many_attempts",
            retry_after: seconds(retry_after),
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
        .check_code(
            &account,
            &keyed(state, "otp", &login.code),
            &guess_budget(state),
        )
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

/// The one answer to every refused password login: unknown username, wrong password, disabled
/// account (a throttled pair gets the one 429 instead, whatever the account).
const STAFF_LOGIN_REFUSED: &str = "unknown username or wrong password";

/// The throttle policy of the settings.
fn throttle_policy(state: &AppState) -> ThrottlePolicy {
    let auth = &state.settings.auth;
    let cap = std::time::Duration::from_secs(auth.throttle_max_secs);
    ThrottlePolicy {
        free: auth.throttle_after_failures,
        base: std::time::Duration::from_millis(auth.throttle_base_ms),
        cap,
        memory: cap.max(std::time::Duration::from_secs(15 * 60)),
    }
}

/// Runs an argon2 verification in one of the `auth.max_concurrent_hashes` slots, waiting at most
/// `auth.hash_wait_ms` for one (else 429 `busy`): at most that many 19 MiB buffers at once, on
/// the service's hashing threads ([`crate::auth::hash_pool`]).
pub async fn with_hash_slot<T: Send + 'static>(
    state: &AppState,
    work: impl FnOnce() -> T + Send + 'static,
) -> ApiResult<T> {
    let slot = tokio::time::timeout(state.settings.auth.hash_wait(), state.hash_slots.acquire())
        .await
        .map_err(|_| ApiError::RateLimited {
            code: "busy",
            retry_after: 1,
        })?
        .map_err(|_| ApiError::Unavailable("the service is shutting down"))?;
    let result = state
        .hash_pool
        .run(work)
        .await
        .ok_or(ApiError::Unavailable("the service is shutting down"))?;
    drop(slot);
    Ok(result)
}

/// The throttle key of `username` from `ip` (a keyed hash: no username or address in the shared
/// store). A known account's key includes its throttle generation, which `unlock` replaces.
async fn throttle_key(
    state: &AppState,
    username: &str,
    account: Option<&staff::Model>,
    ip: &str,
) -> ApiResult<String> {
    let generation = match account {
        Some(a) => state
            .shared
            .cache_get(&throttle_generation_key(a.id))
            .await?
            .map(hex::encode)
            .unwrap_or_default(),
        None => String::new(),
    };
    Ok(keyed(
        state,
        "staff-login-throttle",
        &format!("{username}\0{generation}\0{ip}"),
    ))
}

/// Counts a wrong password of `account`; when the count from all addresses reaches
/// `auth.failure_alarm`, an audit entry `staff.login_failures` says so (the account stays usable:
/// the throttle slows each address down instead).
async fn failed_password(state: &AppState, account: &staff::Model) -> ApiResult<()> {
    let now = Utc::now();
    let txn = state.store.begin().await?;
    let failures = staff::record_failed_login(&txn, account.id).await?;
    if i64::from(failures) == i64::from(state.settings.auth.failure_alarm) {
        let detail = json!({ "failures": failures, "username": account.username });
        let subject = format!("staff:{}", account.id);
        let entry = audit::NewEntry::new("system", "staff.login_failures", subject, detail);
        audit::commit_with_audit(txn, entry, now).await?;
    } else {
        txn.commit().await?;
    }
    Ok(())
}

/// A staff password login (argon2id). Refused logins all get one 401 — unknown username, wrong
/// password, disabled account — after one argon2 verification each (an unknown username is
/// checked against a dummy hash). Failures are throttled per (username, client address): after
/// `auth.throttle_after_failures` the pair waits 1 s, 2 s, 4 s … up to `auth.throttle_max_secs`
/// (429 `login_throttled` with `Retry-After`), so another address can still log in.
pub async fn staff(state: &AppState, body: StaffLoginBody, ip: &str) -> ApiResult<Tokens> {
    let limits = &state.settings.rate_limits.login;
    rate_limit(
        state,
        &[(&format!("staff-login:ip:{ip}")[..], limits.per_ip)],
        false,
    )
    .await?;
    let username = body.username.trim().to_owned();
    let account = staff::find_by_username(state.store.conn(), &username).await?;
    let key = throttle_key(state, &username, account.as_ref(), ip).await?;
    if let Some(wait) = state.shared.throttle_wait(&key).await? {
        return Err(ApiError::RateLimited {
            code: "login_throttled",
            retry_after: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
        });
    }
    let password_text = body.password;
    let stored = account.as_ref().map(|a| a.password_hash.clone());
    let verified = with_hash_slot(state, move || match stored {
        Some(stored) => password::verify(&password_text, &stored),
        None => {
            password::verify_against_nothing(&password_text);
            false
        }
    })
    .await?;
    let account = match account {
        Some(account) if verified && !account.is_disabled() => account,
        other => {
            state
                .shared
                .throttle_fail(&key, &throttle_policy(state))
                .await?;
            if let Some(account) = other.filter(|_| !verified) {
                failed_password(state, &account).await?;
            }
            return Err(ApiError::Unauthorized(STAFF_LOGIN_REFUSED));
        }
    };
    let principal = session::staff_principal(&account)
        .ok_or(ApiError::Forbidden("the account's role is incomplete"))?;
    let txn = state.store.begin().await?;
    staff::reset_failed_logins(&txn, account.id).await?;
    let tokens = session::issue(state, &txn, principal, None).await?;
    txn.commit().await?;
    if let Err(e) = state.shared.throttle_clear(&key).await {
        tracing::warn!(error = %e, "could not clear a login throttle");
    }
    Ok(tokens)
}

/// Forgets the password failures of every address for account `id` (`unlock`): its throttle
/// generation is replaced, so every throttle key of the account changes.
pub async fn forget_throttles(
    shared: &dyn crate::shared_state::SharedState,
    id: i64,
) -> ApiResult<()> {
    let mut generation = [0u8; 16];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut generation);
    shared
        .cache_set(
            &throttle_generation_key(id),
            &generation,
            std::time::Duration::from_secs(400 * 24 * 3600),
        )
        .await?;
    Ok(())
}

/// Logs out: revokes the family of `refresh_token` (which must be the caller's); with
/// `everywhere`, every refresh family of the caller, and raises the caller's revocation epoch so
/// the access tokens already issued stop working too (audited either way).
pub async fn logout(
    state: &AppState,
    principal: &Principal,
    refresh_token: Option<&str>,
    everywhere: bool,
) -> ApiResult<LoggedOut> {
    let now = Utc::now();
    let subject = subject_name(principal);
    let txn = state.store.begin().await?;
    if everywhere {
        let revoked = refresh_tokens::revoke_subject(&txn, &subject, now).await?;
        let epoch = revocations::bump(&txn, &subject, now).await?;
        let detail = json!({ "revoked_refresh_tokens": revoked, "epoch": epoch });
        let entry = audit::NewEntry::new(
            subject.clone(),
            "auth.logout_everywhere",
            subject.clone(),
            detail,
        );
        audit::commit_with_audit(txn, entry, now).await?;
        state
            .revocations
            .publish(state.shared.as_ref(), &subject, epoch)
            .await;
        return Ok(LoggedOut {
            revoked_refresh_tokens: revoked,
            everywhere: true,
        });
    }
    let not_yours = || {
        ApiError::invalid(
            "invalid_refresh_token",
            "refresh_token",
            "this is not a refresh token of the caller's",
        )
    };
    let text = refresh_token.ok_or_else(|| {
        ApiError::invalid(
            "missing_field",
            "refresh_token",
            "`refresh_token` is required unless `everywhere` is true",
        )
    })?;
    let token = refresh_tokens::find_by_hash(&txn, &refresh_tokens::hash_token(text.trim()))
        .await?
        .filter(|t| t.subject == subject)
        .ok_or_else(not_yours)?;
    let revoked = refresh_tokens::revoke_family(&txn, &token.family, now).await?;
    let detail = json!({ "family": token.family, "revoked_refresh_tokens": revoked });
    let entry = audit::NewEntry::new(subject.clone(), "auth.logout", subject, detail);
    audit::commit_with_audit(txn, entry, now).await?;
    Ok(LoggedOut {
        revoked_refresh_tokens: revoked,
        everywhere: false,
    })
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
    let tokens = session::issue(state, &txn, principal, Some(&token)).await?;
    txn.commit().await?;
    Ok(tokens)
}
