//! `ApiError`: the only place an HTTP status is chosen. Errors are RFC 9457
//! `application/problem+json` bodies whose `type` is a stable code (a relative URI reference) and
//! whose `field` names the offending input; unexpected failures are an opaque 500 whose cause is
//! logged, never shown.
//!
//! Every error a handler meets converts here with `?`, the same way in every route:
//!
//! | from | becomes |
//! | --- | --- |
//! | [`StoreError::NotFound`] | 404 `not_found` |
//! | [`StoreError::Conflict`] (a unique constraint) | 409 `conflict` |
//! | [`StoreError::Unavailable`], [`SharedStateError::Unavailable`] | 503 `service_unavailable` with `Retry-After` |
//! | [`SendError`](crate::auth::code_sender::SendError) (the SMS gateway failed) | 503 `sms_unavailable` with `Retry-After` |
//! | [`policy::Error`] (a rule refused well-formed input) | 422 with the rule's code |
//! | anything else ([`StoreError::Corrupt`], [`KeyError`], [`crypto::Error`], [`TokenError`], …) | opaque 500, cause chain logged |
//!
//! A workflow that expects a particular conflict (say, a second approval) matches it before `?`
//! and answers with its own code.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde_json::{Map, Value, json};

use crate::auth::jwt::TokenError;
use crate::keys::KeyError;
use crate::shared_state::SharedStateError;
use crate::store::StoreError;

/// The media type of problem documents.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Seconds a client is told to wait (`Retry-After`) when a dependency is down.
pub const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 5;

/// Seconds a client is told to wait (`Retry-After`) when the SMS gateway failed.
pub const SMS_RETRY_AFTER_SECS: u64 = 10;

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Bad input: a field is missing or malformed (400) — or well-formed but refused by a rule
    /// (422, `unprocessable`).
    #[error("{code}: {detail}")]
    Invalid {
        /// Stable code, e.g. `invalid_id_number`.
        code: &'static str,
        /// The field at fault, if one is.
        field: Option<&'static str>,
        /// What is wrong, for people; never personal data.
        detail: String,
        /// 400 or 422.
        unprocessable: bool,
        /// Extra members of the problem document (e.g. the unmet conditions, a window's dates).
        extra: Map<String, Value>,
    },
    /// No valid credentials (401).
    #[error("unauthorized: {0}")]
    Unauthorized(&'static str),
    /// Authenticated but not allowed (403).
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// Nothing there — or nothing the caller may see (404).
    #[error("not_found: {0}")]
    NotFound(&'static str),
    /// The path exists but does not serve this method (405 `method_not_allowed`, with `Allow`
    /// listing the methods it serves, as the OpenAPI document does).
    #[error("method_not_allowed")]
    MethodNotAllowed {
        /// The `Allow` header's value, e.g. `GET, POST`.
        allow: String,
    },
    /// The state does not allow it, or it exists already (409).
    #[error("{code}: {detail}")]
    Conflict {
        /// Stable code.
        code: &'static str,
        /// For people.
        detail: String,
    },
    /// Too many attempts (429).
    #[error("{code}")]
    RateLimited {
        /// Stable code: `rate_limited`, `account_locked`, `too_many_attempts`.
        code: &'static str,
        /// Seconds until the next attempt may succeed.
        retry_after: u64,
    },
    /// The body is larger than allowed (413).
    #[error("{code}: {detail}")]
    PayloadTooLarge {
        /// Stable code: `payload_too_large`, `evidence_too_large`.
        code: &'static str,
        /// For people.
        detail: String,
    },
    /// A dependency (the database, the shared store) is down (503 `service_unavailable`, with
    /// `Retry-After`).
    #[error("service_unavailable: {0}")]
    Unavailable(&'static str),
    /// The login code could not be delivered: the SMS gateway failed, timed out or refused
    /// (503 `sms_unavailable`, with `Retry-After`). No usable code is left behind.
    #[error("sms_unavailable")]
    SmsUnavailable,
    /// Anything unexpected (500): logged with its cause chain, shown as an opaque problem.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    /// A 400 naming the field.
    pub fn invalid(code: &'static str, field: &'static str, detail: impl Into<String>) -> Self {
        ApiError::Invalid {
            code,
            field: Some(field),
            detail: detail.into(),
            unprocessable: false,
            extra: Map::new(),
        }
    }

    /// A 422: well-formed input refused by a rule.
    pub fn unprocessable(
        code: &'static str,
        field: Option<&'static str>,
        detail: impl Into<String>,
    ) -> Self {
        ApiError::Invalid {
            code,
            field,
            detail: detail.into(),
            unprocessable: true,
            extra: Map::new(),
        }
    }

    /// Names `field` as the input at fault of an `Invalid` error (e.g. a rule of `policy` that
    /// refused one field).
    pub fn at(mut self, at: &'static str) -> Self {
        if let ApiError::Invalid { field, .. } = &mut self {
            *field = Some(at);
        }
        self
    }

    /// Adds a member to the problem document of an `Invalid` error.
    pub fn with(mut self, key: &str, value: Value) -> Self {
        if let ApiError::Invalid { extra, .. } = &mut self {
            extra.insert(key.to_owned(), value);
        }
        self
    }

    /// A 409.
    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        ApiError::Conflict {
            code,
            detail: detail.into(),
        }
    }

    /// A 500 from any error.
    pub fn internal(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        ApiError::Internal(Box::new(e))
    }

    /// The stable code of the problem.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Invalid { code, .. }
            | ApiError::Conflict { code, .. }
            | ApiError::RateLimited { code, .. }
            | ApiError::PayloadTooLarge { code, .. } => code,
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed { .. } => "method_not_allowed",
            ApiError::Unavailable(_) => "service_unavailable",
            ApiError::SmsUnavailable => "sms_unavailable",
            ApiError::Internal(_) => "internal",
        }
    }

    fn detail(&self) -> String {
        match self {
            ApiError::Invalid { detail, .. } | ApiError::Conflict { detail, .. } => detail.clone(),
            ApiError::Unauthorized(d)
            | ApiError::Forbidden(d)
            | ApiError::NotFound(d)
            | ApiError::Unavailable(d) => (*d).to_owned(),
            ApiError::PayloadTooLarge { detail, .. } => detail.clone(),
            ApiError::MethodNotAllowed { allow } => {
                format!("this path serves {allow} only; see /openapi.json")
            }
            ApiError::SmsUnavailable => {
                "the login code could not be sent by SMS; no code was issued, ask again shortly"
                    .to_owned()
            }
            ApiError::RateLimited { retry_after, .. } => {
                format!("too many attempts; retry in {retry_after} s")
            }
            ApiError::Internal(_) => "an unexpected error occurred; it has been logged".to_owned(),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Invalid {
                unprocessable: false,
                ..
            } => StatusCode::BAD_REQUEST,
            ApiError::Invalid {
                unprocessable: true,
                ..
            } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Unavailable(_) | ApiError::SmsUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if let ApiError::Internal(cause) = self {
            let mut chain = cause.to_string();
            let mut source = cause.source();
            while let Some(s) = source {
                chain.push_str(": ");
                chain.push_str(&s.to_string());
                source = s.source();
            }
            tracing::error!(error = %chain, "internal error");
        }
        let mut body = json!({
            "type": self.code(),
            "title": status.canonical_reason().unwrap_or("error"),
            "status": status.as_u16(),
            "detail": self.detail(),
        });
        if let (Some(obj), ApiError::Invalid { field, extra, .. }) = (body.as_object_mut(), self) {
            if let Some(field) = field {
                obj.insert("field".into(), json!(field));
            }
            obj.extend(extra.clone());
        }
        let mut response = HttpResponse::build(status);
        response.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
        match self {
            ApiError::RateLimited { retry_after, .. } => {
                response.insert_header((header::RETRY_AFTER, retry_after.to_string()));
            }
            ApiError::Unavailable(_) => {
                response.insert_header((
                    header::RETRY_AFTER,
                    UNAVAILABLE_RETRY_AFTER_SECS.to_string(),
                ));
            }
            ApiError::SmsUnavailable => {
                response.insert_header((header::RETRY_AFTER, SMS_RETRY_AFTER_SECS.to_string()));
            }
            ApiError::MethodNotAllowed { allow } => {
                response.insert_header((header::ALLOW, allow.clone()));
            }
            _ => {}
        }
        if let ApiError::Unauthorized(_) = self {
            response.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
        }
        response.body(body.to_string())
    }
}

