//! `status_shards`: one row per status-list shard: its size, how many entries are taken, the
//! packed entries as published, the global status sequence at its last change.

use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::{Expr, ExprTrait, LockType, OnConflict, Query};
use sea_orm::{DatabaseTransaction, DbBackend, QueryOrder, QuerySelect};

use crate::store::{Result, found};

/// A shard.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "status_shards")]
pub struct Model {
    /// The shard's number (its URI is `<public url>/sl/<id>`, shard 0 `<public url>/sl`).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    /// How many entries it holds.
    pub size: i32,
    /// How many entries are taken.
    pub used: i32,
    /// The packed 2-bit entries (4 a byte, least significant first).
    pub bits: Vec<u8>,
    /// The global status sequence at its last change.
    pub sequence: i64,
    /// When it last changed, in microseconds since the Unix epoch (see [`Model::changed`]).
    pub changed_at: i64,
}

impl Model {
    /// When the shard last changed.
    pub fn changed(&self) -> DateTime<Utc> {
        from_micros(self.changed_at)
    }
}

/// An instant stored as microseconds since the Unix epoch.
fn from_micros(micros: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(micros).unwrap_or(DateTime::UNIX_EPOCH)
}

impl ActiveModelBehavior for ActiveModel {}

/// A shard's freshness without its entries: `(id, sequence, changed_at)`.
pub type Stamp = (i32, i64, DateTime<Utc>);

/// The lowest shard after `after` (all when `None`) that is less than 90 % full, if any:
/// `(id, size)`.
pub async fn open_with_room<C: ConnectionTrait>(
    db: &C,
    after: Option<i32>,
) -> Result<Option<(i32, i32)>> {
    Ok(Entity::find()
        .select_only()
        .columns([Column::Id, Column::Size])
        .filter(Column::Id.gt(after.unwrap_or(i32::MIN)))
        .filter(
            Expr::col(Column::Used)
                .mul(10)
                .lt(Expr::col(Column::Size).mul(9)),
        )
        .order_by_asc(Column::Id)
        .into_tuple::<(i32, i32)>()
        .one(db)
        .await?)
}

/// Opens a new shard of `size` entries (all valid), numbered after the last, and returns its
/// `(id, size)`. When a concurrent transaction opens that number first (all shards were full for
/// both), its shard is taken instead: on PostgreSQL the insert waits for the other to commit, and
/// does nothing then.
pub async fn create(
    txn: &DatabaseTransaction,
    size: i32,
    now: DateTime<Utc>,
) -> Result<(i32, i32)> {
    let last: Option<i32> = Entity::find()
        .select_only()
        .column_as(Column::Id.max(), "max")
        .into_tuple::<Option<i32>>()
        .one(txn)
        .await?
        .flatten();
    let id = last.map_or(1, |l| Ord::max(l, 0) + 1);
    let insert = Query::insert()
        .into_table(Entity)
        .columns([
            Column::Id,
            Column::Size,
            Column::Used,
            Column::Bits,
            Column::Sequence,
            Column::ChangedAt,
        ])
        .values([
            id.into(),
            size.into(),
            0i32.into(),
            vec![0u8; usize::try_from(size / 4).unwrap_or(0)].into(),
            0i64.into(),
            now.timestamp_micros().into(),
        ])?
        .on_conflict(OnConflict::column(Column::Id).do_nothing().to_owned())
        .to_owned();
    if txn.execute(&insert).await?.rows_affected() == 1 {
        return Ok((id, size));
    }
    Ok((id, get(txn, id).await?.size))
}

/// Locks shard `id` until the transaction ends (`FOR NO KEY UPDATE` on PostgreSQL; SQLite
/// writers are serialised already) and returns it. Not `FOR UPDATE`: that waits for the key-share
/// lock a version row's foreign key takes on its shard, so a transaction that recorded a version
/// (unlocked, [`super::allocate`]) and one that locks the shard to change an entry would each
/// wait for the other once both count an entry taken.
pub async fn lock(txn: &DatabaseTransaction, id: i32) -> Result<Model> {
    let query = Entity::find_by_id(id);
    let query = if txn.get_database_backend() == DbBackend::Postgres {
        query.lock(LockType::NoKeyUpdate)
    } else {
        query
    };
    found(query.one(txn).await?, "status shard")
}

/// Counts one more entry taken in shard `id` (locking its row until the transaction ends: make it
/// one of the last writes).
pub async fn take(txn: &DatabaseTransaction, id: i32) -> Result<()> {
    Entity::update_many()
        .col_expr(Column::Used, Expr::col(Column::Used).add(1))
        .filter(Column::Id.eq(id))
        .exec(txn)
        .await?;
    Ok(())
}

/// Stores the entries of shard `id`, stamped with `sequence` at `now`.
pub async fn store_bits(
    txn: &DatabaseTransaction,
    id: i32,
    bits: Vec<u8>,
    sequence: i64,
    now: DateTime<Utc>,
) -> Result<()> {
    Entity::update_many()
        .col_expr(Column::Bits, Expr::value(bits))
        .col_expr(Column::Sequence, Expr::value(sequence))
        .col_expr(Column::ChangedAt, Expr::value(now.timestamp_micros()))
        .filter(Column::Id.eq(id))
        .exec(txn)
        .await?;
    Ok(())
}

/// Every shard's stamp, by id.
pub async fn stamps<C: ConnectionTrait>(db: &C) -> Result<Vec<Stamp>> {
    let rows: Vec<(i32, i64, i64)> = Entity::find()
        .select_only()
        .columns([Column::Id, Column::Sequence, Column::ChangedAt])
        .order_by_asc(Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, sequence, changed)| (id, sequence, from_micros(changed)))
        .collect())
}

/// Shard `id`'s stamp, if it exists.
pub async fn stamp<C: ConnectionTrait>(db: &C, id: i32) -> Result<Option<Stamp>> {
    let row: Option<(i32, i64, i64)> = Entity::find_by_id(id)
        .select_only()
        .columns([Column::Id, Column::Sequence, Column::ChangedAt])
        .into_tuple()
        .one(db)
        .await?;
    Ok(row.map(|(id, sequence, changed)| (id, sequence, from_micros(changed))))
}

/// Shard `id`, with its entries.
pub async fn get<C: ConnectionTrait>(db: &C, id: i32) -> Result<Model> {
    found(Entity::find_by_id(id).one(db).await?, "status shard")
}

/// The shards changed after global status sequence `sequence`, with their entries.
pub async fn changed_after<C: ConnectionTrait>(db: &C, sequence: i64) -> Result<Vec<Model>> {
    Ok(Entity::find()
        .filter(Column::Sequence.gt(sequence))
        .order_by_asc(Column::Id)
        .all(db)
        .await?)
}
