//! Police look-ups of a holder's personal data (issue 12 item 6): a stated purpose, recorded in
//! the audit entry; a limit per account and hour; a counter per account in `/metrics`.

use epermit_tests::fixtures::{get, issued_permit};
use epermit_tests::{spawn_app, spawn_app_with};
use serde_json::Value;

use crate::residences::assert_problem;

#[actix_web::test]
async fn a_police_lookup_needs_a_purpose_which_its_audit_entry_records() {
    let app = spawn_app().await;
    let h = issued_permit(&app, "13900001301", "33070219900101301").await;
    let police = app
        .staff_token("police-1301", "verifier", None, Some("police"))
        .await;
    let path = format!("/v1/permits/{}", h.number);
    let r = get(&app, &police, &path).await;
    assert_problem(r, 400, "missing_field", Some("purpose")).await;
    for bad in [
        "curiosity",
        "case:",
        "case:ZJ 2026",
        "checkpoint:x",
        "lookup:ZJ-2026-001234",
    ] {
        let r = get(&app, &police, &format!("{path}?purpose={bad}")).await;
        assert_problem(r, 400, "invalid_purpose", Some("purpose")).await;
    }
    let entries = api::store::audit::list(app.state.store.conn(), 0, 1000)
        .await
        .unwrap();
    assert!(
        !entries.iter().any(|e| e.action == "permit.lookup"),
        "a refused look-up reads nothing"
    );

    let r = get(
        &app,
        &police,
        &format!("{path}?purpose=case:zj-2026-001234"),
    )
    .await;
    assert_eq!(r.status(), 200);
    let r = get(
        &app,
        &police,
        &format!("{path}?purpose=checkpoint:JH-CP-0042"),
    )
    .await;
    assert_eq!(r.status(), 200);
    let record: Value = r.json().await.unwrap();
    assert_eq!(record["permit"]["number"], h.number);

    let entries = api::store::audit::list(app.state.store.conn(), 0, 1000)
        .await
        .unwrap();
    let purposes: Vec<(String, Value)> = entries
        .iter()
        .filter(|e| e.action == "permit.lookup" && e.subject == h.number)
        .map(|e| {
            let detail: Value = serde_json::from_str(&e.detail).unwrap();
            (e.actor.clone(), detail)
        })
        .collect();
    assert_eq!(purposes.len(), 2, "{purposes:?}");
    assert_eq!(purposes[0].1["purpose"], "case:ZJ-2026-001234");
    assert_eq!(purposes[0].1["purpose_kind"], "case");
    assert_eq!(purposes[1].1["purpose"], "checkpoint:JH-CP-0042");
    assert_eq!(purposes[1].1["purpose_kind"], "checkpoint");
    assert!(purposes[0].0.starts_with("staff:"));
}

#[actix_web::test]
async fn police_lookups_are_limited_per_account_and_hour() {
    let app = spawn_app_with(&[("EPERMIT_RATE_LIMITS__POLICE_LOOKUPS_PER_HOUR", "3")]).await;
    let h = issued_permit(&app, "13900001302", "33070219900101302").await;
    let police = app
        .staff_token("police-1302", "verifier", None, Some("police"))
        .await;
    let other = app
        .staff_token("police-1302b", "verifier", None, Some("police"))
        .await;
    let found = format!("/v1/permits/{}?purpose=case:ZJ-2026-001302", h.number);
    let missing = "/v1/permits/330702-2026-999999?purpose=case:ZJ-2026-001302";
    // Misses count too: enumerating numbers is harvesting as well.
    assert_eq!(get(&app, &police, &found).await.status(), 200);
    assert_eq!(get(&app, &police, missing).await.status(), 404);
    assert_eq!(get(&app, &police, &found).await.status(), 200);
    let r = get(&app, &police, &found).await;
    let retry_after: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_problem(r, 429, "rate_limited", None).await;
    assert!(
        (60..=3600).contains(&retry_after),
        "an hour's window: Retry-After {retry_after}"
    );
    // Another account has its own hour.
    assert_eq!(get(&app, &other, &found).await.status(), 200);
    let entries = api::store::audit::list(app.state.store.conn(), 0, 1000)
        .await
        .unwrap();
    assert_eq!(
        entries
            .iter()
            .filter(|e| e.action == "permit.lookup")
            .count(),
        3,
        "the refused look-up read nothing"
    );
}

#[actix_web::test]
async fn police_lookups_count_per_account_in_metrics() {
    let app = spawn_app().await;
    let h = issued_permit(&app, "13900001303", "33070219900101303").await;
    let police = app
        .staff_token("police-1303", "verifier", None, Some("police"))
        .await;
    let path = format!("/v1/permits/{}?purpose=checkpoint:JH-CP-0042", h.number);
    for _ in 0..2 {
        assert_eq!(get(&app, &police, &path).await.status(), 200);
    }
    let staff = api::store::staff::find_by_username(app.state.store.conn(), "police-1303")
        .await
        .unwrap()
        .unwrap();
    let r = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    let line = format!(
        r#"epermit_personal_data_lookups_total{{account="staff:{}",org_kind="police"}} 2"#,
        staff.id
    );
    assert!(text.contains(&line), "{line} in\n{text}");
}
