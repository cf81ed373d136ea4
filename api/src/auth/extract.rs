//! The `Auth` extractor: the bearer token's principal, or a 401 problem. Role checks are methods
//! here so every handler states what it needs in one line.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use policy::District;

use crate::auth::jwt::{OrgKind, Principal, Role, Subject};
use crate::error::ApiError;
use crate::state::AppState;

/// An authenticated caller.
#[derive(Debug, Clone, Copy)]
pub struct Auth(pub Principal);

impl Auth {
    /// The resident's id, or 403 for any other role.
    pub fn resident(&self) -> Result<i64, ApiError> {
        match self.0 {
            Principal {
                subject: Subject::Resident(id),
                role: Role::Resident,
            } => Ok(id),
            _ => Err(ApiError::Forbidden("residents only")),
        }
    }

    /// The officer's (staff id, district), or 403.
    pub fn officer(&self) -> Result<(i64, District), ApiError> {
        match self.0 {
            Principal {
                subject: Subject::Staff(id),
                role: Role::Officer(d),
            } => Ok((id, d)),
            _ => Err(ApiError::Forbidden("officers only")),
        }
    }

    /// The officer's (staff id, district) when it is `district`, else 403.
    pub fn officer_of(&self, district: District) -> Result<i64, ApiError> {
        match self.officer()? {
            (id, d) if d == district => Ok(id),
            _ => Err(ApiError::Forbidden(
                "officers act only in their own district",
            )),
        }
    }

    /// The verifier's (staff id, organisation kind), or 403.
    pub fn verifier(&self) -> Result<(i64, OrgKind), ApiError> {
        match self.0 {
            Principal {
                subject: Subject::Staff(id),
                role: Role::Verifier(k),
            } => Ok((id, k)),
            _ => Err(ApiError::Forbidden("verifiers only")),
        }
    }

    /// The admin's staff id, or 403.
    pub fn admin(&self) -> Result<i64, ApiError> {
        match self.0 {
            Principal {
                subject: Subject::Staff(id),
                role: Role::Admin,
            } => Ok(id),
            _ => Err(ApiError::Forbidden("administrators only")),
        }
    }

    /// The audit-log name of the caller: `resident:12`, `staff:3`.
    pub fn actor(&self) -> String {
        match self.0.subject {
            Subject::Resident(id) => format!("resident:{id}"),
            Subject::Staff(id) => format!("staff:{id}"),
        }
    }
}

fn authenticate(req: &HttpRequest) -> Result<Auth, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::Unavailable("service state missing"))?;
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or(ApiError::Unauthorized(
            "send Authorization: Bearer <access token>",
        ))?;
    state
        .jwt
        .verify(token.trim())
        .map(Auth)
        .map_err(|_| ApiError::Unauthorized("the access token is invalid or expired"))
}

impl FromRequest for Auth {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticate(req))
    }
}
