//! `evidence`: uploaded application evidence, content-addressed so one file is stored once
//! however often it is uploaded (SPEC §4 "Flows"). Sealed at rest ([`crate::sealing`]): the
//! address is a keyed hash of the content (a plain hash would let anyone holding a dump confirm a
//! guessed file), the bytes are encrypted, bound to that address; [`get`] returns them opened.

use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::QuerySelect;
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};

use super::{Result, StoreError};
use crate::sealing::{Index, Place, Sealer, is_sealed};

/// A stored file.
#[sea_orm::model]
#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "evidence")]
pub struct Model {
    /// The content address, the primary key: the blind index of the file (HMAC-SHA256 hex under
    /// the data key; older versions used the plain SHA-256, carried over at start-up).
    #[sea_orm(primary_key, auto_increment = false)]
    pub sha256: String,
    /// `application/pdf`, `image/png` or `image/jpeg` (decided by magic bytes at the edge).
    pub media_type: String,
    /// Length of `bytes`.
    pub size: i64,
    /// The file: sealed as stored, opened as [`get`] returns it.
    pub bytes: Vec<u8>,
    /// When it was first stored.
    pub created_at: DateTimeUtc,
    /// The data key that sealed `bytes` (`None`: stored in clear by an older version).
    pub key_id: Option<String>,
}

impl ActiveModelBehavior for ActiveModel {}

/// The bytes stay out of logs.
impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Evidence")
            .field("sha256", &self.sha256)
            .field("media_type", &self.media_type)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

/// As for [`Model`].
impl std::fmt::Debug for ModelEx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Evidence")
            .field("sha256", &self.sha256)
            .field("media_type", &self.media_type)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

/// What [`put`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    /// The content address.
    pub sha256: String,
    /// `false` when the same file was stored before.
    pub inserted: bool,
}

/// Stores `bytes`, sealed, under their keyed address unless present (safe under concurrent
/// uploads).
pub async fn put<C: ConnectionTrait>(
    db: &C,
    sealer: &Sealer,
    media_type: &str,
    bytes: &[u8],
) -> Result<Stored> {
    let sha256 = sealer.index(Index::Evidence, bytes);
    let row = ActiveModel {
        sha256: Set(sha256.clone()),
        media_type: Set(media_type.to_owned()),
        size: Set(i64::try_from(bytes.len()).unwrap_or(i64::MAX)),
        bytes: Set(sealer.seal_bytes(Place::Evidence, &sha256, bytes)),
        created_at: Set(Utc::now()),
        key_id: Set(Some(sealer.kid().to_owned())),
    };
    let result = Entity::insert(row)
        .on_conflict_do_nothing_on([Column::Sha256])
        .exec_without_returning(db)
        .await?;
    let inserted = matches!(result, sea_orm::TryInsertResult::Inserted(n) if n > 0);
    Ok(Stored { sha256, inserted })
}

/// The file with this address, if any, its bytes opened.
pub async fn get<C: ConnectionTrait>(
    db: &C,
    sealer: &Sealer,
    sha256: &str,
) -> Result<Option<Model>> {
    let Some(mut row) = Entity::find_by_id(sha256.to_owned()).one(db).await? else {
        return Ok(None);
    };
    row.bytes = sealer
        .open_bytes(Place::Evidence, &row.sha256, &row.bytes)
        .map_err(|_| StoreError::Corrupt {
            table: "evidence",
            problem: "a sealed file does not open".to_owned(),
        })?;
    Ok(Some(row))
}

/// Seals the files older versions stored in clear: each moves to its keyed address, sealed, and
/// the applications naming it follow; the number of files. Part of
/// [`crate::sealing::carry_over`].
pub async fn carry_over<C: ConnectionTrait>(db: &C, sealer: &Sealer) -> Result<u64> {
    let clear = Entity::find()
        .filter(Column::KeyId.is_null())
        .select_only()
        .column(Column::Sha256)
        .into_tuple::<String>()
        .all(db)
        .await?;
    for old in &clear {
        let Some(row) = Entity::find_by_id(old.clone()).one(db).await? else {
            continue;
        };
        if is_sealed(&row.bytes) {
            return Err(StoreError::Corrupt {
                table: "evidence",
                problem: "a sealed file has no key id".to_owned(),
            });
        }
        let stored = put(db, sealer, &row.media_type, &row.bytes).await?;
        let applications = Alias::new("applications");
        let column = Alias::new("evidence_sha256");
        db.execute(
            &Query::update()
                .table(applications)
                .value(column.clone(), stored.sha256.clone())
                .and_where(Expr::col(column).eq(old.clone()))
                .to_owned(),
        )
        .await?;
        Entity::delete_by_id(old.clone()).exec(db).await?;
    }
    Ok(clear.len() as u64)
}
