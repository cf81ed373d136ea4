//! The public, cacheable lists (SPEC §2): `GET /v1/trust-list` (`application/cose`), the status
//! lists — one per shard, `GET /sl` (shard 0, the URI early permits name; also
//! `/v1/status-list`) and `GET /s/{shard}` (`application/statuslist+cwt`) — and the aggregation
//! document `GET /v1/status-lists` listing them all (the Token Status List draft's
//! `aggregation_uri`) — and the verifier bundle `GET /v1/verifier-bundle` holding them all.
//! Strong ETags with `If-None-Match`, `Cache-Control` from the lists' `ttl`.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::Utc;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult};
use crate::signed_lists::{STATUS_LIST_TTL_SECS, SignedList, TRUST_LIST_MAX_AGE_SECS};
use crate::state::AppState;

/// Mounts the routes of this module.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.service(trust_list)
        .service(status_list)
        .service(status_list_short)
        .service(status_shard)
        .service(status_lists)
        .service(verifier_bundle);
}

/// The media type of a Status List Token in CWT form.
const STATUS_LIST_CWT: &str = "application/statuslist+cwt";

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
    let list = state
        .lists
        .trust_list(&state.store, &state.keys, Utc::now())
        .await?;
    Ok(serve(
        &req,
        list,
        "application/cose",
        TRUST_LIST_MAX_AGE_SECS,
    ))
}

/// Serves the signed list of `shard` (404 when there is none).
async fn serve_shard(req: &HttpRequest, state: &AppState, shard: i32) -> ApiResult<HttpResponse> {
    let list = state
        .lists
        .status_list(&state.store, &state.keys, shard, Utc::now())
        .await?
        .ok_or(ApiError::NotFound("no such status list"))?;
    Ok(serve(req, list, STATUS_LIST_CWT, STATUS_LIST_TTL_SECS))
}

/// Status list shard 0, signed by the root key (the list at `/sl`).
#[utoipa::path(
    tag = "lists",
    params(("If-None-Match" = Option<String>, Header, description = "An ETag from an earlier answer")),
    responses(
        (status = 200, description = "The CWT status list of shard 0 (strong `ETag`; also served at `/sl`)", content(("application/statuslist+cwt"))),
        (status = 304, description = "Unchanged since the given ETag"),
    )
)]
#[get("/v1/status-list")]
pub async fn status_list(req: HttpRequest, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    serve_shard(&req, &state, 0).await
}

/// Status list shard 0 at the short URI its permits name.
#[utoipa::path(
    tag = "lists",
    params(("If-None-Match" = Option<String>, Header, description = "An ETag from an earlier answer")),
    responses(
        (status = 200, description = "The CWT status list of shard 0", content(("application/statuslist+cwt"))),
        (status = 304, description = "Unchanged since the given ETag"),
    )
)]
#[get("/sl")]
pub async fn status_list_short(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    serve_shard(&req, &state, 0).await
}

/// Status list shard `shard` (its number in base 36), signed by the root key: the list a
/// permit's `status.uri` names.
#[utoipa::path(
    tag = "lists",
    params(
        ("shard" = String, Path, description = "The shard's number in base 36 (`1` … `zz` …)"),
        ("If-None-Match" = Option<String>, Header, description = "An ETag from an earlier answer"),
    ),
    responses(
        (status = 200, description = "The CWT status list of the shard (strong `ETag`, `Cache-Control` from its `ttl`)", content(("application/statuslist+cwt"))),
        (status = 304, description = "Unchanged since the given ETag"),
        (status = 404, description = "No such status list"),
    )
)]
#[get("/s/{shard}")]
pub async fn status_shard(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let shard = crate::signed_lists::parse_base36(&path)
        .filter(|n| *n > 0)
        .ok_or(ApiError::NotFound("no such status list"))?;
    serve_shard(&req, &state, shard).await
}

/// The aggregation document (Token Status List draft, `aggregation_uri`).
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusListsDocument {
    /// The URI of every status list the service publishes.
    pub status_lists: Vec<String>,
}

/// Every status list the service publishes (the draft's aggregation document): a verifier fetches
/// each to hold the status of every permit offline.
#[utoipa::path(
    tag = "lists",
    responses((status = 200, description = "The URIs of every status list", body = StatusListsDocument))
)]
#[get("/v1/status-lists")]
pub async fn status_lists(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let document = StatusListsDocument {
        status_lists: state.lists.status_list_uris(&state.store).await?,
    };
    Ok(HttpResponse::Ok()
        .insert_header((
            header::CACHE_CONTROL,
            format!("public, max-age={STATUS_LIST_TTL_SECS}"),
        ))
        .json(document))
}

/// The verifier bundle: the trust list and every status list, each signed, assembled and signed
/// as one by the root key (`application/epermit-verifier-bundle+cose`), for an offline desk or a
/// phone that loads its lists from one file (`Verifier::load_bundle` in the SDK).
#[utoipa::path(
    tag = "lists",
    params(("If-None-Match" = Option<String>, Header, description = "An ETag from an earlier answer")),
    responses(
        (status = 200, description = "The signed verifier bundle (strong `ETag`, `Cache-Control` from the status lists' `ttl`)", content(("application/epermit-verifier-bundle+cose"))),
        (status = 304, description = "Unchanged since the given ETag"),
    )
)]
#[get("/v1/verifier-bundle")]
pub async fn verifier_bundle(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let bundle = state
        .lists
        .bundle(&state.store, &state.keys, Utc::now())
        .await?;
    Ok(serve(
        &req,
        bundle,
        crypto::bundle::VERIFIER_BUNDLE_TYPE,
        STATUS_LIST_TTL_SECS,
    ))
}
