//! `epermit audit verify`: the chain checked against every validly signed checkpoint, from the
//! database and from the exported file (whoever edits the database can delete checkpoints too).
//!
//! What it names ([`Problem::kind`]):
//! - `truncation`: entries a checkpoint anchored are gone (the log ends before a checkpoint's
//!   sequence, or its entry is missing), or entries are missing inside the chain (an entry
//!   links to a hash no entry has);
//! - `rewriting`: an entry does not match its own hash, carries a plain hash where the chain is
//!   keyed (recomputed without the audit key), or the entry a checkpoint anchors has another
//!   hash than the checkpoint signed;
//! - `reordering`: an entry links to an entry that exists, but not to the one before it;
//! - `bad_signature`: a checkpoint whose signature does not verify under the audit key (forged
//!   or edited; it is not trusted);
//! - `checkpoint_deleted`: a checkpoint in the exported file is missing from the database;
//! - `checkpoint_mismatch`: the database and the file hold different checkpoints of one sequence;
//! - `unreadable_checkpoint`: a line of the file that is not a checkpoint.
//!
//! It also says how many entries after the latest checkpoint are not yet anchored. The log is
//! `intact` only when no problem was found.

use std::collections::BTreeMap;
use std::path::Path;

use crypto::keys::VerifyingKey;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use serde::Serialize;

use super::checkpoint::{Exported, checkpoint_message};
use super::key::verify_signature;
use crate::store::StoreError;
use crate::store::audit::{self, checkpoints};

/// At most this many problems are listed (all are counted).
pub const MAX_LISTED: usize = 100;

/// One thing found wrong.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// `truncation`, `rewriting`, `reordering`, `bad_signature`, `checkpoint_deleted`,
    /// `checkpoint_mismatch`, `unreadable_checkpoint`.
    pub kind: &'static str,
    /// The entry (or checkpoint) sequence it concerns, if one.
    pub seq: Option<i64>,
    /// What, for people.
    pub detail: String,
}

/// A checkpoint as the report shows it.
#[derive(Clone, Debug, Serialize)]
pub struct CheckpointView {
    /// The anchored entry.
    pub seq: i64,
    /// Its hash.
    pub hash: String,
    /// When it was taken.
    pub at: String,
    /// `database`, `file` or `both`.
    pub source: &'static str,
}

/// What `epermit audit verify` prints.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// `intact` or `tampered`.
    pub status: &'static str,
    /// Entries in the log.
    pub entries: u64,
    /// The last entry's sequence (0: none).
    pub head: i64,
    /// The audit key checkpoints were checked with.
    pub audit_kid: String,
    /// Validly signed checkpoints in the database.
    pub checkpoints_in_database: u64,
    /// Checkpoints read from the exported file, if one was given.
    pub checkpoints_in_file: Option<u64>,
    /// The latest validly signed checkpoint.
    pub latest_checkpoint: Option<CheckpointView>,
    /// Entries after the latest checkpoint: not yet anchored (truncating them would not show).
    pub unanchored_entries: u64,
    /// How many problems were found.
    pub problem_count: u64,
    /// The first [`MAX_LISTED`] of them.
    pub problems: Vec<Problem>,
}

impl Report {
    /// Whether nothing was found wrong.
    pub fn intact(&self) -> bool {
        self.problem_count == 0
    }

    fn add(&mut self, kind: &'static str, seq: Option<i64>, detail: String) {
        self.problem_count += 1;
        if self.problems.len() < MAX_LISTED {
            self.problems.push(Problem { kind, seq, detail });
        }
        self.status = "tampered";
    }
}

/// Reads an exported checkpoint file: the checkpoints and the numbers of unreadable lines.
pub fn read_export(path: &Path) -> std::io::Result<(Vec<Exported>, Vec<usize>)> {
    let text = std::fs::read_to_string(path)?;
    let mut found = Vec::new();
    let mut bad = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Exported>(line) {
            Ok(c) => found.push(c),
            Err(_) => bad.push(n + 1),
        }
    }
    Ok((found, bad))
}

