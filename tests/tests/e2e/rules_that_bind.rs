//! Rules checked where they bind (issue 12 item 9): SPEC §1.2 again on the approval day, one
//! endorsement per permit per day however many requests race, and no day a credential cannot
//! carry (before 1970-01-01) getting in through import or declaration — nor failing an approval
//! with a 500 when it is in the database already.

use chrono::Duration;
use epermit_tests::fixtures::{
    apply, assign_at_counter, days_ago, get, id_number, issued_permit, post, today,
};
use epermit_tests::{TestApp, spawn_app, spawn_app_with};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::residences::{assert_problem, declare};

/// Imports a confirmed registration in 婺城区 since 400 days ago for a new ID number, logs its
/// holder in, sets the profile and applies: the holder's token and the application's id.
async fn submitted(app: &TestApp, phone: &str, id17: &str) -> (String, i64) {
    let id = id_number(id17);
    let csv = format!(
        "id_number,name,district,address,start,end\n{id},李小红,330702,城北街道丽泽社区,{},\n",
        days_ago(400)
    );
    let file = app.data_dir.path().join(format!("legacy-{phone}.csv"));
    std::fs::write(&file, csv).unwrap();
    let report = api::commands::import::import_file(&app.state.store, &file)
        .await
        .unwrap();
    assert_eq!(report.imported, 1, "{report:?}");
    let token = app.resident_token(phone).await;
    // An imported record is not claimed by naming it: an officer assigns it at the counter.
    let counter = app
        .staff_token(&format!("counter-{phone}"), "officer", Some("330702"), None)
        .await;
    let r = assign_at_counter(app, &counter, &token, "李小红", &id).await;
    assert_eq!(r.status(), 200, "assign: {}", r.text().await.unwrap());
    let r = apply(app, &token).await;
    assert_eq!(r.status(), 201, "apply: {}", r.text().await.unwrap());
    let application: Value = r.json().await.unwrap();
    (token, application["id"].as_i64().unwrap())
}

/// The caller's registrations.
async fn registrations(app: &TestApp, token: &str) -> Vec<Value> {
    let r = get(app, token, "/v1/residences").await;
    assert_eq!(r.status(), 200);
    r.json::<Value>().await.unwrap()["items"]
        .as_array()
        .unwrap()
        .clone()
}

/// Ends the caller's first registration today (after submitting: the case approval must see).
async fn end_first_registration(app: &TestApp, resident: &str) {
    let registration = registrations(app, resident).await[0]["id"]
        .as_i64()
        .unwrap();
    let r = post(
        app,
        resident,
        &format!("/v1/residences/{registration}/end"),
        json!({ "end": today().to_string() }),
    )
    .await;
    assert_eq!(r.status(), 200, "end: {}", r.text().await.unwrap());
}

/// Asserts the application is still awaiting review and can be rejected with a reason.
async fn still_reviewable(app: &TestApp, officer: &str, resident: &str, id: i64) {
    let r = get(app, officer, &format!("/v1/applications/{id}")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "submitted");
    assert_eq!(get(app, resident, "/v1/permits/me").await.status(), 404);
    let r = post(
        app,
        officer,
        &format!("/v1/applications/{id}/reject"),
        json!({ "reason": "申请条件已不符合" }),
    )
    .await;
    assert_eq!(r.status(), 200, "reject: {}", r.text().await.unwrap());
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "rejected");
}

#[actix_web::test]
async fn approval_is_refused_when_the_registration_ended_after_submission() {
    let app = spawn_app().await;
    let (resident, id) = submitted(&app, "13900001201", "33070219900101201").await;
    end_first_registration(&app, &resident).await;

    let officer = app
        .staff_token("officer-1201", "officer", Some("330702"), None)
        .await;
    let r = post(
        &app,
        &officer,
        &format!("/v1/applications/{id}/approve"),
        json!({}),
    )
    .await;
    let problem = assert_problem(r, 422, "application_refused", None).await;
    assert_eq!(
        problem["unmet"][0]["condition"], "not_registered_in_district",
        "{problem}"
    );
    assert_eq!(problem["date"], today().to_string());
    assert_eq!(problem["district"], "330702");
    still_reviewable(&app, &officer, &resident, id).await;
}

