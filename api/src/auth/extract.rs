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

    /// The officer, or 403.
    pub fn officer(&self) -> Result<Officer, ApiError> {
        match self.0 {
            Principal {
                subject: Subject::Staff(staff_id),
                role: Role::Officer(district),
            } => Ok(Officer { staff_id, district }),
            _ => Err(ApiError::Forbidden("officers only")),
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

/// An officer of a district's public-security bureau (SPEC §0): acts only in that district.
#[derive(Debug, Clone, Copy)]
pub struct Officer {
    /// The staff account.
    pub staff_id: i64,
    /// The officer's district.
    pub district: District,
}

impl Officer {
    /// `Ok` when `district` is the officer's own, else 403 (SPEC §4: officers act only in their
    /// own district).
    pub fn acts_in(&self, district: District) -> Result<(), ApiError> {
        if district == self.district {
            Ok(())
        } else {
            Err(ApiError::Forbidden(
                "officers act only in their own district",
            ))
        }
    }

    /// The audit-log name: `staff:3`.
    pub fn actor(&self) -> String {
        format!("staff:{}", self.staff_id)
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
