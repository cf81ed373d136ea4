//! `residents`: people who log in with a phone number (SPEC §4 "Auth"), or who were imported from
//! the legacy system by ID number and have not logged in yet (then the phone is empty).
//!
//! Phone and ID number are sealed at rest ([`crate::sealing`]): each is stored encrypted, bound to
//! its column and row, beside its blind index, which carries the lookups and the uniqueness (one
//! resident per phone, one per ID number). [`open`] gives the values in clear as a [`Resident`];
//! nothing else reads them.

use chrono::Utc;
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ActiveValue::Set, Condition, QueryOrder};

use super::{Result, StoreError, found};
use crate::sealing::{Index, Place, Sealer};

/// A resident row as stored: personal data sealed.
#[sea_orm::model]
#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "residents")]
pub struct Model {
    /// Primary key; JWT subjects are `resident:<id>`.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Blind index of the mainland mobile number; unique. `None` for an imported resident who has
    /// not logged in.
    #[sea_orm(unique)]
    pub phone_index: Option<String>,
    /// The phone number, sealed (`residents.phone`, this row).
    pub phone_sealed: Option<String>,
    /// Name as set in the profile.
    pub name: Option<String>,
    /// Blind index of the citizen ID number (GB 11643); unique.
    #[sea_orm(unique)]
    pub id_number_index: Option<String>,
    /// The ID number, sealed (`residents.id_number`, this row).
    pub id_number_sealed: Option<String>,
    /// When the row was created.
    pub created_at: DateTimeUtc,
    /// When the row last changed.
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// Whether the resident has logged in with a phone (an account, not an imported record).
    pub fn has_phone(&self) -> bool {
        self.phone_index.is_some()
    }

    /// Whether name and ID number are set (needed to apply).
    pub fn has_profile(&self) -> bool {
        self.name.is_some() && self.id_number_index.is_some()
    }
}

/// Personal data stays out of logs: `Debug` shows the id only.
impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resident")
            .field("id", &self.id)
            .field("has_phone", &self.phone_index.is_some())
            .field("has_profile", &self.id_number_index.is_some())
            .finish_non_exhaustive()
    }
}

/// As for [`Model`].
impl std::fmt::Debug for ModelEx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resident")
            .field("id", &self.id)
            .field("has_phone", &self.phone_index.is_some())
            .field("has_profile", &self.id_number_index.is_some())
            .finish_non_exhaustive()
    }
}

/// A resident with phone and ID number opened. `Debug` shows the id only.
#[derive(Clone, PartialEq, Eq)]
pub struct Resident {
    /// Primary key.
    pub id: i64,
    /// The mainland mobile number, if the resident has logged in.
    pub phone: Option<String>,
    /// Name as set in the profile.
    pub name: Option<String>,
    /// The citizen ID number, if set.
    pub id_number: Option<String>,
    /// When the row was created.
    pub created_at: DateTimeUtc,
    /// When the row last changed.
    pub updated_at: DateTimeUtc,
}

impl std::fmt::Debug for Resident {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resident")
            .field("id", &self.id)
            .field("has_phone", &self.phone.is_some())
            .field("has_profile", &self.id_number.is_some())
            .finish_non_exhaustive()
    }
}

fn corrupt(problem: &str) -> StoreError {
    StoreError::Corrupt {
        table: "residents",
        problem: problem.to_owned(),
    }
}

