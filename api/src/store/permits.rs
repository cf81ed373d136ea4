//! `permits` and `permit_sequences`: issued residence permits (核发, SPEC §1.3–§1.5) and the
//! per-district, per-year numbering of §1.3.
//!
//! A permit's `id` is also its index in the status list (SPEC §2): unique by construction and
//! never reused.

use chrono::{NaiveDate, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ActiveValue::Set, QueryOrder, QuerySelect};

use super::{Result, StoreError, found};

/// The state of a permit, as published in the status list.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    EnumIter,
    DeriveActiveEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "Text")]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// In force.
    #[sea_orm(string_value = "active")]
    Active,
    /// Use suspended by an officer (SPEC §1.5). A missed endorsement is not stored here: it is
    /// computed from the validity end, and verification reports it as `endorsement_overdue`.
    #[sea_orm(string_value = "suspended")]
    Suspended,
    /// Revoked: final.
    #[sea_orm(string_value = "revoked")]
    Revoked,
}

impl From<Status> for policy::PermitStatus {
    fn from(status: Status) -> Self {
        match status {
            Status::Active => policy::PermitStatus::Active,
            Status::Suspended => policy::PermitStatus::Suspended,
            Status::Revoked => policy::PermitStatus::Revoked,
        }
    }
}

impl From<policy::PermitStatus> for Status {
    fn from(status: policy::PermitStatus) -> Self {
        match status {
            policy::PermitStatus::Active => Status::Active,
            policy::PermitStatus::Suspended => Status::Suspended,
            policy::PermitStatus::Revoked => Status::Revoked,
        }
    }
}

/// A permit.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "permits")]
pub struct Model {
    /// Primary key and status-list index.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// `330782-2026-000123`, unique.
    #[sea_orm(unique)]
    pub number: String,
    /// The approved application; unique, so approving twice cannot issue two permits.
    #[sea_orm(unique)]
    pub application_id: i64,
    /// The holder.
    pub resident_id: i64,
    /// The issuing district.
    pub district: i32,
    /// Issue day (anniversaries count from it).
    pub issued_on: Date,
    /// Active, suspended or revoked.
    pub status: Status,
    /// Why it was last suspended, restored or revoked.
    pub status_reason: Option<String>,
    /// The holder's Ed25519 public key, hex (the credential's `cnf`).
    pub holder_key: Option<String>,
    /// When the holder's key was bound.
    pub holder_key_bound_at: Option<DateTimeUtc>,
    /// The client address it was bound from.
    pub holder_key_bound_from: Option<String>,
    /// The current `EP1:` credential text.
    pub credential: String,
    /// The next anniversary: validity ends there unless endorsed.
    pub valid_until: Date,
    /// Day of the last endorsement.
    pub last_endorsed: Option<Date>,
    /// When the row was created.
    pub created_at: DateTimeUtc,
    /// When the row last changed.
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}

#[derive(DeriveIden)]
enum PermitSequences {
    Table,
    District,
    Year,
    Next,
}

/// Allocates the next sequence number of `district` in `year` (1, 2, 3, …), inside the approving
/// transaction ([`take_numbers`] of one). Concurrent allocations queue on the counter's row lock
/// and get distinct numbers; a rolled-back transaction gives its number back. Format the permit
/// number from it with `policy::PermitNumber`.
pub async fn allocate_number<C: ConnectionTrait>(db: &C, district: i32, year: i32) -> Result<i64> {
    take_numbers(db, district, year, 1).await
}

