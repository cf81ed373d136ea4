//! Permit applications (网上申领, SPEC §1.2) and their rejection (§1.3). Approval issues the
//! permit and lives in [`super::issue`].

use actix_web::http::StatusCode;
use chrono::Utc;
use policy::District;
use serde_json::json;

use crate::auth::extract::Officer;
use crate::domain::Reason;
use crate::error::{ApiError, ApiResult};
use crate::idempotency::{self, Claim};
use crate::issuance;
use crate::store::applications::{self, Decision, Status};
use crate::store::{self, Store, audit, evidence, residences, residents};
use crate::wire::applications::{ApplicationView, Submission};
use crate::workflows::{lock_resident, resident_actor};

/// The district an application without one goes to: the resident's open registration, the
/// confirmed one if there is one.
fn current_district(registrations: &[residences::Model]) -> Option<District> {
    let open = |status| {
        registrations
            .iter()
            .rev()
            .find(|r| r.end_date.is_none() && r.status == status)
            .and_then(|r| District::try_from(r.district).ok())
    };
    open(residences::Status::Confirmed).or_else(|| open(residences::Status::Declared))
}

/// Checks and stores a submission (status `submitted`).
///
/// The profile (name and ID number) must be set (422 `profile_incomplete`); a resident holding an
/// active or suspended permit of the same district is refused (409 `permit_held`; one of another
/// district is superseded when this one is approved); §1.2 is checked on the applicant's
/// *confirmed* registrations and the closed lapses of a revoked earlier permit, and a refusal is
/// 422 `application_refused` listing every unmet condition with its dates; one application at a
/// time (409 `application_pending`).
///
/// With an `Idempotency-Key` (`claim`), the key is taken as the first write of the transaction
/// and [`submitted`]'s answer kept with it, so the key is spent exactly when the application is
/// stored ([`crate::idempotency`]).
pub async fn apply(
    store: &Store,
    resident: i64,
    submission: Submission,
    claim: Option<&Claim>,
) -> ApiResult<applications::Model> {
    let db = store.conn();
    let person = residents::get(db, resident).await?;
    if !person.has_profile() {
        return Err(ApiError::unprocessable(
            "profile_incomplete",
            Some("profile"),
            "set your name and ID number (PUT /v1/me) before applying",
        ));
    }
    let registrations = residences::list_by_resident(db, resident).await?;
    let periods = issuance::periods_of(&registrations);
    let district = submission
        .district
        .or_else(|| current_district(&registrations));
    let date = policy::calendar::today();
    // Without any open registration no district qualifies; any district gives the same verdict.
    let checked = district.unwrap_or(District::Wucheng);
    let earlier = issuance::no_permit_held(db, resident, checked).await?;
    let lapses = issuance::lapses_left_by(db, earlier.as_ref(), date).await?;
    let application = policy::Application {
        date,
        district: checked,
        periods: &periods,
        lapses: &lapses,
        basis: Some(submission.basis.into()),
        has_evidence: !submission.evidence.is_empty(),
    };
    check_conditions(
        &application,
        district,
        "the application does not meet SPEC §1.2",
    )?;
    let txn = store.begin().await?;
    let taken = idempotency::take(claim, &txn).await?;
    lock_resident(&txn, resident).await?;
    // Again under the lock: an approval may have landed since the first look.
    issuance::no_permit_held(&txn, resident, checked).await?;
    let pending = applications::list_by_resident(&txn, resident)
        .await?
        .into_iter()
        .any(|a| a.status == Status::Submitted);
    if pending {
        return Err(ApiError::conflict(
            "application_pending",
            "an application of yours is awaiting review",
        ));
    }
    let stored = evidence::put(
        &txn,
        store.sealer()?,
        submission.media_type,
        &submission.evidence,
    )
    .await?;
    let row = applications::insert(
        &txn,
        resident,
        checked.into(),
        submission.basis,
        &stored.sha256,
    )
    .await?;
    let entry = audit::NewEntry::new(
        resident_actor(resident),
        "application.submit",
        format!("application:{}", row.id),
        json!({
            "district": checked,
            "basis": submission.basis,
            "evidence_sha256": stored.sha256,
        }),
    );
    if let Some(taken) = taken {
        let (status, body) = submitted(&row);
        taken.keep(&txn, status, &body).await?;
    }
    audit::commit_with_audit(txn, entry, Utc::now()).await?;
    Ok(row)
}

/// The answer to a stored submission: 201 with the application (sent, and kept for its
/// `Idempotency-Key`).
pub fn submitted(row: &applications::Model) -> (StatusCode, ApplicationView) {
    (StatusCode::CREATED, ApplicationView::from(row.clone()))
}

/// SPEC §1.2 on `application.date`: a refusal is 422 `application_refused` listing every unmet
/// condition (`unmet`, each with its `condition` code and dates), with the `district` (as
/// asked for, `None` when none was) and the `date` judged on. `what` opens the detail. The one
/// check behind submitting ([`apply`]) and approving ([`super::issue::approve`], on the approval
/// day).
pub(crate) fn check_conditions(
    application: &policy::Application<'_>,
    district: Option<District>,
    what: &str,
) -> ApiResult<()> {
    policy::check_application(application).map_err(|unmet| {
        ApiError::unprocessable("application_refused", None, format!("{what}; see `unmet`"))
            .with("unmet", json!(unmet))
            .with("district", json!(district))
            .with("date", json!(application.date))
    })
}

/// The answer to deciding an application that is decided already.
pub fn already_decided() -> ApiError {
    ApiError::conflict(
        "application_decided",
        "this application has been decided already",
    )
}

/// An officer of its district rejects a submitted application with a reason the resident sees
/// (409 `application_decided` once decided).
pub async fn reject(
    store: &Store,
    officer: Officer,
    id: i64,
    reason: Reason,
) -> ApiResult<applications::Model> {
    let txn = store.begin().await?;
    let row = applications::get(&txn, id).await?;
    officer.acts_in(store::district(row.district, "applications")?)?;
    let now = Utc::now();
    let decision = Decision::Reject {
        reason: reason.into_string(),
    };
    if !applications::decide(&txn, id, decision, officer.staff_id, now).await? {
        return Err(already_decided());
    }
    let row = applications::get(&txn, id).await?;
    let entry = audit::NewEntry::new(
        officer.actor(),
        "application.reject",
        format!("application:{id}"),
        json!({ "district": row.district.to_string() }),
    );
    audit::commit_with_audit(txn, entry, now).await?;
    Ok(row)
}

/// The application `id` if the caller may see it: the applicant (others get 404), or an
/// officer of its district (other districts 403).
pub async fn visible(store: &Store, caller: Viewer, id: i64) -> ApiResult<applications::Model> {
    let row = applications::get(store.conn(), id).await?;
    match caller {
        Viewer::Resident(resident) if row.resident_id != resident => {
            Err(ApiError::NotFound("application"))
        }
        Viewer::Resident(_) => Ok(row),
        Viewer::Officer(officer) => {
            officer.acts_in(store::district(row.district, "applications")?)?;
            Ok(row)
        }
    }
}

/// Who looks at an application.
#[derive(Debug, Clone, Copy)]
pub enum Viewer {
    /// Its applicant (or another resident).
    Resident(i64),
    /// An officer.
    Officer(Officer),
}
