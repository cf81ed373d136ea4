//! Logging in on the wire (SPEC §4 "Auth").

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::PhoneNumber;
use crate::error::{ApiError, ApiResult};

/// `POST /v1/auth/otp`: `{phone}`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct OtpBody {
    /// A mainland mobile number; `+86`, spaces and dashes are dropped.
    #[schema(schema_with = super::schema::phone)]
    pub phone: String,
}

/// A phone number from a body, or a 400 `invalid_phone`.
fn phone(text: &str) -> ApiResult<PhoneNumber> {
    PhoneNumber::parse(text).map_err(|e| ApiError::invalid("invalid_phone", "phone", e.to_string()))
}

impl TryFrom<OtpBody> for PhoneNumber {
    type Error = ApiError;

    fn try_from(body: OtpBody) -> ApiResult<Self> {
        phone(&body.phone)
    }
}

/// `POST /v1/auth/otp` → 202.
#[derive(Debug, Serialize, ToSchema)]
pub struct OtpSent {
    /// Always `true`.
    pub sent: bool,
    /// Seconds the code stays valid.
    pub expires_in: u64,
    /// Seconds until another code may be asked for (earlier is 429 `code_cool_down`).
    #[schema(example = 60)]
    pub retry_after_secs: u64,
    /// When another code may be asked for (RFC 3339).
    pub next_code_at: chrono::DateTime<chrono::Utc>,
}

/// `POST /v1/auth/login`: `{phone, code}`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginBody {
    /// The phone the code was sent to.
    #[schema(schema_with = super::schema::phone)]
    pub phone: String,
    /// The six-digit code.
    #[schema(schema_with = super::schema::one_time_code)]
    pub code: String,
}

/// A login, parsed.
#[derive(Debug)]
pub struct Login {
    /// The phone.
    pub phone: PhoneNumber,
    /// The six digits.
    pub code: String,
}

/// A one-time code from a body (six digits, trimmed), or a 400 `invalid_code`.
pub fn one_time_code(text: &str) -> ApiResult<String> {
    let code = text.trim();
    if code.len() != super::schema::ONE_TIME_CODE_DIGITS
        || !code.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(ApiError::invalid(
            "invalid_code",
            "code",
            "the code is six digits",
        ));
    }
    Ok(code.to_owned())
}

impl TryFrom<LoginBody> for Login {
    type Error = ApiError;

    fn try_from(body: LoginBody) -> ApiResult<Self> {
        Ok(Login {
            phone: phone(&body.phone)?,
            code: one_time_code(&body.code)?,
        })
    }
}

/// `POST /v1/auth/staff-login`: `{username, password}`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct StaffLoginBody {
    /// The account's username.
    pub username: String,
    /// Its password.
    #[schema(format = Password)]
    pub password: String,
}

/// `POST /v1/auth/refresh`: `{refresh_token}`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RefreshBody {
    /// The refresh token of the last login or refresh (single use).
    pub refresh_token: String,
}

/// Access and refresh tokens: what a login or a refresh returns.
#[derive(Debug, Serialize, ToSchema)]
pub struct Tokens {
    /// The bearer token (EdDSA JWT).
    pub access_token: String,
    /// Always `Bearer`.
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// The opaque refresh token (single use; rotates).
    pub refresh_token: String,
}

/// `POST /v1/auth/logout`: `{refresh_token}` ends that login; `{"everywhere": true}` ends every
/// login of the caller and stops its access tokens.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LogoutBody {
    /// The refresh token of the login to end (required unless `everywhere`).
    #[serde(default)]
    pub refresh_token: Option<String>,
    /// End every login of the caller and revoke its access tokens already issued.
    #[serde(default)]
    pub everywhere: bool,
}

/// `POST /v1/auth/logout` → 200.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoggedOut {
    /// Refresh tokens revoked by this call.
    pub revoked_refresh_tokens: u64,
    /// Whether every login of the caller was ended (and its access tokens revoked).
    pub everywhere: bool,
}
