//! `epermit seed`: a city's worth of synthetic data (issue 14 item 5) — residents with their
//! registrations, applications and issued permits, loaded in bulk and consistent enough that
//! every API call works on them (verify a seeded QR, approve a seeded pending application, the
//! resident report, the officer queue, the police look-up, suspend and restore).
//!
//! What is written, and how it stays what the service itself would have written:
//!
//! - **Residents** with a phone (`19` + the resident id in nine digits), an ID number (GB 11643,
//!   region of their district, a birth day and sequence from the id) and a name, sealed and
//!   indexed with the service's own data key and code ([`crate::sealing::Sealer`]): no phone or
//!   ID number in clear in any column.
//! - **Registrations**: one to three confirmed ones per resident, contiguous, of varying length
//!   and districts (loaded as from the legacy system: source `imported`, keyed by
//!   [`residences::import_key`], so a later import of the same history finds them); 2 % of the
//!   residents have a declared, unconfirmed registration only (for the officers' confirmation
//!   queue).
//! - **Applications**: an approved one for every permit holder and a pending one (`submitted`,
//!   meeting SPEC §1.2, to be approved) for 2 % of the residents; evidence is one sealed file.
//! - **Permits**, numbered by the numbering rule (`<district>-<year>-<seq>`, gap-free per district
//!   and year: the counters of `permit_sequences` are advanced by what the seed takes, atomically,
//!   so numbers continue after what existed), issued on a day in the last 300 days, 1 % suspended
//!   and 0.5 % revoked, each with one credential version signed now with its district's key —
//!   the claims assembled by [`issuance::claims_of`], as issuance does — and one status entry:
//!   new shards filled to 90 % at random indices, as the allocator would
//!   ([`crate::store::status::layout`]), their packed entries equal to the permits' statuses.
//!
//! One transaction: a seed that fails leaves nothing. A database that has residents already is
//! refused (`populated`, exit 3) unless `--append` is given; production mode is refused.
//!
//! The audit log records the bulk seed as **one** entry (`seed.bulk` by `operator:cli`, subject
//! `residents:<first id>-<last id>`, the counts in its detail, no personal data), written in the
//! seed's transaction: the rows are synthetic and made by one operator act, so one entry says what
//! was made and by what; per-row entries would be a million lines saying "seeded". Everything done
//! to the seeded rows afterwards through the API is audited as usual.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use crypto::signer::KeyFileSigner;
use policy::{District, DistrictCode, EndorsementCalendar, Period, PermitNumber};
use rayon::prelude::*;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbBackend, EntityTrait, Statement};
use serde::Serialize;
use serde_json::json;

use crate::commands::operator::with_store;
use crate::commands::{Outcome, exit};
use crate::config::Mode;
use crate::error::ApiError;
use crate::issuance::{self, Holding};
use crate::keys::KeyRing;
use crate::sealing::{Index, Place};
use crate::signed_lists::ListCache;
use crate::store::status::layout::{Layout, Rng};
use crate::store::status::{EntryStatus, versions};
use crate::store::{
    Store, StoreError, applications, audit, evidence, lists, permits, residences, residents,
};

/// The most residents one seed makes (the phone numbers and ID numbers it derives run out past
/// ten million ids).
pub const MAX_RESIDENTS: u64 = 10_000_000;

/// Residents generated and written per step.
const CHUNK: i64 = 20_000;

/// Rows per `INSERT` (within both backends' limits on bound values).
const BATCH: usize = 1_000;

/// What to seed.
#[derive(Clone, Debug)]
pub struct Plan {
    /// How many residents.
    pub residents: u64,
    /// Add to a database that has residents already (else refused).
    pub append: bool,
}

/// What a seed made.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Report {
    /// Residents created.
    pub residents: u64,
    /// The first and last resident id.
    pub resident_ids: (i64, i64),
    /// Registrations (confirmed and declared).
    pub registrations: u64,
    /// Applications (approved and pending).
    pub applications: u64,
    /// Pending (`submitted`) applications.
    pub pending: u64,
    /// Permits issued.
    pub permits: u64,
    /// Of which suspended.
    pub suspended: u64,
    /// Of which revoked.
    pub revoked: u64,
    /// Status shards opened.
    pub shards: u64,
    /// How long it took, in seconds.
    pub seconds: f64,
}