#[actix_web::test]
async fn approval_is_refused_when_the_applicant_moved_to_another_district_after_submission() {
    let app = spawn_app().await;
    let (resident, id) = submitted(&app, "13900001202", "33070219900101202").await;
    end_first_registration(&app, &resident).await;
    // Moved to 义乌市 and confirmed there: still six months in Jinhua, a credential could be
    // signed, but no longer registered in the district applied to.
    let moved = declare(&app, &resident, "330782", &today().to_string()).await;
    let yiwu = app
        .staff_token("officer-yiwu-1202", "officer", Some("330782"), None)
        .await;
    let r = post(
        &app,
        &yiwu,
        &format!("/v1/residences/{}/confirm", moved["id"]),
        json!({}),
    )
    .await;
    assert_eq!(r.status(), 200);

    let officer = app
        .staff_token("officer-1202", "officer", Some("330702"), None)
        .await;
    let r = post(
        &app,
        &officer,
        &format!("/v1/applications/{id}/approve"),
        json!({}),
    )
    .await;
    let problem = assert_problem(r, 422, "application_refused", None).await;
    assert_eq!(
        problem["unmet"].as_array().map(Vec::len),
        Some(1),
        "{problem}"
    );
    assert_eq!(
        problem["unmet"][0]["condition"],
        "not_registered_in_district"
    );
    still_reviewable(&app, &officer, &resident, id).await;
}

#[actix_web::test]
async fn two_endorsements_of_one_permit_on_one_day_cannot_both_land() {
    use api::store::{endorsements, permits, status::versions};
    let app = spawn_app().await;
    let h = issued_permit(&app, "13900001203", "33070219900101203").await;
    // Ten days before the first anniversary: in the endorsement window.
    permits::Entity::update_many()
        .col_expr(
            permits::Column::IssuedOn,
            Expr::value(today() - Duration::days(365 - 10)),
        )
        .filter(permits::Column::Number.eq(&h.number))
        .exec(app.state.store.conn())
        .await
        .unwrap();
    let db = app.state.store.conn();
    let permit = permits::find_by_number(db, &h.number)
        .await
        .unwrap()
        .unwrap();
    let versions_before = versions::of_permit(db, permit.id).await.unwrap().len();

    let requests = (0..8).map(|_| post(&app, &h.token, "/v1/permits/me/endorsements", json!({})));
    let responses = futures_util::future::join_all(requests).await;
    let mut statuses = Vec::new();
    for r in responses {
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap();
        match status {
            200 => {}
            409 => assert_eq!(body["type"], "endorsed_today", "{body}"),
            422 => assert_eq!(body["type"], "endorsement_too_early", "{body}"),
            _ => panic!("{status}: {body}"),
        }
        statuses.push(status);
    }
    eprintln!(
        "8 concurrent endorsements on {}: {statuses:?}",
        app.backend()
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "exactly one endorsement lands on {}: {statuses:?}",
        app.backend()
    );
    assert_eq!(
        endorsements::list_by_permit(db, permit.id)
            .await
            .unwrap()
            .len(),
        1,
        "one endorsement row"
    );
    assert_eq!(
        versions::of_permit(db, permit.id).await.unwrap().len(),
        versions_before + 1,
        "one new credential version"
    );
    // The permit still works: its calendar replays.
    assert_eq!(get(&app, &h.token, "/v1/permits/me").await.status(), 200);
}

