//! `audit_checkpoints`: signed heads of the audit chain (issue 12 item 7). Written and exported by
//! `crate::audit::checkpoint`; read by `epermit audit verify`. A row says: at `at`, the entry
//! with id `seq` was the last one and had hash `hash`; audit key `kid` signed that.

use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, QueryOrder, QuerySelect};

use crate::store::{Result, StoreError};

/// A checkpoint.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_checkpoints")]
pub struct Model {
    /// Row id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The id of the head entry (0: the log was empty).
    #[sea_orm(unique)]
    pub seq: i64,
    /// The head entry's hash ([`super::GENESIS`] for an empty log).
    pub hash: String,
    /// When the checkpoint was taken (microsecond precision).
    pub at: DateTimeUtc,
    /// The audit key that signed it.
    pub kid: String,
    /// The Ed25519 signature (hex) of `crate::audit::checkpoint_message`.
    pub signature: String,
    /// When it reached the external export (`None`: not yet; retried).
    pub exported_at: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}

/// The kid of the audit key of the latest checkpoint: once there is one, the chain is keyed.
pub async fn latest_kid<C: ConnectionTrait>(db: &C) -> Result<Option<String>> {
    Ok(Entity::find()
        .select_only()
        .column(Column::Kid)
        .order_by_desc(Column::Seq)
        .into_tuple::<String>()
        .one(db)
        .await?)
}

/// The latest checkpoint.
pub async fn latest<C: ConnectionTrait>(db: &C) -> Result<Option<Model>> {
    Ok(Entity::find().order_by_desc(Column::Seq).one(db).await?)
}

/// Every checkpoint, oldest first.
pub async fn all<C: ConnectionTrait>(db: &C) -> Result<Vec<Model>> {
    Ok(Entity::find().order_by_asc(Column::Seq).all(db).await?)
}

/// Stores a signed checkpoint; `None` when one for this `seq` exists already (another instance
/// took it).
pub async fn insert<C: ConnectionTrait>(
    db: &C,
    seq: i64,
    hash: &str,
    at: DateTime<Utc>,
    kid: &str,
    signature: &str,
) -> Result<Option<Model>> {
    let row = ActiveModel {
        seq: Set(seq),
        hash: Set(hash.to_owned()),
        at: Set(at),
        kid: Set(kid.to_owned()),
        signature: Set(signature.to_owned()),
        exported_at: Set(None),
        ..Default::default()
    };
    match Entity::insert(row).exec_with_returning(db).await {
        Ok(model) => Ok(Some(model)),
        Err(e) => match StoreError::from(e) {
            StoreError::Conflict(_) => Ok(None),
            e => Err(e),
        },
    }
}

/// Checkpoints not yet exported, oldest first, at most `limit`.
pub async fn unexported<C: ConnectionTrait>(db: &C, limit: u64) -> Result<Vec<Model>> {
    Ok(Entity::find()
        .filter(Column::ExportedAt.is_null())
        .order_by_asc(Column::Seq)
        .limit(limit)
        .all(db)
        .await?)
}

/// Records that checkpoint `id` reached the export at `at`.
pub async fn mark_exported<C: ConnectionTrait>(db: &C, id: i64, at: DateTime<Utc>) -> Result<()> {
    Entity::update_many()
        .col_expr(Column::ExportedAt, Expr::value(Some(at)))
        .filter(Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// The head of the chain: the last entry's id and hash, `None` for an empty log.
pub async fn head<C: ConnectionTrait>(db: &C) -> Result<Option<(i64, String)>> {
    Ok(super::Entity::find()
        .select_only()
        .column(super::Column::Id)
        .column(super::Column::Hash)
        .order_by_desc(super::Column::Id)
        .into_tuple::<(i64, String)>()
        .one(db)
        .await?)
}

/// How many entries have an id above `seq` (not yet anchored by a checkpoint at `seq`).
pub async fn entries_after<C: ConnectionTrait>(db: &C, seq: i64) -> Result<u64> {
    Ok(super::Entity::find()
        .filter(super::Column::Id.gt(seq))
        .count(db)
        .await?)
}
