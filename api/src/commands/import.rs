//! `epermit import residences FILE.csv`: loads confirmed historical registrations from the legacy
//! system (SPEC §1.1; issue 3 "residence registrations").
//!
//! The file is CSV with a header naming the columns `id_number, name, district, address, start,
//! end` (in any order; `end` may be empty for a registration still open). Each row is checked —
//! GB 11643 ID number, a Jinhua district, `YYYY-MM-DD` dates not after today and not before
//! 1970-01-01 (a credential carries no earlier day, [`policy::check_carried_date`]), `end` ≥ `start` —
//! and then stored as a *confirmed* registration with source `imported` for the resident with that
//! ID number (created when absent). Rows are keyed by a keyed hash of
//! `<id_number>|<district>|<start>` ([`residences::import_key`]), so running the same file twice
//! imports nothing the second time. One transaction per batch of [`BATCH_ROWS`] rows; each
//! imported row gets its own audit entry (`residence.import`: the resident, district, period and
//! the file's line — no ID number or name) in that transaction, and the batch ends with a summary
//! entry (`residence.import_batch`), so confirmed history (the basis of a hukou conversion) is
//! traceable row by row.
//!
//! The report (JSON on stdout) counts rows imported, already present and rejected, and lists each
//! rejected row's line number, field and reason — never its ID number or name. Exit 0 when the
//! file was read (even with rejected rows), 3 for an unreadable file or a bad header, 4 when the
//! database failed midway (the batches before stay imported; re-running is safe).

use std::io::Read;
use std::path::Path;

use chrono::{NaiveDate, Utc};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use policy::District;
use serde::Serialize;
use serde_json::json;

use crate::commands::operator::with_store;
use crate::commands::{Outcome, exit};
use crate::domain::IdNumber;
use crate::store::residences::{self, NewResidence, Source, Status};
use crate::store::{Store, StoreError, audit, residents};

/// The progress bar [`import_residences`] advances (re-exported so callers need not depend on
/// `indicatif`; `Progress::hidden()` for none).
pub use indicatif::ProgressBar as Progress;

/// Rows per transaction.
pub const BATCH_ROWS: usize = 500;

/// The columns of the file.
pub const COLUMNS: [&str; 6] = ["id_number", "name", "district", "address", "start", "end"];

/// A row that was not imported.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Rejected {
    /// The line of the file where the row starts (the header is line 1).
    pub line: u64,
    /// The column at fault, if one is.
    pub field: Option<&'static str>,
    /// A stable code: `invalid_id_number`, `invalid_name`, `invalid_district`,
    /// `district_not_in_jinhua`, `invalid_address`, `invalid_date`, `date_before_1970` (a day no
    /// credential can carry, [`policy::check_carried_date`]), `date_in_future`,
    /// `period_ends_before_start`, `wrong_field_count`, `invalid_encoding`.
    pub reason: &'static str,
}

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Rows stored now.
    pub imported: u64,
    /// Rows stored by an earlier run (or earlier in this file).
    pub already_present: u64,
    /// Rows refused.
    pub rejected: u64,
    /// Each refused row.
    pub rejected_rows: Vec<Rejected>,
}

/// Why an import could not run (or finish).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file cannot be opened or read as CSV.
    #[error("the file cannot be read: {0}")]
    Unreadable(String),
    /// The header does not name the expected columns.
    #[error("bad header: the columns are id_number,name,district,address,start,end")]
    BadHeader,
    /// The database failed; the report holds what was imported before.
    #[error("database: {source}")]
    Store {
        /// What was done before the failure.
        report: Report,
        /// The failure.
        #[source]
        source: StoreError,
    },
}

/// A valid row.
struct Row {
    line: u64,
    id_number: IdNumber,
    name: String,
    district: District,
    address: String,
    start: NaiveDate,
    end: Option<NaiveDate>,
}

