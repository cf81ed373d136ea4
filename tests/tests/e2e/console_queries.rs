//! The queries the officer console runs (issue 13 item 3): an officer searches their own
//! district's permits (`GET /v1/permits`), and an admin narrows the audit log by action, actor
//! and time (`GET /v1/audit?action=&actor=&since=&until=`).

use epermit_tests::fixtures::{get, issued_permit, post};
use serde_json::{Value, json};

#[actix_web::test]
async fn an_officer_finds_only_their_districts_permits_by_number_and_status() {
    let app = epermit_tests::spawn_app().await;
    let holder = issued_permit(&app, "13900000031", "33070219900101231").await;
    let other = app
        .staff_token("officer-jd-search", "officer", Some("330703"), None)
        .await;

    let prefix = &holder.number[..11];
    let found: Value = get(
        &app,
        &holder.officer,
        &format!("/v1/permits?number={prefix}"),
    )
    .await
    .json()
    .await
    .unwrap();
    let numbers: Vec<&str> = found["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["number"].as_str().unwrap())
        .collect();
    assert_eq!(numbers, [holder.number.as_str()]);

    let elsewhere: Value = get(&app, &other, &format!("/v1/permits?number={prefix}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(elsewhere["items"], json!([]), "another district sees none");

    let r = post(
        &app,
        &holder.officer,
        &format!("/v1/permits/{}/suspend", holder.number),
        json!({ "reason": "核查中" }),
    )
    .await;
    assert_eq!(r.status(), 200);
    for (status, count) in [("active", 0), ("suspended", 1)] {
        let page: Value = get(
            &app,
            &holder.officer,
            &format!("/v1/permits?status={status}"),
        )
        .await
        .json()
        .await
        .unwrap();
        assert_eq!(page["items"].as_array().unwrap().len(), count, "{status}");
    }

    for bad in ["number=33%27--", "status=lost", "limit=0", "limit=201"] {
        let r = get(&app, &holder.officer, &format!("/v1/permits?{bad}")).await;
        assert_eq!(r.status(), 400, "{bad}");
    }
    assert_eq!(get(&app, &holder.token, "/v1/permits").await.status(), 403);
    let admin = app.staff_token("admin-search", "admin", None, None).await;
    assert_eq!(get(&app, &admin, "/v1/permits").await.status(), 403);
}

#[actix_web::test]
async fn an_admin_narrows_the_audit_log_by_action_actor_and_time() {
    let app = epermit_tests::spawn_app().await;
    let holder = issued_permit(&app, "13900000032", "33070219900101232").await;
    let admin = app.staff_token("admin-audit", "admin", None, None).await;
    let r = post(
        &app,
        &holder.officer,
        &format!("/v1/permits/{}/suspend", holder.number),
        json!({ "reason": "核查中" }),
    )
    .await;
    assert_eq!(r.status(), 200);

    let page = |query: String| {
        let (app, admin) = (&app, &admin);
        async move {
            let r = get(app, admin, &format!("/v1/audit?{query}")).await;
            assert_eq!(r.status(), 200, "{query}");
            r.json::<Value>().await.unwrap()["items"]
                .as_array()
                .unwrap()
                .clone()
        }
    };
    let all = page(String::new()).await;
    let suspend = all
        .iter()
        .find(|e| e["action"] == "permit.suspend")
        .expect("the suspension is audited");
    let actor = suspend["actor"].as_str().unwrap();

    let permits = page("action=permit.".into()).await;
    assert!(!permits.is_empty());
    assert!(
        permits
            .iter()
            .all(|e| e["action"].as_str().unwrap().starts_with("permit."))
    );
    assert!(permits.len() < all.len());

    let by_actor = page(format!("actor={actor}&action=permit.suspend")).await;
    assert_eq!(by_actor.len(), 1);
    assert_eq!(by_actor[0]["id"], suspend["id"]);

    let at = suspend["at"].as_str().unwrap();
    let since = page(format!("since={}", urlencode(at))).await;
    assert!(
        since
            .iter()
            .all(|e| e["id"].as_i64() >= suspend["id"].as_i64())
    );
    assert!(since.iter().any(|e| e["id"] == suspend["id"]));
    let until = page(format!("until={}", urlencode(at))).await;
    assert!(
        until
            .iter()
            .all(|e| e["id"].as_i64() < suspend["id"].as_i64())
    );

    for bad in [
        "since=yesterday",
        "until=2026-13-01",
        "actor=staff%3A1%20or%201",
        "action=%25",
    ] {
        let r = get(&app, &admin, &format!("/v1/audit?{bad}")).await;
        assert_eq!(r.status(), 400, "{bad}");
    }
}

/// `+` and `:` of an RFC 3339 instant, escaped for a query string.
fn urlencode(text: &str) -> String {
    text.replace('+', "%2B").replace(':', "%3A")
}