#[actix_web::test]
async fn one_endorsement_row_per_permit_and_day_is_held_by_the_schema() {
    use api::store::{StoreError, endorsements, permits};
    let app = spawn_app().await;
    let h = issued_permit(&app, "13900001204", "33070219900101204").await;
    let db = app.state.store.conn();
    let permit = permits::find_by_number(db, &h.number)
        .await
        .unwrap()
        .unwrap();
    let row = || endorsements::NewEndorsement {
        permit_id: permit.id,
        day: today(),
        timing: endorsements::Timing::InWindow,
        lapse_from: None,
        lapse_until: None,
        district: 330702,
    };
    endorsements::insert(db, row()).await.unwrap();
    let second = endorsements::insert(db, row()).await;
    assert!(matches!(second, Err(StoreError::Conflict(_))), "{second:?}");
}

#[actix_web::test]
async fn an_import_refuses_days_before_1970_row_by_row_with_the_line() {
    let app = spawn_app().await;
    let csv = format!(
        "id_number,name,district,address,start,end\n\
         {},王一,330702,城北街道丽泽社区,1969-12-31,\n\
         {},王二,330702,城北街道丽泽社区,1970-01-01,1975-06-01\n\
         {},王三,330702,城北街道丽泽社区,1968-01-01,1969-06-01\n",
        id_number("11010519491231001"),
        id_number("11010519491231002"),
        id_number("11010519491231003"),
    );
    let file = app.data_dir.path().join("legacy-1969.csv");
    std::fs::write(&file, csv).unwrap();
    let report = api::commands::import::import_file(&app.state.store, &file)
        .await
        .unwrap();
    assert_eq!(report.imported, 1, "{report:?}");
    assert_eq!(report.rejected, 2, "{report:?}");
    let rows: Vec<(u64, Option<&str>, &str)> = report
        .rejected_rows
        .iter()
        .map(|r| (r.line, r.field, r.reason))
        .collect();
    assert_eq!(
        rows,
        [
            (2, Some("start"), "date_before_1970"),
            (4, Some("start"), "date_before_1970")
        ]
    );
}

#[actix_web::test]
async fn a_declared_start_before_1970_is_refused_naming_the_field() {
    let app = spawn_app().await;
    let resident = app.resident_token("13900001205").await;
    let r = post(
        &app,
        &resident,
        "/v1/residences",
        json!({ "district": "330702", "address": "宾虹路 18 号", "start": "1969-12-31" }),
    )
    .await;
    assert_problem(r, 422, "date_before_1970", Some("start")).await;
}

#[actix_web::test]
async fn approving_a_history_that_starts_before_1970_is_a_422_naming_it_and_the_application_stays_reviewable()
 {
    use api::store::residences;
    let app = spawn_app().await;
    let (resident, id) = submitted(&app, "13900001206", "11010519491231006").await;
    // History stored before the rule bound (an import of 1969 records).
    residences::Entity::update_many()
        .col_expr(
            residences::Column::StartDate,
            Expr::value(chrono::NaiveDate::from_ymd_opt(1969, 6, 1).unwrap()),
        )
        .exec(app.state.store.conn())
        .await
        .unwrap();
    let registration = registrations(&app, &resident).await[0]["id"].clone();

    let officer = app
        .staff_token("officer-1206", "officer", Some("330702"), None)
        .await;
    let r = post(
        &app,
        &officer,
        &format!("/v1/applications/{id}/approve"),
        json!({}),
    )
    .await;
    let problem = assert_problem(r, 422, "date_before_1970", Some("registrations")).await;
    assert_eq!(problem["residence"], registration, "{problem}");
    assert_eq!(problem["start"], "1969-06-01");
    still_reviewable(&app, &officer, &resident, id).await;
}

#[actix_web::test]
async fn a_holder_born_before_1970_gets_a_permit_birth_dates_are_not_carried() {
    let app = spawn_app().await;
    // The README's walk: 11010519491231002X, born 1949-12-31.
    let h = issued_permit(&app, "13900001207", "11010519491231002").await;
    assert!(h.number.starts_with("330702-"));
    let r = get(&app, &h.token, "/v1/permits/me").await;
    assert_eq!(r.status(), 200);
}

