//! `residents`: people who log in with a phone number (SPEC §4 "Auth"), or who were imported from
//! the legacy system by ID number and have not logged in yet (then `phone` is empty).

use chrono::Utc;
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, Condition, QueryOrder};

use super::{Result, StoreError, found};

/// A resident row.
#[sea_orm::model]
#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "residents")]
pub struct Model {
    /// Primary key; JWT subjects are `resident:<id>`.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// E.164-less mainland mobile number as parsed by the domain layer; unique. `None` for an
    /// imported resident who has not logged in.
    #[sea_orm(unique)]
    pub phone: Option<String>,
    /// Name as set in the profile.
    pub name: Option<String>,
    /// Citizen ID number (GB 11643), unique.
    #[sea_orm(unique)]
    pub id_number: Option<String>,
    /// When the row was created.
    pub created_at: DateTimeUtc,
    /// When the row last changed.
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}

/// Personal data stays out of logs: `Debug` shows the id only.
impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resident")
            .field("id", &self.id)
            .field("has_phone", &self.phone.is_some())
            .field("has_profile", &self.id_number.is_some())
            .finish_non_exhaustive()
    }
}

/// As for [`Model`].
impl std::fmt::Debug for ModelEx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resident")
            .field("id", &self.id)
            .field("has_phone", &self.phone.is_some())
            .field("has_profile", &self.id_number.is_some())
            .finish_non_exhaustive()
    }
}

/// The resident with this id.
pub async fn get<C: ConnectionTrait>(db: &C, id: i64) -> Result<Model> {
    found(Entity::find_by_id(id).one(db).await?, "resident")
}

/// The resident with this phone, if any.
pub async fn find_by_phone<C: ConnectionTrait>(db: &C, phone: &str) -> Result<Option<Model>> {
    Ok(Entity::find()
        .filter(Column::Phone.eq(phone))
        .one(db)
        .await?)
}

/// The resident with this ID number, if any.
pub async fn find_by_id_number<C: ConnectionTrait>(
    db: &C,
    id_number: &str,
) -> Result<Option<Model>> {
    Ok(Entity::find()
        .filter(Column::IdNumber.eq(id_number))
        .one(db)
        .await?)
}

/// The resident with this phone, created on first login. Safe under concurrency: two first
/// logins with one phone give one row (insert-if-absent on the unique phone).
pub async fn find_or_create_by_phone<C: ConnectionTrait>(db: &C, phone: &str) -> Result<Model> {
    let now = Utc::now();
    let row = ActiveModel {
        phone: Set(Some(phone.to_owned())),
        name: Set(None),
        id_number: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    Entity::insert(row)
        .on_conflict_do_nothing_on([Column::Phone])
        .exec_without_returning(db)
        .await?;
    found(find_by_phone(db, phone).await?, "resident")
}

/// The resident with this ID number, created (without a phone) when absent — the legacy import.
/// The name is filled in when the row has none.
pub async fn find_or_create_by_id_number<C: ConnectionTrait>(
    db: &C,
    id_number: &str,
    name: &str,
) -> Result<Model> {
    let now = Utc::now();
    let row = ActiveModel {
        phone: Set(None),
        name: Set(Some(name.to_owned())),
        id_number: Set(Some(id_number.to_owned())),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    Entity::insert(row)
        .on_conflict_do_nothing_on([Column::IdNumber])
        .exec_without_returning(db)
        .await?;
    Entity::update_many()
        .col_expr(Column::Name, Expr::value(name))
        .filter(Column::IdNumber.eq(id_number))
        .filter(Column::Name.is_null())
        .exec(db)
        .await?;
    found(find_by_id_number(db, id_number).await?, "resident")
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
    id: i64,
    name: &str,
    id_number: &str,
) -> std::result::Result<Model, ProfileError> {
    let me = get(db, id).await?;
    if me
        .id_number
        .as_deref()
        .is_some_and(|held| held != id_number)
    {
        return Err(ProfileError::IdNumberFixed);
    }
    if me.name.as_deref().is_some_and(|held| held != name) && has_applied(db, id).await? {
        return Err(ProfileError::NameFixed);
    }
    if find_by_id_number(db, id_number)
        .await?
        .is_some_and(|other| other.id != id)
    {
        return Err(ProfileError::IdNumberUnavailable);
    }
    let result = Entity::update_many()
        .col_expr(Column::Name, Expr::value(name))
        .col_expr(Column::IdNumber, Expr::value(id_number))
        .col_expr(Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(Column::Id.eq(id))
        .filter(
            Condition::any()
                .add(Column::IdNumber.is_null())
                .add(Column::IdNumber.eq(id_number)),
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
    id: i64,
    name: &str,
    id_number: &str,
) -> std::result::Result<Assigned, AssignError> {
    let me = get(db, id).await?;
    if me.phone.is_none() {
        return Err(AssignError::NotAnAccount);
    }
    if me
        .id_number
        .as_deref()
        .is_some_and(|held| held != id_number)
    {
        return Err(AssignError::OtherIdNumber);
    }
    let mut merged_record = None;
    if let Some(other) = find_by_id_number(db, id_number).await?
        && other.id != id
    {
        if other.phone.is_some() {
            return Err(AssignError::HeldByAccount(other.id));
        }
        move_history(db, other.id, id).await?;
        Entity::delete_by_id(other.id).exec(db).await?;
        merged_record = Some(other.id);
    }
    Entity::update_many()
        .col_expr(Column::Name, Expr::value(name))
        .col_expr(Column::IdNumber, Expr::value(id_number))
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
    id: i64,
) -> std::result::Result<String, AssignError> {
    let me = get(db, id).await?;
    if me.phone.is_none() {
        return Err(AssignError::NotAnAccount);
    }
    let Some(held) = me.id_number else {
        return Err(AssignError::NoIdNumber);
    };
    if has_applied(db, id).await? {
        return Err(AssignError::InUse);
    }
    Entity::update_many()
        .col_expr(Column::IdNumber, Expr::value(Option::<String>::None))
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
