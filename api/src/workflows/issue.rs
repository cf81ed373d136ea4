//! Issuing a permit (核发, SPEC §1.3): an officer of the applied-to district approves an
//! application; the permit is numbered, signed by the district's key and put on the status list.

use chrono::{Datelike, Utc};
use policy::PermitNumber;
use serde_json::json;

use crate::auth::extract::Officer;
use crate::error::{ApiError, ApiResult};
use crate::issuance;
use crate::state::AppState;
use crate::store::{self, StoreError, applications, audit, permits, residences, residents};
use crate::workflows::application::{already_decided, check_conditions};
use crate::workflows::lock_resident;

/// Approves application `id` and issues its permit. Approving twice, or concurrently, issues one
/// permit (409 `application_decided` for the others); an applicant who holds a permit of this
/// district already is refused (409 `permit_held`), and so is a district out of numbers for the
/// year (409 `permit_numbers_exhausted`). A permit held from another district (the holder moved)
/// is superseded by this one.
///
/// SPEC §1.2 binds on the approval day too: the applicant's confirmed registrations are read
/// again under the resident's lock (so a registration ended meanwhile, or concurrently, is seen)
/// and an application no longer allowed is 422 `application_refused` naming each unmet condition
/// — nothing is written, the application stays submitted, to be rejected with a reason. A
/// registration whose days no credential can carry is 422 `date_before_1970`
/// ([`issuance::carried_periods_of`]), likewise with nothing written.
pub async fn approve(state: &AppState, officer: Officer, id: i64) -> ApiResult<permits::Model> {
    let now = Utc::now();
    let txn = state.store.begin().await?;
    let application = applications::get(&txn, id).await?;
    let district = store::district(application.district, "applications")?;
    officer.acts_in(district)?;
    if application.status != applications::Status::Submitted {
        return Err(already_decided());
    }
    let holder = lock_resident(&txn, application.resident_id).await?;
    let earlier = issuance::no_permit_held(&txn, application.resident_id, district).await?;
    let issued_on = policy::calendar::day_in_shanghai(now);
    let registrations = residences::list_by_resident(&txn, application.resident_id).await?;
    let periods = issuance::periods_of(&registrations);
    let lapses = issuance::lapses_left_by(&txn, earlier.as_ref(), issued_on).await?;
    let conditions = policy::Application {
        date: issued_on,
        district,
        periods: &periods,
        lapses: &lapses,
        basis: Some(application.basis.into()),
        has_evidence: !application.evidence_sha256.is_empty(),
    };
    check_conditions(
        &conditions,
        Some(district),
        "on the approval day the application no longer meets SPEC §1.2: reject it with a reason",
    )?;
    let decision = applications::Decision::Approve;
    if !applications::decide(&txn, id, decision, officer.staff_id, now).await? {
        return Err(already_decided());
    }
    let year = issued_on.year();
    let seq = permits::allocate_number(&txn, application.district, year).await?;
    let number = u16::try_from(year)
        .ok()
        .zip(u32::try_from(seq).ok())
        .and_then(|(year, seq)| PermitNumber::new(district, year, seq).ok())
        .ok_or_else(|| {
            ApiError::conflict(
                "permit_numbers_exhausted",
                "no permit number is left this year",
            )
        })?;
    let calendar = policy::EndorsementCalendar::new(issued_on, &[])?;
    let new = permits::NewPermit {
        number: number.to_string(),
        application_id: id,
        resident_id: application.resident_id,
        district: application.district,
        issued_on,
        valid_until: calendar.next_anniversary(),
        credential: String::new(),
    };
    let permit = permits::insert(&txn, new).await.map_err(|e| match e {
        StoreError::Conflict(_) => already_decided(),
        e => e.into(),
    })?;
    // Read in this transaction under the holder's lock: what the credential is signed from.
    let records = issuance::Records {
        holder: residents::open(state.store.sealer()?, holder)?,
        registrations,
        calendar,
    };
    let permit = issuance::sign_first(state, &txn, permit, &records, now).await?;
    if let Some(earlier) = &earlier {
        issuance::supersede(&txn, earlier, &permit, now).await?;
    }
    let entry = audit::NewEntry::new(
        officer.actor(),
        "permit.issue",
        permit.number.clone(),
        json!({ "application": id }),
    );
    audit::commit_with_audit(txn, entry, now).await?;
    state.lists.changed();
    Ok(permit)
}
