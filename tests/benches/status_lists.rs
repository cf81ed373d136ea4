//! Status lists for a city (issue 11, item 2): what one status change and one served list cost
//! at 10 k, 1 M and 10 M permits, and how close a signed shard comes to the entropy bound of its
//! entries.
//!
//! ```text
//! EPERMIT_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
//!     cargo bench -p epermit-tests --bench status_lists
//! cargo bench -p epermit-tests --bench status_lists          # SQLite
//! ```
//!
//! Each scale runs in its own service with its own database (created and dropped, as in the
//! tests). The database is seeded directly, not through the API: one resident and one evidence
//! row shared by every application, then `n` applications and `n` permits, 1.3 `n` credential
//! versions (30 % of the permits were re-signed once; their older version is superseded), ~1 %
//! of the permits suspended and 0.5 % revoked. Versions fill the shards to 90 % as the allocator
//! does, at random indices (one random permutation of a shard, rotated per shard); the packed
//! entries are computed here and written with one `UPDATE`/`INSERT` per shard.
//!
//! Knobs (environment): `STATUS_BENCH_SCALES` (comma-separated permit counts; default
//! `10000,1000000,10000000` on PostgreSQL, `10000,1000000` on SQLite), `SAMPLES` (200 status
//! changes and list hits), `MISS_SAMPLES` (20 cache misses), `HTTP_SAMPLES` (20 suspend/restore
//! pairs).

use std::time::{Duration, Instant};

use api::signed_lists::ListCache;
use api::store::status::layout::{Rng, SHARD_OFFSET};
use api::store::status::{self, Entry, EntryStatus};
use chrono::Utc;
use epermit_tests::fixtures::{issued_permit, post};
use epermit_tests::{TestApp, spawn_app_with};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::json;

fn knob(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The seeded layout: `n` permits, their versions, the shards they fill — placed as the
/// allocator would by [`status::layout::Layout`] (shard 0 on).
struct Layout {
    permits: i64,
    /// Entries per shard.
    size: i64,
    /// Entries taken per full shard (90 %, the allocator's threshold).
    fill: i64,
    /// Where the `j`-th entry taken in a shard lies.
    scatter: Vec<i64>,
    placed: status::layout::Layout,
}

impl Layout {
    fn new(permits: i64, size: i64, rng: &mut Rng) -> Self {
        let n = permits;
        let versions = n + n / 10 + (n + 9) / 10 + (n + 8) / 10;
        let placed = status::layout::Layout::new(0, versions, size, rng);
        Layout {
            permits,
            size: placed.size,
            fill: placed.fill,
            scatter: placed.scatter.clone(),
            placed,
        }
    }

    /// Whether permit `g` (1-based) was re-signed once (30 % of them).
    fn resigned(g: i64) -> bool {
        g % 10 < 3
    }

    /// How many versions: one per permit, two for the re-signed.
    fn versions(&self) -> i64 {
        self.placed.versions
    }

    fn shards(&self) -> i64 {
        self.placed.shards()
    }

    /// The entry of version number `k` (0-based, first versions first).
    fn entry(&self, k: i64) -> (i64, i64) {
        let e = self.placed.entry(k);
        (i64::from(e.shard), i64::from(e.idx))
    }

    /// Version number of the first version of permit `g`.
    fn first(g: i64) -> i64 {
        g - 1
    }

    /// Version number of the second version of re-signed permit `g`.
    fn second(&self, g: i64) -> i64 {
        self.permits + 3 * (g / 10) + g % 10 - 1
    }

    /// The stored status of permit `g` (~1 % suspended, 0.5 % revoked).
    fn permit_status(g: i64) -> EntryStatus {
        if g % 100 == 37 {
            EntryStatus::Suspended
        } else if g % 200 == 91 {
            EntryStatus::Invalid
        } else {
            EntryStatus::Valid
        }
    }

    /// The packed entries of every shard.
    fn bits(&self) -> Vec<Vec<u8>> {
        self.placed.pack((1..=self.permits).flat_map(|g| {
            let status = Self::permit_status(g);
            if Self::resigned(g) {
                vec![
                    (Self::first(g), EntryStatus::Superseded),
                    (self.second(g), status),
                ]
            } else {
                vec![(Self::first(g), status)]
            }
        }))
    }
}

/// Shannon bound of packed entries, in bytes: H (bits per entry) × entries / 8.
fn entropy_bytes(bits: &[u8]) -> f64 {
    let mut counts = [0u64; 4];
    for b in bits {
        for shift in [0, 2, 4, 6] {
            counts[usize::from((b >> shift) & 3)] += 1;
        }
    }
    let total = counts.iter().sum::<u64>() as f64;
    let h: f64 = counts
        .iter()
        .filter(|c| **c > 0)
        .map(|c| {
            let p = *c as f64 / total;
            -p * p.log2()
        })
        .sum();
    h * total / 8.0
}

/// SQL fragments of a backend: the series `1..=n` as `g`, timestamps, dates.
struct Sql {
    pg: bool,
}

impl Sql {
    /// `(WITH clause, FROM clause)` of the series `g` in `1..=n`.
    fn series(&self, n: i64) -> (String, String) {
        if self.pg {
            (
                String::new(),
                format!("generate_series(1::bigint, {n}::bigint) AS s(g)"),
            )
        } else {
            (
                format!(
                    "WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < {n}) "
                ),
                "s".to_owned(),
            )
        }
    }

    fn now(&self) -> &'static str {
        if self.pg {
            "TIMESTAMPTZ '2026-12-01 00:00:00+00'"
        } else {
            "'2026-12-01T00:00:00+00:00'"
        }
    }

    fn date(&self, day: &str) -> String {
        if self.pg {
            format!("DATE '{day}'")
        } else {
            format!("'{day}'")
        }
    }
}

