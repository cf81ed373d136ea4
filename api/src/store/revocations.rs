//! `revocations`: each account's revocation epoch (issue 12 item 3). Access tokens carry the
//! epoch their account had when they were issued; disabling a staff account, resetting its
//! password and logging out everywhere raise it, and a token of an older epoch is refused. An
//! account without a row is at epoch 0. The shared store mirrors the values (see
//! [`crate::auth::revocation`]); this table is the truth.

use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};

use super::Result;

/// An account's revocation epoch.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "revocations")]
pub struct Model {
    /// `staff:<id>` or `resident:<id>`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub subject: String,
    /// Raised by one at each revocation.
    pub epoch: i64,
    /// When it last moved, in microseconds since the Unix epoch.
    pub changed_at: i64,
}

impl ActiveModelBehavior for ActiveModel {}

/// The current epoch of `subject` (0 when it was never revoked).
pub async fn epoch<C: ConnectionTrait>(db: &C, subject: &str) -> Result<i64> {
    Ok(Entity::find_by_id(subject.to_owned())
        .one(db)
        .await?
        .map_or(0, |row| row.epoch))
}

/// Raises `subject`'s epoch by one (in the caller's transaction); returns the new epoch. Every
/// access token issued before stops working. Atomic: an insert-if-missing at 0, then
/// `UPDATE … SET epoch = epoch + 1`.
pub async fn bump<C: ConnectionTrait>(db: &C, subject: &str, now: DateTime<Utc>) -> Result<i64> {
    let insert = Query::insert()
        .into_table(Entity)
        .columns([Column::Subject, Column::Epoch, Column::ChangedAt])
        .values([subject.into(), 0i64.into(), now.timestamp_micros().into()])?
        .on_conflict(OnConflict::column(Column::Subject).do_nothing().to_owned())
        .to_owned();
    db.execute(&insert).await?;
    Entity::update_many()
        .col_expr(Column::Epoch, Expr::col(Column::Epoch).add(1))
        .col_expr(Column::ChangedAt, Expr::value(now.timestamp_micros()))
        .filter(Column::Subject.eq(subject))
        .exec(db)
        .await?;
    epoch(db, subject).await
}
