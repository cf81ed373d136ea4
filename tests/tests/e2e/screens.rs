//! The screens' files as the service serves them (issue 13 item 4): embedded, under a strict
//! Content-Security-Policy, revalidated by ETag, read-only.

use api::screens::{CONTENT_SECURITY_POLICY, SCREENS};
use epermit_tests::spawn_app;
use reqwest::StatusCode;

#[actix_web::test]
async fn every_screen_file_is_served_under_a_strict_content_security_policy() {
    let app = spawn_app().await;
    let mut paths: Vec<String> = [
        "/web/style.css",
        "/web/i18n.js",
        "/web/api.js",
        "/web/config.json",
    ]
    .map(str::to_owned)
    .to_vec();
    paths.extend(SCREENS.iter().map(|s| format!("/{s}/")));
    for path in paths {
        let r = app.client.get(app.url(&path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        let header = |name: &str| {
            r.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        assert_eq!(
            header("content-security-policy").as_deref(),
            Some(CONTENT_SECURITY_POLICY),
            "{path}"
        );
        assert_eq!(header("x-content-type-options").as_deref(), Some("nosniff"));
        assert_eq!(header("referrer-policy").as_deref(), Some("no-referrer"));
        assert!(!CONTENT_SECURITY_POLICY.contains("unsafe-inline"));
    }
}

#[actix_web::test]
async fn a_screen_folder_without_its_slash_redirects_to_it() {
    let app = spawn_app().await;
    for screen in SCREENS {
        let r = app
            .client
            .get(app.url(&format!("/{screen}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::PERMANENT_REDIRECT, "{screen}");
        assert_eq!(r.headers()["location"], format!("/{screen}/").as_str());
    }
}

#[actix_web::test]
async fn a_screen_file_is_typed_revalidated_by_etag_and_read_only() {
    let app = spawn_app().await;
    let r = app
        .client
        .get(app.url("/web/style.css"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "text/css; charset=utf-8");
    assert_eq!(r.headers()["cache-control"], "no-cache");
    let etag = r.headers()["etag"].clone();
    let again = app
        .client
        .get(app.url("/web/style.css"))
        .header("If-None-Match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    let post = app
        .client
        .post(app.url("/web/style.css"))
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), StatusCode::METHOD_NOT_ALLOWED);
    let missing = app
        .client
        .get(app.url("/web/no-such-file.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let outside = app
        .client
        .get(app.url("/web/../Cargo.toml"))
        .send()
        .await
        .unwrap();
    assert_eq!(outside.status(), StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn the_desk_configuration_pins_the_root_key_that_signs_the_lists() {
    let app = spawn_app().await;
    let config: serde_json::Value = app.get_json("/web/config.json").await;
    let root = crypto::keys::public_key_hex(&crypto::Signer::public_key(&*app.state.keys.root()));
    assert_eq!(config["root_keys"], serde_json::json!([root]));
    assert_eq!(config["bundle_url"], "/v1/verifier-bundle");
    assert_eq!(config["mode"], "development");
}
