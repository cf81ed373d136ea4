//! The public, cacheable lists (SPEC §2): `GET /v1/trust-list` (`application/cose`) and
//! `GET /v1/status-list` (`application/statuslist+cwt`, also at `/sl`, the URI permits name),
//! with strong ETags and `If-None-Match`.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, get, web};

use crate::error::{ApiError, ApiResult};
use crate::signed_lists::{STATUS_LIST_TTL_SECS, SignedList};
use crate::state::AppState;

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
        (status = 500, description = "Unexpected failure"),
    )
)]
#[get("/v1/trust-list")]
pub async fn trust_list(req: HttpRequest, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let list = state
        .lists
        .trust_list(&state.store, &state.keys)
        .await
        .map_err(ApiError::internal)?;
    Ok(serve(&req, list, "application/cose", 3600))
}

/// The status list, signed by the root key.
#[utoipa::path(
    get,
    path = "/v1/status-list",
    tag = "lists",
    params(("If-None-Match" = Option<String>, Header, description = "An ETag from an earlier answer")),
    responses(
        (status = 200, description = "The CWT status list (strong `ETag`; also served at `/sl`)", content(("application/statuslist+cwt"))),
        (status = 304, description = "Unchanged since the given ETag"),
        (status = 500, description = "Unexpected failure"),
    )
)]
pub async fn status_list(req: HttpRequest, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let list = state
        .lists
        .status_list(&state.store, &state.keys, &state.status_uri)
        .await
        .map_err(ApiError::internal)?;
    Ok(serve(
        &req,
        list,
        "application/statuslist+cwt",
        STATUS_LIST_TTL_SECS,
    ))
}
