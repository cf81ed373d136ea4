//! The whole permit lifecycle as its clients drive it: import → OTP login → profile → apply →
//! approve → bind key → presentation → verify valid → suspend → verify suspended → restore →
//! endorse early refused / in the window accepted / late records a lapse → report.

use chrono::Duration;
use crypto::signer::KeyFileSigner;
use epermit_tests::{TestApp, spawn_app};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use epermit_tests::fixtures::{self, Holder, apply, get, issued_permit, post, presentation, today};

async fn verify(app: &TestApp, verifier: &str, qr: &str) -> Value {
    let r = post(app, verifier, "/v1/verify", json!({ "qr": qr })).await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

/// Moves a permit's issue day, as if it had been issued `days` ago.
async fn backdate(app: &TestApp, number: &str, days: i64) {
    use api::store::permits::{Column, Entity};
    Entity::update_many()
        .col_expr(
            Column::IssuedOn,
            Expr::value(today() - Duration::days(days)),
        )
        .filter(Column::Number.eq(number))
        .exec(app.state.store.conn())
        .await
        .unwrap();
}

/// Endorses the holder's permit ten days after its first anniversary: the endorsement's JSON.
async fn endorse_late(app: &TestApp, h: &Holder) -> Value {
    backdate(app, &h.number, 365 + 10).await;
    let r = post(app, &h.token, "/v1/permits/me/endorsements", json!({})).await;
    assert_eq!(r.status(), 200, "late endorsement");
    r.json().await.unwrap()
}

#[actix_web::test]
async fn the_permit_lifecycle_from_import_to_report() {
    let app = spawn_app().await;
    let h = issued_permit(&app, "13900000001", "33070219900101123").await;
    assert!(
        h.number
            .starts_with(&format!("330702-{}-", today().format("%Y")))
    );

    // The holder binds a device key; the credential is re-signed with it (cnf).
    let device = KeyFileSigner::generate();
    let before_binding = fixtures::credential(&app, &h.token).await;
    let r = fixtures::bind_device(&app, &h, &device).await;
    assert_eq!(r.status(), 200);
    let bound: Value = r.json().await.unwrap();
    assert!(bound["holder_key_bound_at"].is_string(), "{bound}");
    assert_eq!(bound["holder_key_bound_from"], "127.0.0.1");
    for (path, media) in [
        ("/v1/permits/me/qr.png", "image/png"),
        ("/v1/permits/me/qr.svg", "image/svg+xml"),
    ] {
        let r = get(&app, &h.token, path).await;
        assert_eq!(
            (
                r.status().as_u16(),
                r.headers()["content-type"].to_str().unwrap()
            ),
            (200, media)
        );
    }

    let school = app
        .staff_token("school1", "verifier", None, Some("school"))
        .await;
    let v = verify(&app, &school, &presentation(&app, &h.token, &device).await).await;
    assert_eq!(
        (v["verdict"].as_str(), v["assurance"].as_str()),
        (Some("valid"), Some("holder_bound")),
        "{v}"
    );
    assert_eq!(v["warnings"], json!([]));
    assert_eq!(v["permit"]["number"], h.number);
    // One credential in force per permit: the copy signed before the key was bound is superseded
    // (a thief's copy of a lost phone's credential stops verifying).
    let v = verify(&app, &school, &before_binding).await;
    assert_eq!(v["verdict"], "superseded", "{v}");

    let suspend = format!("/v1/permits/{}/suspend", h.number);
    assert_eq!(
        post(&app, &h.officer, &suspend, json!({ "reason": "核查中" }))
            .await
            .status(),
        200
    );
    let v = verify(&app, &school, &presentation(&app, &h.token, &device).await).await;
    assert_eq!(v["verdict"], "suspended");
    assert_eq!(
        post(&app, &h.officer, &suspend, json!({ "reason": "again" }))
            .await
            .status(),
        409
    );
    let restore = format!("/v1/permits/{}/restore", h.number);
    assert_eq!(
        post(&app, &h.officer, &restore, json!({ "reason": "核查完毕" }))
            .await
            .status(),
        200
    );
    let v = verify(&app, &school, &presentation(&app, &h.token, &device).await).await;
    assert_eq!(v["verdict"], "valid");

    // Endorsement: too early now; a month before the anniversary it is accepted.
    let r = post(&app, &h.token, "/v1/permits/me/endorsements", json!({})).await;
    assert_eq!(r.status(), 422);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["type"], "endorsement_too_early");
    assert!(p["window_opens"].is_string() && p["anniversary"].is_string());
    backdate(&app, &h.number, 365 - 10).await;
    let r = post(&app, &h.token, "/v1/permits/me/endorsements", json!({})).await;
    assert_eq!(r.status(), 200);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["timing"]["timing"], "in_window");
    let v = verify(&app, &school, &presentation(&app, &h.token, &device).await).await;
    assert_eq!(v["verdict"], "valid", "the re-signed credential verifies");

    let report: Value = get(&app, &h.token, "/v1/permits/me/report?target=330702")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report["target"], "330702");
    assert_eq!(report["cumulative_in_jinhua_days"], 400);
    assert_eq!(report["registered_at_target"], true);
    assert_eq!(report["eligible"], true, "{report}");

    // Revocation is final and shows in verification.
    let revoke = format!("/v1/permits/{}/revoke", h.number);
    assert_eq!(
        post(&app, &h.officer, &revoke, json!({ "reason": "虚假材料" }))
            .await
            .status(),
        200
    );
    assert_eq!(
        post(&app, &h.officer, &restore, json!({ "reason": "undo" }))
            .await
            .status(),
        409
    );
    let v = verify(&app, &school, &presentation(&app, &h.token, &device).await).await;
    assert_eq!(v["verdict"], "revoked");

    api::store::audit::verify_chain(app.state.store.conn())
        .await
        .expect("the audit chain is intact");
}