/// Why a seed did not run or did not finish.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// The database has residents and `--append` was not given.
    #[error(
        "the database has {0} residents already: seed an empty database, or pass --append to \
         add to it"
    )]
    Populated(u64),
    /// Zero or too many residents asked for.
    #[error("--residents must be between 1 and {MAX_RESIDENTS}")]
    BadCount,
    /// A seeded resident's phone or ID number is taken already.
    #[error("a seeded phone or ID number exists already (from an earlier seed?): {0}")]
    Taken(String),
    /// The database.
    #[error("database: {0}")]
    Store(StoreError),
    /// Signing or assembling a credential.
    #[error("signing: {0}")]
    Sign(String),
}

impl From<StoreError> for SeedError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(what) => SeedError::Taken(what),
            e => SeedError::Store(e),
        }
    }
}

impl From<sea_orm::DbErr> for SeedError {
    fn from(e: sea_orm::DbErr) -> Self {
        StoreError::from(e).into()
    }
}

impl From<ApiError> for SeedError {
    fn from(e: ApiError) -> Self {
        SeedError::Sign(e.to_string())
    }
}

/// What becomes of a resident.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// A permit in this state.
    Permit(permits::Status),
    /// A pending application.
    Pending,
    /// A declared registration only.
    Declared,
}

/// The shape of resident `id`, cheap to compute (the first pass counts with it).
fn kind(id: i64) -> Kind {
    match id % 50 {
        7 => Kind::Pending,
        19 => Kind::Declared,
        _ if id % 100 == 37 => Kind::Permit(permits::Status::Suspended),
        _ if id % 200 == 91 => Kind::Permit(permits::Status::Revoked),
        _ => Kind::Permit(permits::Status::Active),
    }
}

/// The district resident `id` lives in now.
fn district(id: i64) -> District {
    District::ALL[(id.rem_euclid(9)) as usize]
}

/// The issue day of resident `id`'s permit: within the last 300 days.
fn issued_on(id: i64, today: NaiveDate) -> NaiveDate {
    today - Duration::days(1 + (id.wrapping_mul(7919)).rem_euclid(300))
}

/// The phone number of resident `id`.
pub fn phone(id: i64) -> String {
    format!("19{id:09}")
}

/// The ID number of resident `id` (valid GB 11643): region of the district, a birth day from
/// 1960 on and a sequence.
pub fn id_number(id: i64) -> String {
    let born = NaiveDate::from_ymd_opt(1960, 1, 1).unwrap_or_default() + Duration::days(id / 1000);
    let first17 = format!(
        "{}{}{:03}",
        district(id).code(),
        born.format("%Y%m%d"),
        id % 1000
    );
    crate::domain::IdNumber::with_check(&first17)
}

fn name(id: i64) -> String {
    const SURNAMES: [&str; 12] = [
        "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙",
    ];
    const GIVEN: [&str; 16] = [
        "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛",
        "明",
    ];
    let i = id as usize;
    format!(
        "{}{}{}",
        SURNAMES[i % 12],
        GIVEN[(i / 12) % 16],
        GIVEN[(i / 192) % 16]
    )
}

fn address(id: i64, n: i64) -> String {
    const STREETS: [&str; 6] = ["人民路", "解放路", "八一街", "宾虹路", "稠州路", "江滨路"];
    format!(
        "{}{}号",
        STREETS[((id + n) % 6) as usize],
        (id * 31 + n * 7) % 499 + 1
    )
}

/// A registration of the seed.
struct Registration {
    district: District,
    address: String,
    start: NaiveDate,
    end: Option<NaiveDate>,
    confirmed: bool,
}

/// Resident `id`'s registrations, oldest first, the last one open: its current one started 200
/// to 800 days before `day` (the issue day, or today), with up to two earlier ones before it, in
/// other districts, of 120 to 660 days each.
fn registrations(id: i64, day: NaiveDate, confirmed: bool) -> Vec<Registration> {
    let home = district(id);
    let mut start = day - Duration::days(200 + (id % 5) * 150);
    let mut rows = vec![Registration {
        district: home,
        address: address(id, 0),
        start,
        end: None,
        confirmed,
    }];
    for n in 1..=(id % 3) {
        let end = start;
        start = end - Duration::days(120 + (id.wrapping_mul(31) + n).rem_euclid(7) * 90);
        rows.push(Registration {
            district: District::ALL[((id + n).rem_euclid(9)) as usize],
            address: address(id, n),
            start,
            end: Some(end),
            confirmed: true,
        });
    }
    rows.reverse();
    rows
}