/// Opens the sealed values of `row`. A value that does not open (another key, or moved from
/// another row or column) is [`StoreError::Corrupt`].
pub fn open(sealer: &Sealer, row: Model) -> Result<Resident> {
    let key = row.id.to_string();
    let phone = row
        .phone_sealed
        .as_deref()
        .map(|v| sealer.open(Place::ResidentPhone, &key, v))
        .transpose()
        .map_err(|_| corrupt("a sealed phone does not open"))?;
    let id_number = row
        .id_number_sealed
        .as_deref()
        .map(|v| sealer.open(Place::ResidentIdNumber, &key, v))
        .transpose()
        .map_err(|_| corrupt("a sealed ID number does not open"))?;
    Ok(Resident {
        id: row.id,
        phone,
        name: row.name,
        id_number,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

/// The resident with this id, as stored (sealed).
pub async fn get<C: ConnectionTrait>(db: &C, id: i64) -> Result<Model> {
    found(Entity::find_by_id(id).one(db).await?, "resident")
}

/// The resident with this id, opened.
pub async fn get_open<C: ConnectionTrait>(db: &C, sealer: &Sealer, id: i64) -> Result<Resident> {
    open(sealer, get(db, id).await?)
}

/// The resident with this phone, if any (looked up by its blind index).
pub async fn find_by_phone<C: ConnectionTrait>(
    db: &C,
    sealer: &Sealer,
    phone: &str,
) -> Result<Option<Model>> {
    Ok(Entity::find()
        .filter(Column::PhoneIndex.eq(sealer.index(Index::Phone, phone.as_bytes())))
        .one(db)
        .await?)
}

/// The resident with this ID number, if any (looked up by its blind index).
pub async fn find_by_id_number<C: ConnectionTrait>(
    db: &C,
    sealer: &Sealer,
    id_number: &str,
) -> Result<Option<Model>> {
    Ok(Entity::find()
        .filter(Column::IdNumberIndex.eq(sealer.index(Index::IdNumber, id_number.as_bytes())))
        .one(db)
        .await?)
}

/// Fills the sealed value of a row inserted with its index only (the seal is bound to the row's
/// id, known after the insert). Idempotent: a value already there stays.
async fn fill_sealed<C: ConnectionTrait>(
    db: &C,
    sealer: &Sealer,
    row: Model,
    place: Place,
    value: &str,
) -> Result<Model> {
    let (column, missing) = match place {
        Place::ResidentPhone => (Column::PhoneSealed, row.phone_sealed.is_none()),
        _ => (Column::IdNumberSealed, row.id_number_sealed.is_none()),
    };
    if !missing {
        return Ok(row);
    }
    let sealed = sealer.seal(place, &row.id.to_string(), value);
    Entity::update_many()
        .col_expr(column, Expr::value(sealed))
        .filter(Column::Id.eq(row.id))
        .filter(column.is_null())
        .exec(db)
        .await?;
    get(db, row.id).await
}

/// The resident with this phone, created on first login. Safe under concurrency: two first
/// logins with one phone give one row (insert-if-absent on the unique phone index).
pub async fn find_or_create_by_phone<C: ConnectionTrait>(
    db: &C,
    sealer: &Sealer,
    phone: &str,
) -> Result<Model> {
    let now = Utc::now();
    let row = ActiveModel {
        phone_index: Set(Some(sealer.index(Index::Phone, phone.as_bytes()))),
        phone_sealed: Set(None),
        name: Set(None),
        id_number_index: Set(None),
        id_number_sealed: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    Entity::insert(row)
        .on_conflict_do_nothing_on([Column::PhoneIndex])
        .exec_without_returning(db)
        .await?;
    let row = found(find_by_phone(db, sealer, phone).await?, "resident")?;
    fill_sealed(db, sealer, row, Place::ResidentPhone, phone).await
}

/// The resident with this ID number, created (without a phone) when absent — the legacy import.
/// The name is filled in when the row has none.
pub async fn find_or_create_by_id_number<C: ConnectionTrait>(
    db: &C,
    sealer: &Sealer,
    id_number: &str,
    name: &str,
) -> Result<Model> {
    let now = Utc::now();
    let index = sealer.index(Index::IdNumber, id_number.as_bytes());
    let row = ActiveModel {
        phone_index: Set(None),
        phone_sealed: Set(None),
        name: Set(Some(name.to_owned())),
        id_number_index: Set(Some(index.clone())),
        id_number_sealed: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    Entity::insert(row)
        .on_conflict_do_nothing_on([Column::IdNumberIndex])
        .exec_without_returning(db)
        .await?;
    Entity::update_many()
        .col_expr(Column::Name, Expr::value(name))
        .filter(Column::IdNumberIndex.eq(index))
        .filter(Column::Name.is_null())
        .exec(db)
        .await?;
    let row = found(find_by_id_number(db, sealer, id_number).await?, "resident")?;
    fill_sealed(db, sealer, row, Place::ResidentIdNumber, id_number).await
}

/// Seals the phones and ID numbers older versions stored in clear (`residents.phone`,
/// `residents.id_number`, now outside the entity) and empties those columns; the number of rows
/// sealed. Part of [`crate::sealing::carry_over`]; idempotent.
pub async fn carry_over<C: ConnectionTrait>(db: &C, sealer: &Sealer) -> Result<u64> {
    let (phone, id_number) = (Alias::new("phone"), Alias::new("id_number"));
    let select = Query::select()
        .column(Column::Id)
        .column(phone.clone())
        .column(id_number.clone())
        .from(Entity)
        .cond_where(
            Condition::any()
                .add(Expr::col(phone.clone()).is_not_null())
                .add(Expr::col(id_number.clone()).is_not_null()),
        )
        .to_owned();
    let rows = db.query_all(&select).await?;
    let mut sealed = 0;
    for row in rows {
        let id: i64 = row.try_get("", "id")?;
        let clear_phone: Option<String> = row.try_get("", "phone")?;
        let clear_id: Option<String> = row.try_get("", "id_number")?;
        let key = id.to_string();
        let mut update = Query::update();
        update
            .table(Entity)
            .value(phone.clone(), Option::<String>::None)
            .value(id_number.clone(), Option::<String>::None)
            .and_where(Expr::col(Column::Id).eq(id));
        if let Some(p) = clear_phone {
            update
                .value(Column::PhoneIndex, sealer.index(Index::Phone, p.as_bytes()))
                .value(
                    Column::PhoneSealed,
                    sealer.seal(Place::ResidentPhone, &key, &p),
                );
        }
        if let Some(n) = clear_id {
            update
                .value(
                    Column::IdNumberIndex,
                    sealer.index(Index::IdNumber, n.as_bytes()),
                )
                .value(
                    Column::IdNumberSealed,
                    sealer.seal(Place::ResidentIdNumber, &key, &n),
                );
        }
        db.execute(&update).await?;
        sealed += 1;
    }
    Ok(sealed)
}

/// Why [`set_profile`] refused a change. None of these names the value involved, and none says
/// anything about another person.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// The ID number cannot be used on this account: another account or an imported record
    /// holds it. The answer is the same whoever holds it; an officer resolves it at a counter
    /// ([`assign_id_number`]).
    #[error("the ID number cannot be used on this account")]
    IdNumberUnavailable,
    /// The account already has a different ID number; only an officer corrects it.
    #[error("the ID number is fixed once set")]
    IdNumberFixed,
    /// The account has applied for a permit: the name is on its file and its credential.
    #[error("the name is fixed once an application exists")]
    NameFixed,
    /// The database failed (or the resident is gone).
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<DbErr> for ProfileError {
    fn from(err: DbErr) -> Self {
        ProfileError::Store(err.into())
    }
}

/// Sets the profile of resident `id`: name and ID number.
///
/// - The ID number is fixed once set: a different one is [`ProfileError::IdNumberFixed`] (checked
///   again in the update itself, so two concurrent first settings cannot both win).
/// - The name may be corrected until the resident's first application, then
///   [`ProfileError::NameFixed`].
/// - An ID number held by any other row — a phone account or an imported record, under any
///   name — is [`ProfileError::IdNumberUnavailable`]: imported records are never claimed by a
///   phone that names them (name and ID number are no secrets); an officer assigns them.
pub async fn set_profile<C: ConnectionTrait>(
    db: &C,
    sealer: &Sealer,
    id: i64,
    name: &str,
    id_number: &str,
) -> std::result::Result<Model, ProfileError> {
    let me = get(db, id).await?;
    let index = sealer.index(Index::IdNumber, id_number.as_bytes());
    if me
        .id_number_index
        .as_deref()
        .is_some_and(|held| held != index)
    {
        return Err(ProfileError::IdNumberFixed);
    }
    if me.name.as_deref().is_some_and(|held| held != name) && has_applied(db, id).await? {
        return Err(ProfileError::NameFixed);
    }
    if find_by_id_number(db, sealer, id_number)
        .await?
        .is_some_and(|other| other.id != id)
    {
        return Err(ProfileError::IdNumberUnavailable);
    }
    let sealed = match &me.id_number_sealed {
        Some(sealed) if me.id_number_index.is_some() => sealed.clone(),
        _ => sealer.seal(Place::ResidentIdNumber, &id.to_string(), id_number),
    };
    let result = Entity::update_many()
        .col_expr(Column::Name, Expr::value(name))
        .col_expr(Column::IdNumberIndex, Expr::value(index.clone()))
        .col_expr(Column::IdNumberSealed, Expr::value(sealed))
        .col_expr(Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(Column::Id.eq(id))
        .filter(
            Condition::any()
                .add(Column::IdNumberIndex.is_null())
                .add(Column::IdNumberIndex.eq(index)),
        )
        .exec(db)
        .await
        .map_err(|e| match StoreError::from(e) {
            StoreError::Conflict(_) => ProfileError::IdNumberUnavailable,
            e => ProfileError::Store(e),
        })?;
    if result.rows_affected == 0 {
        // The row exists (read above): a concurrent request set another ID number first.
        return Err(ProfileError::IdNumberFixed);
    }
    Ok(get(db, id).await?)
}

/// Why [`assign_id_number`] or [`release_id_number`] refused (answers to an officer, who may
/// learn which account holds a number).
#[derive(Debug, thiserror::Error)]
pub enum AssignError {
    /// The target is an imported record, not a phone account.
    #[error("the resident is an imported record without a phone")]
    NotAnAccount,
    /// The account holds another ID number: release it first.
    #[error("the account holds another ID number")]
    OtherIdNumber,
    /// Another phone account holds the ID number: release it there first.
    #[error("the ID number is held by account {0}")]
    HeldByAccount(i64),
    /// The account has applied: its file and credential carry the ID number.
    #[error("the account has applied under this ID number")]
    InUse,
    /// The account has no ID number to release.
    #[error("the account has no ID number")]
    NoIdNumber,
    /// The database failed (or the resident is gone).
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<DbErr> for AssignError {
    fn from(err: DbErr) -> Self {
        AssignError::Store(err.into())
    }
}

/// What [`assign_id_number`] did.
#[derive(Debug)]
pub struct Assigned {
    /// The account as now stored.
    pub resident: Model,
    /// The imported record whose history (registrations, applications, permits) moved to the
    /// account and which is gone now, if one held the ID number.
    pub merged_record: Option<i64>,
}

/// An officer assigns `id_number` (with the `name` on the ID card) to the phone account `id`.
/// When an imported record (no phone) holds the number, its registrations, applications and
/// permits move to the account and the record goes. Another phone account holding it is
/// [`AssignError::HeldByAccount`]; an account with another number, [`AssignError::OtherIdNumber`].
pub async fn assign_id_number<C: ConnectionTrait>(
    db: &C,
    sealer: &Sealer,
    id: i64,
    name: &str,
    id_number: &str,
) -> std::result::Result<Assigned, AssignError> {
    let me = get(db, id).await?;
    if !me.has_phone() {
        return Err(AssignError::NotAnAccount);
    }
    let index = sealer.index(Index::IdNumber, id_number.as_bytes());
    if me
        .id_number_index
        .as_deref()
        .is_some_and(|held| held != index)
    {
        return Err(AssignError::OtherIdNumber);
    }
    let mut merged_record = None;
    if let Some(other) = find_by_id_number(db, sealer, id_number).await?
        && other.id != id
    {
        if other.has_phone() {
            return Err(AssignError::HeldByAccount(other.id));
        }
        move_history(db, other.id, id).await?;
        Entity::delete_by_id(other.id).exec(db).await?;
        merged_record = Some(other.id);
    }
    Entity::update_many()
        .col_expr(Column::Name, Expr::value(name))
        .col_expr(Column::IdNumberIndex, Expr::value(index))
        .col_expr(
            Column::IdNumberSealed,
            Expr::value(sealer.seal(Place::ResidentIdNumber, &id.to_string(), id_number)),
        )
        .col_expr(Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(Assigned {
        resident: get(db, id).await?,
        merged_record,
    })
}

/// An officer releases the ID number of account `id` (a wrong one, or one that belongs to
/// someone else): the account keeps its phone and name; the number is free to be assigned. An
/// account that has applied is [`AssignError::InUse`] (its file names the number). Returns the
/// released number.
pub async fn release_id_number<C: ConnectionTrait>(
    db: &C,
    sealer: &Sealer,
    id: i64,
) -> std::result::Result<String, AssignError> {
    let me = get(db, id).await?;
    if !me.has_phone() {
        return Err(AssignError::NotAnAccount);
    }
    let Some(held) = open(sealer, me)?.id_number else {
        return Err(AssignError::NoIdNumber);
    };
    if has_applied(db, id).await? {
        return Err(AssignError::InUse);
    }
    Entity::update_many()
        .col_expr(Column::IdNumberIndex, Expr::value(Option::<String>::None))
        .col_expr(Column::IdNumberSealed, Expr::value(Option::<String>::None))
        .col_expr(Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(held)
}

/// Moves the registrations, applications and permits of resident `from` to resident `to`.
async fn move_history<C: ConnectionTrait>(db: &C, from: i64, to: i64) -> Result<()> {
    super::residences::Entity::update_many()
        .col_expr(super::residences::Column::ResidentId, Expr::value(to))
        .filter(super::residences::Column::ResidentId.eq(from))
        .exec(db)
        .await?;
    super::applications::Entity::update_many()
        .col_expr(super::applications::Column::ResidentId, Expr::value(to))
        .filter(super::applications::Column::ResidentId.eq(from))
        .exec(db)
        .await?;
    super::permits::Entity::update_many()
        .col_expr(super::permits::Column::ResidentId, Expr::value(to))
        .filter(super::permits::Column::ResidentId.eq(from))
        .exec(db)
        .await?;
    Ok(())
}

/// The districts (codes) where any of `ids` has a registration: the districts an identity
/// question about them concerns.
pub async fn districts_of<C: ConnectionTrait>(db: &C, ids: &[i64]) -> Result<Vec<i32>> {
    let rows = super::residences::Entity::find()
        .filter(super::residences::Column::ResidentId.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    let mut districts: Vec<i32> = rows.into_iter().map(|r| r.district).collect();
    districts.sort_unstable();
    districts.dedup();
    Ok(districts)
}

/// Whether resident `id` has submitted any application.
async fn has_applied<C: ConnectionTrait>(db: &C, id: i64) -> Result<bool> {
    Ok(super::applications::Entity::find()
        .filter(super::applications::Column::ResidentId.eq(id))
        .one(db)
        .await?
        .is_some())
}

/// All residents, oldest first (support tooling).
pub async fn list<C: ConnectionTrait>(db: &C) -> Result<Vec<Model>> {
    Ok(Entity::find().order_by_asc(Column::Id).all(db).await?)
}
