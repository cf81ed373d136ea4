//! The resident app (`/app`) in a real browser: the journey from the login to the live QR, whose
//! screenshot `zbarimg` reads into a presentation the API verifies as `valid` / `holder_bound`;
//! registrations declared and ended; the report picture against the API's numbers; login
//! problems said in words. `EPERMIT_SCREENSHOTS=1` writes `docs/screens/app-*.png`.

use std::time::Duration;

use epermit_tests::browser::{Browser, BrowserOptions, zbar_decode};
use epermit_tests::fixtures::{self, days_ago, get, post};
use epermit_tests::{TestApp, spawn_app, spawn_app_with};
use fantoccini::Locator;
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(20);

/// How many codes the development outbox holds for `phone`.
fn codes_sent(app: &TestApp, phone: &str) -> usize {
    std::fs::read_to_string(app.outbox())
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["phone"] == phone)
        .count()
}

/// The code sent to `phone` after the first `before` ones, waiting for it to arrive.
async fn next_code(app: &TestApp, phone: &str, before: usize) -> String {
    let deadline = std::time::Instant::now() + WAIT;
    while codes_sent(app, phone) <= before {
        assert!(
            std::time::Instant::now() < deadline,
            "no new code for the phone"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    app.last_code_for(phone).expect("a code")
}

/// Sets a date input (Chromium's date field takes keys in the locale's order; the value is not).
async fn set_date(browser: &Browser, css: &str, day: &str) {
    browser
        .client
        .execute(
            "document.querySelector(arguments[0]).value = arguments[1];",
            vec![json!(css), json!(day)],
        )
        .await
        .unwrap();
}

/// Waits until the screen named in the address has loaded its data.
async fn loaded(browser: &Browser, view: &str) {
    browser
        .wait_until(
            &format!("document.body.dataset.loaded === '{view}' && !document.body.dataset.loading"),
            WAIT,
        )
        .await;
}

async fn go(browser: &Browser, view: &str) {
    browser
        .client
        .execute(
            "document.body.dataset.loaded = '';
             if (location.hash === '#' + arguments[0]) window.dispatchEvent(new HashChangeEvent('hashchange'));
             else location.hash = arguments[0];",
            vec![json!(view)],
        )
        .await
        .unwrap();
    loaded(browser, view).await;
}

/// Logs `phone` in through the page: the code is read from the development outbox.
async fn log_in(app: &TestApp, browser: &Browser, phone: &str) {
    browser.open(&app.url("/app/")).await;
    browser
        .wait_until("document.body.dataset.ready === 'true'", WAIT)
        .await;
    browser.type_into("#login-phone", phone).await;
    let before = codes_sent(app, phone);
    browser.click("#login-send").await;
    let code = next_code(app, phone, before).await;
    browser.type_into("#login-code", &code).await;
    browser.click("#login-submit").await;
    loaded(browser, "permit").await;
}

/// The access token the page keeps for its login.
async fn page_token(browser: &Browser) -> String {
    let v = browser
        .client
        .execute(
            "return JSON.parse(localStorage.getItem('epermit.app.session')).access_token;",
            vec![],
        )
        .await
        .unwrap();
    v.as_str().expect("a token in the page").to_owned()
}

/// A resident who can apply, as `fixtures::issued_permit` arranges one: a 400-day confirmed
/// registration imported for a new ID number, which the officer assigns to the account at the
/// counter. The officer's token.
async fn ready_to_apply(app: &TestApp, token: &str, phone: &str, id17: &str) -> String {
    let officer = app
        .staff_token(&format!("officer-{phone}"), "officer", Some("330702"), None)
        .await;
    fixtures::registered_for_400_days(app, &officer, token, phone, id17).await;
    officer
}

/// Scrolls the page back to its top (the clicks scroll).
async fn to_top(browser: &Browser) {
    browser
        .client
        .execute("window.scrollTo(0, 0);", vec![])
        .await
        .unwrap();
}

/// Takes the screenshot `app-phone-<name>`, then `app-desktop-<name>` at 1280 × 800, and goes
/// back to the phone's size. The desktop PNG.
async fn both_sizes(browser: &Browser, name: &str) -> Vec<u8> {
    to_top(browser).await;
    browser.save_screenshot(&format!("app-phone-{name}")).await;
    browser.resize(1280, 800).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    to_top(browser).await;
    let png = browser
        .save_screenshot(&format!("app-desktop-{name}"))
        .await;
    browser.resize(360, 780).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    png
}

/// The live QR as `zbarimg` reads it from a screenshot of the page.
async fn live_qr_text(browser: &Browser, png: &[u8]) -> String {
    let texts = zbar_decode(png);
    let made_at = browser
        .client
        .execute(
            "return document.getElementById('live-qr').dataset.madeAt;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        texts.len(),
        1,
        "one QR code on the card: {texts:?} (made at {made_at})"
    );
    texts[0].clone()
}

#[actix_web::test]
async fn a_resident_logs_in_applies_binds_this_browser_and_shows_a_live_qr_that_verifies_holder_bound()
 {
    let app = spawn_app().await;
    let phone = "13800138021";
    let browser = Browser::start(BrowserOptions::phone()).await;
    browser.open(&app.url("/app/")).await;
    browser.wait_for("#login-phone", WAIT).await;
    both_sizes(&browser, "login").await;

    log_in(&app, &browser, phone).await;
    assert!(
        browser
            .client
            .find(Locator::Css("#permit-none"))
            .await
            .unwrap()
            .is_displayed()
            .await
            .unwrap(),
        "no permit yet"
    );
    let token = page_token(&browser).await;
    let officer = ready_to_apply(&app, &token, phone, "33070219900101125").await;

    // The profile, as the service returns it: masked.
    go(&browser, "profile").await;
    let profile = browser.text_of("#profile-view").await;
    assert!(profile.contains("张小明"), "{profile}");
    assert!(profile.contains("138****8021"), "{profile}");
    let masked_id = browser
        .text_of("#profile-view dd[data-field=id_number]")
        .await;
    assert!(
        masked_id.contains('*') && masked_id.len() == 18,
        "{masked_id}"
    );

    // Applying with a PDF through the file input.
    go(&browser, "apply").await;
    let pdf = tempfile::Builder::new().suffix(".pdf").tempfile().unwrap();
    std::fs::write(pdf.path(), fixtures::PDF).unwrap();
    browser.click("#apply-basis option[value=employment]").await;
    browser
        .wait_for("#apply-evidence", WAIT)
        .await
        .send_keys(&pdf.path().display().to_string())
        .await
        .unwrap();
    browser.click("#apply-submit").await;
    browser
        .wait_for("#apply-list li[data-status=submitted]", WAIT)
        .await;
    both_sizes(&browser, "application").await;
    let mine: Value = get(&app, &token, "/v1/applications")
        .await
        .json()
        .await
        .unwrap();
    let items = mine["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "one application: {mine}");
    assert_eq!(items[0]["basis"], "employment");

    // The officer approves through the API; the app follows.
    let approve = format!("/v1/applications/{}/approve", items[0]["id"]);
    let r = post(&app, &officer, &approve, json!({})).await;
    assert_eq!(r.status(), 201, "approve");
    let issued: Value = r.json().await.unwrap();
    go(&browser, "apply").await;
    browser
        .wait_for("#apply-list li[data-status=approved]", WAIT)
        .await;

    // The permit card: not bound yet, so the static code shows, labelled as the fallback.
    go(&browser, "permit").await;
    let number = browser.text_of("#permit-facts").await;
    assert!(
        number.contains(issued["number"].as_str().unwrap()),
        "{number}"
    );
    browser.wait_for("#static-qr svg", WAIT).await;
    assert!(
        browser
            .client
            .find(Locator::Css("#live-qr svg"))
            .await
            .is_err(),
        "no live QR before binding"
    );

    // Binding this browser's key: the proof of issue 6 and the code the resident types.
    let before = codes_sent(&app, phone);
    browser.click("#bind-send").await;
    let code = next_code(&app, phone, before).await;
    browser.type_into("#bind-code", &code).await;
    browser.click("#bind-submit").await;
    browser.wait_for("#live-qr svg", WAIT).await;
    loaded(&browser, "permit").await;
    let permit: Value = get(&app, &token, "/v1/permits/me")
        .await
        .json()
        .await
        .unwrap();
    let holder_key = permit["permit"]["holder_key"].as_str().expect("bound");
    assert_eq!(holder_key.len(), 64);
    let static_shown = browser
        .client
        .find(Locator::Css("#static-block"))
        .await
        .unwrap()
        .is_displayed()
        .await
        .unwrap();
    assert!(!static_shown, "the static code is only a fallback");
    let countdown = browser.text_of("#qr-countdown").await;
    assert!(countdown.chars().any(|c| c.is_ascii_digit()), "{countdown}");

    // The screenshot's QR is a fresh presentation the service verifies as holder-bound.
    let school = app
        .staff_token("school-app", "verifier", None, Some("school"))
        .await;
    to_top(&browser).await;
    let phone_png = browser.save_screenshot("app-phone-qr").await;
    let text = live_qr_text(&browser, &phone_png).await;
    assert!(text.starts_with("EPP1:"), "{text}");
    let v: Value = post(&app, &school, "/v1/verify", json!({ "qr": text }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["verdict"], "valid", "{v}");
    assert_eq!(v["assurance"], "holder_bound", "{v}");
    let desktop_png = both_sizes(&browser, "qr").await;
    let desktop_text = live_qr_text(&browser, &desktop_png).await;
    assert!(desktop_text.starts_with("EPP1:"));

    // Re-made every 30 s: a new presentation replaces the first.
    let first = browser
        .wait_until("document.getElementById('live-qr').dataset.madeAt", WAIT)
        .await;
    browser
        .wait_until(
            &format!("document.getElementById('live-qr').dataset.madeAt !== {first}"),
            Duration::from_secs(40),
        )
        .await;
    let png = browser.screenshot_png().await;
    let renewed = live_qr_text(&browser, &png).await;
    assert_ne!(renewed, text, "the presentation is re-made");
    let v: Value = post(&app, &school, "/v1/verify", json!({ "qr": renewed }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["assurance"], "holder_bound", "{v}");

    // The endorsement window, from the API, with the button off before it opens.
    let window = &permit["endorsement"];
    assert_eq!(window["stage"], "before_window");
    let said = browser.text_of("#endorse-state").await;
    assert!(!said.is_empty());
    let endorse = browser.wait_for("#endorse-button", WAIT).await;
    assert!(
        !endorse.is_enabled().await.unwrap(),
        "no endorsing before the window"
    );

    // The report picture shows the API's numbers.
    go(&browser, "report").await;
    let report: Value = get(&app, &token, "/v1/permits/me/report")
        .await
        .json()
        .await
        .unwrap();
    let cumulative = browser
        .wait_for("#report-rules figure[data-rule=cumulative]", WAIT)
        .await;
    assert_eq!(
        cumulative.attr("data-counted").await.unwrap().as_deref(),
        Some(report["cumulative_in_jinhua_days"].to_string().as_str())
    );
    assert_eq!(
        cumulative.attr("data-needed").await.unwrap().as_deref(),
        Some(report["rules"][1]["required_days"].to_string().as_str())
    );
    let words = cumulative.text().await.unwrap();
    assert!(
        words.contains(&report["cumulative_in_jinhua_days"].to_string()),
        "{words}"
    );
    let continuous = browser
        .wait_for("#report-rules figure[data-rule=continuous]", WAIT)
        .await;
    assert_eq!(
        continuous.attr("data-counted").await.unwrap().as_deref(),
        Some(report["continuous_at_target"]["days"].to_string().as_str())
    );
    assert_eq!(
        continuous.attr("data-met-on").await.unwrap().as_deref(),
        report["rules"][0]["met_on"].as_str()
    );
    let verdict = browser.wait_for("#report-verdict", WAIT).await;
    assert_eq!(
        verdict.attr("data-eligible").await.unwrap().as_deref(),
        Some(report["eligible"].to_string().as_str())
    );
    both_sizes(&browser, "report").await;

    // Logging out forgets the tokens and shows the login again.
    let refresh = browser
        .client
        .execute(
            "return JSON.parse(localStorage.getItem('epermit.app.session')).refresh_token;",
            vec![],
        )
        .await
        .unwrap();
    browser.click("#logout").await;
    browser
        .wait_until(
            "!document.getElementById('view-login').hidden \
             && localStorage.getItem('epermit.app.session') === null",
            WAIT,
        )
        .await;
    assert_eq!(
        app.refresh(&refresh).await.status(),
        401,
        "the logout ended the login on the service too"
    );
    browser.close().await;
}

#[actix_web::test]
async fn a_resident_declares_and_ends_a_registration_and_the_30_day_rule_is_said_in_words() {
    let app = spawn_app().await;
    let phone = "13800138022";
    let browser = Browser::start(BrowserOptions::phone()).await;
    log_in(&app, &browser, phone).await;
    let token = page_token(&browser).await;
    go(&browser, "registrations").await;

    // Too far in the past: the 30-day rule, in words (zh-CN by default).
    browser.click("#reg-district option[value='330703']").await;
    browser.type_into("#reg-address", "多湖街道光南社区").await;
    set_date(&browser, "#reg-start", &days_ago(40)).await;
    browser.click("#reg-declare").await;
    let error = browser.wait_for("#reg-error:not([hidden])", WAIT).await;
    let said = error.text().await.unwrap();
    assert!(said.contains("30"), "{said}");
    assert!(
        !said.contains("start_too_far_in_past"),
        "a sentence, not a code: {said}"
    );

    set_date(&browser, "#reg-start", &days_ago(3)).await;
    browser.click("#reg-declare").await;
    let item = browser
        .wait_for("#reg-list li[data-state=declared]", WAIT)
        .await;
    let shown = item.text().await.unwrap();
    assert!(
        shown.contains("金东区") && shown.contains("多湖街道光南社区"),
        "{shown}"
    );
    let listed: Value = get(&app, &token, "/v1/residences")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"][0]["district"], "330703");
    assert_eq!(listed["items"][0]["start"], days_ago(3));
    both_sizes(&browser, "registrations").await;

    let id = listed["items"][0]["id"].as_i64().unwrap();
    set_date(&browser, &format!("#reg-end-{id}"), &days_ago(1)).await;
    browser
        .click(&format!("#reg-list li[data-id='{id}'] .reg-end button"))
        .await;
    browser
        .wait_for("#reg-list li[data-state=ended]", WAIT)
        .await;
    let listed: Value = get(&app, &token, "/v1/residences")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"][0]["end"], days_ago(1));
    assert!(
        browser
            .client
            .find(Locator::Css("#reg-form"))
            .await
            .unwrap()
            .is_displayed()
            .await
            .unwrap(),
        "with none open, a new one can be declared"
    );
    browser.close().await;
}

#[actix_web::test]
async fn a_code_asked_again_too_soon_and_a_wrong_code_are_said_in_words() {
    let app = spawn_app_with(&[("EPERMIT_OTP__COOL_DOWN_SECS", "60")]).await;
    let phone = "13800138023";
    let browser = Browser::start(BrowserOptions::phone()).await;
    browser.open(&app.url("/app/")).await;
    browser
        .wait_until("document.body.dataset.ready === 'true'", WAIT)
        .await;
    browser.type_into("#login-phone", phone).await;
    browser.click("#login-send").await;
    let code = next_code(&app, phone, 0).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    browser.type_into("#login-code", wrong).await;
    browser.click("#login-submit").await;
    let said = browser
        .wait_for("#login-error:not([hidden])", WAIT)
        .await
        .text()
        .await
        .unwrap();
    assert!(said.contains("验证码不对"), "{said}");
    assert!(
        said.chars().any(|c| c.is_ascii_digit()),
        "tries left: {said}"
    );

    // The page counts the cool-down on the button; asked anyway (as a second tab would), the
    // answer is a sentence with the wait.
    let send = browser.wait_for("#login-send", WAIT).await;
    assert!(
        !send.is_enabled().await.unwrap(),
        "the button waits out the cool-down"
    );
    browser
        .client
        .execute(
            "const b = document.getElementById('login-send'); b.disabled = false; b.click();",
            vec![],
        )
        .await
        .unwrap();
    browser
        .wait_until(
            "document.getElementById('login-error').textContent.includes('秒后再试')",
            WAIT,
        )
        .await;
    assert_eq!(codes_sent(&app, phone), 1, "no second code was sent");
    browser.close().await;
}

#[actix_web::test]
async fn the_app_is_installable_and_its_service_worker_keeps_the_shell_but_no_api_answer() {
    let app = spawn_app().await;
    let manifest: Value = app.get_json("/app/manifest.webmanifest").await;
    assert_eq!(manifest["start_url"], "/app/");
    assert_eq!(manifest["display"], "standalone");
    assert!(manifest["theme_color"].is_string());
    for size in ["192x192", "512x512"] {
        let icon = manifest["icons"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["sizes"] == size)
            .unwrap_or_else(|| panic!("a {size} icon"));
        let r = app
            .client
            .get(app.url(icon["src"].as_str().unwrap()))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let png = r.bytes().await.unwrap();
        let (w, h) = size.split_once('x').unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(
            u32::from_be_bytes(png[16..20].try_into().unwrap()).to_string(),
            w
        );
        assert_eq!(
            u32::from_be_bytes(png[20..24].try_into().unwrap()).to_string(),
            h
        );
    }

    let phone = "13800138024";
    let browser = Browser::start(BrowserOptions::phone()).await;
    log_in(&app, &browser, phone).await;
    browser
        .wait_until("navigator.serviceWorker.controller !== null", WAIT)
        .await;
    loaded(&browser, "permit").await;
    go(&browser, "profile").await;
    let kept = browser
        .wait_until(
            "(window.__kept ??= (async () => { const c = await caches.open('epermit-app-shell-v1'); \
              window.__keys = (await c.keys()).map((r) => new URL(r.url).pathname); })(), \
              window.__keys && window.__keys.includes('/app/app.js') && window.__keys)",
            WAIT,
        )
        .await;
    let kept: Vec<String> = serde_json::from_value(kept).unwrap();
    for shell in [
        "/app/",
        "/app/index.html",
        "/web/i18n.js",
        "/web/epermit_web.wasm",
    ] {
        assert!(kept.iter().any(|k| k == shell), "{shell} kept: {kept:?}");
    }
    assert!(
        kept.iter().all(|k| !k.starts_with("/v1/")),
        "no API answer is kept: {kept:?}"
    );
    browser.close().await;
}

/// Moves a permit's issue day, as if it had been issued `days` ago.
async fn backdate(app: &TestApp, number: &str, days: i64) {
    use api::store::permits::{Column, Entity};
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    Entity::update_many()
        .col_expr(
            Column::IssuedOn,
            Expr::value(fixtures::today() - chrono::Duration::days(days)),
        )
        .filter(Column::Number.eq(number))
        .exec(app.state.store.conn())
        .await
        .unwrap();
}

#[actix_web::test]
async fn the_endorsement_button_is_live_only_in_the_window_and_the_overdue_state_is_explained() {
    let app = spawn_app().await;
    let h = fixtures::issued_permit(&app, "13800138025", "33070219900101126").await;
    backdate(&app, &h.number, 365 - 10).await;
    let browser = Browser::start(BrowserOptions::phone()).await;
    log_in(&app, &browser, &h.phone).await;
    let state = browser.text_of("#endorse-state").await;
    assert!(state.contains("签注期已开始"), "{state}");
    assert!(
        browser
            .wait_for("#endorse-button", WAIT)
            .await
            .is_enabled()
            .await
            .unwrap(),
        "live in the window"
    );
    browser.click("#endorse-button").await;
    browser
        .wait_until(
            "document.getElementById('endorse').dataset.stage === 'before_window'",
            WAIT,
        )
        .await;
    browser
        .wait_until(
            "document.getElementById('status').textContent.includes('签注成功')",
            WAIT,
        )
        .await;
    assert!(
        !browser
            .wait_for("#endorse-button", WAIT)
            .await
            .is_enabled()
            .await
            .unwrap(),
        "off until the next window"
    );

    let late = fixtures::issued_permit(&app, "13800138026", "33070219900101127").await;
    backdate(&app, &late.number, 365 + 10).await;
    browser.click("#logout").await;
    browser
        .wait_until("!document.getElementById('view-login').hidden", WAIT)
        .await;
    log_in(&app, &browser, &late.phone).await;
    browser
        .wait_until(
            "document.getElementById('endorse').dataset.stage === 'overdue'",
            WAIT,
        )
        .await;
    let state = browser.text_of("#endorse-state").await;
    assert!(
        state.contains("已逾期") && state.contains("重新计算"),
        "{state}"
    );
    let button = browser.wait_for("#endorse-button", WAIT).await;
    assert!(
        button.is_enabled().await.unwrap(),
        "a late endorsement restores the permit"
    );
    assert!(button.text().await.unwrap().contains("逾期"));
    browser.close().await;
}