fn text(s: &str, chars: std::ops::RangeInclusive<usize>) -> Option<String> {
    let t = s.trim();
    (chars.contains(&t.chars().count()) && !t.chars().any(char::is_control)).then(|| t.to_owned())
}

/// Checks one record against the columns at `index` (positions of [`COLUMNS`]).
fn parse_row(
    record: &csv::ByteRecord,
    index: &[usize; 6],
    today: NaiveDate,
    line: u64,
) -> Result<Row, (Option<&'static str>, &'static str)> {
    let mut values = [""; 6];
    for (i, column) in index.iter().enumerate() {
        let field = record.get(*column).ok_or((None, "wrong_field_count"))?;
        values[i] =
            std::str::from_utf8(field).map_err(|_| (Some(COLUMNS[i]), "invalid_encoding"))?;
    }
    let [id_number, name, district, address, start, end] = values;
    let id_number =
        IdNumber::parse(id_number).map_err(|_| (Some("id_number"), "invalid_id_number"))?;
    let name = text(name, 1..=64).ok_or((Some("name"), "invalid_name"))?;
    let district = district
        .trim()
        .parse::<District>()
        .map_err(|e| (Some("district"), e.code()))?;
    let address = text(address, 2..=64).ok_or((Some("address"), "invalid_address"))?;
    let date = |s: &str, field: &'static str| {
        let day =
            policy::calendar::parse_date(s.trim()).map_err(|_| (Some(field), "invalid_date"))?;
        // A day no credential can carry would make the holder's approval fail (SPEC §2).
        policy::check_carried_date(day).map_err(|e| (Some(field), e.code()))?;
        Ok(day)
    };
    let start = date(start, "start")?;
    let end = match end.trim() {
        "" => None,
        e => Some(date(e, "end")?),
    };
    if start > today {
        return Err((Some("start"), "date_in_future"));
    }
    if let Some(end) = end {
        if end > today {
            return Err((Some("end"), "date_in_future"));
        }
        if end < start {
            return Err((Some("end"), "period_ends_before_start"));
        }
    }
    Ok(Row {
        line,
        id_number,
        name,
        district,
        address,
        start,
        end,
    })
}

/// Stores one batch in one transaction, counting into `report`.
async fn store_batch(store: &Store, batch: &[Row], report: &mut Report) -> Result<(), StoreError> {
    if batch.is_empty() {
        return Ok(());
    }
    let sealer = store.sealer()?;
    let txn = store.begin().await?;
    let now = Utc::now();
    let (mut imported, mut present) = (0u64, 0u64);
    for row in batch {
        let resident =
            residents::find_or_create_by_id_number(&txn, sealer, row.id_number.expose(), &row.name)
                .await?;
        let district = i32::from(row.district);
        let key = residences::import_key(sealer, row.id_number.expose(), district, row.start);
        let new = NewResidence {
            resident_id: resident.id,
            district,
            address: row.address.clone(),
            start_date: row.start,
            end_date: row.end,
            status: Status::Confirmed,
            source: Source::Imported,
            import_key: Some(key),
            confirmed_by: None,
            confirmed_at: Some(now),
        };
        if residences::import(&txn, new).await? {
            imported += 1;
            let entry = audit::NewEntry::new(
                "operator:cli",
                "residence.import",
                format!("resident:{}", resident.id),
                json!({
                    "district": district,
                    "start": row.start,
                    "end": row.end,
                    "status": "confirmed",
                    "line": row.line,
                }),
            );
            audit::append(&txn, entry, now).await?;
        } else {
            present += 1;
        }
    }
    if imported > 0 {
        let entry = audit::NewEntry::new(
            "operator:cli",
            "residence.import_batch",
            "residences",
            json!({ "imported": imported, "already_present": present }),
        );
        audit::append(&txn, entry, now).await?;
    }
    txn.commit().await?;
    report.imported += imported;
    report.already_present += present;
    Ok(())
}