/// Takes the next `count` sequence numbers of `district` in `year` at once and returns the first:
/// one statement, `INSERT … VALUES (…, 1 + count) ON CONFLICT (district, year) DO UPDATE SET next
/// = next + count RETURNING next`, which creates the counter at its first use and otherwise
/// advances it (the counter row stays locked until the transaction ends). The one statement that
/// advances a counter, so its text is always bound with the same parameter types (a prepared
/// statement is cached per connection by its text: a second statement of the same text binding
/// `int4` where this binds `int8` would send the cached one the wrong width on PostgreSQL).
pub async fn take_numbers<C: ConnectionTrait>(
    db: &C,
    district: i32,
    year: i32,
    count: i64,
) -> Result<i64> {
    let upsert = Query::insert()
        .into_table(PermitSequences::Table)
        .columns([
            PermitSequences::District,
            PermitSequences::Year,
            PermitSequences::Next,
        ])
        .values([district.into(), year.into(), (1 + count).into()])?
        .on_conflict(
            OnConflict::columns([PermitSequences::District, PermitSequences::Year])
                .value(
                    PermitSequences::Next,
                    Expr::col((PermitSequences::Table, PermitSequences::Next)).add(count),
                )
                .to_owned(),
        )
        .returning_col(PermitSequences::Next)
        .to_owned();
    let row = found(db.query_one(&upsert).await?, "permit sequence")?;
    let next: i64 = row.try_get("", "next")?;
    Ok(next - count)
}

/// A permit to store.
#[derive(Clone, Debug)]
pub struct NewPermit {
    /// The formatted number.
    pub number: String,
    /// The approved application.
    pub application_id: i64,
    /// The holder.
    pub resident_id: i64,
    /// The issuing district.
    pub district: i32,
    /// Issue day.
    pub issued_on: NaiveDate,
    /// First anniversary.
    pub valid_until: NaiveDate,
    /// The credential; may be empty until signed (the signature needs the id), then
    /// [`set_credential`] in the same transaction.
    pub credential: String,
}

