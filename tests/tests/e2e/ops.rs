//! Liveness, readiness, request ids, the public lists.

use epermit_tests::spawn_app;

#[actix_web::test]
async fn healthz_and_readyz_answer_with_the_database_up() {
    let app = spawn_app().await;
    let r = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().contains_key("x-request-id"));
    let r = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["status"], "ready", "{body}");
    assert_eq!(body["database"], "up");
}

#[actix_web::test]
async fn a_sane_client_request_id_is_echoed() {
    let app = spawn_app().await;
    let r = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "abc-123");
    let r = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "bad id\twith spaces")
        .send()
        .await
        .unwrap();
    assert_ne!(r.headers()["x-request-id"], "bad id\twith spaces");
}

#[actix_web::test]
async fn the_trust_list_is_signed_by_the_root_key_names_all_nine_districts_and_honours_etags() {
    let app = spawn_app().await;
    let r = app
        .client
        .get(app.url("/v1/trust-list"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/cose");
    let etag = r.headers()["etag"].to_str().unwrap().to_owned();
    let bytes = r.bytes().await.unwrap();
    let root = crypto::signer::Signer::public_key(app.state.keys.root().as_ref());
    let list = crypto::trust_list::TrustList::verify(&bytes, &[root]).unwrap();
    assert_eq!(list.keys.len(), 9);
    let r = app
        .client
        .get(app.url("/v1/trust-list"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 304);
}

#[actix_web::test]
async fn the_status_list_is_served_at_its_uri_and_verifies() {
    let app = spawn_app().await;
    for path in ["/v1/status-list", "/sl"] {
        let r = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(r.headers()["content-type"], "application/statuslist+cwt");
        let bytes = r.bytes().await.unwrap();
        let root = crypto::signer::Signer::public_key(app.state.keys.root().as_ref());
        let list = crypto::status_list::StatusList::verify(&bytes, &[root]).unwrap();
        assert_eq!(list.uri, app.state.lists.shard_uri(0));
    }
}

#[actix_web::test]
async fn every_status_list_is_listed_by_the_aggregation_document_and_served_at_its_uri() {
    let app = spawn_app().await;
    let h = epermit_tests::fixtures::issued_permit(&app, "13900000041", "33070219900101123").await;
    let credential = epermit_tests::fixtures::credential(&app, &h.token).await;
    let (_, cose) = crypto::qr_text::decode(&credential).unwrap();
    let claims = crypto::permit::parse(&cose).unwrap();
    let r = app
        .client
        .get(app.url("/v1/status-lists"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let document: serde_json::Value = r.json().await.unwrap();
    let uris: Vec<&str> = document["status_lists"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u.as_str().unwrap())
        .collect();
    assert!(uris.contains(&claims.status.uri.as_str()), "{uris:?}");
    assert!(
        uris.contains(&app.state.lists.shard_uri(0).as_str()),
        "{uris:?}"
    );
    let root = crypto::signer::Signer::public_key(app.state.keys.root().as_ref());
    for uri in uris {
        let path = uri.trim_start_matches(&app.state.settings.public_url);
        let r = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert!(
            r.headers()["cache-control"]
                .to_str()
                .unwrap()
                .contains("max-age=300")
        );
        assert!(r.headers().contains_key("etag"));
        let list =
            crypto::status_list::StatusList::verify(&r.bytes().await.unwrap(), &[root]).unwrap();
        assert_eq!(list.uri, uri);
        assert_eq!(
            list.aggregation_uri,
            Some(app.state.lists.aggregation_uri())
        );
        if uri == claims.status.uri {
            assert_eq!(
                list.get(claims.status.index),
                Some(crypto::status_list::Status::Valid)
            );
        }
    }
    for missing in ["/s/zz", "/s/0", "/s/x-1"] {
        let r = app.client.get(app.url(missing)).send().await.unwrap();
        assert_eq!(r.status(), 404, "{missing}");
    }
}

#[actix_web::test]
async fn metrics_count_requests_by_route_pattern_and_verdicts_by_code() {
    let app = spawn_app().await;
    let token = app
        .staff_token("school", "verifier", None, Some("school"))
        .await;
    let r = app
        .client
        .post(app.url("/v1/verify"))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "qr": "EP1:not base45 at all" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["verdict"], "malformed");
    let r = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    assert!(
        text.contains(r#"epermit_verifications_total{verdict="malformed"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(
            r#"epermit_http_requests_total{method="POST",route="/v1/verify",status="200"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains("epermit_http_request_duration_seconds_bucket"),
        "{text}"
    );
}

#[actix_web::test]
async fn signing_keys_start_on_a_whole_second_so_a_permit_signed_in_their_first_second_verifies() {
    use chrono::Timelike;
    let app = spawn_app().await;
    let trust = api::keys::trust_list(
        app.state.store.conn(),
        chrono::Utc::now(),
        chrono::Duration::days(1),
    )
    .await
    .unwrap();
    assert_eq!(trust.keys.len(), 9);
    for key in &trust.keys {
        // Credentials carry `iat` in whole seconds; a sub-second `not_before` would make a permit
        // issued in the key's first second `key_not_valid_at_issuance`.
        assert_eq!(key.not_before.nanosecond(), 0, "{:?}", key.district);
    }
}

#[actix_web::test]
async fn the_verifier_bundle_loads_every_list_into_an_offline_verifier_at_once() {
    let app = spawn_app().await;
    let h = epermit_tests::fixtures::issued_permit(&app, "13900000042", "33070219900101123").await;
    let credential = epermit_tests::fixtures::credential(&app, &h.token).await;
    let r = app
        .client
        .get(app.url("/v1/verifier-bundle"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-type"],
        crypto::bundle::VERIFIER_BUNDLE_TYPE
    );
    let etag = r.headers()["etag"].to_str().unwrap().to_owned();
    let bytes = r.bytes().await.unwrap().to_vec();
    let root = crypto::signer::Signer::public_key(app.state.keys.root().as_ref());
    let verifier = epermit_sdk::Verifier::new(vec![crypto::keys::public_key_hex(&root)]).unwrap();
    let now = std::time::SystemTime::now();
    let load = verifier.load_bundle(bytes, now).unwrap();
    assert_eq!(load.trust_list, epermit_sdk::ListOutcome::Installed);
    assert!(!load.status_lists.is_empty());
    let verification = verifier.verify(credential, now);
    assert_eq!(verification.verdict, epermit_sdk::Verdict::Valid);
    assert!(
        verification.warnings.is_empty(),
        "{:?}",
        verification.warnings
    );
    let r = app
        .client
        .get(app.url("/v1/verifier-bundle"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 304);
}
