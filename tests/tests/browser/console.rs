//! The officer console `/console` (issue 13 items 3 and 5) in a real Chromium: an officer logs
//! in, opens the queue, sees an application's evidence inline and approves it (the permit is
//! issued), rejects one with a reason the resident then reads, and suspends a permit; an admin
//! filters the audit log and disables a staff account. Every outcome is checked through the API,
//! not only on the screen. Screenshots `console-{phone,desktop}-{login,queue,permit,audit}`.

use std::time::Duration;

use epermit_tests::TestApp;
use epermit_tests::browser::{Browser, BrowserOptions};
use epermit_tests::fixtures::{self, get, post};
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

/// The password `TestApp::staff_token` gives every staff account it makes.
const STAFF_PASSWORD: &str = "correct horse battery staple";
const WAIT: Duration = Duration::from_secs(15);
const DESKTOP: (u32, u32) = (1280, 800);
const PHONE: (u32, u32) = (360, 780);

/// A sentence of the zh-CN catalogue (the console's default language), `{name}`s filled.
fn word(key: &str, params: &[(&str, &str)]) -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../api/web/common/i18n/zh-CN.json"
    );
    let catalogue: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut text = catalogue[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} is in the catalogue"))
        .to_owned();
    for (name, value) in params {
        text = text.replace(&format!("{{{name}}}"), value);
    }
    text
}

async fn browser((width, height): (u32, u32)) -> Browser {
    Browser::start(BrowserOptions {
        width,
        height,
        fake_camera: None,
    })
    .await
}

/// Opens the console and logs in as `username` (the staff password).
async fn log_in(browser: &Browser, app: &TestApp, username: &str) {
    browser.client.goto(&app.url("/console/")).await.unwrap();
    browser
        .wait_until("document.documentElement.dataset.ready === 'true'", WAIT)
        .await;
    browser
        .wait_until(
            "document.querySelector('#login-username')?.offsetParent !== null",
            WAIT,
        )
        .await;
    browser.type_into("#login-username", username).await;
    browser.type_into("#login-password", STAFF_PASSWORD).await;
    browser.click("#login-submit").await;
    browser
        .wait_until("!document.querySelector('#account').hidden", WAIT)
        .await;
}

/// A resident of 婺城区 for 400 days (imported, confirmed), whose ID number the officer assigned
/// at the counter, who applied with `evidence` (`mime`): the resident's token and the
/// application's id.
async fn applicant(
    app: &TestApp,
    officer: &str,
    phone: &str,
    id17: &str,
    evidence: Vec<u8>,
    mime: &str,
) -> (String, i64) {
    let token = app.resident_token(phone).await;
    fixtures::registered_for_400_days(app, officer, &token, phone, id17).await;
    let form = Form::new().text("basis", "employment").part(
        "evidence",
        Part::bytes(evidence)
            .file_name("evidence")
            .mime_str(mime)
            .unwrap(),
    );
    let r = app
        .client
        .post(app.url("/v1/applications"))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "apply");
    let application: Value = r.json().await.unwrap();
    (token, application["id"].as_i64().unwrap())
}

/// A real PNG picture (a QR code of a few words) as a scanned document stands in for one.
fn png_evidence() -> Vec<u8> {
    api::qr_image::QrImage::new("LABOUR CONTRACT 2026")
        .unwrap()
        .png(6)
        .unwrap()
}

/// The holder's permit as `GET /v1/permits/me` shows it.
async fn held_permit(app: &TestApp, token: &str) -> Value {
    let me: Value = get(app, token, "/v1/permits/me")
        .await
        .json()
        .await
        .unwrap();
    me["permit"].clone()
}

/// The page scrolls sideways when its content is wider than the window.
async fn scrolls_sideways(browser: &Browser) -> bool {
    browser
        .client
        .execute(
            "return document.documentElement.scrollWidth > window.innerWidth + 1;",
            vec![],
        )
        .await
        .unwrap()
        .as_bool()
        .unwrap()
}

