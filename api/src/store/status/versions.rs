//! `credential_versions`: one row per signed version of a permit (issue, endorsement, key
//! binding), pointing at its status entry; `(shard, idx)` is unique.

use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, QueryOrder};

use super::Entry;
use crate::store::Result;

/// A signed version.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "credential_versions")]
pub struct Model {
    /// Primary key: versions of one permit in signing order.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The permit.
    pub permit_id: i64,
    /// The shard of its status entry.
    pub shard: i32,
    /// The index of its status entry.
    pub idx: i32,
    /// When it was signed.
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}

/// Whether entry `idx` of `shard` is taken.
pub async fn taken<C: ConnectionTrait>(db: &C, shard: i32, idx: i32) -> Result<bool> {
    Ok(Entity::find()
        .filter(Column::Shard.eq(shard))
        .filter(Column::Idx.eq(idx))
        .one(db)
        .await?
        .is_some())
}

/// Records a version of `permit_id` at `entry`.
pub async fn insert<C: ConnectionTrait>(
    db: &C,
    permit_id: i64,
    entry: Entry,
    now: DateTime<Utc>,
) -> Result<()> {
    let row = ActiveModel {
        permit_id: Set(permit_id),
        shard: Set(entry.shard),
        idx: Set(entry.idx),
        created_at: Set(now),
        ..Default::default()
    };
    Entity::insert(row).exec_without_returning(db).await?;
    Ok(())
}

/// The latest version of `permit_id`.
pub async fn latest<C: ConnectionTrait>(db: &C, permit_id: i64) -> Result<Option<Model>> {
    Ok(Entity::find()
        .filter(Column::PermitId.eq(permit_id))
        .order_by_desc(Column::Id)
        .one(db)
        .await?)
}

/// Every version of `permit_id`, oldest first.
pub async fn of_permit<C: ConnectionTrait>(db: &C, permit_id: i64) -> Result<Vec<Model>> {
    Ok(Entity::find()
        .filter(Column::PermitId.eq(permit_id))
        .order_by_asc(Column::Id)
        .all(db)
        .await?)
}