#[actix_web::test]
async fn a_late_endorsement_records_a_lapse_that_restarts_continuity() {
    let app = spawn_app().await;
    let h = issued_permit(&app, "13900000002", "33070219900101124").await;
    let e = endorse_late(&app, &h).await;
    assert_eq!(e["timing"]["timing"], "late");
    assert_eq!(e["timing"]["lapse"]["until"], today().to_string());
    let report: Value = get(&app, &h.token, "/v1/permits/me/report")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report["continuous_at_target"]["since"], today().to_string());
    assert_eq!(report["continuous_at_target"]["days"], 0);
    assert_eq!(
        report["cumulative_in_jinhua_days"], 400,
        "lapses do not reduce cumulative days"
    );
}

/// Suspends a permit straight in the database, as another instance of the service would: this
/// instance's list cache is not told.
async fn suspend_elsewhere(app: &TestApp, number: &str) {
    let suspended = api::store::permits::Status::Suspended;
    fixtures::set_status_elsewhere(app, number, suspended, chrono::Utc::now()).await;
}

#[actix_web::test]
async fn a_change_made_by_another_instance_is_verified_within_the_recheck_interval() {
    for (recheck_ms, wait) in [
        ("0", None),
        ("300", Some(std::time::Duration::from_millis(400))),
    ] {
        let app = epermit_tests::spawn_app_with(&[("EPERMIT_VERIFY_RECHECK_MS", recheck_ms)]).await;
        let h = issued_permit(&app, "13900000005", "33070219900101127").await;
        let school = app
            .staff_token("school1", "verifier", None, Some("school"))
            .await;
        let credential = fixtures::credential(&app, &h.token).await;
        assert_eq!(verify(&app, &school, &credential).await["verdict"], "valid");
        suspend_elsewhere(&app, &h.number).await;
        if let Some(wait) = wait {
            tokio::time::sleep(wait).await;
        }
        assert_eq!(
            verify(&app, &school, &credential).await["verdict"],
            "suspended",
            "recheck {recheck_ms} ms"
        );
    }
}

