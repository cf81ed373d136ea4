//! The OpenAPI document and the offline docs page.

use epermit_tests::spawn_app;
use serde_json::Value;

/// `{name}` path parameters → a plausible value, so the request reaches the handler.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|segment| match segment {
            "{number}" => "330702-2026-000001",
            s if s.starts_with('{') => "1",
            s => s,
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[actix_web::test]
async fn the_openapi_document_is_3_1_and_every_error_is_a_problem_document() {
    let app = spawn_app().await;
    let r = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let doc: Value = r.json().await.unwrap();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    assert!(doc["components"]["securitySchemes"]["bearer_jwt"].is_object());
    let paths = doc["paths"].as_object().unwrap();
    for required in [
        "/v1/auth/otp",
        "/v1/me",
        "/v1/residences",
        "/v1/applications",
        "/v1/permits/me",
        "/v1/permits/me/qr.png",
        "/v1/verify",
        "/v1/trust-list",
        "/v1/status-list",
        "/v1/audit",
        "/v1/permits",
        "/readyz",
    ] {
        assert!(paths.contains_key(required), "{required} is not documented");
    }
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            for (status, response) in op["responses"].as_object().unwrap() {
                // A shared response (401, 403, 503) is declared once under components.
                let response = match response["$ref"].as_str() {
                    Some(reference) => {
                        let name = reference.trim_start_matches("#/components/responses/");
                        &doc["components"]["responses"][name]
                    }
                    None => response,
                };
                // Readiness answers 503 with its own document (which dependency is down).
                if (status.starts_with('4') || status.starts_with('5')) && path != "/readyz" {
                    assert!(
                        response["content"]["application/problem+json"].is_object(),
                        "{method} {path} {status} has no problem document"
                    );
                }
            }
        }
    }
}

/// Every method on every documented path: served exactly when documented. Together with the
/// routes being mounted only through `utoipa-actix-web` (which documents what it mounts; see
/// `api/src/routes/mod.rs` and `no_route_is_mounted_past_the_documentation` below), the served
/// routes are the documented ones.
#[actix_web::test]
async fn the_served_routes_are_exactly_the_documented_ones() {
    let app = spawn_app().await;
    let doc: Value = app.get_json("/openapi.json").await;
    let mut documented = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        let item = item.as_object().unwrap();
        for method in ["get", "post", "put", "delete", "patch"] {
            let r = app
                .client
                .request(
                    reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(),
                    app.url(&concrete(path)),
                )
                .send()
                .await
                .unwrap();
            let status = r.status();
            let body = r.text().await.unwrap_or_default();
            let served = !body.contains("no such route") && status != 405;
            let is_documented = item.contains_key(method);
            assert_eq!(
                served, is_documented,
                "{method} {path}: served {served}, documented {is_documented} ({status})"
            );
            documented += usize::from(is_documented);
        }
    }
    assert!(documented >= 34, "only {documented} operations documented");
}

/// Routes reach actix only through `ServiceConfig::service` of `utoipa-actix-web`, which takes
/// nothing without its `#[utoipa::path]`: a plain `.route(…)` or `web::resource` in the route
/// modules would mount a path the document does not know.
#[test]
fn no_route_is_mounted_past_the_documentation() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../api/src/routes");
    let mut handlers = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        for bypass in [".route(", "web::resource(", "web::scope(", ".to(handler"] {
            assert!(
                !text.contains(bypass),
                "{} mounts past the docs: {bypass}",
                path.display()
            );
        }
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let attribute = ["#[get(", "#[post(", "#[put(", "#[delete(", "#[patch("]
                .iter()
                .any(|a| line.trim_start().starts_with(a));
            if attribute {
                handlers += 1;
                let documented = lines[..i]
                    .iter()
                    .rev()
                    .take_while(|l| {
                        !l.trim().is_empty()
                            && !l.trim_start().starts_with("async fn")
                            && !l.trim_start().starts_with("pub async fn")
                    })
                    .any(|l| l.trim_start().starts_with("#[utoipa::path"));
                assert!(
                    documented,
                    "{}:{} has no #[utoipa::path]",
                    path.display(),
                    i + 1
                );
            }
        }
    }
    assert!(handlers >= 34, "found only {handlers} handlers");
}

#[actix_web::test]
async fn an_unknown_route_is_a_problem_document() {
    let app = spawn_app().await;
    let r = app
        .client
        .get(app.url("/v1/nothing-here"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["type"], "not_found");
}

#[actix_web::test]
async fn the_docs_page_is_served_from_the_binary_without_internet() {
    let app = spawn_app().await;
    let r = app.client.get(app.url("/docs")).send().await.unwrap();
    assert_eq!(r.status(), 308);
    assert_eq!(r.headers()["location"], "/docs/");
    let r = app.client.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    assert!(
        !html.contains("https://"),
        "the page loads something from the internet: {html}"
    );
    for asset in [
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "swagger-initializer.js",
    ] {
        let r = app
            .client
            .get(app.url(&format!("/docs/{asset}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{asset}");
        let text = r.text().await.unwrap();
        assert!(text.len() > 20, "{asset} is empty");
        if asset == "swagger-initializer.js" {
            assert!(text.contains("/openapi.json"), "{text}");
        }
    }
}

/// A method a documented path does not serve — TRACE, OPTIONS and HEAD included — is 405
/// `method_not_allowed` with `Allow` naming exactly the documented methods (RFC 9110 §15.5.6),
/// as a problem document; an unknown path stays 404.
#[actix_web::test]
async fn a_method_a_path_does_not_serve_is_405_with_allow() {
    let app = spawn_app().await;
    let doc: Value = app.get_json("/openapi.json").await;
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        let item = item.as_object().unwrap();
        let mut documented: Vec<String> = ["get", "put", "post", "delete", "patch"]
            .into_iter()
            .filter(|m| item.contains_key(*m))
            .map(str::to_uppercase)
            .collect();
        documented.sort();
        for method in ["TRACE", "OPTIONS", "HEAD", "PUT", "PATCH", "DELETE"] {
            if documented.iter().any(|m| m == method) {
                continue;
            }
            let r = app
                .client
                .request(
                    reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
                    app.url(&concrete(path)),
                )
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 405, "{method} {path}");
            let mut allow: Vec<String> = r.headers()["allow"]
                .to_str()
                .unwrap()
                .split(',')
                .map(|m| m.trim().to_owned())
                .collect();
            allow.sort();
            assert_eq!(allow, documented, "{method} {path}: Allow");
            assert_eq!(r.headers()["content-type"], "application/problem+json");
            if method != "HEAD" {
                let body: Value = r.json().await.unwrap();
                assert_eq!(body["type"], "method_not_allowed", "{method} {path}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 100, "only {checked} methods checked");
    let r = app
        .client
        .request(reqwest::Method::TRACE, app.url("/v1/nothing-here"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}