/// Seeds `layout` into the app's database; returns the packed entries of every shard.
async fn seed(app: &TestApp, layout: &Layout) -> Vec<Vec<u8>> {
    let store = &app.state.store;
    let backend = store.backend();
    let sql = Sql {
        pg: backend == DbBackend::Postgres,
    };
    let n = layout.permits;
    let now = sql.now();
    let txn = store.begin().await.expect("seeding transaction");
    let exec = |q: String| {
        let txn = &txn;
        async move {
            txn.execute_unprepared(&q)
                .await
                .unwrap_or_else(|e| panic!("{e}: {q}"));
        }
    };
    exec(format!(
        "INSERT INTO residents (name, created_at, updated_at) VALUES ('bench', {now}, {now})"
    ))
    .await;
    let resident: i64 = txn
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT MAX(id) AS id FROM residents",
        ))
        .await
        .expect("resident")
        .expect("a resident")
        .try_get("", "id")
        .expect("resident id");
    exec(format!(
        "INSERT INTO evidence (sha256, media_type, size, bytes, created_at) \
         VALUES ('bench', 'application/pdf', 0, '', {now})"
    ))
    .await;
    let (with, from) = sql.series(n);
    exec(format!(
        "{with}INSERT INTO applications (id, resident_id, district, basis, evidence_sha256, \
         status, created_at) SELECT g, {resident}, 330702, 'employment', 'bench', 'approved', \
         {now} FROM {from}"
    ))
    .await;
    let (issued, until) = (sql.date("2026-01-01"), sql.date("2027-01-01"));
    exec(format!(
        "{with}INSERT INTO permits (id, number, application_id, resident_id, district, \
         issued_on, status, credential, valid_until, created_at, updated_at) \
         SELECT g, 'BENCH-' || g, g, {resident}, 330702, {issued}, \
         CASE WHEN g % 100 = 37 THEN 'suspended' WHEN g % 200 = 91 THEN 'revoked' \
         ELSE 'active' END, '', {until}, {now}, {now} FROM {from}"
    ))
    .await;
    if sql.pg {
        for table in ["applications", "permits"] {
            exec(format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), {n})"
            ))
            .await;
        }
    }
    let bits = layout.bits();
    // 2026-12-01T00:00:00Z, sequence 0: as fresh shards are stamped.
    let stamp = chrono::DateTime::from_timestamp_micros(1_796_083_200_000_000).expect("a time");
    layout
        .placed
        .write(&txn, bits.clone(), 0, stamp)
        .await
        .expect("shards");
    // The scatter, as a table for the joins below (dropped at the end of the seed).
    exec("CREATE TABLE bench_scatter (j BIGINT PRIMARY KEY, idx BIGINT NOT NULL)".to_owned()).await;
    for (chunk, idx) in layout.scatter.chunks(10_000).enumerate() {
        let rows: Vec<String> = idx
            .iter()
            .enumerate()
            .map(|(i, idx)| format!("({}, {idx})", chunk * 10_000 + i))
            .collect();
        exec(format!(
            "INSERT INTO bench_scatter (j, idx) VALUES {}",
            rows.join(", ")
        ))
        .await;
    }
    // The entry of version k, in SQL (the same as `Layout::entry`).
    let (fill, size) = (layout.fill, layout.size);
    let versions = |k: &str, filter: &str| {
        format!(
            "{with}INSERT INTO credential_versions (permit_id, shard, idx, created_at) \
             SELECT g, ({k}) / {fill}, p.idx, {now} FROM {from} JOIN bench_scatter p \
             ON p.j = (({k}) % {fill} + (({k}) / {fill}) * {SHARD_OFFSET}) % {size} {filter}"
        )
    };
    exec(versions("g - 1", "")).await;
    exec(versions(
        &format!("{n} + 3 * (g / 10) + g % 10 - 1"),
        "WHERE g % 10 < 3",
    ))
    .await;
    exec("DROP TABLE bench_scatter".to_owned()).await;
    txn.commit().await.expect("commit the seed");
    if sql.pg {
        store
            .conn()
            .execute_unprepared("ANALYZE")
            .await
            .expect("analyze");
    }
    bits
}

