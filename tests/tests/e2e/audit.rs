//! An audit log that cannot be cut (issue 12 item 7): signed checkpoints written after N entries,
//! after T seconds, on demand and at a clean shutdown, exported to an append-only file; and
//! `audit verify` catching each way of tampering through the real database (SQLite, or
//! PostgreSQL when `EPERMIT_TEST_DATABASE_URL` is set).

use std::time::Duration;

use api::audit::checkpoint::{self, Exported, checkpoint_message};
use api::audit::verify::{self, Report};
use api::store::audit::{self, NewEntry, checkpoints};
use chrono::Utc;
use epermit_tests::fixtures::{days_ago, id_number};
use epermit_tests::{TestApp, spawn_app_with};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, EntityTrait};
use serde_json::{Value, json};

/// Appends `n` entries the way every state change does (a transaction ending in the entry).
async fn append(app: &TestApp, n: usize) {
    for i in 0..n {
        let txn = app.state.store.begin().await.unwrap();
        let entry = NewEntry::new(
            "staff:7",
            "permit.lookup",
            format!("permit:330702-2026-{i:06}"),
            json!({ "purpose": "case 2026-118", "n": i }),
        );
        audit::commit_with_audit(txn, entry, Utc::now())
            .await
            .unwrap();
    }
}

async fn head(app: &TestApp) -> i64 {
    checkpoints::head(app.state.store.conn())
        .await
        .unwrap()
        .map_or(0, |h| h.0)
}

async fn latest_seq(app: &TestApp) -> i64 {
    checkpoints::latest(app.state.store.conn())
        .await
        .unwrap()
        .map_or(-1, |c| c.seq)
}