/// Imports the CSV read from `input` into `store`; `progress` counts bytes read (give it the
/// file's length, or use [`ProgressBar::hidden`]).
pub async fn import_residences<R: Read>(
    store: &Store,
    input: R,
    progress: &ProgressBar,
) -> Result<Report, ImportError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(input);
    let header = reader
        .byte_headers()
        .map_err(|e| ImportError::Unreadable(e.to_string()))?
        .clone();
    let names: Vec<String> = header
        .iter()
        .map(|h| {
            String::from_utf8_lossy(h)
                .trim()
                .trim_start_matches('\u{feff}')
                .to_ascii_lowercase()
        })
        .collect();
    let mut index = [0usize; 6];
    for (i, column) in COLUMNS.iter().enumerate() {
        let mut at = names.iter().enumerate().filter(|(_, n)| n == column);
        match (at.next(), at.next()) {
            (Some((position, _)), None) => index[i] = position,
            _ => return Err(ImportError::BadHeader),
        }
    }
    let today = policy::calendar::today();
    let mut report = Report::default();
    let mut batch = Vec::with_capacity(BATCH_ROWS);
    let mut record = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record.position().map_or(0, csv::Position::line);
                progress.set_position(record.position().map_or(0, csv::Position::byte));
                if record.len() != header.len() {
                    reject(&mut report, line, None, "wrong_field_count");
                    continue;
                }
                match parse_row(&record, &index, today, line) {
                    Ok(row) => batch.push(row),
                    Err((field, reason)) => reject(&mut report, line, field, reason),
                }
            }
            Err(e) => {
                // A malformed record (e.g. invalid quoting): name its line, go on with the next.
                let line = e.position().map_or(0, csv::Position::line);
                if e.is_io_error() {
                    return Err(ImportError::Unreadable(e.to_string()));
                }
                reject(&mut report, line, None, "malformed_row");
                continue;
            }
        }
        if batch.len() == BATCH_ROWS {
            store_batch(store, &batch, &mut report)
                .await
                .map_err(|source| ImportError::Store {
                    report: report.clone(),
                    source,
                })?;
            batch.clear();
        }
    }
    store_batch(store, &batch, &mut report)
        .await
        .map_err(|source| ImportError::Store {
            report: report.clone(),
            source,
        })?;
    progress.finish_and_clear();
    Ok(report)
}

fn reject(report: &mut Report, line: u64, field: Option<&'static str>, reason: &'static str) {
    report.rejected += 1;
    report.rejected_rows.push(Rejected {
        line,
        field,
        reason,
    });
}

/// Imports the file at `path` into `store`, with a progress bar on stderr when it is a terminal.
pub async fn import_file(store: &Store, path: &Path) -> Result<Report, ImportError> {
    let file = std::fs::File::open(path).map_err(|e| ImportError::Unreadable(e.to_string()))?;
    let length = file.metadata().map(|m| m.len()).unwrap_or(0);
    let progress = ProgressBar::with_draw_target(Some(length), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {elapsed}") {
        progress.set_style(style);
    }
    import_residences(store, std::io::BufReader::new(file), &progress).await
}

/// `epermit import residences FILE.csv`.
pub fn residences(config: Option<&Path>, path: &Path) -> Outcome {
    let path = path.to_owned();
    with_store(config, |_, store| async move {
        match import_file(&store, &path).await {
            Ok(report) => Outcome::ok(json!(report)),
            Err(ImportError::Unreadable(e)) => {
                eprintln!("epermit: {}: {e}", path.display());
                Outcome::bad_input(json!({ "error": "unreadable_file" }))
            }
            Err(ImportError::BadHeader) => {
                eprintln!("epermit: {}: {}", path.display(), ImportError::BadHeader);
                Outcome::bad_input(json!({ "error": "bad_header", "columns": COLUMNS }))
            }
            Err(ImportError::Store { report, source }) => {
                eprintln!("epermit: database: {source}; the batches before were imported");
                Outcome {
                    json: Some(json!({ "error": "database_failed", "report": report })),
                    code: exit::IO,
                }
            }
        }
    })
}
