//! From database rows to a signed permit credential (SPEC §1.3, §1.4, §2): the one place where a
//! permit's claims are assembled, so issuing, binding a holder key and endorsing all sign the
//! same way — with the key of [`signing_district`] — and where a permit's history (periods,
//! lapses, the one-permit rule) is read back for the rules of `policy`.

use chrono::{DateTime, NaiveDate, Utc};
use crypto::masked_id::MaskedIdNumber;
use crypto::permit::{PermitClaims, StatusRef, expiry_instant};
use crypto::qr_text::{self, QrKind};
use policy::{District, DistrictCode, EndorsementCalendar, Lapse, Period, PermitNumber};
use sea_orm::ConnectionTrait;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::{endorsements, permits, residences, residents};

/// Which district's key signs a version of a permit (SPEC §1.4): the district where the holder
/// is registered (and confirmed) at signing time.
pub fn signing_district(registered: District) -> District {
    registered
}

/// The resident's confirmed registrations as policy periods (the only basis of residence time).
pub async fn confirmed_periods<C: ConnectionTrait>(
    db: &C,
    resident_id: i64,
) -> ApiResult<Vec<Period>> {
    let rows = residences::list_by_resident(db, resident_id).await?;
    Ok(periods_of(&rows))
}

/// The confirmed ones of `rows` as policy periods.
pub fn periods_of(rows: &[residences::Model]) -> Vec<Period> {
    rows.iter()
        .filter(|r| r.status == residences::Status::Confirmed)
        .filter_map(|r| {
            let code = DistrictCode::new(u32::try_from(r.district).ok()?).ok()?;
            Period::new(code, r.start_date, r.end_date).ok()
        })
        .collect()
}

/// One person holds one permit: a resident whose latest permit is active or suspended is refused
/// (409 `permit_held`: endorse it, or have it restored). Returns the latest permit when it was
/// revoked, whose lapses still count (SPEC §1.2 over §3).
pub async fn no_permit_held<C: ConnectionTrait>(
    db: &C,
    resident_id: i64,
) -> ApiResult<Option<permits::Model>> {
    let latest = permits::find_by_resident(db, resident_id).await?;
    match latest {
        Some(p) if p.status != permits::Status::Revoked => Err(ApiError::conflict(
            "permit_held",
            "a residence permit is held already: endorse it, or have it restored",
        )),
        revoked => Ok(revoked),
    }
}

/// The lapses an earlier, revoked permit leaves behind on `date`: those a late endorsement closed.
/// (A lapse still open at revocation ends with the permit: there is nothing left to endorse.)
pub async fn lapses_left_by<C: ConnectionTrait>(
    db: &C,
    revoked: Option<&permits::Model>,
    date: NaiveDate,
) -> ApiResult<Vec<Lapse>> {
    let Some(permit) = revoked else {
        return Ok(Vec::new());
    };
    Ok(lapses_of(db, permit, date)
        .await?
        .into_iter()
        .filter(|lapse| lapse.until().is_some())
        .collect())
}

/// The endorsement calendar of a permit: its issue day and its endorsements replayed.
pub async fn calendar_of<C: ConnectionTrait>(
    db: &C,
    permit: &permits::Model,
) -> ApiResult<EndorsementCalendar> {
    let days: Vec<NaiveDate> = endorsements::list_by_permit(db, permit.id)
        .await?
        .into_iter()
        .map(|e| e.day)
        .collect();
    // A stored history the calendar refuses is a corrupted one: a 500, not the caller's fault.
    EndorsementCalendar::new(permit.issued_on, &days).map_err(ApiError::internal)
}

/// The lapses of a permit as of `today`.
pub async fn lapses_of<C: ConnectionTrait>(
    db: &C,
    permit: &permits::Model,
    today: NaiveDate,
) -> ApiResult<Vec<Lapse>> {
    Ok(calendar_of(db, permit).await?.lapses(today))
}

/// Signs a new version of permit `id` as it is stored in `txn` now and stores it: the permit
/// as re-signed (after issuing, endorsing, binding a key).
pub async fn resign(
    state: &AppState,
    txn: &sea_orm::DatabaseTransaction,
    id: i64,
    now: DateTime<Utc>,
) -> ApiResult<permits::Model> {
    let permit = permits::get(txn, id).await?;
    let credential = sign_credential(state, txn, &permit, now).await?;
    permits::set_credential(txn, id, &credential).await?;
    Ok(permits::get(txn, id).await?)
}

/// Assembles the claims of `permit` as of `now` and signs them: the `EP1:` text.
pub async fn sign_credential<C: ConnectionTrait>(
    state: &AppState,
    db: &C,
    permit: &permits::Model,
    now: DateTime<Utc>,
) -> ApiResult<String> {
    let resident = residents::get(db, permit.resident_id).await?;
    let (Some(name), Some(id_number)) = (resident.name.as_deref(), resident.id_number.as_deref())
    else {
        return Err(ApiError::unprocessable(
            "profile_incomplete",
            None,
            "the holder's name and ID number are needed",
        ));
    };
    let current = residences::current_for_resident(db, permit.resident_id)
        .await?
        .filter(|r| r.status == residences::Status::Confirmed);
    let Some((residence, address)) =
        current.and_then(|r| Some((District::try_from(r.district).ok()?, r.address)))
    else {
        return Err(ApiError::unprocessable(
            "not_registered",
            None,
            "the holder has no confirmed registration in Jinhua to put on the permit",
        ));
    };
    let calendar = calendar_of(db, permit).await?;
    let number: PermitNumber = permit.number.parse().map_err(ApiError::internal)?;
    let holder_key = permit
        .holder_key
        .as_deref()
        .map(crypto::keys::parse_public_key_hex)
        .transpose()?;
    let claims = PermitClaims {
        issuer: residence,
        number,
        issued_at: now,
        expires_at: expiry_instant(calendar.next_anniversary()),
        holder_key,
        name: name.to_owned(),
        id_number: MaskedIdNumber::from_full(id_number)?,
        residence,
        address,
        periods: confirmed_periods(db, permit.resident_id).await?,
        lapses: calendar.lapses(policy::calendar::day_in_shanghai(now)),
        first_issued: permit.issued_on,
        last_endorsed: calendar.last_endorsed(),
        status: StatusRef {
            index: u32::try_from(permit.id).map_err(ApiError::internal)?,
            uri: state.status_uri.clone(),
        },
    };
    let key = state.keys.issuer(db, signing_district(residence)).await?;
    let cose = crypto::permit::issue(&claims, key.as_ref())?;
    Ok(qr_text::encode(QrKind::Permit, &cose))
}
