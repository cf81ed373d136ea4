//! `staff`: officers, verifiers and administrators who log in with a password (SPEC §4 "Auth").
//!
//! The account's lifecycle lives here: `disabled_at` (a disabled account cannot log in or refresh)
//! and the count of failed logins since the last success (`failed_logins`, for the audit alarm).
//! Password failures are *throttled* per (account, client address) in the shared store
//! (`crate::auth::throttle`), never by locking the account for everyone; `locked_until` is a
//! remnant of that older rule, cleared by `unlock` and no longer set.

use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveValue::Set, QueryOrder};

use super::{Result, StoreError, found};

/// What a staff account may do.
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
pub enum Role {
    /// Officer of a district bureau (has a district).
    #[sea_orm(string_value = "officer")]
    Officer,
    /// Verifier at a school, hospital or police post (has an organisation kind).
    #[sea_orm(string_value = "verifier")]
    Verifier,
    /// Operator.
    #[sea_orm(string_value = "admin")]
    Admin,
}

/// The kind of organisation a verifier works for.
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
pub enum OrgKind {
    /// A school.
    #[sea_orm(string_value = "school")]
    School,
    /// A hospital.
    #[sea_orm(string_value = "hospital")]
    Hospital,
    /// The police.
    #[sea_orm(string_value = "police")]
    Police,
}

/// A staff account.
#[sea_orm::model]
#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "staff")]
pub struct Model {
    /// Primary key; JWT subjects are `staff:<id>`.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Login name, unique.
    #[sea_orm(unique)]
    pub username: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// Role.
    pub role: Role,
    /// District code of an officer.
    pub district: Option<i32>,
    /// Organisation kind of a verifier.
    pub org_kind: Option<OrgKind>,
    /// Consecutive failed logins since the last success or lock.
    pub failed_logins: i32,
    /// Logins are refused until then.
    pub locked_until: Option<DateTimeUtc>,
    /// When the account was created.
    pub created_at: DateTimeUtc,
    /// When an administrator disabled it (microseconds since the Unix epoch); `None` = enabled.
    pub disabled_at: Option<i64>,
}

impl ActiveModelBehavior for ActiveModel {}

/// The password hash stays out of logs.
impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Staff")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("role", &self.role)
            .field("district", &self.district)
            .field("org_kind", &self.org_kind)
            .field("failed_logins", &self.failed_logins)
            .field("locked_until", &self.locked_until)
            .field("disabled_at", &self.disabled_at)
            .finish_non_exhaustive()
    }
}

/// As for [`Model`].
impl std::fmt::Debug for ModelEx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Staff")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("role", &self.role)
            .field("district", &self.district)
            .field("org_kind", &self.org_kind)
            .field("failed_logins", &self.failed_logins)
            .field("locked_until", &self.locked_until)
            .field("disabled_at", &self.disabled_at)
            .finish_non_exhaustive()
    }
}

impl Model {
    /// Whether an administrator disabled the account.
    pub fn is_disabled(&self) -> bool {
        self.disabled_at.is_some()
    }

    /// When it was disabled, if it is.
    pub fn disabled_since(&self) -> Option<DateTime<Utc>> {
        self.disabled_at.and_then(DateTime::from_timestamp_micros)
    }
}

/// A staff account to create.
#[derive(Clone)]
pub struct NewStaff {
    /// Login name.
    pub username: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// Role.
    pub role: Role,
    /// District of an officer.
    pub district: Option<i32>,
    /// Organisation kind of a verifier.
    pub org_kind: Option<OrgKind>,
}

/// Creates an account; a taken username is [`StoreError::Conflict`].
pub async fn create<C: ConnectionTrait>(db: &C, new: NewStaff) -> Result<Model> {
    let row = ActiveModel {
        username: Set(new.username),
        password_hash: Set(new.password_hash),
        role: Set(new.role),
        district: Set(new.district),
        org_kind: Set(new.org_kind),
        failed_logins: Set(0),
        locked_until: Set(None),
        created_at: Set(Utc::now()),
        disabled_at: Set(None),
        ..Default::default()
    };
    Ok(Entity::insert(row).exec_with_returning(db).await?)
}

/// The account with this id.
pub async fn get<C: ConnectionTrait>(db: &C, id: i64) -> Result<Model> {
    found(Entity::find_by_id(id).one(db).await?, "staff")
}

/// The account with this username, if any.
pub async fn find_by_username<C: ConnectionTrait>(db: &C, username: &str) -> Result<Option<Model>> {
    Ok(Entity::find()
        .filter(Column::Username.eq(username))
        .one(db)
        .await?)
}

/// All accounts, oldest first.
pub async fn list<C: ConnectionTrait>(db: &C) -> Result<Vec<Model>> {
    Ok(Entity::find().order_by_asc(Column::Id).all(db).await?)
}

/// Counts a failed login (atomically, so concurrent failures all count); returns the count
/// afterwards (failures since the last success or unlock, from every address).
pub async fn record_failed_login<C: ConnectionTrait>(db: &C, id: i64) -> Result<i32> {
    let result = Entity::update_many()
        .col_expr(Column::FailedLogins, Expr::col(Column::FailedLogins).add(1))
        .filter(Column::Id.eq(id))
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Err(StoreError::NotFound("staff"));
    }
    Ok(get(db, id).await?.failed_logins)
}

/// Disables (`Some(now)`) or enables (`None`) the account; `false` when it was in that state
/// already.
pub async fn set_disabled<C: ConnectionTrait>(
    db: &C,
    id: i64,
    disabled_at: Option<DateTime<Utc>>,
) -> Result<bool> {
    let account = get(db, id).await?;
    if account.is_disabled() == disabled_at.is_some() {
        return Ok(false);
    }
    Entity::update_many()
        .col_expr(
            Column::DisabledAt,
            Expr::value(disabled_at.map(|t| t.timestamp_micros())),
        )
        .filter(Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(true)
}

/// Clears the failure count and any lock (after a successful login, or by an administrator).
pub async fn reset_failed_logins<C: ConnectionTrait>(db: &C, id: i64) -> Result<()> {
    Entity::update_many()
        .col_expr(Column::FailedLogins, Expr::value(0))
        .col_expr(
            Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Replaces the password hash.
pub async fn set_password_hash<C: ConnectionTrait>(
    db: &C,
    id: i64,
    password_hash: &str,
) -> Result<()> {
    let result = Entity::update_many()
        .col_expr(Column::PasswordHash, Expr::value(password_hash))
        .filter(Column::Id.eq(id))
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Err(StoreError::NotFound("staff"));
    }
    Ok(())
}
