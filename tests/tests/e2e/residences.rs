//! Residence registrations as a client drives them: declare, end, confirm, list (SPEC §1.1).

use epermit_tests::fixtures::{days_ago, get, post};
use epermit_tests::{TestApp, spawn_app};
use serde_json::{Value, json};

/// Asserts a problem document: its status, `type` and `field`.
pub(crate) async fn assert_problem(
    r: reqwest::Response,
    status: u16,
    code: &str,
    field: Option<&str>,
) -> Value {
    assert_eq!(r.status(), status, "expected {status} {code}");
    assert_eq!(
        r.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/problem+json")
    );
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["type"], code, "{body}");
    if let Some(field) = field {
        assert_eq!(body["field"], field, "{body}");
    }
    body
}

/// Declares a registration and returns it.
pub(crate) async fn declare(app: &TestApp, token: &str, district: &str, start: &str) -> Value {
    let r = post(
        app,
        token,
        "/v1/residences",
        json!({ "district": district, "address": "宾虹路 18 号", "start": start }),
    )
    .await;
    assert_eq!(r.status(), 201);
    r.json().await.unwrap()
}

async fn items(app: &TestApp, token: &str, path: &str) -> Vec<Value> {
    let r = get(app, token, path).await;
    assert_eq!(r.status(), 200);
    r.json::<Value>().await.unwrap()["items"]
        .as_array()
        .unwrap()
        .clone()
}

