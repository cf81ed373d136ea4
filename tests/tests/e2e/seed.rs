//! `epermit seed` (issue 14 item 5): a seeded database is one the service works on — verify,
//! approve, the resident report, the officer queue, the police look-up, suspend and restore — and
//! it keeps the invariants of issuance (numbers gap-free per district and year with the counter
//! after them, every status entry equal to its permit's row, personal data sealed, the audit log
//! intact).

use std::collections::BTreeMap;

use api::commands::seed::{self, Plan, SeedError};
use epermit_tests::fixtures::{get, post};
use epermit_tests::{TestApp, spawn_app_with};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::residences::assert_problem;

async fn run_seed(app: &TestApp, residents: u64, append: bool) -> Result<seed::Report, SeedError> {
    let state = &app.state;
    seed::seed(
        &state.store,
        &state.keys,
        &state.lists,
        state.settings.status_shard_entries,
        &Plan { residents, append },
    )
    .await
}

async fn rows(app: &TestApp, sql: &str) -> Vec<sea_orm::QueryResult> {
    let db = app.state.store.conn();
    db.query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
}

/// Numbers unique and gap-free per district and year, each counter one past the last; every
/// version's entry equal to its permit's status (newest) or superseded (older).
async fn check_invariants(app: &TestApp) {
    let mut by_year: BTreeMap<(String, i32), Vec<i64>> = BTreeMap::new();
    for r in rows(app, "SELECT number FROM permits").await {
        let number: String = r.try_get("", "number").unwrap();
        let parts: Vec<&str> = number.split('-').collect();
        by_year
            .entry((parts[0].to_owned(), parts[1].parse().unwrap()))
            .or_default()
            .push(parts[2].parse().unwrap());
    }
    let counters: BTreeMap<(String, i32), i64> =
        rows(app, "SELECT district, year, next FROM permit_sequences")
            .await
            .into_iter()
            .map(|r| {
                let d: i32 = r.try_get("", "district").unwrap();
                (
                    (d.to_string(), r.try_get("", "year").unwrap()),
                    r.try_get("", "next").unwrap(),
                )
            })
            .collect();
    assert!(!by_year.is_empty());
    for (key, mut seqs) in by_year {
        seqs.sort_unstable();
        let n = seqs.len() as i64;
        assert_eq!(
            seqs,
            (1..=n).collect::<Vec<_>>(),
            "numbers of {key:?} gap-free"
        );
        assert_eq!(counters.get(&key), Some(&(n + 1)), "counter of {key:?}");
    }
    let shards: BTreeMap<i32, Vec<u8>> = rows(app, "SELECT id, bits FROM status_shards")
        .await
        .into_iter()
        .map(|r| (r.try_get("", "id").unwrap(), r.try_get("", "bits").unwrap()))
        .collect();
    let versions = rows(
        app,
        "SELECT p.id AS permit, p.status AS status, v.id AS version, v.shard AS shard, \
         v.idx AS idx FROM permits p JOIN credential_versions v ON v.permit_id = p.id \
         ORDER BY p.id, v.id",
    )
    .await;
    let mut newest: BTreeMap<i64, i64> = BTreeMap::new();
    for v in &versions {
        let (p, id): (i64, i64) = (
            v.try_get("", "permit").unwrap(),
            v.try_get("", "version").unwrap(),
        );
        let e = newest.entry(p).or_default();
        *e = (*e).max(id);
    }
    let permits = rows(app, "SELECT COUNT(*) AS n FROM permits").await[0]
        .try_get::<i64>("", "n")
        .unwrap();
    assert_eq!(newest.len() as i64, permits, "every permit has a version");
    for v in &versions {
        let status: String = v.try_get("", "status").unwrap();
        let (p, id): (i64, i64) = (
            v.try_get("", "permit").unwrap(),
            v.try_get("", "version").unwrap(),
        );
        let (shard, idx): (i32, i32) = (
            v.try_get("", "shard").unwrap(),
            v.try_get("", "idx").unwrap(),
        );
        let bits = (shards[&shard][idx as usize / 4] >> ((idx % 4) * 2)) & 3;
        let want = if newest[&p] == id {
            match status.as_str() {
                "active" => 0,
                "revoked" => 1,
                _ => 2,
            }
        } else {
            3
        };
        assert_eq!(bits, want, "entry of permit {p} version {id} ({status})");
    }
    let used: Vec<(i32, i64, i64)> = rows(
        app,
        "SELECT s.id AS id, s.used AS used, COUNT(v.id) AS n FROM status_shards s \
         LEFT JOIN credential_versions v ON v.shard = s.id GROUP BY s.id, s.used",
    )
    .await
    .into_iter()
    .map(|r| {
        let used: i32 = r.try_get("", "used").unwrap();
        (
            r.try_get("", "id").unwrap(),
            i64::from(used),
            r.try_get("", "n").unwrap(),
        )
    })
    .collect();
    for (shard, used, n) in used {
        assert_eq!(used, n, "shard {shard} counts the entries taken");
    }
}