/// Waits up to `secs` for the latest checkpoint to anchor entry `seq`.
async fn wait_for_checkpoint(app: &TestApp, seq: i64, secs: u64) -> bool {
    let until = std::time::Instant::now() + Duration::from_secs(secs);
    while std::time::Instant::now() < until {
        if latest_seq(app).await >= seq {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

async fn report(app: &TestApp, file: Option<&std::path::Path>) -> Report {
    let exported = file.map(|f| verify::read_export(f).unwrap());
    verify::verify(
        app.state.store.conn(),
        &app.state.audit_key.public_key(),
        exported,
    )
    .await
    .unwrap()
}

fn kinds(report: &Report) -> Vec<&'static str> {
    report.problems.iter().map(|p| p.kind).collect()
}

async fn sql(app: &TestApp, statement: &str) {
    app.state
        .store
        .conn()
        .execute_unprepared(statement)
        .await
        .unwrap();
}

/// An app that checkpoints only on demand (N and T out of reach).
async fn quiet_app(export: Option<&std::path::Path>) -> TestApp {
    let export = export.map(|p| p.display().to_string());
    let mut settings = vec![
        ("EPERMIT_AUDIT__CHECKPOINT_EVERY_ENTRIES", "1000000"),
        ("EPERMIT_AUDIT__CHECKPOINT_EVERY_SECS", "360000"),
    ];
    if let Some(e) = &export {
        settings.push(("EPERMIT_AUDIT__CHECKPOINT_EXPORT", e.as_str()));
    }
    spawn_app_with(&settings).await
}

#[actix_web::test]
async fn a_checkpoint_is_written_once_n_entries_are_unanchored() {
    let app = spawn_app_with(&[
        ("EPERMIT_AUDIT__CHECKPOINT_EVERY_ENTRIES", "5"),
        ("EPERMIT_AUDIT__CHECKPOINT_EVERY_SECS", "360000"),
    ])
    .await;
    let start = latest_seq(&app).await;
    assert!(
        start >= 0,
        "the first checkpoint is written with the audit key"
    );
    let before = checkpoints::entries_after(app.state.store.conn(), start)
        .await
        .unwrap();
    append(&app, 4u64.saturating_sub(before) as usize).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(latest_seq(&app).await, start, "4 entries: not due yet");
    append(&app, 1).await;
    let head = head(&app).await;
    assert!(
        wait_for_checkpoint(&app, head, 5).await,
        "the 5th unanchored entry brings a checkpoint ({})",
        app.backend()
    );
    let r = report(&app, None).await;
    assert!(r.intact(), "{r:?}");
    assert_eq!(r.unanchored_entries, 0);
}

#[actix_web::test]
async fn a_checkpoint_is_written_once_the_oldest_unanchored_entry_is_t_seconds_old() {
    let app = spawn_app_with(&[
        ("EPERMIT_AUDIT__CHECKPOINT_EVERY_ENTRIES", "1000000"),
        ("EPERMIT_AUDIT__CHECKPOINT_EVERY_SECS", "3"),
    ])
    .await;
    append(&app, 1).await;
    let head = head(&app).await;
    let taken_at = std::time::Instant::now();
    assert!(latest_seq(&app).await < head, "not at once");
    assert!(
        wait_for_checkpoint(&app, head, 8).await,
        "{}",
        app.backend()
    );
    assert!(
        taken_at.elapsed() >= Duration::from_millis(1500),
        "taken when due, not before: {:?}",
        taken_at.elapsed()
    );
}

#[actix_web::test]
async fn an_admin_takes_a_signed_checkpoint_on_demand_and_it_is_exported_to_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("checkpoints.jsonl");
    let app = quiet_app(Some(&file)).await;
    let officer = app
        .staff_token("officer1", "officer", Some("330702"), None)
        .await;
    let r = app
        .client
        .post(app.url("/v1/audit/checkpoints"))
        .bearer_auth(&officer)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "admins only");
    let admin = app.staff_token("admin1", "admin", None, None).await;
    append(&app, 3).await;
    let head = head(&app).await;
    let r = app
        .client
        .post(app.url("/v1/audit/checkpoints"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let c: Value = r.json().await.unwrap();
    assert_eq!(c["seq"], head);
    let exported: Exported = serde_json::from_value(c.clone()).unwrap();
    assert!(api::audit::key::verify_signature(
        &app.state.audit_key.public_key(),
        &checkpoint_message(exported.seq, &exported.hash, &exported.at, &exported.kid),
        &exported.signature
    ));
    // The export happens beside the request, and reaches the file.
    let until = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let lines = std::fs::read_to_string(&file).unwrap_or_default();
        if lines
            .lines()
            .any(|l| serde_json::from_str::<Exported>(l).ok().as_ref() == Some(&exported))
        {
            break;
        }
        assert!(std::time::Instant::now() < until, "not exported: {lines}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let r = report(&app, Some(&file)).await;
    assert!(r.intact(), "{r:?}");
    assert_eq!(r.latest_checkpoint.unwrap().source, "both");
}

#[actix_web::test]
async fn a_clean_shutdown_writes_a_last_checkpoint_and_exports_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("checkpoints.jsonl");
    let mut app = quiet_app(Some(&file)).await;
    append(&app, 2).await;
    let head = head(&app).await;
    assert!(latest_seq(&app).await < head);
    app.server.stop(true).await;
    (&mut app.serving).await.unwrap().unwrap();
    assert_eq!(latest_seq(&app).await, head, "{}", app.backend());
    let (exported, _) = verify::read_export(&file).unwrap();
    assert!(exported.iter().any(|c| c.seq == head), "{exported:?}");
}

#[actix_web::test]
async fn deleting_the_last_entries_after_a_checkpoint_is_reported_as_truncation() {
    let app = quiet_app(None).await;
    append(&app, 6).await;
    let c = checkpoint::take(&app.state.store, &app.state.audit_key)
        .await
        .unwrap();
    let r = report(&app, None).await;
    assert!(r.intact() && r.unanchored_entries == 0, "{r:?}");

    // Last night's lookups, deleted.
    sql(
        &app,
        &format!("DELETE FROM audit_log WHERE id > {}", c.seq - 3),
    )
    .await;
    // The chain alone still links up: only the checkpoint shows the cut.
    audit::verify_chain(app.state.store.conn()).await.unwrap();
    let r = report(&app, None).await;
    assert!(!r.intact(), "{r:?}");
    assert_eq!(r.status, "tampered");
    assert!(kinds(&r).contains(&"truncation"), "{r:?}");
    assert_eq!(r.problems[0].seq, Some(c.seq));
}

/// What an attacker with only the database does after editing entry `from`: recompute every
/// hash from there with the published (unkeyed) formula.
async fn recompute_unkeyed_from(app: &TestApp, from: i64) {
    let rows = audit::list(app.state.store.conn(), 0, 100_000)
        .await
        .unwrap();
    let mut prev = audit::GENESIS.to_owned();
    for row in rows {
        if row.id >= from {
            let hash = audit::entry_hash(
                &prev,
                row.at,
                &row.actor,
                &row.action,
                &row.subject,
                &row.detail,
            );
            let mut active: audit::ActiveModel = row.clone().into();
            active.prev_hash = Set(prev.clone());
            active.hash = Set(hash.clone());
            active.update(app.state.store.conn()).await.unwrap();
            prev = hash;
        } else {
            prev = row.hash;
        }
    }
}

#[actix_web::test]
async fn an_edited_entry_with_the_chain_recomputed_without_the_audit_key_is_reported_as_rewriting()
{
    let app = quiet_app(None).await;
    append(&app, 6).await;
    let c = checkpoint::take(&app.state.store, &app.state.audit_key)
        .await
        .unwrap();
    let target = c.seq - 2;
    sql(
        &app,
        &format!("UPDATE audit_log SET detail = '{{\"purpose\":\"routine\"}}' WHERE id = {target}"),
    )
    .await;
    recompute_unkeyed_from(&app, target).await;
    let r = report(&app, None).await;
    assert!(!r.intact(), "{r:?}");
    assert!(kinds(&r).iter().all(|k| *k == "rewriting"), "{r:?}");
    assert_eq!(r.problems[0].seq, Some(target));
    assert!(
        r.problems.iter().any(|p| p.seq == Some(c.seq)),
        "the checkpointed entry differs from what was signed: {r:?}"
    );
}

#[actix_web::test]
async fn a_chain_recomputed_without_the_audit_key_after_the_last_checkpoint_is_never_signed() {
    let app = quiet_app(None).await;
    append(&app, 2).await;
    checkpoint::take(&app.state.store, &app.state.audit_key)
        .await
        .unwrap();
    append(&app, 3).await;
    let target = head(&app).await - 1;
    sql(
        &app,
        &format!("UPDATE audit_log SET subject = 'permit:none' WHERE id = {target}"),
    )
    .await;
    recompute_unkeyed_from(&app, target).await;
    // The unanchored tail was rewritten: the next checkpoint refuses to sign it …
    let refused = checkpoint::take(&app.state.store, &app.state.audit_key).await;
    assert!(
        matches!(refused, Err(checkpoint::CheckpointError::Broken { id }) if id == target),
        "{refused:?}"
    );
    // … and verify names it, although no checkpoint covers it.
    let r = report(&app, None).await;
    assert!(kinds(&r).contains(&"rewriting"), "{r:?}");
    assert_eq!(r.problems[0].seq, Some(target));
}

#[actix_web::test]
async fn swapping_two_entries_sequence_numbers_is_reported_as_reordering() {
    let app = quiet_app(None).await;
    append(&app, 5).await;
    let c = checkpoint::take(&app.state.store, &app.state.audit_key)
        .await
        .unwrap();
    let (a, b) = (c.seq - 3, c.seq - 2);
    sql(
        &app,
        &format!("UPDATE audit_log SET id = -1 WHERE id = {a}"),
    )
    .await;
    sql(
        &app,
        &format!("UPDATE audit_log SET id = {a} WHERE id = {b}"),
    )
    .await;
    sql(
        &app,
        &format!("UPDATE audit_log SET id = {b} WHERE id = -1"),
    )
    .await;
    let r = report(&app, None).await;
    assert!(!r.intact(), "{r:?}");
    assert!(kinds(&r).contains(&"reordering"), "{r:?}");
    assert!(
        !kinds(&r).contains(&"rewriting"),
        "every entry still matches its hash: {r:?}"
    );
    assert_eq!(r.problems[0].seq, Some(a));
}

#[actix_web::test]
async fn deleting_the_checkpoints_from_the_database_does_not_hide_truncation_from_the_exported_file()
 {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("checkpoints.jsonl");
    let app = quiet_app(Some(&file)).await;
    append(&app, 6).await;
    let c = checkpoint::take(&app.state.store, &app.state.audit_key)
        .await
        .unwrap();
    app.state
        .audit_export
        .export_pending(&app.state.store)
        .await
        .unwrap();
    sql(
        &app,
        &format!("DELETE FROM audit_log WHERE id > {}", c.seq - 3),
    )
    .await;
    sql(&app, "DELETE FROM audit_checkpoints").await;

    let blind = report(&app, None).await;
    assert!(
        !kinds(&blind).contains(&"truncation"),
        "without the file the cut is invisible: {blind:?}"
    );
    let r = report(&app, Some(&file)).await;
    assert!(!r.intact(), "{r:?}");
    assert!(kinds(&r).contains(&"truncation"), "{r:?}");
    assert!(kinds(&r).contains(&"checkpoint_deleted"), "{r:?}");
    assert_eq!(r.checkpoints_in_database, 0);
}

#[actix_web::test]
async fn a_checkpoint_with_a_forged_signature_is_reported_and_not_trusted() {
    let app = quiet_app(None).await;
    append(&app, 4).await;
    let c = checkpoint::take(&app.state.store, &app.state.audit_key)
        .await
        .unwrap();
    // Cut the last two entries, then cover the cut with a checkpoint of the new head signed by
    // a key of the attacker's own, under the audit key's kid.
    sql(
        &app,
        &format!("DELETE FROM audit_log WHERE id > {}", c.seq - 2),
    )
    .await;
    sql(
        &app,
        &format!("DELETE FROM audit_checkpoints WHERE seq = {}", c.seq),
    )
    .await;
    let (seq, hash) = checkpoints::head(app.state.store.conn())
        .await
        .unwrap()
        .unwrap();
    let at = audit::canonical_at(Utc::now());
    let forger = crypto::signer::KeyFileSigner::generate();
    let kid = app.state.audit_key.kid().to_owned();
    let sig =
        crypto::signer::Signer::sign(&forger, &checkpoint_message(seq, &hash, &at, &kid)).unwrap();
    checkpoints::Entity::insert(checkpoints::ActiveModel {
        seq: Set(seq),
        hash: Set(hash),
        at: Set(Utc::now()),
        kid: Set(kid),
        signature: Set(hex::encode(sig.to_bytes())),
        exported_at: Set(None),
        ..Default::default()
    })
    .exec(app.state.store.conn())
    .await
    .unwrap();
    let r = report(&app, None).await;
    assert!(!r.intact(), "{r:?}");
    assert!(kinds(&r).contains(&"bad_signature"), "{r:?}");
    assert_ne!(
        r.latest_checkpoint.as_ref().map(|c| c.seq),
        Some(seq),
        "a forged checkpoint anchors nothing: {r:?}"
    );
}

#[actix_web::test]
async fn each_imported_row_leaves_its_own_audit_entry_without_the_id_number() {
    let app = quiet_app(None).await;
    let a = id_number("33070219800101001");
    let b = id_number("33078219800101002");
    let csv = format!(
        "id_number,name,district,address,start,end\n\
         {a},张三,330702,宾虹路 18 号,2023-01-01,2024-06-01\n\
         {a},张三,330703,金东路 1 号,2024-06-01,\n\
         {b},李四,330782,稠州北路 9 号,{},\n\
         12345,王五,330782,稠州北路 9 号,2022-03-15,\n",
        days_ago(400)
    );
    let path = app.data_dir.path().join("legacy.csv");
    std::fs::write(&path, &csv).unwrap();
    let report = api::commands::import::import_file(&app.state.store, &path)
        .await
        .unwrap();
    assert_eq!((report.imported, report.rejected), (3, 1));
    let mut out = Vec::new();
    api::commands::audit::export_entries(app.state.store.conn(), None, None, &mut out)
        .await
        .unwrap();
    let text = String::from_utf8(out).unwrap();
    let rows: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["action"] == "residence.import")
        .collect();
    assert_eq!(rows.len(), 3, "{text}");
    let lines: Vec<i64> = rows
        .iter()
        .map(|v| v["detail"]["line"].as_i64().unwrap())
        .collect();
    assert_eq!(lines, [2, 3, 4]);
    assert!(
        rows[0]["subject"]
            .as_str()
            .unwrap()
            .starts_with("resident:")
    );
    assert_eq!(rows[2]["detail"]["district"], 330782);
    for v in rows.iter() {
        for key in [
            "seq", "time", "actor", "action", "subject", "detail", "hash",
        ] {
            assert!(!v[key].is_null(), "{key} in {v}");
        }
    }
    assert!(
        !text.contains(&a) && !text.contains(&b) && !text.contains("张三"),
        "{text}"
    );
}

#[actix_web::test]
async fn a_failed_export_is_retried_until_it_lands_and_no_checkpoint_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let place = dir.path().join("not-mounted-yet");
    let file = place.join("checkpoints.jsonl");
    let app = quiet_app(Some(&file)).await;
    let mut taken = Vec::new();
    for _ in 0..2 {
        append(&app, 1).await;
        taken.push(
            checkpoint::take(&app.state.store, &app.state.audit_key)
                .await
                .unwrap()
                .seq,
        );
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let waiting = checkpoints::unexported(app.state.store.conn(), 100)
        .await
        .unwrap();
    assert!(
        waiting.len() >= 2,
        "kept while the place is down: {waiting:?}"
    );
    std::fs::create_dir(&place).unwrap();
    let until = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let pending = checkpoints::unexported(app.state.store.conn(), 100)
            .await
            .unwrap();
        if pending.is_empty() {
            break;
        }
        assert!(
            std::time::Instant::now() < until,
            "not retried: {pending:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (lines, bad) = verify::read_export(&file).unwrap();
    assert!(bad.is_empty());
    let seqs: Vec<i64> = lines.iter().map(|c| c.seq).collect();
    for seq in taken {
        assert!(seqs.contains(&seq), "{seq} in {seqs:?}");
    }
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "oldest first: {seqs:?}"
    );
}

/// A place that receives checkpoints over HTTP: answers the first `fail` requests 503, then 200,
/// and hands over each body it took.
async fn receiving_server(fail: usize) -> (String, tokio::sync::mpsc::UnboundedReceiver<String>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/checkpoints", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut served = 0;
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let body = loop {
                let n = socket.read(&mut chunk).await.unwrap_or(0);
                if n == 0 {
                    break None;
                }
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf).into_owned();
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let length = head
                        .lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case("content-length")
                                .then(|| v.trim().parse::<usize>().ok())?
                        })
                        .unwrap_or(0);
                    if body.len() >= length {
                        break Some(body[..length].to_owned());
                    }
                }
            };
            served += 1;
            let status = if served <= fail {
                "503 Service Unavailable"
            } else {
                if let Some(body) = body {
                    let _ = tx.send(body);
                }
                "200 OK"
            };
            let _ = socket
                .write_all(
                    format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                        .as_bytes(),
                )
                .await;
        }
    });
    (url, rx)
}