/// Checks the log in `db` against its checkpoints and those of `file` (an exported file's
/// contents, see [`read_export`]), with the audit key `public_key`.
pub async fn verify<C: ConnectionTrait>(
    db: &C,
    public_key: &VerifyingKey,
    file: Option<(Vec<Exported>, Vec<usize>)>,
) -> Result<Report, StoreError> {
    let kid = super::key::kid_of(public_key);
    let mut report = Report {
        status: "intact",
        entries: 0,
        head: 0,
        audit_kid: kid.clone(),
        checkpoints_in_database: 0,
        checkpoints_in_file: None,
        latest_checkpoint: None,
        unanchored_entries: 0,
        problem_count: 0,
        problems: Vec::new(),
    };
    let signed = |c: &Exported| {
        c.kid == kid
            && verify_signature(
                public_key,
                &checkpoint_message(c.seq, &c.hash, &c.at, &c.kid),
                &c.signature,
            )
    };

    // The trusted checkpoints, by sequence.
    let mut trusted: BTreeMap<i64, (Exported, &'static str)> = BTreeMap::new();
    let mut in_db: BTreeMap<i64, Exported> = BTreeMap::new();
    for c in checkpoints::all(db).await? {
        let c = Exported::from(&c);
        if signed(&c) {
            report.checkpoints_in_database += 1;
            trusted.insert(c.seq, (c.clone(), "database"));
        } else {
            report.add(
                "bad_signature",
                Some(c.seq),
                format!(
                    "the checkpoint of entry {} in the database is not signed by audit key {kid}",
                    c.seq
                ),
            );
        }
        in_db.insert(c.seq, c);
    }
    if let Some((from_file, unreadable)) = file {
        report.checkpoints_in_file = Some(from_file.len() as u64);
        for line in unreadable {
            report.add(
                "unreadable_checkpoint",
                None,
                format!("line {line} of the checkpoint file is not a checkpoint"),
            );
        }
        let mut seen: BTreeMap<i64, Exported> = BTreeMap::new();
        for c in from_file {
            if seen.get(&c.seq) == Some(&c) {
                continue; // exported twice by two instances
            }
            seen.insert(c.seq, c.clone());
            if !signed(&c) {
                report.add(
                    "bad_signature",
                    Some(c.seq),
                    format!(
                        "the checkpoint of entry {} in the file is not signed by audit key {kid}",
                        c.seq
                    ),
                );
                continue;
            }
            match in_db.get(&c.seq) {
                None => report.add(
                    "checkpoint_deleted",
                    Some(c.seq),
                    format!(
                        "the checkpoint of entry {} (taken {}) is in the exported file but not in \
                         the database",
                        c.seq, c.at
                    ),
                ),
                Some(d) if d != &c => report.add(
                    "checkpoint_mismatch",
                    Some(c.seq),
                    format!(
                        "the database and the file hold different checkpoints of entry {}",
                        c.seq
                    ),
                ),
                Some(_) => {}
            }
            let source = if in_db.get(&c.seq) == Some(&c) {
                "both"
            } else {
                "file"
            };
            // A validly signed checkpoint is authoritative, wherever it was read.
            match trusted.get(&c.seq) {
                Some((t, _)) if t == &c => {
                    trusted.insert(c.seq, (c, source));
                }
                Some(_) => {
                    report.add(
                        "checkpoint_mismatch",
                        Some(c.seq),
                        format!("two validly signed checkpoints of entry {} differ", c.seq),
                    );
                }
                None => {
                    trusted.insert(c.seq, (c, source));
                }
            }
        }
    }
    let keyed_from = trusted.keys().next().copied();

    // The walk.
    let mut prev = audit::GENESIS.to_owned();
    let mut after = i64::MIN;
    let mut anchored_seen = std::collections::BTreeSet::new();
    loop {
        let page = audit::list(db, after, 1000).await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        for row in page {
            report.entries += 1;
            report.head = row.id;
            if trusted.contains_key(&row.id) {
                anchored_seen.insert(row.id);
            }
            let keyed = audit::keyed_by(&row.hash).is_some();
            match audit::expected_hash(&row, &row.prev_hash) {
                None => report.add(
                    "rewriting",
                    Some(row.id),
                    format!(
                        "entry {} is keyed with audit key {}, which is not the one loaded",
                        row.id,
                        audit::keyed_by(&row.hash).unwrap_or_default()
                    ),
                ),
                Some(expected) if expected != row.hash => report.add(
                    "rewriting",
                    Some(row.id),
                    format!("entry {} does not match its hash: it was edited", row.id),
                ),
                Some(_) => {}
            }
            if !keyed && keyed_from.is_some_and(|k| row.id > k) {
                report.add(
                    "rewriting",
                    Some(row.id),
                    format!(
                        "entry {} has a plain hash after the chain was keyed: the chain was \
                         recomputed without the audit key",
                        row.id
                    ),
                );
            }
            if row.prev_hash != prev {
                let linked = audit::Entity::find()
                    .select_only()
                    .column(audit::Column::Id)
                    .filter(audit::Column::Hash.eq(row.prev_hash.clone()))
                    .into_tuple::<i64>()
                    .one(db)
                    .await?;
                match linked {
                    Some(other) => report.add(
                        "reordering",
                        Some(row.id),
                        format!(
                            "entry {} follows entry {other}, not the entry before it",
                            row.id
                        ),
                    ),
                    None => report.add(
                        "truncation",
                        Some(row.id),
                        format!(
                            "entries are missing before entry {}: it links to an entry that is \
                             gone",
                            row.id
                        ),
                    ),
                }
            }
            if let Some((c, _)) = trusted.get(&row.id)
                && c.hash != row.hash
            {
                report.add(
                    "rewriting",
                    Some(row.id),
                    format!(
                        "entry {} is not the entry the checkpoint of {} signed",
                        row.id, c.at
                    ),
                );
            }
            prev = row.hash;
        }
    }
    for (seq, (c, _)) in &trusted {
        if *seq == 0 {
            continue;
        }
        if *seq > report.head {
            report.add(
                "truncation",
                Some(*seq),
                format!(
                    "the log ends at entry {} but the checkpoint of {} anchors entries up to {seq}: \
                     entries were deleted",
                    report.head, c.at
                ),
            );
        } else if !anchored_seen.contains(seq) {
            report.add(
                "truncation",
                Some(*seq),
                format!(
                    "entry {seq}, anchored by the checkpoint of {}, is missing",
                    c.at
                ),
            );
        }
    }
    if let Some((seq, (c, source))) = trusted.iter().next_back() {
        report.unanchored_entries = checkpoints::entries_after(db, *seq).await?;
        report.latest_checkpoint = Some(CheckpointView {
            seq: *seq,
            hash: c.hash.clone(),
            at: c.at.clone(),
            source,
        });
    } else {
        report.unanchored_entries = report.entries;
    }
    Ok(report)
}
