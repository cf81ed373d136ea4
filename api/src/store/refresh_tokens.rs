//! `refresh_tokens`: rotating refresh tokens (SPEC §4 "Auth"). Only the SHA-256 of the opaque
//! token is stored. Tokens of one login share a `family` and its `login_at`; reuse of a spent
//! token revokes the family. A token's `expires_at` is the sooner of its idle deadline (issue
//! time + `tokens.refresh_idle_secs`) and the family's absolute one (`login_at` +
//! `tokens.refresh_ttl_secs`), so refreshing never stretches a session past its login's lifetime.

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::Expr;

use super::{Result, sha256_hex};

/// A refresh token row.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "refresh_tokens")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// SHA-256 hex of the opaque token; unique.
    #[sea_orm(unique)]
    pub token_hash: String,
    /// The login this token descends from (a UUID).
    pub family: String,
    /// Whom it authenticates: `resident:<id>` or `staff:<id>`.
    pub subject: String,
    /// Not accepted from then on.
    pub expires_at: DateTimeUtc,
    /// When it was exchanged for a new one.
    pub spent_at: Option<DateTimeUtc>,
    /// When its family was revoked.
    pub revoked_at: Option<DateTimeUtc>,
    /// When it was issued.
    pub created_at: DateTimeUtc,
    /// When its family's login happened (microseconds since the Unix epoch).
    pub login_at: i64,
}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// Whether it may be exchanged at `now` (not spent, not revoked, not expired).
    pub fn is_usable(&self, now: DateTime<Utc>) -> bool {
        self.spent_at.is_none() && self.revoked_at.is_none() && now < self.expires_at
    }

    /// When its family's login happened.
    pub fn login_time(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_micros(self.login_at).unwrap_or(DateTime::UNIX_EPOCH)
    }
}

/// The stored form of an opaque token: its SHA-256 in hex.
pub fn hash_token(token: &str) -> String {
    sha256_hex(token.as_bytes())
}

/// A fresh family id for a new login.
pub fn new_family() -> String {
    Uuid::new_v4().to_string()
}

/// Stores a token (by hash) in `family` (whose login was at `login_at`) for `subject`.
pub async fn insert<C: ConnectionTrait>(
    db: &C,
    token_hash: &str,
    family: &str,
    subject: &str,
    login_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<Model> {
    let row = ActiveModel {
        token_hash: Set(token_hash.to_owned()),
        family: Set(family.to_owned()),
        subject: Set(subject.to_owned()),
        expires_at: Set(expires_at),
        spent_at: Set(None),
        revoked_at: Set(None),
        created_at: Set(Utc::now()),
        login_at: Set(login_at.timestamp_micros()),
        ..Default::default()
    };
    Ok(Entity::insert(row).exec_with_returning(db).await?)
}

/// The token with this hash, if any.
pub async fn find_by_hash<C: ConnectionTrait>(db: &C, token_hash: &str) -> Result<Option<Model>> {
    Ok(Entity::find()
        .filter(Column::TokenHash.eq(token_hash))
        .one(db)
        .await?)
}

/// Marks the token spent if it is still unspent and unrevoked. `true` when this call spent it;
/// `false` means it was spent (or revoked) already — with two concurrent refreshes, one wins.
pub async fn spend<C: ConnectionTrait>(db: &C, id: i64, now: DateTime<Utc>) -> Result<bool> {
    let result = Entity::update_many()
        .col_expr(Column::SpentAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .filter(Column::SpentAt.is_null())
        .filter(Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Revokes every token of `family` not yet revoked; returns how many.
pub async fn revoke_family<C: ConnectionTrait>(
    db: &C,
    family: &str,
    now: DateTime<Utc>,
) -> Result<u64> {
    let result = Entity::update_many()
        .col_expr(Column::RevokedAt, Expr::value(now))
        .filter(Column::Family.eq(family))
        .filter(Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// Revokes every token of `subject` (log out everywhere); returns how many.
pub async fn revoke_subject<C: ConnectionTrait>(
    db: &C,
    subject: &str,
    now: DateTime<Utc>,
) -> Result<u64> {
    let result = Entity::update_many()
        .col_expr(Column::RevokedAt, Expr::value(now))
        .filter(Column::Subject.eq(subject))
        .filter(Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// Deletes tokens that expired before `before`; returns how many.
pub async fn purge_expired<C: ConnectionTrait>(db: &C, before: DateTime<Utc>) -> Result<u64> {
    let result = Entity::delete_many()
        .filter(Column::ExpiresAt.lt(before))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}