/// Median and p99 of `samples`, in milliseconds.
fn stats(samples: &mut [Duration]) -> (f64, f64) {
    samples.sort();
    let at = |q: f64| {
        let i = ((samples.len() as f64 - 1.0) * q).round() as usize;
        samples[i].as_secs_f64() * 1e3
    };
    (at(0.5), at(0.99))
}

/// One scale's results.
struct Row {
    permits: i64,
    versions: i64,
    shards: i64,
    seed_s: f64,
    set: (f64, f64),
    suspend: (f64, f64),
    restore: (f64, f64),
    miss: (f64, f64),
    hit: (f64, f64),
    get: (f64, f64),
    not_modified: (f64, f64),
    token_bytes: usize,
    bound_bytes: f64,
    all_tokens: usize,
    all_bounds: f64,
    worst_ratio: f64,
}

async fn measure(permits: i64) -> Row {
    let app = spawn_app_with(&[]).await;
    let size = i64::from(app.state.settings.status_shard_entries);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ permits as u64);
    let layout = Layout::new(permits, size, &mut rng);
    let started = Instant::now();
    let bits = seed(&app, &layout).await;
    let seed_s = started.elapsed().as_secs_f64();
    println!(
        "{}: {permits} permits, {} versions in {} shards of {size}: seeded in {seed_s:.1} s",
        app.backend(),
        layout.versions(),
        layout.shards()
    );
    let state = &app.state;
    let (store, keys) = (&state.store, &state.keys);
    let samples = knob("SAMPLES", 200) as usize;

    // 3. Bytes against the bound, every shard (a fresh cache: each is signed).
    let now = Utc::now();
    let fresh = || ListCache::new(&state.settings.public_url, Duration::from_secs(1));
    let cache = fresh();
    let (mut all_tokens, mut all_bounds, mut worst_ratio) = (0, 0.0, 0.0f64);
    let mut token_bytes = 0;
    let mut bound_bytes = 0.0;
    for (shard, packed) in bits.iter().enumerate() {
        let list = cache
            .status_list(store, keys, shard as i32, now)
            .await
            .expect("sign")
            .expect("a shard");
        let bound = entropy_bytes(packed);
        if shard == 0 {
            (token_bytes, bound_bytes) = (list.bytes.len(), bound);
        }
        all_tokens += list.bytes.len();
        all_bounds += bound;
        worst_ratio = worst_ratio.max(list.bytes.len() as f64 / bound);
    }

    // 2. Serving shard 0: a miss (fresh cache: read, compress, sign), a hit, HTTP 200 and 304.
    let mut miss = Vec::new();
    for _ in 0..knob("MISS_SAMPLES", 20) {
        let cache = fresh();
        let t = Instant::now();
        cache.status_list(store, keys, 0, now).await.expect("miss");
        miss.push(t.elapsed());
    }
    let mut hit = Vec::new();
    for _ in 0..samples {
        let t = Instant::now();
        cache.status_list(store, keys, 0, now).await.expect("hit");
        hit.push(t.elapsed());
    }
    let url = app.url("/sl");
    let first = app.client.get(&url).send().await.expect("GET /sl");
    assert_eq!(first.status(), 200);
    let etag = first.headers()["etag"].to_str().expect("etag").to_owned();
    let (mut get, mut not_modified) = (Vec::new(), Vec::new());
    for _ in 0..samples {
        let t = Instant::now();
        let r = app.client.get(&url).send().await.expect("GET");
        let _ = r.bytes().await.expect("body");
        get.push(t.elapsed());
        let t = Instant::now();
        let r = app
            .client
            .get(&url)
            .header("If-None-Match", &etag)
            .send()
            .await
            .expect("GET 304");
        assert_eq!(r.status(), 304);
        not_modified.push(t.elapsed());
    }

    // 1. One status change: random entries, one committed transaction each.
    let choices = [
        EntryStatus::Valid,
        EntryStatus::Suspended,
        EntryStatus::Invalid,
    ];
    let mut set = Vec::new();
    for _ in 0..samples {
        let k = rng.below(layout.versions() as u64) as i64;
        let (shard, idx) = layout.entry(k);
        let entry = Entry {
            shard: shard as i32,
            idx: idx as i32,
        };
        let to = choices[rng.below(3) as usize];
        let t = Instant::now();
        let txn = store.begin().await.expect("begin");
        status::set(&txn, entry, to, Utc::now()).await.expect("set");
        txn.commit().await.expect("commit");
        set.push(t.elapsed());
    }

    // …and end to end: suspend and restore a real permit through HTTP.
    let holder = issued_permit(&app, "13900000001", "33070219900101123").await;
    let (mut suspend, mut restore) = (Vec::new(), Vec::new());
    let reason = json!({ "reason": "benchmark: status change" });
    for _ in 0..knob("HTTP_SAMPLES", 20) {
        for (action, times) in [("suspend", &mut suspend), ("restore", &mut restore)] {
            let path = format!("/v1/permits/{}/{action}", holder.number);
            let t = Instant::now();
            let r = post(&app, &holder.officer, &path, reason.clone()).await;
            let status = r.status();
            let _ = r.bytes().await;
            times.push(t.elapsed());
            assert_eq!(status, 200, "{action}");
        }
    }

    Row {
        permits,
        versions: layout.versions(),
        shards: layout.shards(),
        seed_s,
        set: stats(&mut set),
        suspend: stats(&mut suspend),
        restore: stats(&mut restore),
        miss: stats(&mut miss),
        hit: stats(&mut hit),
        get: stats(&mut get),
        not_modified: stats(&mut not_modified),
        token_bytes,
        bound_bytes,
        all_tokens,
        all_bounds,
        worst_ratio,
    }
}

