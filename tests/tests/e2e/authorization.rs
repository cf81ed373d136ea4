//! The authorization matrix: endpoints × roles (anonymous, the holder, another resident, the
//! district's officer, another district's officer, a school verifier, a police verifier, an admin)
//! with the exact status each must get.

use epermit_tests::TestApp;
use reqwest::Method;
use serde_json::{Value, json};

use epermit_tests::fixtures::{credential, get, issued_permit};

async fn status(
    app: &TestApp,
    token: Option<&str>,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> u16 {
    let mut req = app.client.request(method, app.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.send().await.unwrap().status().as_u16()
}

#[actix_web::test]
async fn every_endpoint_answers_every_role_with_the_exact_status() {
    let app = epermit_tests::spawn_app().await;
    let holder = issued_permit(&app, "13900000011", "33070219900101131").await;
    let other_resident = app.resident_token("13900000012").await;
    let other_officer = app
        .staff_token("officer-jd", "officer", Some("330703"), None)
        .await;
    let school = app
        .staff_token("school-a", "verifier", None, Some("school"))
        .await;
    let police = app
        .staff_token("police-a", "verifier", None, Some("police"))
        .await;
    let admin = app.staff_token("admin-a", "admin", None, None).await;
    let ep1 = credential(&app, &holder.token).await;
    let number = holder.number.clone();
    let applications: Value = get(&app, &holder.token, "/v1/applications")
        .await
        .json()
        .await
        .unwrap();
    let application_id = applications["items"][0]["id"]
        .as_i64()
        .or_else(|| applications[0]["id"].as_i64())
        .expect("the holder's application");

    // columns: anonymous, holder, other resident, officer, other officer, school, police, admin
    let roles: [Option<&str>; 8] = [
        None,
        Some(&holder.token),
        Some(&other_resident),
        Some(&holder.officer),
        Some(&other_officer),
        Some(&school),
        Some(&police),
        Some(&admin),
    ];
    let verify = json!({ "qr": ep1 });
    let reason = json!({ "reason": "matrix check" });
    let rows: Vec<(Method, String, Option<Value>, [u16; 8])> = vec![
        (
            Method::GET,
            "/v1/me".into(),
            None,
            [401, 200, 200, 403, 403, 403, 403, 403],
        ),
        (
            Method::GET,
            "/v1/permits/me".into(),
            None,
            [401, 200, 404, 403, 403, 403, 403, 403],
        ),
        (
            Method::GET,
            "/v1/permits/me/report".into(),
            None,
            [401, 200, 404, 403, 403, 403, 403, 403],
        ),
        (
            Method::GET,
            format!("/v1/applications/{application_id}"),
            None,
            [401, 200, 404, 200, 403, 403, 403, 403],
        ),
        (
            Method::GET,
            format!("/v1/applications/{application_id}/evidence"),
            None,
            [401, 403, 403, 200, 403, 403, 403, 403],
        ),
        (
            Method::POST,
            "/v1/verify".into(),
            Some(verify),
            [401, 403, 403, 403, 403, 200, 200, 403],
        ),
        (
            Method::GET,
            format!("/v1/permits/{number}?purpose=checkpoint:JH-CP-0042"),
            None,
            [401, 403, 403, 403, 403, 403, 200, 403],
        ),
        (
            Method::GET,
            "/v1/permits?status=active".into(),
            None,
            [401, 403, 403, 200, 200, 403, 403, 403],
        ),
        (
            Method::GET,
            "/v1/audit".into(),
            None,
            [401, 403, 403, 403, 403, 403, 403, 200],
        ),
        (
            Method::GET,
            "/v1/trust-list".into(),
            None,
            [200, 200, 200, 200, 200, 200, 200, 200],
        ),
        (
            Method::GET,
            "/v1/status-list".into(),
            None,
            [200, 200, 200, 200, 200, 200, 200, 200],
        ),
        // Last, since the district's officer really suspends it.
        (
            Method::POST,
            format!("/v1/permits/{number}/suspend"),
            Some(reason),
            [401, 403, 403, 200, 403, 403, 403, 403],
        ),
    ];
    let mut wrong = Vec::new();
    for (method, path, body, expected) in rows {
        for (role, want) in roles.iter().zip(expected) {
            let got = status(&app, *role, method.clone(), &path, body.clone()).await;
            if got != want {
                wrong.push(format!(
                    "{method} {path} as role #{}: {got}, expected {want}",
                    roles.iter().position(|r| r == role).unwrap_or(9)
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "on {}:\n{}",
        app.backend(),
        wrong.join("\n")
    );
}