#[actix_web::test]
async fn concurrent_approvals_in_one_district_number_without_gaps_and_take_distinct_status_entries()
{
    use api::store::permits;
    use api::store::status::{shards, versions};
    const APPLICATIONS: usize = 16;
    // Sixteen residents log in from one address: above the per-address limits.
    let many = "1000";
    let app = spawn_app_with(&[
        ("EPERMIT_RATE_LIMITS__OTP__PER_IP", many),
        ("EPERMIT_RATE_LIMITS__LOGIN__PER_IP", many),
    ])
    .await;
    let mut applications = Vec::new();
    for i in 0..APPLICATIONS {
        let (_, id) = submitted(
            &app,
            &format!("139000014{i:02}"),
            &format!("33070219900102{i:03}"),
        )
        .await;
        applications.push(id);
    }
    let mut officers = Vec::new();
    for i in 0..4 {
        officers.push(
            app.staff_token(&format!("desk-{i}"), "officer", Some("330702"), None)
                .await,
        );
    }
    // Every approval at once, four officers of 婺城区 taking turns.
    let approvals = applications.iter().enumerate().map(|(i, id)| {
        let (app, officer) = (&app, &officers[i % officers.len()]);
        async move {
            let path = format!("/v1/applications/{id}/approve");
            post(app, officer, &path, json!({})).await
        }
    });
    let mut numbers = Vec::new();
    for r in futures_util::future::join_all(approvals).await {
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap();
        assert_eq!(status, 201, "approve on {}: {body}", app.backend());
        numbers.push(body["number"].as_str().unwrap().to_owned());
    }
    // Numbers of the district and year run 1..n without a gap.
    let year = today().format("%Y").to_string();
    let mut sequence: Vec<u32> = numbers
        .iter()
        .map(|n| {
            let prefix = format!("330702-{year}-");
            n.strip_prefix(&prefix)
                .unwrap_or_else(|| panic!("{n} is not a number of 330702 in {year}"))
                .parse()
                .unwrap()
        })
        .collect();
    sequence.sort_unstable();
    assert_eq!(
        sequence,
        (1..=APPLICATIONS as u32).collect::<Vec<_>>(),
        "on {}",
        app.backend()
    );
    // One version each, at its own entry; each shard counts the entries taken in it and holds
    // them valid; each credential verifies valid.
    let db = app.state.store.conn();
    let verifier = app
        .staff_token("gate", "verifier", None, Some("school"))
        .await;
    let mut entries = std::collections::BTreeMap::<(i32, i32), String>::new();
    for number in &numbers {
        let permit = permits::find_by_number(db, number).await.unwrap().unwrap();
        let permit_versions = versions::of_permit(db, permit.id).await.unwrap();
        assert_eq!(permit_versions.len(), 1, "{number}: {permit_versions:?}");
        let entry = (permit_versions[0].shard, permit_versions[0].idx);
        if let Some(other) = entries.insert(entry, number.clone()) {
            panic!("{number} and {other} share the status entry {entry:?}");
        }
        let r = post(
            &app,
            &verifier,
            "/v1/verify",
            json!({ "qr": permit.credential }),
        )
        .await;
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["verdict"], "valid", "{number}: {v}");
    }
    for shard in shards::stamps(db).await.unwrap().into_iter().map(|s| s.0) {
        let row = shards::get(db, shard).await.unwrap();
        let taken = versions::Entity::find()
            .filter(versions::Column::Shard.eq(shard))
            .all(db)
            .await
            .unwrap();
        assert_eq!(
            i64::from(row.used),
            taken.len() as i64,
            "shard {shard} counts the entries taken in it"
        );
        for version in taken {
            let idx = usize::try_from(version.idx).unwrap();
            assert_eq!(
                (row.bits[idx / 4] >> ((idx % 4) * 2)) & 3,
                0,
                "entry {idx} of shard {shard} is valid"
            );
        }
    }
    api::store::audit::verify_chain(db)
        .await
        .expect("the audit chain is intact");
}
