//! `endorsements`: annual endorsements (签注, SPEC §1.4), with the lapse a late one records.

use chrono::{NaiveDate, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, QueryOrder};

use super::Result;

/// Whether the endorsement came in the window or late.
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
pub enum Timing {
    /// In the month before the anniversary.
    #[sea_orm(string_value = "in_window")]
    InWindow,
    /// On or after the anniversary: a lapse `[lapse_from, lapse_until)` is recorded.
    #[sea_orm(string_value = "late")]
    Late,
}

/// An endorsement.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "endorsements")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The permit.
    pub permit_id: i64,
    /// Day of the endorsement.
    pub day: Date,
    /// In the window or late.
    pub timing: Timing,
    /// First day of the lapse (the missed anniversary), if late.
    pub lapse_from: Option<Date>,
    /// End of the lapse (the endorsement day, exclusive), if late.
    pub lapse_until: Option<Date>,
    /// The district whose key re-signed the credential.
    pub district: i32,
    /// When the row was created.
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}

/// An endorsement to store.
#[derive(Clone, Debug)]
pub struct NewEndorsement {
    /// The permit.
    pub permit_id: i64,
    /// Day of the endorsement.
    pub day: NaiveDate,
    /// In the window or late.
    pub timing: Timing,
    /// Lapse start, if late.
    pub lapse_from: Option<NaiveDate>,
    /// Lapse end, if late.
    pub lapse_until: Option<NaiveDate>,
    /// The re-signing district.
    pub district: i32,
}

/// Stores an endorsement.
pub async fn insert<C: ConnectionTrait>(db: &C, new: NewEndorsement) -> Result<Model> {
    let row = ActiveModel {
        permit_id: Set(new.permit_id),
        day: Set(new.day),
        timing: Set(new.timing),
        lapse_from: Set(new.lapse_from),
        lapse_until: Set(new.lapse_until),
        district: Set(new.district),
        created_at: Set(Utc::now()),
        ..Default::default()
    };
    Ok(Entity::insert(row).exec_with_returning(db).await?)
}

/// A permit's endorsements, oldest first (their lapses feed the §3 report).
pub async fn list_by_permit<C: ConnectionTrait>(db: &C, permit_id: i64) -> Result<Vec<Model>> {
    Ok(Entity::find()
        .filter(Column::PermitId.eq(permit_id))
        .order_by_asc(Column::Day)
        .order_by_asc(Column::Id)
        .all(db)
        .await?)
}
