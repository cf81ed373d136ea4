//! `epermit audit verify|checkpoint|export` (SPEC §4 "Audit", issue 12 item 7).

use std::io::Write;
use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::{Value, json};

use crate::audit::{AuditKey, checkpoint, verify};
use crate::cli::AuditCommand;
use crate::commands::operator::with_store;
use crate::commands::{Outcome, exit};
use crate::store::{Store, StoreError, audit};

/// Runs one `epermit audit` subcommand.
pub fn run(config: Option<&Path>, command: AuditCommand) -> Outcome {
    match command {
        AuditCommand::Verify { checkpoints } => verify_command(config, checkpoints.as_deref()),
        AuditCommand::Checkpoint => with_key(config, |settings, store, key| async move {
            match checkpoint::take(&store, &key).await {
                Ok(c) => {
                    let exporter = crate::audit::Exporter::from_settings(&settings.audit);
                    let exported = exporter.export_pending(&store).await.unwrap_or(0);
                    Outcome::ok(json!({
                        "checkpoint": checkpoint::Exported::from(&c),
                        "exported_now": exported,
                    }))
                }
                Err(e) => {
                    eprintln!("epermit: {e}");
                    let code = match e {
                        checkpoint::CheckpointError::Broken { .. }
                        | checkpoint::CheckpointError::Truncated { .. } => "audit_chain_broken",
                        _ => "checkpoint_failed",
                    };
                    Outcome {
                        json: Some(json!({ "error": code })),
                        code: if code == "audit_chain_broken" {
                            exit::NOT_VALID
                        } else {
                            exit::IO
                        },
                    }
                }
            }
        }),
        AuditCommand::Export { from, to } => export_command(config, from.as_deref(), to.as_deref()),
    }
}

/// [`with_store`] with the audit key opened (it is, by `with_store`; here it is handed over).
fn with_key<F, Fut>(config: Option<&Path>, f: F) -> Outcome
where
    F: FnOnce(crate::config::Settings, Store, AuditKey) -> Fut,
    Fut: Future<Output = Outcome>,
{
    with_store(config, |settings, store| async move {
        match AuditKey::open(&settings.data_dir, &store).await {
            Ok(key) => f(settings, store, key).await,
            Err(e) => {
                eprintln!("epermit: audit key: {e}");
                Outcome {
                    json: Some(json!({ "error": "audit_key_unavailable" })),
                    code: exit::IO,
                }
            }
        }
    })
}

fn unavailable(e: StoreError) -> Outcome {
    eprintln!("epermit: {e}");
    Outcome {
        json: Some(json!({ "error": "database_unavailable" })),
        code: exit::IO,
    }
}

/// `audit verify [--checkpoints FILE]`: the report; exit 0 only when intact, 1 when not.
fn verify_command(config: Option<&Path>, file: Option<&Path>) -> Outcome {
    let exported = match file.map(verify::read_export).transpose() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("epermit: --checkpoints: {e}");
            return Outcome::bad_input(json!({ "error": "unreadable_file" }));
        }
    };
    with_key(config, |_, store, key| async move {
        match verify::verify(store.conn(), &key.public_key(), exported).await {
            Ok(report) => {
                let intact = report.intact();
                if intact {
                    eprintln!(
                        "epermit: the audit log is intact: {} entries, {} not yet anchored by a \
                         checkpoint",
                        report.entries, report.unanchored_entries
                    );
                } else {
                    eprintln!(
                        "epermit: the audit log was TAMPERED WITH: {} problem(s)",
                        report.problem_count
                    );
                    for p in &report.problems {
                        eprintln!("  {}: {}", p.kind, p.detail);
                    }
                }
                Outcome {
                    json: Some(serde_json::to_value(&report).unwrap_or(Value::Null)),
                    code: if intact { exit::OK } else { exit::NOT_VALID },
                }
            }
            Err(e) => unavailable(e),
        }
    })
}

/// A bound of `audit export`: a sequence number, or a time (a day: its start for `--from`, its
/// end for `--to`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bound {
    /// An entry's sequence number.
    Seq(i64),
    /// An instant.
    Time(DateTime<Utc>),
}

/// Parses `--from`/`--to` (`end` for `--to`: a day then means up to its end).
pub fn parse_bound(text: &str, end: bool) -> Option<Bound> {
    let text = text.trim();
    if let Ok(seq) = text.parse::<i64>() {
        return Some(Bound::Seq(seq));
    }
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let day = if end { day.succ_opt()? } else { day };
        let t = day.and_hms_opt(0, 0, 0)?.and_utc();
        return Some(Bound::Time(if end {
            t - chrono::Duration::microseconds(1)
        } else {
            t
        }));
    }
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| Bound::Time(t.with_timezone(&Utc)))
}

/// One entry as an inspector reads it.
pub fn entry_line(e: &audit::Model) -> Value {
    json!({
        "seq": e.id,
        "time": audit::canonical_at(e.at),
        "actor": e.actor,
        "action": e.action,
        "subject": e.subject,
        "detail": serde_json::from_str::<Value>(&e.detail).unwrap_or(Value::String(e.detail.clone())),
        "prev_hash": e.prev_hash,
        "hash": e.hash,
    })
}

/// Writes the entries between `from` and `to` (inclusive) to `out`, one JSON line each; returns
/// how many.
pub async fn export_entries<C: sea_orm::ConnectionTrait>(
    db: &C,
    from: Option<Bound>,
    to: Option<Bound>,
    out: &mut impl Write,
) -> Result<u64, StoreError> {
    let mut after = i64::MIN;
    let mut count = 0;
    loop {
        let mut q = audit::Entity::find()
            .filter(audit::Column::Id.gt(after))
            .order_by_asc(audit::Column::Id)
            .limit(1000);
        q = match from {
            Some(Bound::Seq(s)) => q.filter(audit::Column::Id.gte(s)),
            Some(Bound::Time(t)) => q.filter(audit::Column::At.gte(t)),
            None => q,
        };
        q = match to {
            Some(Bound::Seq(s)) => q.filter(audit::Column::Id.lte(s)),
            Some(Bound::Time(t)) => q.filter(audit::Column::At.lte(t)),
            None => q,
        };
        let page = q.all(db).await?;
        let Some(last) = page.last() else {
            return Ok(count);
        };
        after = last.id;
        for e in &page {
            if writeln!(out, "{}", entry_line(e)).is_err() {
                return Ok(count);
            }
            count += 1;
        }
    }
}

/// `audit export --from --to`: JSON lines on stdout.
fn export_command(config: Option<&Path>, from: Option<&str>, to: Option<&str>) -> Outcome {
    let parse = |text: Option<&str>, end: bool, flag: &str| match text {
        None => Ok(None),
        Some(t) => parse_bound(t, end).map(Some).ok_or_else(|| {
            eprintln!("epermit: {flag}: a sequence number, a day (YYYY-MM-DD) or an RFC 3339 time");
            Outcome::bad_input(json!({ "error": "invalid_bound", "field": flag }))
        }),
    };
    let from = match parse(from, false, "--from") {
        Ok(b) => b,
        Err(o) => return o,
    };
    let to = match parse(to, true, "--to") {
        Ok(b) => b,
        Err(o) => return o,
    };
    with_store(config, |_, store| async move {
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::new(stdout.lock());
        match export_entries(store.conn(), from, to, &mut out).await {
            Ok(n) => {
                let _ = out.flush();
                eprintln!("epermit: {n} entries");
                Outcome {
                    json: None,
                    code: exit::OK,
                }
            }
            Err(e) => unavailable(e),
        }
    })
}
