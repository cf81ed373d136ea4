//! `evidence`: uploaded application evidence, content-addressed by SHA-256 so one file is stored
//! once however often it is uploaded (SPEC §4 "Flows").

use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::entity::prelude::*;

use super::{Result, sha256_hex};

/// A stored file.
#[sea_orm::model]
#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "evidence")]
pub struct Model {
    /// SHA-256 hex of `bytes`: the primary key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub sha256: String,
    /// `application/pdf`, `image/png` or `image/jpeg` (decided by magic bytes at the edge).
    pub media_type: String,
    /// Length of `bytes`.
    pub size: i64,
    /// The file.
    pub bytes: Vec<u8>,
    /// When it was first stored.
    pub created_at: DateTimeUtc,
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

/// Stores `bytes` under their SHA-256 unless present (safe under concurrent uploads).
pub async fn put<C: ConnectionTrait>(db: &C, media_type: &str, bytes: &[u8]) -> Result<Stored> {
    let sha256 = sha256_hex(bytes);
    let row = ActiveModel {
        sha256: Set(sha256.clone()),
        media_type: Set(media_type.to_owned()),
        size: Set(i64::try_from(bytes.len()).unwrap_or(i64::MAX)),
        bytes: Set(bytes.to_vec()),
        created_at: Set(Utc::now()),
    };
    let result = Entity::insert(row)
        .on_conflict_do_nothing_on([Column::Sha256])
        .exec_without_returning(db)
        .await?;
    let inserted = matches!(result, sea_orm::TryInsertResult::Inserted(n) if n > 0);
    Ok(Stored { sha256, inserted })
}

/// The file with this address, if any.
pub async fn get<C: ConnectionTrait>(db: &C, sha256: &str) -> Result<Option<Model>> {
    Ok(Entity::find_by_id(sha256.to_owned()).one(db).await?)
}
