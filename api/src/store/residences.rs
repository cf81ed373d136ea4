//! `residences`: residence registrations (居住登记, SPEC §1.1) — declared by residents, confirmed
//! by an officer of the district, or imported (already confirmed) from the legacy system.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, Condition, QueryOrder};

use super::{Result, found, sha256_hex};
use crate::sealing::{Index, Sealer};

/// The idempotency key of an imported registration: the blind index (keyed, so it cannot be
/// brute-forced over the ID numbers) of `sha256_hex("<id_number>|<district>|<start>")`, the
/// unkeyed key of older versions — so rows they imported are carried over by [`carry_over`] and
/// still found.
pub fn import_key(sealer: &Sealer, id_number: &str, district: i32, start: NaiveDate) -> String {
    let legacy = sha256_hex(format!("{id_number}|{district}|{start}").as_bytes());
    sealer.index(Index::Import, legacy.as_bytes())
}

/// Re-keys the unkeyed import keys of older versions (column `import_key`) into `import_index`
/// and empties the old column; the number of rows. Part of [`crate::sealing::carry_over`].
pub async fn carry_over<C: ConnectionTrait>(db: &C, sealer: &Sealer) -> Result<u64> {
    use sea_orm::sea_query::{Alias, ExprTrait, Query};
    let legacy = Alias::new("import_key");
    let select = Query::select()
        .column(Column::Id)
        .column(legacy.clone())
        .from(Entity)
        .and_where(Expr::col(legacy.clone()).is_not_null())
        .to_owned();
    let rows = db.query_all(&select).await?;
    let count = rows.len() as u64;
    for row in rows {
        let id: i64 = row.try_get("", "id")?;
        let old: String = row.try_get("", "import_key")?;
        let update = Query::update()
            .table(Entity)
            .value(
                Column::ImportKey,
                sealer.index(Index::Import, old.as_bytes()),
            )
            .value(legacy.clone(), Option::<String>::None)
            .and_where(Expr::col(Column::Id).eq(id))
            .to_owned();
        db.execute(&update).await?;
    }
    Ok(count)
}

/// Whether an officer has confirmed the registration. Only confirmed ones count (§1.1).
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
    /// Declared by the resident, awaiting confirmation.
    #[sea_orm(string_value = "declared")]
    Declared,
    /// Confirmed by an officer (or imported).
    #[sea_orm(string_value = "confirmed")]
    Confirmed,
}

/// Where the registration came from.
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
pub enum Source {
    /// Declared through the API.
    #[sea_orm(string_value = "declared")]
    Declared,
    /// Loaded by `epermit import residences`.
    #[sea_orm(string_value = "imported")]
    Imported,
}

/// A registration: the half-open period `[start_date, end_date)` in `district`.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "residences")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The resident.
    pub resident_id: i64,
    /// District code (GB/T 2260).
    pub district: i32,
    /// Address.
    pub address: String,
    /// First day.
    pub start_date: Date,
    /// Move-out day (exclusive); `None` while registered.
    pub end_date: Option<Date>,
    /// Declared or confirmed.
    pub status: Status,
    /// The confirming officer.
    pub confirmed_by: Option<i64>,
    /// When it was confirmed.
    pub confirmed_at: Option<DateTimeUtc>,
    /// Declared or imported.
    pub source: Source,
    /// Idempotency key of an imported row, unique: a keyed hash ([`import_key`]), stored in the
    /// column `import_index` (the column `import_key` held the unkeyed hash of older versions).
    #[sea_orm(unique, column_name = "import_index")]
    pub import_key: Option<String>,
    /// When the row was created.
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}

/// A registration to store.
#[derive(Clone, Debug)]
pub struct NewResidence {
    /// The resident.
    pub resident_id: i64,
    /// District code.
    pub district: i32,
    /// Address.
    pub address: String,
    /// First day.
    pub start_date: NaiveDate,
    /// Move-out day, if already known (imports).
    pub end_date: Option<NaiveDate>,
    /// Declared, or confirmed for imports.
    pub status: Status,
    /// Declared or imported.
    pub source: Source,
    /// For imports: [`import_key`] of the row.
    pub import_key: Option<String>,
    /// The confirming officer, if confirmed at creation.
    pub confirmed_by: Option<i64>,
    /// When confirmed, if confirmed at creation.
    pub confirmed_at: Option<DateTime<Utc>>,
}

impl NewResidence {
    /// A registration declared by the resident, awaiting confirmation.
    pub fn declared(
        resident_id: i64,
        district: i32,
        address: String,
        start_date: NaiveDate,
    ) -> Self {
        NewResidence {
            resident_id,
            district,
            address,
            start_date,
            end_date: None,
            status: Status::Declared,
            source: Source::Declared,
            import_key: None,
            confirmed_by: None,
            confirmed_at: None,
        }
    }
}

