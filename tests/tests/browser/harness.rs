//! The harness itself: Chromium runs, reads what the service serves, and `zbarimg` reads a QR
//! code from a screenshot.

use std::time::Duration;

use epermit_tests::browser::{Browser, BrowserOptions, zbar_decode};
use epermit_tests::spawn_app;

#[actix_web::test]
async fn chromium_reads_the_desk_configuration_the_service_serves() {
    let app = spawn_app().await;
    let browser = Browser::start(BrowserOptions::desktop()).await;
    browser.open(&app.url("/web/config.json")).await;
    let text = browser
        .wait_until(
            "document.body && document.body.innerText",
            Duration::from_secs(5),
        )
        .await;
    let config: serde_json::Value = serde_json::from_str(text.as_str().unwrap()).unwrap();
    let root = crypto::keys::public_key_hex(&crypto::Signer::public_key(&*app.state.keys.root()));
    assert_eq!(config["root_keys"], serde_json::json!([root]));
    browser.close().await;
}

#[actix_web::test]
async fn zbarimg_reads_a_qr_code_from_a_screenshot() {
    let app = spawn_app().await;
    let holder =
        epermit_tests::fixtures::issued_permit(&app, "13800138013", "33070219900101123").await;
    let credential = epermit_tests::fixtures::credential(&app, &holder.token).await;
    let browser = Browser::start(BrowserOptions::phone()).await;
    // The API's own QR image, shown by the browser and read back from the screenshot.
    let r = app
        .client
        .get(app.url("/v1/permits/me/qr.png"))
        .bearer_auth(&holder.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let png = r.bytes().await.unwrap();
    let file = tempfile::Builder::new().suffix(".png").tempfile().unwrap();
    std::fs::write(file.path(), &png).unwrap();
    browser
        .open(&format!("file://{}", file.path().display()))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let texts = zbar_decode(&browser.screenshot_png().await);
    assert_eq!(texts, vec![credential]);
    browser.close().await;
}