fn print(backend: &str, rows: &[Row]) {
    let ms = |(median, p99): (f64, f64)| format!("{median:.2}/{p99:.2}");
    println!("\nbackend {backend} (times in ms, median/p99)");
    println!(
        "{:>9} {:>9} {:>6} {:>7} {:>12} {:>12} {:>12} {:>12} {:>12} {:>12} {:>12} {:>8} {:>9} {:>6} {:>10} {:>10} {:>6} {:>6}",
        "permits",
        "versions",
        "shards",
        "seed s",
        "set",
        "POST susp",
        "POST rest",
        "list miss",
        "list hit",
        "GET 200",
        "GET 304",
        "token B",
        "bound B",
        "×",
        "all tok B",
        "all bnd B",
        "all ×",
        "worst"
    );
    for r in rows {
        println!(
            "{:>9} {:>9} {:>6} {:>7.1} {:>12} {:>12} {:>12} {:>12} {:>12} {:>12} {:>12} {:>8} {:>9.0} {:>6.2} {:>10} {:>10.0} {:>6.2} {:>6.2}",
            r.permits,
            r.versions,
            r.shards,
            r.seed_s,
            ms(r.set),
            ms(r.suspend),
            ms(r.restore),
            ms(r.miss),
            ms(r.hit),
            ms(r.get),
            ms(r.not_modified),
            r.token_bytes,
            r.bound_bytes,
            r.token_bytes as f64 / r.bound_bytes,
            r.all_tokens,
            r.all_bounds,
            r.all_tokens as f64 / r.all_bounds,
            r.worst_ratio
        );
    }
    if let (Some(small), Some(large)) = (rows.first(), rows.last())
        && rows.len() > 1
    {
        println!(
            "ratio {} / {} permits (median): set {:.2}×, POST suspend {:.2}×, POST restore {:.2}×, list miss {:.2}×, GET 200 {:.2}×",
            large.permits,
            small.permits,
            large.set.0 / small.set.0,
            large.suspend.0 / small.suspend.0,
            large.restore.0 / small.restore.0,
            large.miss.0 / small.miss.0,
            large.get.0 / small.get.0
        );
    }
}

fn main() {
    let system = actix_web::rt::System::new();
    system.block_on(run());
}

async fn run() {
    let pg = std::env::var("EPERMIT_TEST_DATABASE_URL").is_ok();
    let default = if pg {
        "10000,1000000,10000000"
    } else {
        "10000,1000000"
    };
    let scales: Vec<i64> = std::env::var("STATUS_BENCH_SCALES")
        .unwrap_or_else(|_| default.to_owned())
        .split(',')
        .map(|s| s.trim().parse().expect("a permit count"))
        .collect();
    let mut rows = Vec::new();
    for permits in scales {
        let t = Instant::now();
        rows.push(measure(permits).await);
        println!("scale {permits}: {:.1} s in all", t.elapsed().as_secs_f64());
    }
    print(if pg { "postgres" } else { "sqlite" }, &rows);
}
