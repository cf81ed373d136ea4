//! `signing_keys`: the public half of every key of the service — the root keys, the district
//! issuing keys (published in the trust list, SPEC §2) and the JWT key — so that a key file that
//! is missing or holds another key is noticed at start (SPEC §4 "Keys"). The private keys live
//! behind the signer, never here.
//!
//! What a key is for is told by its `district` column ([`Role`]): `NULL` for a root key, [`JWT`]
//! for the JWT key (not a district code, so the trust list never names it), else the district.
//! Several root rows may be active at once during a root rotation: the oldest signs the lists,
//! a newer one is the announced successor (see `crate::keys`).

use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, QueryOrder};

use super::Result;

/// A key's state in the trust list (0 active, 1 retired, 2 compromised).
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
pub enum State {
    /// Signs new credentials.
    #[sea_orm(string_value = "active")]
    Active,
    /// No longer signs; what it signed still verifies.
    #[sea_orm(string_value = "retired")]
    Retired,
    /// Must not be trusted.
    #[sea_orm(string_value = "compromised")]
    Compromised,
}

/// A public key.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "signing_keys")]
pub struct Model {
    /// Hex of the first 8 bytes of SHA-256(public key).
    #[sea_orm(primary_key, auto_increment = false)]
    pub kid: String,
    /// District code; `None` for the root key.
    pub district: Option<i32>,
    /// The Ed25519 public key, hex.
    pub public_key: String,
    /// Valid for signing from.
    pub not_before: DateTimeUtc,
    /// Valid for signing until (set on retirement).
    pub not_after: Option<DateTimeUtc>,
    /// Active, retired or compromised.
    pub state: State,
    /// When the row was created.
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}

/// The `district` value of the JWT key's row (no district has code 0).
pub const JWT: i32 = 0;

/// What a key is for, read from its `district` column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Signs the trust and status lists.
    Root,
    /// Signs access tokens; never published.
    Jwt,
    /// Signs the permits of this district (the code as stored).
    District(i32),
}

impl Role {
    /// The `district` column value of this role.
    pub fn column(self) -> Option<i32> {
        match self {
            Role::Root => None,
            Role::Jwt => Some(JWT),
            Role::District(code) => Some(code),
        }
    }
}

impl Model {
    /// What this key is for.
    pub fn role(&self) -> Role {
        match self.district {
            None => Role::Root,
            Some(JWT) => Role::Jwt,
            Some(code) => Role::District(code),
        }
    }
}

/// The key with this kid.
pub async fn get<C: ConnectionTrait>(db: &C, kid: &str) -> Result<Option<Model>> {
    Ok(Entity::find_by_id(kid.to_owned()).one(db).await?)
}

/// The active root keys, oldest first: the first signs the lists, a later one is an announced
/// successor.
pub async fn active_roots<C: ConnectionTrait>(db: &C) -> Result<Vec<Model>> {
    Ok(Entity::find()
        .filter(Column::District.is_null())
        .filter(Column::State.eq(State::Active))
        .order_by_asc(Column::NotBefore)
        .order_by_asc(Column::CreatedAt)
        .all(db)
        .await?)
}

/// Stores an active key; a known kid is [`super::StoreError::Conflict`].
pub async fn insert<C: ConnectionTrait>(
    db: &C,
    kid: &str,
    district: Option<i32>,
    public_key: &str,
    not_before: DateTime<Utc>,
) -> Result<Model> {
    let row = ActiveModel {
        kid: Set(kid.to_owned()),
        district: Set(district),
        public_key: Set(public_key.to_owned()),
        not_before: Set(not_before),
        not_after: Set(None),
        state: Set(State::Active),
        created_at: Set(Utc::now()),
    };
    Ok(Entity::insert(row).exec_with_returning(db).await?)
}

/// Every key, root first, then by district and age (the trust list's content).
pub async fn list<C: ConnectionTrait>(db: &C) -> Result<Vec<Model>> {
    Ok(Entity::find()
        .order_by_asc(Column::District)
        .order_by_asc(Column::NotBefore)
        .order_by_asc(Column::Kid)
        .all(db)
        .await?)
}

/// The newest active key of `district` (`None` = the root key).
pub async fn active_for<C: ConnectionTrait>(
    db: &C,
    district: Option<i32>,
) -> Result<Option<Model>> {
    let query = Entity::find().filter(Column::State.eq(State::Active));
    let query = match district {
        Some(d) => query.filter(Column::District.eq(d)),
        None => query.filter(Column::District.is_null()),
    };
    Ok(query.order_by_desc(Column::NotBefore).one(db).await?)
}

/// Retires an active key as of `not_after`: `false` when it was not active.
pub async fn retire<C: ConnectionTrait>(
    db: &C,
    kid: &str,
    not_after: DateTime<Utc>,
) -> Result<bool> {
    let result = Entity::update_many()
        .col_expr(Column::State, Expr::value(State::Retired.to_value()))
        .col_expr(Column::NotAfter, Expr::value(not_after))
        .filter(Column::Kid.eq(kid))
        .filter(Column::State.eq(State::Active))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Marks a key compromised (from any state), valid for signing until `not_after`: `false` when
/// the kid is unknown.
pub async fn mark_compromised<C: ConnectionTrait>(
    db: &C,
    kid: &str,
    not_after: DateTime<Utc>,
) -> Result<bool> {
    let result = Entity::update_many()
        .col_expr(Column::State, Expr::value(State::Compromised.to_value()))
        .col_expr(Column::NotAfter, Expr::value(not_after))
        .filter(Column::Kid.eq(kid))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}