#[actix_web::test]
async fn checkpoints_are_posted_to_an_export_url_and_a_refusal_is_retried() {
    let (url, mut received) = receiving_server(1).await;
    let app = spawn_app_with(&[
        ("EPERMIT_AUDIT__CHECKPOINT_EVERY_ENTRIES", "1000000"),
        ("EPERMIT_AUDIT__CHECKPOINT_EVERY_SECS", "360000"),
        ("EPERMIT_AUDIT__CHECKPOINT_EXPORT", url.as_str()),
    ])
    .await;
    append(&app, 2).await;
    let c = checkpoint::take(&app.state.store, &app.state.audit_key)
        .await
        .unwrap();
    let mut got = Vec::new();
    let until = std::time::Instant::now() + Duration::from_secs(8);
    while !got.iter().any(|e: &Exported| e.seq == c.seq) {
        let left = until.saturating_duration_since(std::time::Instant::now());
        let body = tokio::time::timeout(left, received.recv())
            .await
            .expect("the checkpoint reaches the URL")
            .unwrap();
        got.push(serde_json::from_str(&body).unwrap());
    }
    assert!(got.contains(&Exported::from(&c)), "{got:?}");
    // The first POST (of the oldest checkpoint) was refused; it came again, before any other.
    let oldest = checkpoints::all(app.state.store.conn()).await.unwrap()[0].seq;
    assert_eq!(got[0].seq, oldest, "{got:?}");
}
