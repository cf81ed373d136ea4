//! The public, cacheable lists (SPEC §2): `GET /v1/trust-list` (`application/cose`) and
//! `GET /v1/status-list` (`application/statuslist+cwt`, also at `/sl`, the URI permits name),
//! with strong ETags and `If-None-Match`.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, get, web};

use crate::error::ApiResult;
use crate::signed_lists::{STATUS_LIST_TTL_SECS, SignedList};
use crate::state::AppState;

/// Mounts the routes of this module.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.service(trust_list)
        .service(status_list)
        .service(status_list_short);
}

fn serve(
    req: &HttpRequest,
    list: SignedList,
    media_type: &'static str,
    max_age: u64,
) -> HttpResponse {
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|tag| tag.trim() == list.etag || tag.trim() == "*")
        });
    let mut res = if matches {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    res.insert_header((header::ETAG, list.etag.clone()))
        .insert_header((header::CACHE_CONTROL, format!("public, max-age={max_age}")));
    if matches {
        return res.finish();
    }
    res.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(media_type)))
        .body(list.bytes)
}

/// The trust list, signed by the root key.
#[utoipa::path(
    tag = "lists",
    params(("If-None-Match" = Option<String>, Header, description = "An ETag from an earlier answer")),
    responses(
        (status = 200, description = "The COSE-signed trust list (strong `ETag`, `Cache-Control: public, max-age=3600`)", content(("application/cose"))),
        (status = 304, description = "Unchanged since the given ETag"),
    )
)]
#[get("/v1/trust-list")]
pub async fn trust_list(req: HttpRequest, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let list = state.lists.trust_list(&state.store, &state.keys).await?;
    Ok(serve(&req, list, "application/cose", 3600))
}

/// The status list, signed by the root key.
#[utoipa::path(
    tag = "lists",
    params(("If-None-Match" = Option<String>, Header, description = "An ETag from an earlier answer")),
    responses(
        (status = 200, description = "The CWT status list (strong `ETag`; also served at `/sl`)", content(("application/statuslist+cwt"))),
        (status = 304, description = "Unchanged since the given ETag"),
    )
)]
#[get("/v1/status-list")]
pub async fn status_list(req: HttpRequest, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    serve_status_list(&req, &state).await
}

/// The status list at the short URI permits name (SPEC §2: a short status-list URI keeps the QR
/// small).
#[utoipa::path(
    tag = "lists",
    params(("If-None-Match" = Option<String>, Header, description = "An ETag from an earlier answer")),
    responses(
        (status = 200, description = "The CWT status list, as at `/v1/status-list`", content(("application/statuslist+cwt"))),
        (status = 304, description = "Unchanged since the given ETag"),
    )
)]
#[get("/sl")]
pub async fn status_list_short(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    serve_status_list(&req, &state).await
}

async fn serve_status_list(req: &HttpRequest, state: &AppState) -> ApiResult<HttpResponse> {
    let list = state
        .lists
        .status_list(&state.store, &state.keys, &state.status_uri)
        .await?;
    Ok(serve(
        req,
        list,
        "application/statuslist+cwt",
        STATUS_LIST_TTL_SECS,
    ))
}