/// The `type` of a problem response, with its status.
async fn problem(r: reqwest::Response) -> (u16, String) {
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap();
    (status, body["type"].as_str().unwrap_or_default().to_owned())
}

#[actix_web::test]
async fn one_permit_per_person_a_holder_applies_again_only_after_revocation() {
    let app = spawn_app().await;
    let h = issued_permit(&app, "13900000003", "33070219900101125").await;
    let held = (409, "permit_held".to_owned());
    assert_eq!(problem(apply(&app, &h.token).await).await, held);
    // An application that got past the submission check (a race with an approval) is not
    // approved into a second permit either, and stays in the queue.
    let conn = app.state.store.conn();
    let permit = api::store::permits::find_by_number(conn, &h.number)
        .await
        .unwrap()
        .unwrap();
    let stored = api::store::evidence::put(
        conn,
        app.state.store.sealer().unwrap(),
        "application/pdf",
        fixtures::PDF,
    )
    .await
    .unwrap();
    let raced = api::store::applications::insert(
        conn,
        permit.resident_id,
        330702,
        api::store::applications::Basis::Employment,
        &stored.sha256,
    )
    .await
    .unwrap();
    let approve = format!("/v1/applications/{}/approve", raced.id);
    assert_eq!(
        problem(post(&app, &h.officer, &approve, json!({})).await).await,
        held
    );
    let r = get(&app, &h.officer, &format!("/v1/applications/{}", raced.id)).await;
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "submitted");
    let reject = format!("/v1/applications/{}/reject", raced.id);
    let r = post(
        &app,
        &h.officer,
        &reject,
        json!({ "reason": "已持有居住证" }),
    )
    .await;
    assert_eq!(r.status(), 200);
    let suspend = format!("/v1/permits/{}/suspend", h.number);
    let r = post(&app, &h.officer, &suspend, json!({ "reason": "核查中" })).await;
    assert_eq!(r.status(), 200);
    assert_eq!(problem(apply(&app, &h.token).await).await, held);
    let revoke = format!("/v1/permits/{}/revoke", h.number);
    let r = post(&app, &h.officer, &revoke, json!({ "reason": "证件遗失" })).await;
    assert_eq!(r.status(), 200);
    let r = apply(&app, &h.token).await;
    assert_eq!(
        r.status(),
        201,
        "after revocation: {}",
        r.text().await.unwrap()
    );
}

#[actix_web::test]
async fn an_earlier_permits_lapse_restarts_continuity_for_a_new_application() {
    let app = spawn_app().await;
    let h = issued_permit(&app, "13900000004", "33070219900101126").await;
    endorse_late(&app, &h).await;
    let revoke = format!("/v1/permits/{}/revoke", h.number);
    let r = post(&app, &h.officer, &revoke, json!({ "reason": "证件遗失" })).await;
    assert_eq!(r.status(), 200);
    // 400 days registered, but continuity in Jinhua restarted at today's late endorsement.
    let r = apply(&app, &h.token).await;
    assert_eq!(r.status(), 422);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["type"], "application_refused");
    assert_eq!(
        p["unmet"][0]["condition"], "continuous_residence_under_six_months",
        "{p}"
    );
    assert_eq!(p["unmet"][0]["since"], today().to_string());
}

#[actix_web::test]
async fn only_police_look_up_full_records_and_the_lookup_is_audited() {
    let app = spawn_app().await;
    let h = issued_permit(&app, "13900000003", "33070219900101125").await;
    let police = app
        .staff_token("police1", "verifier", None, Some("police"))
        .await;
    let hospital = app
        .staff_token("hospital1", "verifier", None, Some("hospital"))
        .await;
    let path = format!("/v1/permits/{}?purpose=case:ZJ-2026-001234", h.number);
    assert_eq!(get(&app, &hospital, &path).await.status(), 403);
    assert_eq!(get(&app, &h.token, &path).await.status(), 403);
    let r = get(&app, &police, &path).await;
    assert_eq!(r.status(), 200);
    let record: Value = r.json().await.unwrap();
    assert_eq!(record["permit"]["number"], h.number);
    let entries = api::store::audit::list(app.state.store.conn(), 0, 1000)
        .await
        .unwrap();
    assert!(
        entries
            .iter()
            .any(|e| e.action == "permit.lookup" && e.subject == h.number)
    );
    assert_eq!(
        get(
            &app,
            &police,
            "/v1/permits/330702-2026-999999?purpose=case:ZJ-2026-001234"
        )
        .await
        .status(),
        404
    );
}