#[actix_web::test]
async fn an_officer_approves_an_application_after_seeing_its_evidence_inline() {
    let app = epermit_tests::spawn_app().await;
    let officer = app
        .staff_token("wc-approver", "officer", Some("330702"), None)
        .await;
    let (resident, id) = applicant(
        &app,
        &officer,
        "13900001301",
        "33070219900301131",
        png_evidence(),
        "image/png",
    )
    .await;
    let browser = browser(DESKTOP).await;

    browser.client.goto(&app.url("/console/")).await.unwrap();
    browser
        .wait_until("document.documentElement.dataset.ready === 'true'", WAIT)
        .await;
    // A wrong password is answered in words, and nothing else opens.
    browser.type_into("#login-username", "wc-approver").await;
    browser
        .type_into("#login-password", "not the password")
        .await;
    browser.click("#login-submit").await;
    let refused = word("console.problem.unauthorized", &[]);
    browser
        .wait_until(
            &format!(
                "document.querySelector('#login-error').textContent === {}",
                json!(refused)
            ),
            WAIT,
        )
        .await;
    browser.save_screenshot("console-desktop-login").await;

    log_in(&browser, &app, "wc-approver").await;
    assert_eq!(browser.text_of("#account-name").await, "wc-approver");
    assert_eq!(
        browser.text_of("#account-role").await,
        word("console.role.officer", &[])
    );
    assert!(
        browser
            .text_of("#account-district")
            .await
            .contains("330702")
    );

    browser
        .click(&format!(
            "[data-application='{id}'] [data-action='open-application']"
        ))
        .await;
    // The evidence is the applicant's file, shown as a picture from a blob: URL.
    let shown = browser
        .wait_until(
            "(() => { const img = document.querySelector('img#evidence-view');
                  return img && img.complete && img.naturalWidth > 0
                    && img.src.startsWith('blob:') && img.naturalWidth; })()",
            WAIT,
        )
        .await;
    let expected_width = {
        let png = png_evidence();
        u32::from_be_bytes(png[16..20].try_into().unwrap())
    };
    assert_eq!(
        shown.as_u64(),
        Some(u64::from(expected_width)),
        "the picture is the file sent"
    );
    browser.save_screenshot("console-desktop-queue").await;

    browser.click("#approve").await;
    let outcome = browser
        .wait_until(
            "document.querySelector('#decision-outcome.ok')?.textContent",
            WAIT,
        )
        .await;

    let r = get(&app, &resident, "/v1/permits/me").await;
    assert_eq!(r.status(), 200, "a permit was issued");
    let permit: Value = r.json().await.unwrap();
    let number = permit["permit"]["number"].as_str().unwrap();
    assert_eq!(
        outcome.as_str().unwrap(),
        word(
            "console.review.approved",
            &[("id", &id.to_string()), ("number", number)]
        )
    );
    let application: Value = get(&app, &resident, &format!("/v1/applications/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(application["status"], "approved");
    assert!(
        browser
            .wait_until(
                &format!("!document.querySelector(\"[data-application='{id}']\")"),
                WAIT
            )
            .await
            .as_bool()
            .unwrap()
    );
    browser.close().await;
}

#[actix_web::test]
async fn a_rejection_reason_written_in_the_console_reaches_the_resident() {
    let app = epermit_tests::spawn_app().await;
    let officer = app
        .staff_token("wc-rejecter", "officer", Some("330702"), None)
        .await;
    let (resident, id) = applicant(
        &app,
        &officer,
        "13900001302",
        "33070219900301132",
        fixtures::PDF.to_vec(),
        "application/pdf",
    )
    .await;
    let browser = browser(DESKTOP).await;
    log_in(&browser, &app, "wc-rejecter").await;
    browser
        .click(&format!(
            "[data-application='{id}'] [data-action='open-application']"
        ))
        .await;

    // The PDF is framed from a blob: URL …
    let framed = browser
        .wait_until("document.querySelector('iframe#evidence-view')?.src", WAIT)
        .await;
    assert!(framed.as_str().unwrap().starts_with("blob:"), "{framed}");
    // … holding exactly the file sent (its SHA-256, computed in the page).
    let checked = browser.wait_until("document.querySelector('#evidence-check') && document.querySelector('#evidence').dataset.sha256", WAIT)
    .await;
    assert_eq!(
        checked.as_str().unwrap(),
        api::store::sha256_hex(fixtures::PDF)
    );

    // No reason, no rejection: said in words, and the API still has it submitted.
    browser.click("#reject").await;
    let needed = word("console.review.reason_required", &[]);
    browser
        .wait_until(
            &format!(
                "document.querySelector('#decision-outcome').textContent === {}",
                json!(needed)
            ),
            WAIT,
        )
        .await;
    let pending: Value = get(&app, &resident, &format!("/v1/applications/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(pending["status"], "submitted");

    browser
        .type_into("#reject-reason", "劳动合同缺少用人单位盖章")
        .await;
    browser.click("#reject").await;
    browser
        .wait_until("document.querySelector('#decision-outcome.ok')", WAIT)
        .await;

    let seen: Value = get(&app, &resident, &format!("/v1/applications/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(seen["status"], "rejected");
    assert_eq!(seen["reason"], "劳动合同缺少用人单位盖章");
    browser.close().await;
}

#[actix_web::test]
async fn an_officer_suspends_a_permit_through_the_console_and_revoking_asks_first() {
    let app = epermit_tests::spawn_app().await;
    let holder = fixtures::issued_permit(&app, "13900001303", "33070219900301133").await;
    let browser = browser(DESKTOP).await;
    log_in(&browser, &app, "officer-13900001303").await;
    browser.click("#tabs [data-view='permits']").await;
    browser
        .type_into("#permit-number", &holder.number[..11])
        .await;
    browser.click("#permit-search-submit").await;
    browser
        .click(&format!(
            "[data-permit='{}'] [data-action='open-permit']",
            holder.number
        ))
        .await;
    browser.wait_for("#permit-detail h3", WAIT).await;

    // Suspending needs a reason.
    browser.click("#permit-suspend").await;
    browser
        .wait_until(
            &format!(
                "document.querySelector('#permit-outcome').textContent === {}",
                json!(word("console.permits.reason_required", &[]))
            ),
            WAIT,
        )
        .await;
    browser
        .type_into("#permit-reason", "涉嫌冒用，核查中")
        .await;
    browser.click("#permit-suspend").await;
    browser
        .wait_until("document.querySelector('#permit-outcome.ok')", WAIT)
        .await;
    let permit = held_permit(&app, &holder.token).await;
    assert_eq!(permit["status"], "suspended");
    assert_eq!(permit["status_reason"], "涉嫌冒用，核查中");
    assert!(
        browser
            .text_of("#permit-detail")
            .await
            .contains(&word("console.permit.state.suspended", &[]))
    );
    browser.save_screenshot("console-desktop-permit").await;

    // Revoking is final: it asks, and cancelling changes nothing.
    browser.type_into("#permit-reason", "证件信息有误").await;
    browser.click("#permit-revoke").await;
    browser
        .wait_for("#revoke-confirm:not([hidden]) #revoke-no", WAIT)
        .await;
    browser.click("#revoke-no").await;
    browser
        .wait_until("document.querySelector('#revoke-confirm').hidden", WAIT)
        .await;
    assert_eq!(
        held_permit(&app, &holder.token).await["status"],
        "suspended",
        "cancelled: not revoked"
    );
    browser.close().await;
}

#[actix_web::test]
async fn an_admin_filters_the_audit_log_and_disables_a_staff_account() {
    let app = epermit_tests::spawn_app().await;
    let holder = fixtures::issued_permit(&app, "13900001304", "33070219900301134").await;
    let r = post(
        &app,
        &holder.officer,
        &format!("/v1/permits/{}/suspend", holder.number),
        json!({ "reason": "核查中" }),
    )
    .await;
    assert_eq!(r.status(), 200);
    app.staff_token("root-admin", "admin", None, None).await;
    let browser = browser(DESKTOP).await;
    log_in(&browser, &app, "root-admin").await;

    // The admin starts on the audit log: every entry, then only the permits' ones.
    let all = browser
        .wait_until(
            "document.querySelectorAll('#audit-rows tr[data-entry]').length",
            WAIT,
        )
        .await;
    browser.type_into("#audit-action", "permit.").await;
    browser.click("#audit-submit").await;
    let actions = browser
        .wait_until(
            &format!(
                "(() => {{ const rows = [...document.querySelectorAll('#audit-rows tr[data-entry]')];
                      return rows.length && rows.length < {all} && rows.map((r) => r.dataset.action); }})()"
            ),
            WAIT,
        )
        .await;
    let actions: Vec<&str> = actions
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert!(
        actions.iter().all(|a| a.starts_with("permit.")),
        "{actions:?}"
    );
    assert!(actions.contains(&"permit.suspend"), "{actions:?}");
    browser.save_screenshot("console-desktop-audit").await;

    browser.click("#tabs [data-view='staff']").await;
    let row = "tr[data-username='officer-13900001304']";
    browser
        .click(&format!("{row} [data-action='disable']"))
        .await;
    browser
        .wait_for(&format!("{row} [data-action='enable']"), WAIT)
        .await;

    // The officer's session ends at once, and the account is disabled.
    let r = get(&app, &holder.officer, "/v1/applications").await;
    assert_eq!(
        r.status(),
        401,
        "the disabled officer's token stops working"
    );
    let admin = app
        .client
        .post(app.url("/v1/auth/staff-login"))
        .json(&json!({ "username": "root-admin", "password": STAFF_PASSWORD }))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let staff: Value = get(&app, &admin, "/v1/staff").await.json().await.unwrap();
    let officer = staff["staff"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["username"] == "officer-13900001304")
        .unwrap();
    assert_eq!(officer["disabled"], true);
    browser.close().await;
}

/// The phone screenshots, and the check that each screen fits 360 px without sideways scroll.
#[actix_web::test]
async fn every_console_screen_fits_a_phone() {
    let app = epermit_tests::spawn_app().await;
    let holder = fixtures::issued_permit(&app, "13900001305", "33070219900301135").await;
    let (_, id) = applicant(
        &app,
        &holder.officer,
        "13900001306",
        "33070219900301136",
        png_evidence(),
        "image/png",
    )
    .await;
    app.staff_token("phone-admin", "admin", None, None).await;
    let browser = browser(PHONE).await;

    browser.client.goto(&app.url("/console/")).await.unwrap();
    browser
        .wait_until("document.documentElement.dataset.ready === 'true'", WAIT)
        .await;
    let width = browser
        .client
        .execute("return window.innerWidth;", vec![])
        .await
        .unwrap();
    assert_eq!(
        width,
        json!(PHONE.0),
        "the page is laid out at a phone's width"
    );
    assert!(!scrolls_sideways(&browser).await, "login");
    browser.save_screenshot("console-phone-login").await;

    log_in(&browser, &app, "officer-13900001305").await;
    browser
        .click(&format!(
            "[data-application='{id}'] [data-action='open-application']"
        ))
        .await;
    browser
        .wait_until(
            "document.querySelector('img#evidence-view')?.naturalWidth",
            WAIT,
        )
        .await;
    assert!(!scrolls_sideways(&browser).await, "queue");
    browser
        .client
        .execute(
            "document.querySelector('#evidence').scrollIntoView();",
            vec![],
        )
        .await
        .unwrap();
    browser.save_screenshot("console-phone-queue").await;

    browser.click("#tabs [data-view='permits']").await;
    browser.click("#permit-search-submit").await;
    browser
        .click(&format!(
            "[data-permit='{}'] [data-action='open-permit']",
            holder.number
        ))
        .await;
    browser.wait_for("#permit-detail h3", WAIT).await;
    assert!(!scrolls_sideways(&browser).await, "permit");
    browser.save_screenshot("console-phone-permit").await;

    browser.click("#logout").await;
    browser
        .wait_until(
            "document.querySelector('#login-username')?.getClientRects().length > 0",
            WAIT,
        )
        .await;
    log_in(&browser, &app, "phone-admin").await;
    browser
        .wait_until(
            "document.querySelectorAll('#audit-rows tr[data-entry]').length",
            WAIT,
        )
        .await;
    assert!(!scrolls_sideways(&browser).await, "audit");
    browser.save_screenshot("console-phone-audit").await;
    browser.close().await;
}