/// Stores an active permit. A second permit for one application is [`StoreError::Conflict`].
pub async fn insert<C: ConnectionTrait>(db: &C, new: NewPermit) -> Result<Model> {
    let now = Utc::now();
    let row = ActiveModel {
        number: Set(new.number),
        application_id: Set(new.application_id),
        resident_id: Set(new.resident_id),
        district: Set(new.district),
        issued_on: Set(new.issued_on),
        status: Set(Status::Active),
        status_reason: Set(None),
        holder_key: Set(None),
        holder_key_bound_at: Set(None),
        holder_key_bound_from: Set(None),
        credential: Set(new.credential),
        valid_until: Set(new.valid_until),
        last_endorsed: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    Ok(Entity::insert(row).exec_with_returning(db).await?)
}

/// The permit with this id.
pub async fn get<C: ConnectionTrait>(db: &C, id: i64) -> Result<Model> {
    found(Entity::find_by_id(id).one(db).await?, "permit")
}

/// Permit `id`, its row locked until the transaction ends (`SELECT … FOR UPDATE` on PostgreSQL;
/// SQLite's immediate transactions are serialised already), so changes of one permit that judge
/// its stored state (two endorsements on one day) queue instead of both passing.
pub async fn lock(txn: &sea_orm::DatabaseTransaction, id: i64) -> Result<Model> {
    found(
        Entity::find_by_id(id).lock_exclusive().one(txn).await?,
        "permit",
    )
}

/// The permit with this number, if any.
pub async fn find_by_number<C: ConnectionTrait>(db: &C, number: &str) -> Result<Option<Model>> {
    Ok(Entity::find()
        .filter(Column::Number.eq(number))
        .one(db)
        .await?)
}

/// What an officer searches their district's permits by (`GET /v1/permits`).
#[derive(Debug, Clone, Default)]
pub struct DistrictSearch {
    /// Permits whose number starts with this (digits and `-` only, checked at the edge).
    pub number_prefix: Option<String>,
    /// Permits in this state.
    pub status: Option<Status>,
    /// At most this many, newest first.
    pub limit: u64,
}

/// The permits issued by `district` matching `search`, newest first.
pub async fn search_district<C: ConnectionTrait>(
    db: &C,
    district: i32,
    search: &DistrictSearch,
) -> Result<Vec<Model>> {
    let mut query = Entity::find().filter(Column::District.eq(district));
    if let Some(prefix) = &search.number_prefix {
        query = query.filter(Column::Number.starts_with(prefix.as_str()));
    }
    if let Some(status) = search.status {
        query = query.filter(Column::Status.eq(status));
    }
    Ok(query
        .order_by_desc(Column::Id)
        .limit(search.limit)
        .all(db)
        .await?)
}

/// The permit issued for this application, if any.
pub async fn find_by_application<C: ConnectionTrait>(
    db: &C,
    application_id: i64,
) -> Result<Option<Model>> {
    Ok(Entity::find()
        .filter(Column::ApplicationId.eq(application_id))
        .one(db)
        .await?)
}

/// A resident's latest permit, if any.
pub async fn find_by_resident<C: ConnectionTrait>(
    db: &C,
    resident_id: i64,
) -> Result<Option<Model>> {
    Ok(Entity::find()
        .filter(Column::ResidentId.eq(resident_id))
        .order_by_desc(Column::Id)
        .one(db)
        .await?)
}

async fn update_one<C: ConnectionTrait>(
    db: &C,
    id: i64,
    update: sea_orm::UpdateMany<Entity>,
) -> Result<()> {
    let result = update
        .col_expr(Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(Column::Id.eq(id))
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Err(StoreError::NotFound("permit"));
    }
    Ok(())
}

/// Sets the status and its reason, unless the permit is revoked (revocation is final): `true`
/// when changed, `false` when the permit was revoked already.
pub async fn set_status<C: ConnectionTrait>(
    db: &C,
    id: i64,
    status: Status,
    reason: Option<&str>,
) -> Result<bool> {
    let result = Entity::update_many()
        .col_expr(Column::Status, Expr::value(status.to_value()))
        .col_expr(Column::StatusReason, Expr::value(reason.map(str::to_owned)))
        .col_expr(Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(Column::Id.eq(id))
        .filter(Column::Status.ne(Status::Revoked))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Binds the holder's public key (hex), bound at `at` from client address `from`.
pub async fn set_holder_key<C: ConnectionTrait>(
    db: &C,
    id: i64,
    holder_key: &str,
    at: chrono::DateTime<Utc>,
    from: &str,
) -> Result<()> {
    update_one(
        db,
        id,
        Entity::update_many()
            .col_expr(Column::HolderKey, Expr::value(holder_key))
            .col_expr(Column::HolderKeyBoundAt, Expr::value(at))
            .col_expr(Column::HolderKeyBoundFrom, Expr::value(from)),
    )
    .await
}

/// Replaces the credential text (after re-signing) and returns the permit as stored (one
/// `UPDATE … RETURNING`).
pub async fn set_credential<C: ConnectionTrait>(
    db: &C,
    id: i64,
    credential: &str,
) -> Result<Model> {
    let rows = Entity::update_many()
        .col_expr(Column::Credential, Expr::value(credential))
        .col_expr(Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(Column::Id.eq(id))
        .exec_with_returning(db)
        .await?;
    found(rows.into_iter().next(), "permit")
}

/// Records an endorsement's effect: validity to `valid_until`, endorsed on `last_endorsed`.
pub async fn set_validity<C: ConnectionTrait>(
    db: &C,
    id: i64,
    valid_until: NaiveDate,
    last_endorsed: Option<NaiveDate>,
) -> Result<()> {
    update_one(
        db,
        id,
        Entity::update_many()
            .col_expr(Column::ValidUntil, Expr::value(valid_until))
            .col_expr(Column::LastEndorsed, Expr::value(last_endorsed)),
    )
    .await
}

/// Every permit's `(id, status)`, by id: the content of the status list.
pub async fn statuses<C: ConnectionTrait>(db: &C) -> Result<Vec<(i64, Status)>> {
    Ok(Entity::find()
        .select_only()
        .column(Column::Id)
        .column(Column::Status)
        .order_by_asc(Column::Id)
        .into_tuple()
        .all(db)
        .await?)
}
