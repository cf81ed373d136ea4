//! `list_sequences`: the sequence numbers of the signed trust list and status list (SPEC §2: a
//! verifier never accepts a trust list with a lower sequence than one it holds).

use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ConnectionTrait, DeriveIden};

use super::{Result, found};

/// Which list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListName {
    /// The trust list.
    TrustList,
    /// The status list.
    StatusList,
}

impl ListName {
    /// The row key.
    pub fn as_str(self) -> &'static str {
        match self {
            ListName::TrustList => "trust_list",
            ListName::StatusList => "status_list",
        }
    }
}

#[derive(DeriveIden)]
enum ListSequences {
    Table,
    Name,
    Sequence,
    ChangedAt,
}

/// Increments the list's sequence and returns the new value (1 the first time). Atomic: an
/// insert-if-missing, then `UPDATE … SET sequence = sequence + 1 … RETURNING sequence`.
pub async fn bump<C: ConnectionTrait>(db: &C, list: ListName) -> Result<i64> {
    let insert = Query::insert()
        .into_table(ListSequences::Table)
        .columns([ListSequences::Name, ListSequences::Sequence])
        .values([list.as_str().into(), 0i64.into()])?
        .on_conflict(
            OnConflict::column(ListSequences::Name)
                .do_nothing()
                .to_owned(),
        )
        .to_owned();
    db.execute(&insert).await?;
    let update = Query::update()
        .table(ListSequences::Table)
        .value(
            ListSequences::Sequence,
            Expr::col(ListSequences::Sequence).add(1),
        )
        .value(
            ListSequences::ChangedAt,
            Expr::value(chrono::Utc::now().timestamp_micros()),
        )
        .and_where(Expr::col(ListSequences::Name).eq(list.as_str()))
        .returning_col(ListSequences::Sequence)
        .to_owned();
    let row = found(db.query_one(&update).await?, "list sequence")?;
    Ok(row.try_get("", "sequence")?)
}

/// The list's current sequence and when it last moved (`(0, None)` before the first [`bump`]).
pub async fn stamp<C: ConnectionTrait>(
    db: &C,
    list: ListName,
) -> Result<(i64, Option<chrono::DateTime<chrono::Utc>>)> {
    // Read as text: SQLite's driver infers a column's type from the query plan and may take a
    // value written after the column was added for NULL; a cast to text always reads back.
    let select = Query::select()
        .column(ListSequences::Sequence)
        .expr_as(
            Expr::cust("CAST(changed_at AS TEXT)"),
            sea_orm::sea_query::Alias::new("changed_at"),
        )
        .from(ListSequences::Table)
        .and_where(Expr::col(ListSequences::Name).eq(list.as_str()))
        .to_owned();
    match db.query_one(&select).await? {
        Some(row) => {
            let changed: Option<String> = row.try_get("", "changed_at")?;
            Ok((
                row.try_get("", "sequence")?,
                changed
                    .and_then(|c| c.trim().parse::<i64>().ok())
                    .and_then(chrono::DateTime::from_timestamp_micros),
            ))
        }
        None => Ok((0, None)),
    }
}

/// The list's current sequence (0 before the first [`bump`]).
pub async fn get<C: ConnectionTrait>(db: &C, list: ListName) -> Result<i64> {
    let select = Query::select()
        .column(ListSequences::Sequence)
        .from(ListSequences::Table)
        .and_where(Expr::col(ListSequences::Name).eq(list.as_str()))
        .to_owned();
    match db.query_one(&select).await? {
        Some(row) => Ok(row.try_get("", "sequence")?),
        None => Ok(0),
    }
}

/// Both lists' current sequences in one read: `(trust list, status list)`.
pub async fn get_both<C: ConnectionTrait>(db: &C) -> Result<(i64, i64)> {
    let select = Query::select()
        .columns([ListSequences::Name, ListSequences::Sequence])
        .from(ListSequences::Table)
        .to_owned();
    let (mut trust, mut status) = (0, 0);
    for row in db.query_all(&select).await? {
        let name: String = row.try_get("", "name")?;
        let sequence: i64 = row.try_get("", "sequence")?;
        if name == ListName::TrustList.as_str() {
            trust = sequence;
        } else if name == ListName::StatusList.as_str() {
            status = sequence;
        }
    }
    Ok((trust, status))
}