fn active(new: NewResidence) -> ActiveModel {
    ActiveModel {
        resident_id: Set(new.resident_id),
        district: Set(new.district),
        address: Set(new.address),
        start_date: Set(new.start_date),
        end_date: Set(new.end_date),
        status: Set(new.status),
        confirmed_by: Set(new.confirmed_by),
        confirmed_at: Set(new.confirmed_at),
        source: Set(new.source),
        import_key: Set(new.import_key),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
}

/// Stores a registration.
pub async fn insert<C: ConnectionTrait>(db: &C, new: NewResidence) -> Result<Model> {
    Ok(Entity::insert(active(new)).exec_with_returning(db).await?)
}

/// Stores an imported registration unless one with the same `import_key` exists: `true` when
/// stored now, `false` when it was there already (re-running an import changes nothing).
pub async fn import<C: ConnectionTrait>(db: &C, new: NewResidence) -> Result<bool> {
    let result = Entity::insert(active(new))
        .on_conflict_do_nothing_on([Column::ImportKey])
        .exec_without_returning(db)
        .await?;
    Ok(matches!(result, sea_orm::TryInsertResult::Inserted(n) if n > 0))
}

/// The registration with this id.
pub async fn get<C: ConnectionTrait>(db: &C, id: i64) -> Result<Model> {
    found(Entity::find_by_id(id).one(db).await?, "residence")
}

/// Ends an open registration on `end_date` (move-out day). `false` when it was ended already.
pub async fn end<C: ConnectionTrait>(db: &C, id: i64, end_date: NaiveDate) -> Result<bool> {
    let result = Entity::update_many()
        .col_expr(Column::EndDate, Expr::value(end_date))
        .filter(Column::Id.eq(id))
        .filter(Column::EndDate.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Confirms a declared registration. `false` when it was confirmed already.
pub async fn confirm<C: ConnectionTrait>(
    db: &C,
    id: i64,
    staff_id: i64,
    now: DateTime<Utc>,
) -> Result<bool> {
    let result = Entity::update_many()
        .col_expr(Column::Status, Expr::value(Status::Confirmed.to_value()))
        .col_expr(Column::ConfirmedBy, Expr::value(staff_id))
        .col_expr(Column::ConfirmedAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .filter(Column::Status.eq(Status::Declared))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// A resident's registrations, oldest start first.
pub async fn list_by_resident<C: ConnectionTrait>(db: &C, resident_id: i64) -> Result<Vec<Model>> {
    Ok(Entity::find()
        .filter(Column::ResidentId.eq(resident_id))
        .order_by_asc(Column::StartDate)
        .order_by_asc(Column::Id)
        .all(db)
        .await?)
}

/// A resident's open registration (no end date), the latest if several.
pub async fn current_for_resident<C: ConnectionTrait>(
    db: &C,
    resident_id: i64,
) -> Result<Option<Model>> {
    Ok(Entity::find()
        .filter(Column::ResidentId.eq(resident_id))
        .filter(Column::EndDate.is_null())
        .order_by_desc(Column::StartDate)
        .order_by_desc(Column::Id)
        .one(db)
        .await?)
}

/// The open registration among a resident's registrations `rows`, as [`current_for_resident`]
/// picks it: no end date, the latest start (then the latest id) if several.
pub fn current_of(rows: &[Model]) -> Option<&Model> {
    rows.iter()
        .filter(|r| r.end_date.is_none())
        .max_by_key(|r| (r.start_date, r.id))
}

/// Filters of an officer's list.
#[derive(Clone, Copy, Debug, Default)]
pub struct DistrictFilter {
    /// Only this status.
    pub status: Option<Status>,
    /// Only registrations covering some day on or after this one (`end_date` null or `> from`).
    pub from: Option<NaiveDate>,
    /// Only registrations starting on or before this day.
    pub to: Option<NaiveDate>,
}

/// The registrations of a district, filtered, oldest first.
pub async fn list_by_district<C: ConnectionTrait>(
    db: &C,
    district: i32,
    filter: DistrictFilter,
) -> Result<Vec<Model>> {
    let mut query = Entity::find().filter(Column::District.eq(district));
    if let Some(status) = filter.status {
        query = query.filter(Column::Status.eq(status));
    }
    if let Some(from) = filter.from {
        query = query.filter(
            Condition::any()
                .add(Column::EndDate.is_null())
                .add(Column::EndDate.gt(from)),
        );
    }
    if let Some(to) = filter.to {
        query = query.filter(Column::StartDate.lte(to));
    }
    Ok(query.order_by_asc(Column::Id).all(db).await?)
}