#[actix_web::test]
async fn a_declared_registration_is_confirmed_by_an_officer_of_its_district() {
    let app = spawn_app().await;
    let resident = app.resident_token("13800000001").await;
    let officer = app
        .staff_token("wucheng", "officer", Some("330702"), None)
        .await;
    let start = days_ago(10);

    let declared = declare(&app, &resident, "330702", &start).await;
    assert_eq!(declared["status"], "declared");
    assert_eq!(declared["district"], "330702");
    assert_eq!(declared["start"], start);
    assert_eq!(declared["end"], Value::Null);
    let id = declared["id"].as_i64().unwrap();

    let own = items(&app, &resident, "/v1/residences").await;
    assert_eq!(own.len(), 1);
    let queue = items(&app, &officer, "/v1/residences?status=declared").await;
    assert_eq!(queue.iter().filter(|r| r["id"] == id).count(), 1);

    let r = post(
        &app,
        &officer,
        &format!("/v1/residences/{id}/confirm"),
        json!({}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let confirmed: Value = r.json().await.unwrap();
    assert_eq!(confirmed["status"], "confirmed");

    let r = post(
        &app,
        &officer,
        &format!("/v1/residences/{id}/confirm"),
        json!({}),
    )
    .await;
    assert_problem(r, 409, "already_confirmed", None).await;
    assert!(
        items(&app, &officer, "/v1/residences?status=declared")
            .await
            .is_empty()
    );
    assert_eq!(
        items(&app, &officer, "/v1/residences?status=confirmed")
            .await
            .len(),
        1
    );
}

#[actix_web::test]
async fn an_officer_of_another_district_cannot_confirm_nor_list_it() {
    let app = spawn_app().await;
    let resident = app.resident_token("13800000002").await;
    let other = app
        .staff_token("jindong", "officer", Some("330703"), None)
        .await;
    let verifier = app
        .staff_token("school", "verifier", None, Some("school"))
        .await;
    let admin = app.staff_token("admin", "admin", None, None).await;
    let id = declare(&app, &resident, "330702", &days_ago(0)).await["id"]
        .as_i64()
        .unwrap();

    let r = post(
        &app,
        &other,
        &format!("/v1/residences/{id}/confirm"),
        json!({}),
    )
    .await;
    assert_problem(r, 403, "forbidden", None).await;
    assert!(items(&app, &other, "/v1/residences").await.is_empty());
    for token in [&verifier, &admin] {
        assert_eq!(get(&app, token, "/v1/residences").await.status(), 403);
        assert_eq!(
            post(
                &app,
                token,
                &format!("/v1/residences/{id}/confirm"),
                json!({})
            )
            .await
            .status(),
            403
        );
    }
    let r = post(
        &app,
        &resident,
        &format!("/v1/residences/{id}/confirm"),
        json!({}),
    )
    .await;
    assert_eq!(r.status(), 403);
    assert_eq!(
        app.client
            .get(app.url("/v1/residences"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        items(&app, &resident, "/v1/residences").await[0]["status"],
        "declared"
    );
}

#[actix_web::test]
async fn bad_declarations_are_refused_naming_the_field_and_write_nothing() {
    let app = spawn_app().await;
    let resident = app.resident_token("13800000003").await;
    let ok = |district: &str, address: &str, start: &str| json!({ "district": district, "address": address, "start": start });
    let cases = [
        (
            json!({ "address": "宾虹路 18 号", "start": days_ago(1) }),
            400,
            "missing_field",
            "district",
        ),
        (
            ok("33070", "宾虹路 18 号", &days_ago(1)),
            400,
            "invalid_district",
            "district",
        ),
        (
            ok("330101", "宾虹路 18 号", &days_ago(1)),
            422,
            "district_not_in_jinhua",
            "district",
        ),
        (
            ok("330702", "x", &days_ago(1)),
            400,
            "invalid_address",
            "address",
        ),
        (
            ok("330702", &"长".repeat(65), &days_ago(1)),
            400,
            "invalid_address",
            "address",
        ),
        (
            json!({ "district": "330702", "address": 5, "start": days_ago(1) }),
            400,
            "invalid_field",
            "address",
        ),
        (
            ok("330702", "宾虹路 18 号", "2026-13-01"),
            400,
            "invalid_date",
            "start",
        ),
        (
            ok("330702", "宾虹路 18 号", &days_ago(-1)),
            422,
            "start_in_future",
            "start",
        ),
        (
            ok("330702", "宾虹路 18 号", &days_ago(31)),
            422,
            "start_too_far_in_past",
            "start",
        ),
        (json!([1, 2]), 400, "invalid_body", "body"),
    ];
    for (body, status, code, field) in cases {
        let r = post(&app, &resident, "/v1/residences", body).await;
        assert_problem(r, status, code, Some(field)).await;
    }
    let r = app
        .client
        .post(app.url("/v1/residences"))
        .bearer_auth(&resident)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_problem(r, 400, "invalid_body", Some("body")).await;
    assert!(items(&app, &resident, "/v1/residences").await.is_empty());
    // The limits themselves are accepted: 30 days back, 2 and 64 characters.
    let r = post(
        &app,
        &resident,
        "/v1/residences",
        ok("330782", &"长".repeat(64), &days_ago(30)),
    )
    .await;
    assert_eq!(r.status(), 201);
}

#[actix_web::test]
async fn moving_means_ending_the_open_registration_before_declaring_anew() {
    let app = spawn_app().await;
    let resident = app.resident_token("13800000004").await;
    let first = declare(&app, &resident, "330702", &days_ago(20)).await;
    let id = first["id"].as_i64().unwrap();

    let r = post(
        &app,
        &resident,
        "/v1/residences",
        json!({ "district": "330703", "address": "金东路 1 号", "start": days_ago(0) }),
    )
    .await;
    assert_problem(r, 409, "registration_open", None).await;

    let end = format!("/v1/residences/{id}/end");
    assert_problem(
        post(&app, &resident, &end, json!({})).await,
        400,
        "missing_field",
        Some("end"),
    )
    .await;
    assert_problem(
        post(&app, &resident, &end, json!({ "end": "soon" })).await,
        400,
        "invalid_date",
        Some("end"),
    )
    .await;
    assert_problem(
        post(&app, &resident, &end, json!({ "end": days_ago(21) })).await,
        422,
        "end_before_start",
        Some("end"),
    )
    .await;
    assert_problem(
        post(&app, &resident, &end, json!({ "end": days_ago(-1) })).await,
        422,
        "end_in_future",
        Some("end"),
    )
    .await;
    assert_eq!(
        items(&app, &resident, "/v1/residences").await[0]["end"],
        Value::Null
    );

    let other = app.resident_token("13800000005").await;
    assert_problem(
        post(&app, &other, &end, json!({ "end": days_ago(0) })).await,
        404,
        "not_found",
        None,
    )
    .await;
    let officer = app
        .staff_token("wucheng", "officer", Some("330702"), None)
        .await;
    assert_eq!(
        post(&app, &officer, &end, json!({ "end": days_ago(0) }))
            .await
            .status(),
        403
    );
    assert_problem(
        post(
            &app,
            &resident,
            "/v1/residences/999999/end",
            json!({ "end": days_ago(0) }),
        )
        .await,
        404,
        "not_found",
        None,
    )
    .await;

    let r = post(&app, &resident, &end, json!({ "end": days_ago(0) })).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["end"], days_ago(0));
    assert_problem(
        post(&app, &resident, &end, json!({ "end": days_ago(0) })).await,
        409,
        "registration_ended",
        None,
    )
    .await;

    let second = declare(&app, &resident, "330703", &days_ago(0)).await;
    assert_eq!(second["status"], "declared");
    assert_eq!(items(&app, &resident, "/v1/residences").await.len(), 2);
}

#[actix_web::test]
async fn an_officer_filters_the_district_list_by_status_and_dates() {
    let app = spawn_app().await;
    let officer = app
        .staff_token("yiwu", "officer", Some("330782"), None)
        .await;
    let a = app.resident_token("13800000006").await;
    let b = app.resident_token("13800000007").await;
    let ra = declare(&app, &a, "330782", &days_ago(25)).await["id"]
        .as_i64()
        .unwrap();
    post(
        &app,
        &a,
        &format!("/v1/residences/{ra}/end"),
        json!({ "end": days_ago(15) }),
    )
    .await;
    declare(&app, &b, "330782", &days_ago(5)).await;

    assert_eq!(items(&app, &officer, "/v1/residences").await.len(), 2);
    // `from`: covering a day on or after it; `to`: starting on or before it.
    assert_eq!(
        items(
            &app,
            &officer,
            &format!("/v1/residences?from={}", days_ago(10))
        )
        .await
        .len(),
        1
    );
    assert_eq!(
        items(
            &app,
            &officer,
            &format!("/v1/residences?to={}", days_ago(10))
        )
        .await
        .len(),
        1
    );
    assert_problem(
        get(&app, &officer, "/v1/residences?status=pending").await,
        400,
        "invalid_status",
        Some("status"),
    )
    .await;
    assert_problem(
        get(&app, &officer, "/v1/residences?from=yesterday").await,
        400,
        "invalid_date",
        Some("from"),
    )
    .await;
    assert_problem(
        get(&app, &officer, "/v1/residences?to=2026-02-30").await,
        400,
        "invalid_date",
        Some("to"),
    )
    .await;
}