fn at(day: NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(2, 0, 0).unwrap_or_default().and_utc()
}

/// Ids and numbers handed out in order, across chunks.
struct Counters {
    residence: i64,
    application: i64,
    permit: i64,
    /// Permits numbered so far.
    ordinal: i64,
    /// The next sequence number of each district and year.
    numbers: BTreeMap<(i32, i32), i64>,
}

/// A resident planned with its ids (serially), before the rows are made (in parallel).
struct Planned {
    id: i64,
    kind: Kind,
    first_residence: i64,
    application: Option<i64>,
    /// Permit id, version number in the layout, permit number.
    permit: Option<(i64, i64, String)>,
}

/// The rows of one chunk.
#[derive(Default)]
struct Rows {
    residents: Vec<residents::ActiveModel>,
    residences: Vec<residences::ActiveModel>,
    applications: Vec<applications::ActiveModel>,
    permits: Vec<permits::ActiveModel>,
    versions: Vec<versions::ActiveModel>,
}

/// Everything making rows needs (shared by the worker threads).
struct Context {
    store: Store,
    today: NaiveDate,
    now: DateTime<Utc>,
    evidence: String,
    layout: Layout,
    keys: BTreeMap<i32, Arc<KeyFileSigner>>,
    uris: BTreeMap<i32, String>,
}

impl Context {
    /// The rows of one resident.
    fn rows(&self, p: &Planned) -> Result<Rows, SeedError> {
        let sealer = self.store.sealer()?;
        let (id, now) = (p.id, self.now);
        let (phone, id_number, name) = (phone(id), id_number(id), name(id));
        let key = id.to_string();
        let mut rows = Rows::default();
        rows.residents.push(residents::ActiveModel {
            id: Set(id),
            phone_index: Set(Some(sealer.index(Index::Phone, phone.as_bytes()))),
            phone_sealed: Set(Some(sealer.seal(Place::ResidentPhone, &key, &phone))),
            name: Set(Some(name.clone())),
            id_number_index: Set(Some(sealer.index(Index::IdNumber, id_number.as_bytes()))),
            id_number_sealed: Set(Some(sealer.seal(Place::ResidentIdNumber, &key, &id_number))),
            created_at: Set(now),
            updated_at: Set(now),
        });
        let day = match p.kind {
            Kind::Permit(_) => issued_on(id, self.today),
            _ => self.today,
        };
        let regs = registrations(id, day, p.kind != Kind::Declared);
        for (n, r) in regs.iter().enumerate() {
            let district = i32::from(r.district);
            rows.residences.push(residences::ActiveModel {
                id: Set(p.first_residence + n as i64),
                resident_id: Set(id),
                district: Set(district),
                address: Set(r.address.clone()),
                start_date: Set(r.start),
                end_date: Set(r.end),
                status: Set(if r.confirmed {
                    residences::Status::Confirmed
                } else {
                    residences::Status::Declared
                }),
                confirmed_by: Set(None),
                confirmed_at: Set(r.confirmed.then(|| at(r.start))),
                source: Set(if r.confirmed {
                    residences::Source::Imported
                } else {
                    residences::Source::Declared
                }),
                import_key: Set(r
                    .confirmed
                    .then(|| residences::import_key(sealer, &id_number, district, r.start))),
                created_at: Set(at(r.start)),
            });
        }
        let home = i32::from(district(id));
        if let Some(application) = p.application {
            let decided = matches!(p.kind, Kind::Permit(_));
            rows.applications.push(applications::ActiveModel {
                id: Set(application),
                resident_id: Set(id),
                district: Set(home),
                basis: Set(applications::Basis::Employment),
                evidence_sha256: Set(self.evidence.clone()),
                status: Set(if decided {
                    applications::Status::Approved
                } else {
                    applications::Status::Submitted
                }),
                reason: Set(None),
                decided_by: Set(None),
                decided_at: Set(decided.then(|| at(day))),
                created_at: Set(at(day - Duration::days(if decided { 10 } else { id % 30 }))),
            });
        }
        if let (Kind::Permit(status), Some((permit, k, number))) = (p.kind, &p.permit) {
            let calendar =
                EndorsementCalendar::new(day, &[]).map_err(|e| SeedError::Sign(e.to_string()))?;
            let current = regs
                .last()
                .ok_or(SeedError::Sign("no registration".into()))?;
            let periods = regs
                .iter()
                .filter_map(|r| {
                    let code = DistrictCode::new(r.district.code()).ok()?;
                    Period::new(code, r.start, r.end).ok()
                })
                .collect();
            let entry = self.layout.entry(*k);
            let holding = Holding {
                number,
                issued_on: day,
                holder_key: None,
                name: &name,
                id_number: &id_number,
                residence: current.district,
                address: current.address.clone(),
                periods,
                calendar: &calendar,
            };
            let uri = self.uris.get(&entry.shard).cloned().unwrap_or_default();
            let claims = issuance::claims_of(holding, entry, &uri, now)?;
            let signer = self
                .keys
                .get(&i32::from(issuance::signing_district(current.district)))
                .ok_or(SeedError::Sign("no district key".into()))?;
            let credential = issuance::sign_claims(&claims, signer.as_ref())?;
            let reason = match status {
                permits::Status::Active => None,
                permits::Status::Suspended => Some("seed: suspended".to_owned()),
                permits::Status::Revoked => Some("seed: revoked".to_owned()),
            };
            rows.permits.push(permits::ActiveModel {
                id: Set(*permit),
                number: Set(number.clone()),
                application_id: Set(p.application.unwrap_or_default()),
                resident_id: Set(id),
                district: Set(home),
                issued_on: Set(day),
                status: Set(status),
                status_reason: Set(reason),
                holder_key: Set(None),
                holder_key_bound_at: Set(None),
                holder_key_bound_from: Set(None),
                credential: Set(credential),
                valid_until: Set(calendar.next_anniversary()),
                last_endorsed: Set(None),
                created_at: Set(at(day)),
                updated_at: Set(now),
            });
            rows.versions.push(versions::ActiveModel {
                // The version number in the layout; made an id after the existing ones on write.
                id: Set(*k),
                permit_id: Set(*permit),
                shard: Set(entry.shard),
                idx: Set(entry.idx),
                created_at: Set(now),
            });
        }
        Ok(rows)
    }
}

