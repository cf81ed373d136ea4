//! `credential_versions`: one row per signed version of a permit (issue, endorsement, key
//! binding), pointing at its status entry; `(shard, idx)` is unique.

use chrono::{DateTime, Utc};
use sea_orm::QueryOrder;
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::{OnConflict, Query};

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

/// Records a version of `permit_id` at `entry` unless the entry is taken: `false` when it is (the
/// unique `(shard, idx)` decides, so concurrent allocations need no lock on the shard; on
/// PostgreSQL an insert racing one not yet committed waits for it to end).
pub async fn insert_if_free<C: ConnectionTrait>(
    db: &C,
    permit_id: i64,
    entry: Entry,
    now: DateTime<Utc>,
) -> Result<bool> {
    let insert = Query::insert()
        .into_table(Entity)
        .columns([
            Column::PermitId,
            Column::Shard,
            Column::Idx,
            Column::CreatedAt,
        ])
        .values([
            permit_id.into(),
            entry.shard.into(),
            entry.idx.into(),
            now.into(),
        ])?
        .on_conflict(
            OnConflict::columns([Column::Shard, Column::Idx])
                .do_nothing()
                .to_owned(),
        )
        .to_owned();
    Ok(db.execute(&insert).await?.rows_affected() == 1)
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