/// Results of request handlers.
pub type ApiResult<T> = Result<T, ApiError>;

const DATABASE_DOWN: &str = "the database is unavailable; try again shortly";
const SHARED_STORE_DOWN: &str = "the shared store is unavailable; try again shortly";

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => ApiError::NotFound(what),
            StoreError::Conflict(_) => {
                ApiError::conflict("conflict", "the change conflicts with stored data")
            }
            StoreError::Unavailable(_) => ApiError::Unavailable(DATABASE_DOWN),
            other => ApiError::internal(other),
        }
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(e: sea_orm::DbErr) -> Self {
        StoreError::from(e).into()
    }
}

impl From<SharedStateError> for ApiError {
    fn from(e: SharedStateError) -> Self {
        match e {
            SharedStateError::Unavailable(_) => ApiError::Unavailable(SHARED_STORE_DOWN),
            other => ApiError::internal(other),
        }
    }
}

impl From<crate::auth::code_sender::SendError> for ApiError {
    fn from(e: crate::auth::code_sender::SendError) -> Self {
        // The sender logged the cause (without the phone number); the client learns only that
        // no code was sent.
        tracing::warn!(error = %e, "login code not delivered");
        ApiError::SmsUnavailable
    }
}

impl From<KeyError> for ApiError {
    fn from(e: KeyError) -> Self {
        match e {
            KeyError::Store(e) => e.into(),
            other => ApiError::internal(other),
        }
    }
}

impl From<policy::Error> for ApiError {
    fn from(e: policy::Error) -> Self {
        ApiError::unprocessable(e.code(), None, e.to_string())
    }
}

impl From<crypto::Error> for ApiError {
    fn from(e: crypto::Error) -> Self {
        ApiError::internal(e)
    }
}

impl From<TokenError> for ApiError {
    fn from(e: TokenError) -> Self {
        ApiError::internal(e)
    }
}

impl From<crate::qr_image::QrImageError> for ApiError {
    fn from(e: crate::qr_image::QrImageError) -> Self {
        ApiError::internal(e)
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        ApiError::internal(e)
    }
}

#[cfg(test)]
mod tests;
