//! The `Auth` extractor: the bearer token's principal, or a 401 problem. Role checks are methods
//! here so every handler states what it needs in one line. A token whose account was revoked
//! since it was issued (a disabled officer, a logout everywhere) is refused like an expired one,
//! within the bound stated in [`crate::auth::revocation`].

use std::future::Future;
use std::pin::Pin;

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

/// The subject name of a principal: `resident:12`, `staff:3` (as tokens and audit entries say).
pub fn subject_name(principal: &Principal) -> String {
    match principal.subject {
        Subject::Resident(id) => format!("resident:{id}"),
        Subject::Staff(id) => format!("staff:{id}"),
    }
}

async fn authenticate(
    state: Option<web::Data<AppState>>,
    token: Option<String>,
) -> Result<Auth, ApiError> {
    let state = state.ok_or_else(|| ApiError::Unavailable("service state missing"))?;
    let token = token.ok_or(ApiError::Unauthorized(
        "send Authorization: Bearer <access token>",
    ))?;
    let refused = || ApiError::Unauthorized("the access token is invalid or expired");
    let (principal, epoch) = state
        .jwt
        .verify_with_epoch(token.trim())
        .map_err(|_| refused())?;
    let current = state
        .revocations
        .current(
            state.shared.as_ref(),
            &state.store,
            &subject_name(&principal),
        )
        .await?;
    if epoch < current {
        return Err(refused());
    }
    Ok(Auth(principal))
}

impl FromRequest for Auth {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::to_owned);
        Box::pin(authenticate(state, token))
    }
}
