//! Permit applications as a client drives them: submit with evidence, idempotent retries, the
//! officer's queue, evidence download and rejection (SPEC §1.2, §1.3).

use epermit_tests::{TestApp, spawn_app};
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::residences::{assert_problem, declare};
use epermit_tests::fixtures::{PDF, assign_at_counter, days_ago, get, id_number, post};

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR fake image body";
const JPEG: &[u8] = b"\xFF\xD8\xFF\xE0\0\x10JFIF\0 fake";

/// A form with `basis` and one evidence file declared as `mime`.
pub(crate) fn form(basis: &str, bytes: &[u8], mime: &str) -> Form {
    Form::new().text("basis", basis.to_owned()).part(
        "evidence",
        Part::bytes(bytes.to_vec())
            .file_name("evidence.bin")
            .mime_str(mime)
            .unwrap(),
    )
}

pub(crate) async fn submit(
    app: &TestApp,
    token: &str,
    form: Form,
    key: Option<&str>,
) -> reqwest::Response {
    let mut request = app
        .client
        .post(app.url("/v1/applications"))
        .bearer_auth(token)
        .multipart(form);
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    request.send().await.unwrap()
}

async fn set_profile(app: &TestApp, token: &str, name: &str, id_number: &str) {
    let r = app
        .client
        .put(app.url("/v1/me"))
        .bearer_auth(token)
        .json(&json!({ "name": name, "id_number": id_number }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        200,
        "PUT /v1/me: {}",
        r.text().await.unwrap_or_default()
    );
}

/// A resident registered in `district` since about eight months (imported from the legacy
/// system, so confirmed), its ID number assigned to the account by an officer; returns the access
/// token.
pub(crate) async fn eligible_resident(
    app: &TestApp,
    phone: &str,
    seed: &str,
    district: &str,
) -> String {
    let id = id_number(seed);
    let csv = format!(
        "id_number,name,district,address,start,end\n{id},王小明,{district},宾虹路 18 号,{},\n",
        days_ago(240)
    );
    let report = api::commands::import::import_residences(
        &app.state.store,
        csv.as_bytes(),
        &indicatif_hidden(),
    )
    .await
    .expect("import");
    assert_eq!(report.imported, 1);
    let token = app.resident_token(phone).await;
    // The imported record goes to the account at the counter (naming it claims nothing).
    let officer = app
        .staff_token(&format!("counter-{phone}"), "officer", Some(district), None)
        .await;
    let r = assign_at_counter(app, &officer, &token, "王小明", &id).await;
    assert_eq!(
        r.status(),
        200,
        "assign: {}",
        r.text().await.unwrap_or_default()
    );
    token
}

fn indicatif_hidden() -> api::commands::import::Progress {
    api::commands::import::Progress::hidden()
}

pub(crate) async fn own_applications(app: &TestApp, token: &str) -> Vec<Value> {
    let r = get(app, token, "/v1/applications").await;
    assert_eq!(r.status(), 200);
    r.json::<Value>().await.unwrap()["items"]
        .as_array()
        .unwrap()
        .clone()
}

#[actix_web::test]
async fn an_eligible_resident_applies_and_the_district_officer_reviews_the_evidence() {
    let app = spawn_app().await;
    let resident = eligible_resident(&app, "13900000001", "33070219900101001", "330702").await;
    let officer = app
        .staff_token("wucheng", "officer", Some("330702"), None)
        .await;
    let other_officer = app
        .staff_token("jindong", "officer", Some("330703"), None)
        .await;
    let verifier = app
        .staff_token("police", "verifier", None, Some("police"))
        .await;

    let r = submit(&app, &resident, form("employment", PNG, "image/png"), None).await;
    assert_eq!(r.status(), 201);
    let application: Value = r.json().await.unwrap();
    assert_eq!(application["status"], "submitted");
    assert_eq!(application["district"], "330702");
    assert_eq!(application["basis"], "employment");
    let id = application["id"].as_i64().unwrap();

    let r = get(&app, &officer, "/v1/applications?status=submitted").await;
    assert_eq!(r.status(), 200);
    let queue: Value = r.json().await.unwrap();
    assert_eq!(queue["items"].as_array().unwrap().len(), 1);
    assert_eq!(queue["items"][0]["id"], id);
    let r = get(&app, &other_officer, "/v1/applications?status=submitted").await;
    assert!(
        r.json::<Value>().await.unwrap()["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    let path = format!("/v1/applications/{id}");
    assert_eq!(get(&app, &resident, &path).await.status(), 200);
    assert_eq!(get(&app, &officer, &path).await.status(), 200);
    assert_eq!(get(&app, &other_officer, &path).await.status(), 403);
    assert_eq!(get(&app, &verifier, &path).await.status(), 403);
    let stranger = app.resident_token("13900000009").await;
    assert_eq!(get(&app, &stranger, &path).await.status(), 404);

    let r = get(&app, &officer, &format!("{path}/evidence")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.bytes().await.unwrap().as_ref(), PNG);
    let views = |entries: Vec<api::store::audit::Model>| {
        entries
            .iter()
            .filter(|e| {
                e.action == "application.evidence_view" && e.subject == format!("application:{id}")
            })
            .count()
    };
    let entries = api::store::audit::list(app.state.store.conn(), 0, 1000)
        .await
        .unwrap();
    assert_eq!(views(entries), 1, "the officer's download is audited once");
    assert_eq!(
        get(&app, &other_officer, &format!("{path}/evidence"))
            .await
            .status(),
        403
    );
    assert_eq!(
        get(&app, &resident, &format!("{path}/evidence"))
            .await
            .status(),
        403
    );
    let entries = api::store::audit::list(app.state.store.conn(), 0, 1000)
        .await
        .unwrap();
    assert_eq!(views(entries), 1, "refused downloads write nothing");

    // One application awaits review at a time.
    let r = submit(
        &app,
        &resident,
        form("housing", PDF, "application/pdf"),
        None,
    )
    .await;
    assert_problem(r, 409, "application_pending", None).await;
}

#[actix_web::test]
async fn a_retried_submission_with_one_idempotency_key_creates_one_application() {
    let app = spawn_app().await;
    let resident = eligible_resident(&app, "13900000002", "33078219900101002", "330782").await;

    let first = submit(
        &app,
        &resident,
        form("study", PDF, "application/pdf"),
        Some("k-1"),
    )
    .await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let again = submit(
        &app,
        &resident,
        form("study", PDF, "application/pdf"),
        Some("k-1"),
    )
    .await;
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotency-replayed"], "true");
    assert_eq!(again.json::<Value>().await.unwrap(), first);

    let r = submit(
        &app,
        &resident,
        form("housing", PDF, "application/pdf"),
        Some("k-1"),
    )
    .await;
    assert_problem(r, 422, "idempotency_key_reused", Some("Idempotency-Key")).await;
    assert_eq!(own_applications(&app, &resident).await.len(), 1);

    let r = submit(
        &app,
        &resident,
        form("study", PDF, "application/pdf"),
        Some("bad key"),
    )
    .await;
    assert_problem(r, 400, "invalid_idempotency_key", Some("Idempotency-Key")).await;
}

#[actix_web::test]
async fn the_evidence_type_is_told_by_its_magic_bytes_not_its_declared_type() {
    let app = spawn_app().await;
    let resident = eligible_resident(&app, "13900000003", "33070319900101003", "330703").await;
    let officer = app
        .staff_token("jindong", "officer", Some("330703"), None)
        .await;

    let r = submit(
        &app,
        &resident,
        form("housing", b"GIF89a not allowed", "image/png"),
        None,
    )
    .await;
    assert_problem(r, 422, "unsupported_evidence_type", Some("evidence")).await;
    let r = submit(
        &app,
        &resident,
        form("housing", b"<html>%PDF-</html>", "application/pdf"),
        None,
    )
    .await;
    assert_problem(r, 422, "unsupported_evidence_type", Some("evidence")).await;
    assert!(own_applications(&app, &resident).await.is_empty());

    // A JPEG sent as "application/pdf" is stored and served as a JPEG.
    let r = submit(
        &app,
        &resident,
        form("housing", JPEG, "application/pdf"),
        None,
    )
    .await;
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let r = get(&app, &officer, &format!("/v1/applications/{id}/evidence")).await;
    assert_eq!(r.headers()["content-type"], "image/jpeg");
}

#[actix_web::test]
async fn bad_submissions_are_refused_naming_the_field_and_write_nothing() {
    let app = spawn_app().await;
    let resident = eligible_resident(&app, "13900000004", "33072319900101004", "330723").await;

    let no_basis = Form::new().part("evidence", Part::bytes(PNG.to_vec()).file_name("a.png"));
    assert_problem(
        submit(&app, &resident, no_basis, None).await,
        400,
        "missing_field",
        Some("basis"),
    )
    .await;
    let no_file = Form::new().text("basis", "employment");
    assert_problem(
        submit(&app, &resident, no_file, None).await,
        400,
        "missing_field",
        Some("evidence"),
    )
    .await;
    let r = submit(&app, &resident, form("lottery", PNG, "image/png"), None).await;
    assert_problem(r, 400, "invalid_basis", Some("basis")).await;
    let r = submit(
        &app,
        &resident,
        form("employment", PNG, "image/png").text("district", "330101"),
        None,
    )
    .await;
    assert_problem(r, 422, "district_not_in_jinhua", Some("district")).await;
    let empty = form("employment", b"", "image/png");
    assert_problem(
        submit(&app, &resident, empty, None).await,
        400,
        "missing_field",
        Some("evidence"),
    )
    .await;
    let two = form("employment", PNG, "image/png")
        .part("evidence", Part::bytes(PDF.to_vec()).file_name("b.pdf"));
    assert_problem(
        submit(&app, &resident, two, None).await,
        400,
        "duplicate_field",
        Some("evidence"),
    )
    .await;

    let max = usize::try_from(app.state.settings.max_evidence_bytes).unwrap();
    let mut big = PDF.to_vec();
    big.resize(max + 1, b' ');
    let r = submit(
        &app,
        &resident,
        form("employment", &big, "application/pdf"),
        None,
    )
    .await;
    assert_eq!(r.status(), 413);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    assert_eq!(
        r.json::<Value>().await.unwrap()["type"],
        "evidence_too_large"
    );

    let r = app
        .client
        .post(app.url("/v1/applications"))
        .bearer_auth(&resident)
        .json(&json!({ "basis": "employment" }))
        .send()
        .await
        .unwrap();
    assert_problem(r, 400, "invalid_body", Some("body")).await;
    assert!(own_applications(&app, &resident).await.is_empty());

    // Exactly the limit is accepted.
    big.truncate(max);
    let r = submit(
        &app,
        &resident,
        form("employment", &big, "application/pdf"),
        None,
    )
    .await;
    assert_eq!(r.status(), 201);
}

#[actix_web::test]
async fn an_application_needs_a_profile_and_six_months_of_registration() {
    let app = spawn_app().await;
    let officer = app
        .staff_token("wucheng", "officer", Some("330702"), None)
        .await;
    let resident = app.resident_token("13900000005").await;

    let r = submit(&app, &resident, form("employment", PNG, "image/png"), None).await;
    assert_problem(r, 422, "profile_incomplete", None).await;

    set_profile(&app, &resident, "李四", &id_number("33070219950505005")).await;
    let r = submit(&app, &resident, form("employment", PNG, "image/png"), None).await;
    let problem = assert_problem(r, 422, "application_refused", None).await;
    let codes: Vec<&str> = problem["unmet"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["condition"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "not_registered_in_district",
            "continuous_residence_under_six_months"
        ]
    );

    let start = days_ago(3);
    let id = declare(&app, &resident, "330702", &start).await["id"]
        .as_i64()
        .unwrap();
    // Declared but not confirmed: it does not count yet.
    let r = submit(&app, &resident, form("employment", PNG, "image/png"), None).await;
    let problem = assert_problem(r, 422, "application_refused", None).await;
    assert_eq!(
        problem["unmet"][0]["condition"],
        "not_registered_in_district"
    );

    post(
        &app,
        &officer,
        &format!("/v1/residences/{id}/confirm"),
        json!({}),
    )
    .await;
    let r = submit(&app, &resident, form("employment", PNG, "image/png"), None).await;
    let problem = assert_problem(r, 422, "application_refused", None).await;
    assert_eq!(problem["district"], "330702");
    let unmet = problem["unmet"].as_array().unwrap();
    assert_eq!(unmet.len(), 1);
    assert_eq!(
        unmet[0]["condition"],
        "continuous_residence_under_six_months"
    );
    assert_eq!(unmet[0]["since"], start);
    assert!(unmet[0]["met_on"].as_str().unwrap() > start.as_str());
    assert!(own_applications(&app, &resident).await.is_empty());
}

#[actix_web::test]
async fn an_officer_of_the_district_rejects_with_a_reason_the_resident_sees() {
    let app = spawn_app().await;
    let resident = eligible_resident(&app, "13900000006", "33078419900101006", "330784").await;
    let officer = app
        .staff_token("yongkang", "officer", Some("330784"), None)
        .await;
    let other = app
        .staff_token("yiwu", "officer", Some("330782"), None)
        .await;
    let r = submit(&app, &resident, form("employment", PNG, "image/png"), None).await;
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let reject = format!("/v1/applications/{id}/reject");

    let reason = json!({ "reason": "证明材料不清晰" });
    assert_problem(
        post(&app, &other, &reject, reason.clone()).await,
        403,
        "forbidden",
        None,
    )
    .await;
    assert_eq!(
        post(&app, &resident, &reject, reason.clone())
            .await
            .status(),
        403
    );
    assert_problem(
        post(&app, &officer, &reject, json!({ "reason": "x" })).await,
        400,
        "invalid_reason",
        Some("reason"),
    )
    .await;
    let long = "长".repeat(501);
    assert_problem(
        post(&app, &officer, &reject, json!({ "reason": long })).await,
        400,
        "invalid_reason",
        Some("reason"),
    )
    .await;
    assert_problem(
        post(&app, &officer, &reject, json!({})).await,
        400,
        "missing_field",
        Some("reason"),
    )
    .await;
    assert_problem(
        post(
            &app,
            &officer,
            "/v1/applications/424242/reject",
            reason.clone(),
        )
        .await,
        404,
        "not_found",
        None,
    )
    .await;
    assert_eq!(
        get(&app, &resident, &format!("/v1/applications/{id}"))
            .await
            .json::<Value>()
            .await
            .unwrap()["status"],
        "submitted"
    );

    let r = post(&app, &officer, &reject, reason.clone()).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "rejected");
    assert_problem(
        post(&app, &officer, &reject, reason).await,
        409,
        "application_decided",
        None,
    )
    .await;

    let seen: Value = get(&app, &resident, &format!("/v1/applications/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(seen["status"], "rejected");
    assert_eq!(seen["reason"], "证明材料不清晰");
    let rejected = get(&app, &officer, "/v1/applications?status=rejected")
        .await
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(rejected["items"].as_array().unwrap().len(), 1);
    assert_problem(
        get(&app, &officer, "/v1/applications?status=new").await,
        400,
        "invalid_status",
        Some("status"),
    )
    .await;

    // After a rejection the resident may apply again.
    let r = submit(
        &app,
        &resident,
        form("housing", PDF, "application/pdf"),
        None,
    )
    .await;
    assert_eq!(r.status(), 201);
}
