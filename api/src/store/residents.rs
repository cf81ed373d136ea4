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

/// Why [`set_profile`] refused a change. None of these names the value involved.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// Another account holds the ID number: a resident with a phone, or an imported record whose
    /// name is not the one given (a claim must match what the legacy system holds).
    #[error("the ID number belongs to another account")]
    IdNumberTaken,
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
/// - When an imported resident (no phone) holds this ID number *under this name*, this resident
///   claims it: the imported registrations, applications and permits move over and the imported
///   row goes; [`SetProfile::claimed_import`] says so. Any other holder is
///   [`ProfileError::IdNumberTaken`].
pub async fn set_profile<C: ConnectionTrait>(
    db: &C,
    id: i64,
    name: &str,
    id_number: &str,
) -> std::result::Result<SetProfile, ProfileError> {
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
    let mut claimed_import = false;
    if let Some(other) = find_by_id_number(db, id_number).await?
        && other.id != id
    {
        if other.phone.is_some() || other.name.as_deref() != Some(name) {
            return Err(ProfileError::IdNumberTaken);
        }
        super::residences::Entity::update_many()
            .col_expr(super::residences::Column::ResidentId, Expr::value(id))
            .filter(super::residences::Column::ResidentId.eq(other.id))
            .exec(db)
            .await?;
        super::applications::Entity::update_many()
            .col_expr(super::applications::Column::ResidentId, Expr::value(id))
            .filter(super::applications::Column::ResidentId.eq(other.id))
            .exec(db)
            .await?;
        super::permits::Entity::update_many()
            .col_expr(super::permits::Column::ResidentId, Expr::value(id))
            .filter(super::permits::Column::ResidentId.eq(other.id))
            .exec(db)
            .await?;
        Entity::delete_by_id(other.id).exec(db).await?;
        claimed_import = true;
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
        .await?;
    if result.rows_affected == 0 {
        // The row exists (read above): a concurrent request set another ID number first.
        return Err(ProfileError::IdNumberFixed);
    }
    Ok(SetProfile {
        resident: get(db, id).await?,
        claimed_import,
    })
}

/// What [`set_profile`] did.
#[derive(Debug)]
pub struct SetProfile {
    /// The resident as now stored.
    pub resident: Model,
    /// Whether an imported record was claimed (its history now belongs to this resident).
    pub claimed_import: bool,
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