/// The largest id of `table` (0 when empty).
async fn max_id<C: ConnectionTrait>(db: &C, table: &str) -> Result<i64, SeedError> {
    max_or_count(db, "COALESCE(MAX(id), 0)", table).await
}

/// `SELECT <what> FROM <table>` as an integer.
async fn max_or_count<C: ConnectionTrait>(
    db: &C,
    what: &str,
    table: &str,
) -> Result<i64, SeedError> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT {what} AS m FROM {table}"),
        ))
        .await?;
    Ok(match row {
        Some(row) => row
            .try_get::<i64>("", "m")
            .or_else(|_| row.try_get::<i32>("", "m").map(i64::from))?,
        None => 0,
    })
}

async fn insert_all<E, C>(db: &C, rows: Vec<E::ActiveModel>) -> Result<(), SeedError>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let batch: Vec<E::ActiveModel> = rows.by_ref().take(BATCH).collect();
        E::insert_many(batch).exec_without_returning(db).await?;
    }
    Ok(())
}

/// Seeds `plan` into `store`, signing with `keys`, status URIs as `lists` names them, new shards
/// of `shard_entries` entries. Prints a progress line on stderr per chunk.
pub async fn seed(
    store: &Store,
    keys: &KeyRing,
    lists_cache: &ListCache,
    shard_entries: u32,
    plan: &Plan,
) -> Result<Report, SeedError> {
    if plan.residents == 0 || plan.residents > MAX_RESIDENTS {
        return Err(SeedError::BadCount);
    }
    let started = Instant::now();
    let now = Utc::now();
    let today = policy::calendar::day_in_shanghai(now);
    let txn = store.begin().await?;
    let existing = u64::try_from(max_or_count(&txn, "COUNT(*)", "residents").await?).unwrap_or(0);
    if existing > 0 && !plan.append {
        return Err(SeedError::Populated(existing));
    }
    let first = max_id(&txn, "residents").await? + 1;
    let n = i64::try_from(plan.residents).map_err(|_| SeedError::BadCount)?;
    if first + n > i64::try_from(MAX_RESIDENTS).unwrap_or(i64::MAX) {
        return Err(SeedError::BadCount);
    }
    let ids = first..first + n;

    // First pass: how many permits per district and year, to reserve their numbers and lay out
    // their status entries.
    let mut per_year: BTreeMap<(i32, i32), i64> = BTreeMap::new();
    for id in ids.clone() {
        if let Kind::Permit(_) = kind(id) {
            let year = issued_on(id, today).year();
            *per_year.entry((i32::from(district(id)), year)).or_default() += 1;
        }
    }
    let permit_count: i64 = per_year.values().sum();
    let mut numbers = BTreeMap::new();
    for (&(d, y), &count) in &per_year {
        numbers.insert((d, y), permits::take_numbers(&txn, d, y, count).await?);
    }
    let first_shard = i32::try_from(max_id(&txn, "status_shards").await? + 1).unwrap_or(1);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ first as u64);
    let layout = Layout::new(
        first_shard,
        permit_count,
        i64::from(shard_entries),
        &mut rng,
    );
    let statuses = ids.clone().filter_map(|id| match kind(id) {
        Kind::Permit(s) => Some(EntryStatus::from(s)),
        _ => None,
    });
    let bits = layout.pack(statuses.enumerate().map(|(k, s)| (k as i64, s)));
    let sequence = lists::bump(&txn, lists::ListName::StatusList).await?;
    layout.write(&txn, bits, sequence, now).await?;

    let sealer = store.sealer()?;
    let stored = evidence::put(
        &txn,
        sealer,
        "application/pdf",
        b"%PDF-1.7\n% epermit seed: synthetic evidence\n1 0 obj <<>> endobj\n%%EOF\n",
    )
    .await?;
    let mut signers = BTreeMap::new();
    for d in District::ALL {
        let key = keys
            .issuer(&txn, issuance::signing_district(d))
            .await
            .map_err(|e| SeedError::Sign(e.to_string()))?;
        signers.insert(i32::from(d), key);
    }
    let uris = (0..layout.shards())
        .map(|s| {
            let shard = first_shard + s as i32;
            (shard, lists_cache.shard_uri(shard))
        })
        .collect();
    let version_base = max_id(&txn, "credential_versions").await?;
    let context = Arc::new(Context {
        store: store.clone(),
        today,
        now,
        evidence: stored.sha256,
        layout,
        keys: signers,
        uris,
    });
    let mut counters = Counters {
        residence: max_id(&txn, "residences").await? + 1,
        application: max_id(&txn, "applications").await? + 1,
        permit: max_id(&txn, "permits").await? + 1,
        ordinal: 0,
        numbers,
    };
    let mut report = Report {
        residents: plan.residents,
        resident_ids: (first, first + n - 1),
        shards: context.layout.shards() as u64,
        ..Report::default()
    };

    // Chunks: the next one is generated (sealed and signed, on every core) while this one is
    // written.
    let plan_chunk = |counters: &mut Counters, from: i64, to: i64| -> Vec<Planned> {
        (from..to)
            .map(|id| {
                let kind = kind(id);
                let regs = 1 + id % 3;
                let first_residence = counters.residence;
                counters.residence += regs;
                let application = matches!(kind, Kind::Permit(_) | Kind::Pending).then(|| {
                    counters.application += 1;
                    counters.application - 1
                });
                let permit = match kind {
                    Kind::Permit(_) => {
                        let d = district(id);
                        let year = issued_on(id, today).year();
                        let next = counters.numbers.entry((i32::from(d), year)).or_insert(1);
                        let seq = *next;
                        *next += 1;
                        let number = u16::try_from(year)
                            .ok()
                            .zip(u32::try_from(seq).ok())
                            .and_then(|(y, s)| PermitNumber::new(d, y, s).ok())
                            .map(|n| n.to_string())
                            .unwrap_or_default();
                        let k = counters.ordinal;
                        counters.ordinal += 1;
                        counters.permit += 1;
                        Some((counters.permit - 1, k, number))
                    }
                    _ => None,
                };
                Planned {
                    id,
                    kind,
                    first_residence,
                    application,
                    permit,
                }
            })
            .collect()
    };
    let make = |planned: Vec<Planned>| {
        let context = Arc::clone(&context);
        actix_web::rt::task::spawn_blocking(move || {
            let made: Result<Vec<Rows>, SeedError> =
                planned.par_iter().map(|p| context.rows(p)).collect();
            made.map(|made| {
                let mut all = Rows::default();
                for r in made {
                    all.residents.extend(r.residents);
                    all.residences.extend(r.residences);
                    all.applications.extend(r.applications);
                    all.permits.extend(r.permits);
                    all.versions.extend(r.versions);
                }
                all
            })
        })
    };
    let mut from = first;
    let mut pending = None;
    let end = first + n;
    let mut done = 0u64;
    loop {
        if pending.is_none() && from < end {
            let to = Ord::min(from + CHUNK, end);
            pending = Some(make(plan_chunk(&mut counters, from, to)));
            from = to;
        }
        let Some(job) = pending.take() else { break };
        let mut rows = job
            .await
            .map_err(|e| SeedError::Sign(format!("a worker failed: {e}")))??;
        if from < end {
            let to = Ord::min(from + CHUNK, end);
            pending = Some(make(plan_chunk(&mut counters, from, to)));
            from = to;
        }
        for v in &mut rows.versions {
            if let Set(k) = v.id {
                v.id = Set(version_base + 1 + k);
            }
        }
        report.registrations += rows.residences.len() as u64;
        report.applications += rows.applications.len() as u64;
        report.permits += rows.permits.len() as u64;
        for p in &rows.permits {
            match p.status {
                Set(permits::Status::Suspended) => report.suspended += 1,
                Set(permits::Status::Revoked) => report.revoked += 1,
                _ => {}
            }
        }
        done += rows.residents.len() as u64;
        insert_all::<residents::Entity, _>(&txn, rows.residents).await?;
        insert_all::<residences::Entity, _>(&txn, rows.residences).await?;
        insert_all::<applications::Entity, _>(&txn, rows.applications).await?;
        insert_all::<permits::Entity, _>(&txn, rows.permits).await?;
        insert_all::<versions::Entity, _>(&txn, rows.versions).await?;
        eprintln!(
            "epermit seed: {done}/{} residents written ({:.1} s)",
            plan.residents,
            started.elapsed().as_secs_f64()
        );
    }
    report.pending = report.applications - report.permits;
    if store.backend() == DbBackend::Postgres {
        for table in [
            "residents",
            "residences",
            "applications",
            "permits",
            "credential_versions",
        ] {
            txn.execute_unprepared(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
                 (SELECT GREATEST(COALESCE(MAX(id), 0), 1) FROM {table}))"
            ))
            .await?;
        }
    }
    let entry = audit::NewEntry::new(
        "operator:cli",
        "seed.bulk",
        format!(
            "residents:{}-{}",
            report.resident_ids.0, report.resident_ids.1
        ),
        json!({
            "residents": report.residents,
            "registrations": report.registrations,
            "applications": report.applications,
            "pending": report.pending,
            "permits": report.permits,
            "suspended": report.suspended,
            "revoked": report.revoked,
            "shards": report.shards,
            "synthetic": true,
        }),
    );
    audit::commit_with_audit(txn, entry, now).await?;
    if store.backend() == DbBackend::Postgres {
        store.conn().execute_unprepared("ANALYZE").await?;
    }
    lists_cache.changed();
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// `epermit seed --residents N [--append]`.
pub fn run(config: Option<&Path>, plan: Plan) -> Outcome {
    if plan.residents == 0 || plan.residents > MAX_RESIDENTS {
        eprintln!("epermit: {}", SeedError::BadCount);
        return Outcome::bad_input(json!({ "error": "invalid_residents", "max": MAX_RESIDENTS }));
    }
    with_store(config, |settings, store| async move {
        if settings.mode == Mode::Production {
            eprintln!("epermit: seed writes synthetic people: refused in production mode");
            return Outcome::bad_input(json!({ "error": "production_mode" }));
        }
        let keys = match KeyRing::open(&settings.data_dir, &store).await {
            Ok(keys) => keys,
            Err(e) => {
                eprintln!("epermit: keys: {e}");
                return Outcome {
                    json: Some(json!({ "error": "keys_unavailable" })),
                    code: exit::IO,
                };
            }
        };
        let lists = ListCache::new(&settings.public_url, std::time::Duration::from_secs(1));
        match seed(&store, &keys, &lists, settings.status_shard_entries, &plan).await {
            Ok(report) => Outcome::ok(json!(report)),
            Err(e @ SeedError::Populated(_)) => {
                eprintln!("epermit: {e}");
                Outcome::bad_input(json!({ "error": "populated" }))
            }
            Err(e @ SeedError::BadCount) => {
                eprintln!("epermit: {e}");
                Outcome::bad_input(json!({ "error": "invalid_residents" }))
            }
            Err(e) => {
                eprintln!("epermit: {e}; nothing was written");
                Outcome {
                    json: Some(json!({ "error": "seed_failed" })),
                    code: exit::IO,
                }
            }
        }
    })
}
