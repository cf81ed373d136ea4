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
use crate::store::status::{self, Entry, EntryStatus};
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

/// The confirmed ones of a resident's registrations `rows` as the periods a credential states,
/// each day of them one a credential can carry (SPEC §2, [`policy::check_carried_date`]): a
/// registration stored before that rule bound (an import of 1969 history) is 422
/// `date_before_1970` naming the registration — never a 500 at signing. Correct the record or
/// reject the application.
pub fn carried_periods_of(rows: &[residences::Model]) -> ApiResult<Vec<Period>> {
    for row in rows
        .iter()
        .filter(|r| r.status == residences::Status::Confirmed)
    {
        for (field, day) in [("start", Some(row.start_date)), ("end", row.end_date)] {
            let Some(day) = day else { continue };
            if let Err(e) = policy::check_carried_date(day) {
                return Err(ApiError::unprocessable(
                    e.code(),
                    Some("registrations"),
                    format!(
                        "registration {} has a {field} day ({day}) no permit credential can \
                         carry (days run from {} to {}): correct the registration",
                        row.id,
                        policy::FIRST_CARRIED_DAY,
                        policy::LAST_CARRIED_DAY,
                    ),
                )
                .with("residence", serde_json::json!(row.id))
                .with(field, serde_json::json!(day)));
            }
        }
    }
    Ok(periods_of(rows))
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

/// One person holds one permit per district (SPEC §1.2, §1.4 revised): a resident whose latest
/// permit is active or suspended and was issued by `district` is refused (409 `permit_held`:
/// endorse it, or have it restored). A permit held from *another* district does not block: after
/// a move the holder may apply where they live now (notice 二(六) needs a permit issued there),
/// and that approval supersedes the old one ([`supersede`]). Returns the latest permit, whose
/// closed lapses still count (SPEC §1.2 over §3).
pub async fn no_permit_held<C: ConnectionTrait>(
    db: &C,
    resident_id: i64,
    district: District,
) -> ApiResult<Option<permits::Model>> {
    let latest = permits::find_by_resident(db, resident_id).await?;
    match latest {
        Some(p) if p.status != permits::Status::Revoked && p.district == i32::from(district) => {
            Err(ApiError::conflict(
                "permit_held",
                "a residence permit of this district is held already: endorse it, or have it \
                 restored",
            ))
        }
        latest => Ok(latest),
    }
}

/// Ends `old`, a permit of another district held when `new` was issued: revoked with the reason
/// naming its successor, and its credential `superseded` (SPEC §1.4 revised). Does nothing to a
/// permit revoked already.
pub async fn supersede(
    txn: &sea_orm::DatabaseTransaction,
    old: &permits::Model,
    new: &permits::Model,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    if old.status == permits::Status::Revoked || old.id == new.id {
        return Ok(());
    }
    let reason = format!("superseded by {}", new.number);
    permits::set_status(txn, old.id, permits::Status::Revoked, Some(&reason)).await?;
    if let Some(entry) = status::current(txn, old.id).await? {
        status::set(txn, entry, EntryStatus::Superseded, now).await?;
    }
    Ok(())
}

/// The lapses an earlier permit (revoked, or held from another district) leaves behind on
/// `date`: those a late endorsement closed. (A lapse still open ends with the permit: there is
/// nothing left to endorse.)
pub async fn lapses_left_by<C: ConnectionTrait>(
    db: &C,
    earlier: Option<&permits::Model>,
    date: NaiveDate,
) -> ApiResult<Vec<Lapse>> {
    let Some(permit) = earlier else {
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

/// The rows a credential of a permit is assembled from, as read in the signing transaction.
#[derive(Debug)]
pub struct Records {
    /// The holder, opened.
    pub holder: residents::Resident,
    /// The holder's registrations, as [`residences::list_by_resident`] reads them.
    pub registrations: Vec<residences::Model>,
    /// The permit's endorsement calendar ([`calendar_of`]).
    pub calendar: EndorsementCalendar,
}

impl Records {
    /// Reads the records of `permit` from `db`.
    pub async fn read<C: ConnectionTrait>(
        state: &AppState,
        db: &C,
        permit: &permits::Model,
    ) -> ApiResult<Records> {
        Ok(Records {
            holder: residents::get_open(db, state.store.sealer()?, permit.resident_id).await?,
            registrations: residences::list_by_resident(db, permit.resident_id).await?,
            calendar: calendar_of(db, permit).await?,
        })
    }
}

/// Signs a new version of permit `id` as it is stored in `txn` now and stores it (endorsing,
/// binding a key): the version gets a fresh status entry carrying the permit's status, and the
/// previous version's entry is marked superseded, so an older copy no longer verifies (SPEC §1.4:
/// one credential in force per permit). Call [`crate::signed_lists::ListCache::changed`] after
/// the commit.
pub async fn resign(
    state: &AppState,
    txn: &sea_orm::DatabaseTransaction,
    id: i64,
    now: DateTime<Utc>,
) -> ApiResult<permits::Model> {
    let permit = permits::get(txn, id).await?;
    let previous = status::current(txn, id).await?;
    let records = Records::read(state, txn, &permit).await?;
    sign_version(state, txn, permit, &records, previous, now).await
}

/// [`resign`] for a permit just stored in `txn` (`permit` as read back), which has no version
/// yet, from the `records` its issuing read in `txn` (the holder locked there: they cannot
/// change before the commit).
pub async fn sign_first(
    state: &AppState,
    txn: &sea_orm::DatabaseTransaction,
    permit: permits::Model,
    records: &Records,
    now: DateTime<Utc>,
) -> ApiResult<permits::Model> {
    sign_version(state, txn, permit, records, None, now).await
}

/// Signs a version of `permit` from `records` at a fresh status entry and stores it, the entry of
/// `previous` (its latest version) superseded. The rows every version shares (the open shard, the
/// status sequence) are written last, after the signing, so concurrent signings queue on them
/// only from there to their commit.
async fn sign_version(
    state: &AppState,
    txn: &sea_orm::DatabaseTransaction,
    permit: permits::Model,
    records: &Records,
    previous: Option<Entry>,
    now: DateTime<Utc>,
) -> ApiResult<permits::Model> {
    let shard_entries = i32::try_from(state.settings.status_shard_entries).unwrap_or(1 << 16);
    let allocation =
        status::allocate(txn, permit.id, permit.status.into(), shard_entries, now).await?;
    let credential = sign_credential(state, txn, &permit, records, allocation.entry, now).await?;
    let permit = permits::set_credential(txn, permit.id, &credential).await?;
    allocation.settle(txn, now).await?;
    if let Some(previous) = previous {
        status::set(txn, previous, EntryStatus::Superseded, now).await?;
    }
    Ok(permit)
}

/// Assembles the claims of `permit` from its `records` as of `now`, its status at `entry`, and
/// signs them with the key of [`signing_district`] as stored in `db`: the `EP1:` text.
pub async fn sign_credential<C: ConnectionTrait>(
    state: &AppState,
    db: &C,
    permit: &permits::Model,
    records: &Records,
    entry: Entry,
    now: DateTime<Utc>,
) -> ApiResult<String> {
    let resident = &records.holder;
    let (Some(name), Some(id_number)) = (resident.name.as_deref(), resident.id_number.as_deref())
    else {
        return Err(ApiError::unprocessable(
            "profile_incomplete",
            None,
            "the holder's name and ID number are needed",
        ));
    };
    let registrations = &records.registrations;
    let current = residences::current_of(registrations)
        .filter(|r| r.status == residences::Status::Confirmed)
        .cloned();
    let Some((residence, address)) =
        current.and_then(|r| Some((District::try_from(r.district).ok()?, r.address)))
    else {
        return Err(ApiError::unprocessable(
            "not_registered",
            None,
            "the holder has no confirmed registration in Jinhua to put on the permit",
        ));
    };
    let holding = Holding {
        number: &permit.number,
        issued_on: permit.issued_on,
        holder_key: permit.holder_key.as_deref(),
        name,
        id_number,
        residence,
        address,
        periods: carried_periods_of(registrations)?,
        calendar: &records.calendar,
    };
    let claims = claims_of(holding, entry, &state.lists.shard_uri(entry.shard), now)?;
    let key = state.keys.issuer(db, signing_district(residence)).await?;
    sign_claims(&claims, key.as_ref())
}

/// What a credential states, as read from the rows of a permit and its holder.
#[derive(Debug)]
pub struct Holding<'a> {
    /// The permit number.
    pub number: &'a str,
    /// The permit's first issue day.
    pub issued_on: NaiveDate,
    /// The bound device key (hex), if any.
    pub holder_key: Option<&'a str>,
    /// The holder's name.
    pub name: &'a str,
    /// The holder's ID number in full (the credential carries it masked).
    pub id_number: &'a str,
    /// The district of the current confirmed registration.
    pub residence: District,
    /// Its address.
    pub address: String,
    /// The confirmed registrations ([`carried_periods_of`]).
    pub periods: Vec<Period>,
    /// The permit's endorsement calendar.
    pub calendar: &'a EndorsementCalendar,
}

/// The claims of a credential of `holding` signed at `now`, its status at `entry` published at
/// `status_uri`: the one assembly behind [`sign_credential`] and the bulk seed
/// (`epermit seed`), so both sign the same credential for the same rows.
pub fn claims_of(
    holding: Holding<'_>,
    entry: Entry,
    status_uri: &str,
    now: DateTime<Utc>,
) -> ApiResult<PermitClaims> {
    let number: PermitNumber = holding.number.parse().map_err(ApiError::internal)?;
    let holder_key = holding
        .holder_key
        .map(crypto::keys::parse_public_key_hex)
        .transpose()?;
    Ok(PermitClaims {
        issuer: number.district(),
        number,
        issued_at: now,
        expires_at: expiry_instant(holding.calendar.next_anniversary()),
        holder_key,
        name: holding.name.to_owned(),
        id_number: MaskedIdNumber::from_full(holding.id_number)?,
        residence: holding.residence,
        address: holding.address,
        periods: holding.periods,
        lapses: holding
            .calendar
            .lapses(policy::calendar::day_in_shanghai(now)),
        first_issued: holding.issued_on,
        last_endorsed: holding.calendar.last_endorsed(),
        status: StatusRef {
            index: u32::try_from(entry.idx).map_err(ApiError::internal)?,
            uri: status_uri.to_owned(),
        },
    })
}

/// Signs `claims` with `key` (the key of [`signing_district`] of the residence): the `EP1:` text.
pub fn sign_claims(claims: &PermitClaims, key: &dyn crypto::signer::Signer) -> ApiResult<String> {
    let cose = crypto::permit::issue(claims, key)?;
    Ok(qr_text::encode(QrKind::Permit, &cose))
}
