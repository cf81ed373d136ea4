//! `applications`: permit applications (网上申领, SPEC §1.2) and their decision (§1.3).

use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, QueryOrder, QuerySelect};

use super::{Result, found};

/// The declared basis of an application (§1.2).
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
pub enum Basis {
    /// Legal stable employment.
    #[sea_orm(string_value = "employment")]
    Employment,
    /// Legal stable residence.
    #[sea_orm(string_value = "housing")]
    Housing,
    /// Continuous study.
    #[sea_orm(string_value = "study")]
    Study,
}

impl From<Basis> for policy::Basis {
    fn from(basis: Basis) -> Self {
        match basis {
            Basis::Employment => policy::Basis::Employment,
            Basis::Housing => policy::Basis::Housing,
            Basis::Study => policy::Basis::Study,
        }
    }
}

/// Where an application stands.
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
pub enum Status {
    /// Awaiting review.
    #[sea_orm(string_value = "submitted")]
    Submitted,
    /// Approved: a permit was issued.
    #[sea_orm(string_value = "approved")]
    Approved,
    /// Rejected with a reason.
    #[sea_orm(string_value = "rejected")]
    Rejected,
}

/// An application.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "applications")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The applicant.
    pub resident_id: i64,
    /// The district applied to.
    pub district: i32,
    /// Declared basis.
    pub basis: Basis,
    /// Content address of the evidence.
    pub evidence_sha256: String,
    /// Where it stands.
    pub status: Status,
    /// Rejection reason, shown to the resident.
    pub reason: Option<String>,
    /// The deciding officer.
    pub decided_by: Option<i64>,
    /// When it was decided.
    pub decided_at: Option<DateTimeUtc>,
    /// When it was submitted.
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}

/// Stores a submitted application.
pub async fn insert<C: ConnectionTrait>(
    db: &C,
    resident_id: i64,
    district: i32,
    basis: Basis,
    evidence_sha256: &str,
) -> Result<Model> {
    let row = ActiveModel {
        resident_id: Set(resident_id),
        district: Set(district),
        basis: Set(basis),
        evidence_sha256: Set(evidence_sha256.to_owned()),
        status: Set(Status::Submitted),
        reason: Set(None),
        decided_by: Set(None),
        decided_at: Set(None),
        created_at: Set(Utc::now()),
        ..Default::default()
    };
    Ok(Entity::insert(row).exec_with_returning(db).await?)
}

/// The application with this id.
pub async fn get<C: ConnectionTrait>(db: &C, id: i64) -> Result<Model> {
    found(Entity::find_by_id(id).one(db).await?, "application")
}

/// Applications filtered by status and district, oldest first (the review queue).
fn queue(status: Option<Status>, district: Option<i32>) -> Select<Entity> {
    let mut query = Entity::find();
    if let Some(status) = status {
        query = query.filter(Column::Status.eq(status));
    }
    if let Some(district) = district {
        query = query.filter(Column::District.eq(district));
    }
    query.order_by_asc(Column::Id)
}

/// Applications filtered by status and district, oldest first (the review queue).
pub async fn list<C: ConnectionTrait>(
    db: &C,
    status: Option<Status>,
    district: Option<i32>,
) -> Result<Vec<Model>> {
    Ok(queue(status, district).all(db).await?)
}

/// [`list`], at most `limit` rows: the oldest of the queue (issue 14 item 5: a district's queue
/// at a million permits is read a page at a time, by `idx_applications_queue`, in id order).
pub async fn list_page<C: ConnectionTrait>(
    db: &C,
    status: Option<Status>,
    district: Option<i32>,
    limit: u64,
) -> Result<Vec<Model>> {
    Ok(queue(status, district).limit(limit).all(db).await?)
}

/// A resident's applications, oldest first.
pub async fn list_by_resident<C: ConnectionTrait>(db: &C, resident_id: i64) -> Result<Vec<Model>> {
    Ok(Entity::find()
        .filter(Column::ResidentId.eq(resident_id))
        .order_by_asc(Column::Id)
        .all(db)
        .await?)
}

/// An officer's decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Approve (the caller then issues the permit in the same transaction).
    Approve,
    /// Reject with a reason the resident sees.
    Reject {
        /// The reason.
        reason: String,
    },
}

/// Decides a submitted application: a conditional update `WHERE status = 'submitted'`, so of two
/// concurrent decisions exactly one wins. `true` when this call decided it; `false` when it had
/// been decided already (answer 409, issue nothing).
pub async fn decide<C: ConnectionTrait>(
    db: &C,
    id: i64,
    decision: Decision,
    staff_id: i64,
    now: DateTime<Utc>,
) -> Result<bool> {
    let (status, reason) = match decision {
        Decision::Approve => (Status::Approved, None),
        Decision::Reject { reason } => (Status::Rejected, Some(reason)),
    };
    let result = Entity::update_many()
        .col_expr(Column::Status, Expr::value(status.to_value()))
        .col_expr(Column::Reason, Expr::value(reason))
        .col_expr(Column::DecidedBy, Expr::value(staff_id))
        .col_expr(Column::DecidedAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .filter(Column::Status.eq(Status::Submitted))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}