/// One seeded permit of each status (number, credential, resident id).
async fn permit_with(app: &TestApp, status: &str) -> (String, String, i64) {
    let r = rows(
        app,
        &format!(
            "SELECT number, credential, resident_id FROM permits WHERE status = '{status}' \
             ORDER BY id LIMIT 1"
        ),
    )
    .await;
    let r = &r[0];
    (
        r.try_get("", "number").unwrap(),
        r.try_get("", "credential").unwrap(),
        r.try_get("", "resident_id").unwrap(),
    )
}

async fn verdict(app: &TestApp, token: &str, qr: &str) -> String {
    let r = post(app, token, "/v1/verify", json!({ "qr": qr })).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    v["verdict"].as_str().unwrap().to_owned()
}

#[actix_web::test]
async fn a_seeded_city_is_one_every_call_works_on() {
    let app = spawn_app_with(&[("EPERMIT_RATE_LIMITS__POLICE_LOOKUPS_PER_HOUR", "1000")]).await;
    let report = run_seed(&app, 200, false).await.expect("seed");
    assert_eq!(report.residents, 200);
    assert_eq!(
        (report.pending, report.suspended, report.revoked),
        (4, 2, 1)
    );
    assert_eq!(report.permits, 200 - 4 - 4);
    check_invariants(&app).await;

    // Refused on a populated database unless appended; bad counts refused.
    assert!(matches!(
        run_seed(&app, 10, false).await,
        Err(SeedError::Populated(200))
    ));
    assert!(matches!(
        run_seed(&app, 0, true).await,
        Err(SeedError::BadCount)
    ));
    let more = run_seed(&app, 50, true).await.expect("append");
    assert_eq!(more.resident_ids, (201, 250));
    check_invariants(&app).await;

    // Personal data sealed: no seeded phone or ID number anywhere in the database's bytes.
    let dump = app.database_dump();
    for id in [1, 57, 200, 250] {
        for secret in [seed::phone(id), seed::id_number(id)] {
            assert!(
                !dump.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "resident {id}: a phone or ID number in clear"
            );
        }
    }

    // Verify: a seeded QR of each status.
    let school = app
        .staff_token("school-seed", "verifier", None, Some("school"))
        .await;
    for (status, want) in [
        ("active", "valid"),
        ("suspended", "suspended"),
        ("revoked", "revoked"),
    ] {
        let (_, qr, _) = permit_with(&app, status).await;
        assert_eq!(verdict(&app, &school, &qr).await, want, "{status}");
    }

    // The officer queue of a district holds its seeded pending applications; approving one
    // issues the permit with the district's next number.
    let pending = rows(
        &app,
        "SELECT id, district FROM applications WHERE status = 'submitted' ORDER BY id LIMIT 1",
    )
    .await;
    let (application, district): (i64, i32) = (
        pending[0].try_get("", "id").unwrap(),
        pending[0].try_get("", "district").unwrap(),
    );
    let district = district.to_string();
    let officer = app
        .staff_token("officer-seed", "officer", Some(&district), None)
        .await;
    let r = get(&app, &officer, "/v1/applications?status=submitted").await;
    assert_eq!(r.status(), 200);
    let queue: Value = r.json().await.unwrap();
    let ids: Vec<i64> = queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_i64().unwrap())
        .collect();
    assert!(ids.contains(&application), "{ids:?} holds {application}");
    // A page of the queue: its oldest end (a city's queue is not sent whole).
    let r = get(&app, &officer, "/v1/applications?status=submitted&limit=1").await;
    assert_eq!(r.status(), 200);
    let page: Value = r.json().await.unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["items"][0]["id"], ids[0]);
    for bad in ["0", "501"] {
        let r = get(
            &app,
            &officer,
            &format!("/v1/applications?status=submitted&limit={bad}"),
        )
        .await;
        assert_problem(r, 400, "invalid_limit", Some("limit")).await;
    }
    let year = policy::calendar::today().format("%Y").to_string();
    let next: i64 = rows(
        &app,
        &format!("SELECT next FROM permit_sequences WHERE district = {district} AND year = {year}"),
    )
    .await
    .first()
    .map_or(1, |r| r.try_get("", "next").unwrap());
    let r = post(
        &app,
        &officer,
        &format!("/v1/applications/{application}/approve"),
        json!({}),
    )
    .await;
    assert_eq!(r.status(), 201, "approve: {}", r.text().await.unwrap());
    let issued: Value = r.json().await.unwrap();
    assert_eq!(issued["number"], format!("{district}-{year}-{next:06}"));
    check_invariants(&app).await;
    let new_qr: String = rows(
        &app,
        &format!("SELECT credential FROM permits WHERE application_id = {application}"),
    )
    .await[0]
        .try_get("", "credential")
        .unwrap();
    assert_eq!(verdict(&app, &school, &new_qr).await, "valid");

    // The resident report: a seeded resident logs in with the seeded phone; residents with
    // different registration histories get different reports.
    let mut reports = Vec::new();
    for resident in [1i64, 2, 3] {
        let token = app.resident_token(&seed::phone(resident)).await;
        let r = get(&app, &token, "/v1/permits/me/report").await;
        assert_eq!(r.status(), 200, "report of {resident}");
        reports.push(r.json::<Value>().await.unwrap());
    }
    assert!(
        reports[0] != reports[1] && reports[1] != reports[2],
        "{reports:?}"
    );

    // The police look-up of a seeded permit shows its holder's record.
    let (number, qr, resident) = permit_with(&app, "active").await;
    let police = app
        .staff_token("police-seed", "verifier", None, Some("police"))
        .await;
    let r = get(
        &app,
        &police,
        &format!("/v1/permits/{number}?purpose=case:ZJ-2026-000001"),
    )
    .await;
    assert_eq!(r.status(), 200);
    let record: Value = r.json().await.unwrap();
    assert_eq!(record["permit"]["number"], number);
    assert!(record.to_string().contains(&seed::id_number(resident)));

    // Suspend and restore a seeded permit (by an officer of its district).
    let issuer = number.split('-').next().unwrap().to_owned();
    let officer = app
        .staff_token("officer-seed-2", "officer", Some(&issuer), None)
        .await;
    let reason = json!({ "reason": "seed test: status change" });
    for (action, want) in [("suspend", "suspended"), ("restore", "valid")] {
        let r = post(
            &app,
            &officer,
            &format!("/v1/permits/{number}/{action}"),
            reason.clone(),
        )
        .await;
        assert_eq!(r.status(), 200, "{action}");
        assert_eq!(verdict(&app, &school, &qr).await, want, "after {action}");
    }
    check_invariants(&app).await;

    // The audit log: one entry per seed, and the chain intact.
    let entries = api::store::audit::list(app.state.store.conn(), 0, 10_000)
        .await
        .unwrap();
    let seeds: Vec<_> = entries.iter().filter(|e| e.action == "seed.bulk").collect();
    assert_eq!(seeds.len(), 2);
    assert_eq!(seeds[1].subject, "residents:201-250");
    let audit = api::audit::verify::verify(
        app.state.store.conn(),
        &app.state.audit_key.public_key(),
        None,
    )
    .await
    .unwrap();
    assert!(audit.intact(), "{audit:?}");
}