#[actix_web::test]
async fn an_officer_of_another_district_cannot_approve_suspend_or_revoke() {
    let app = spawn_app().await;
    let h = issued_permit(&app, "13900000004", "33070219900101126").await;
    let other = app
        .staff_token("officer-yiwu", "officer", Some("330782"), None)
        .await;
    for action in ["suspend", "revoke"] {
        let r = post(
            &app,
            &other,
            &format!("/v1/permits/{}/{action}", h.number),
            json!({ "reason": "不该允许" }),
        )
        .await;
        assert_eq!(r.status(), 403, "{action}");
    }
    let bad = post(
        &app,
        &h.officer,
        &format!("/v1/permits/{}/suspend", h.number),
        json!({ "reason": "" }),
    )
    .await;
    assert_eq!(bad.status(), 400);
    let me: Value = get(&app, &h.token, "/v1/permits/me")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["permit"]["status"], "active", "nothing was written");
}

/// The holder's endorsement window as `GET /v1/permits/me` states it.
async fn endorsement_window(app: &TestApp, h: &Holder) -> Value {
    let me: Value = get(app, &h.token, "/v1/permits/me")
        .await
        .json()
        .await
        .unwrap();
    me["endorsement"].clone()
}

#[actix_web::test]
async fn the_permit_states_its_endorsement_window_and_whether_today_is_before_in_or_after_it() {
    let app = spawn_app().await;
    let h = issued_permit(&app, "13900000009", "33070219900101129").await;
    let anniversary = policy::calendar::add_months(today(), 12);
    let opens = policy::calendar::add_months(anniversary, -1);
    let w = endorsement_window(&app, &h).await;
    assert_eq!(w["anniversary"], anniversary.to_string(), "{w}");
    assert_eq!(w["window_opens"], opens.to_string(), "{w}");
    assert_eq!(w["stage"], "before_window");

    backdate(&app, &h.number, 365 - 10).await;
    let w = endorsement_window(&app, &h).await;
    assert_eq!(w["stage"], "open", "{w}");
    assert_eq!(
        post(&app, &h.token, "/v1/permits/me/endorsements", json!({}))
            .await
            .status(),
        200,
        "an open window accepts the endorsement"
    );
    let w = endorsement_window(&app, &h).await;
    assert_eq!(w["stage"], "before_window", "the next window: {w}");

    let h2 = issued_permit(&app, "13900000010", "33070219900101130").await;
    backdate(&app, &h2.number, 365 + 10).await;
    let w = endorsement_window(&app, &h2).await;
    assert_eq!(w["stage"], "overdue", "{w}");
    assert_eq!(
        w["anniversary"],
        policy::calendar::add_months(today() - Duration::days(365 + 10), 12).to_string(),
        "{w}"
    );
}

#[actix_web::test]
async fn the_openapi_document_describes_the_endorsement_window_of_my_permit() {
    let app = spawn_app().await;
    let doc: Value = app.get_json("/openapi.json").await;
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["MyPermit"]["properties"]["endorsement"]["$ref"],
        "#/components/schemas/EndorsementWindow",
        "{}",
        schemas["MyPermit"]
    );
    let window = &schemas["EndorsementWindow"]["properties"];
    for field in ["window_opens", "anniversary", "stage"] {
        assert!(window[field].is_object(), "{field}: {window}");
    }
}
