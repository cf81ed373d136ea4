//! The screens the binary serves (issue 13): the verifier desk at `/desk/`, the resident app at
//! `/app/`, the officer console at `/console/`, and what they share at `/web/` (stylesheet,
//! translations, the API client, the WebAssembly verification engine).
//!
//! Every file is embedded at build time from `api/web/` (`api/build.rs` rebuilds when a file
//! there changes), so `cargo run --release` alone serves the screens; no CDN, no file read at run
//! time. Each answer carries [`CONTENT_SECURITY_POLICY`] (no inline script, no inline style, only
//! this origin) and a strong `ETag`; `Cache-Control: no-cache` makes browsers and the service
//! workers revalidate (a 304 costs nothing) so a new release is seen on the next online visit.
//!
//! `/web/config.json` is the one answer made at run time: the root keys a desk pins (the trust
//! anchor of offline verification, SPEC §2) and where the verifier bundle is.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, guard, web};
use rust_embed::Embed;
use serde::Serialize;

use crate::state::AppState;

/// The files under `api/web/`.
#[derive(Embed)]
#[folder = "web/"]
pub struct Assets;

/// The screens, each a folder of `api/web/` served at `/<name>/`.
pub const SCREENS: [&str; 3] = ["desk", "app", "console"];

/// The policy of every screen answer: scripts and styles only from this origin (WebAssembly may be
/// compiled: `wasm-unsafe-eval`), images and frames also from `blob:`/`data:` (evidence shown
/// inline, QR codes), the camera as `mediastream:`, nothing may frame the pages.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; \
     style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob: mediastream:; \
     connect-src 'self'; worker-src 'self'; manifest-src 'self'; frame-src 'self' blob:; \
     font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Mounts the screens and `/web/`. Only GET and HEAD are answered (other methods: 405).
pub fn serve(cfg: &mut web::ServiceConfig) {
    let read = || guard::Any(guard::Get()).or(guard::Head());
    cfg.service(web::resource("/web/config.json").route(web::route().guard(read()).to(config)))
        .service(web::resource("/web/{file:.+}").route(web::route().guard(read()).to(shared_file)));
    for screen in SCREENS {
        cfg.service(
            web::resource(format!("/{screen}")).route(web::route().guard(read()).to(to_folder)),
        )
        .service(
            web::resource(format!("/{screen}/{{file:.*}}"))
                .route(web::route().guard(read()).to(screen_file)),
        );
    }
}

/// `GET /desk` → `/desk/` (and the same for each screen), where relative links resolve.
async fn to_folder(request: HttpRequest) -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, format!("{}/", request.path())))
        .finish()
}

/// `GET /<screen>/<file>`: `api/web/<screen>/<file>`, `index.html` for the folder itself.
async fn screen_file(request: HttpRequest, file: web::Path<String>) -> HttpResponse {
    let screen = request
        .path()
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default();
    let file = file.into_inner();
    let file = if file.is_empty() { "index.html" } else { &file };
    asset(&request, &format!("{screen}/{file}"))
}

/// `GET /web/<file>`: `api/web/common/<file>`.
async fn shared_file(request: HttpRequest, file: web::Path<String>) -> HttpResponse {
    asset(&request, &format!("common/{}", file.into_inner()))
}

/// What a desk needs to know before it holds any list.
#[derive(Serialize)]
struct DeskConfig {
    /// The root keys to pin (64 hex digits each): they sign the trust list, the status lists and
    /// the bundle. A successor root key announced later is learnt from the trust list.
    root_keys: Vec<String>,
    /// The signed verifier bundle (`GET /v1/verifier-bundle`).
    bundle_url: &'static str,
    /// `development` or `production`, so a screen can say it runs on a development instance.
    mode: crate::config::Mode,
}

/// `GET /web/config.json`.
async fn config(state: web::Data<AppState>) -> HttpResponse {
    let body = DeskConfig {
        root_keys: vec![crypto::keys::public_key_hex(&crypto::Signer::public_key(
            &*state.keys.root(),
        ))],
        bundle_url: "/v1/verifier-bundle",
        mode: state.settings.mode,
    };
    let mut response = HttpResponse::Ok();
    secure(&mut response);
    response.json(body)
}

/// One embedded file with its type, `ETag` and the security headers; 404 when there is none.
fn asset(request: &HttpRequest, path: &str) -> HttpResponse {
    let Some(file) = Assets::get(path) else {
        let mut response = HttpResponse::NotFound();
        secure(&mut response);
        return response
            .content_type("text/plain; charset=utf-8")
            .body("no such file");
    };
    let etag = format!("\"{}\"", hex::encode(&file.metadata.sha256_hash()[..12]));
    let fresh = request
        .headers()
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes());
    let mut response = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    secure(&mut response);
    response.insert_header((header::ETAG, etag)).insert_header((
        header::CONTENT_TYPE,
        content_type(path, file.metadata.mimetype()),
    ));
    if fresh {
        return response.finish();
    }
    // Embedded files are `'static`: served without a copy per request (the module is 567 KB).
    match file.data {
        std::borrow::Cow::Borrowed(bytes) => response.body(bytes),
        std::borrow::Cow::Owned(bytes) => response.body(bytes),
    }
}

/// The media type of `path` by its extension; rust-embed's guess (`guessed`) for the rest
/// (images, icons).
fn content_type(path: &str, guessed: &str) -> HeaderValue {
    let known = match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("webmanifest") => "application/manifest+json",
        Some("wasm") => "application/wasm",
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        _ => {
            return HeaderValue::from_str(guessed)
                .unwrap_or(HeaderValue::from_static("application/octet-stream"));
        }
    };
    HeaderValue::from_static(known)
}

/// The headers every screen answer carries.
fn secure(response: &mut actix_web::HttpResponseBuilder) {
    response
        .insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((
            header::HeaderName::from_static("permissions-policy"),
            "camera=(self), microphone=(), geolocation=(), payment=()",
        ))
        .insert_header((header::CACHE_CONTROL, "no-cache"));
}

#[cfg(test)]
mod tests;
