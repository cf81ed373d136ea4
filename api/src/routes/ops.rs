//! Operations: request ids and request logs, liveness and readiness.

use std::rc::Rc;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse, get, web};
use tracing::Instrument;

use crate::error::ApiError;
use crate::route_patterns::RoutePatterns;
use crate::state::AppState;
use crate::wire::ops::{Health, Readiness};

/// Mounts the routes of this module.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.service(healthz).service(readyz).service(metrics);
}

/// The header carrying the request id, taken from the client when sane, else made up.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

fn client_request_id(req: &ServiceRequest) -> Option<String> {
    let id = req.headers().get(&REQUEST_ID)?.to_str().ok()?;
    let sane = !id.is_empty()
        && id.len() <= 64
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    sane.then(|| id.to_owned())
}

/// Middleware: gives every request an id (echoed in `X-Request-Id`), runs it in a span carrying
/// the id, and logs method, route pattern, status and duration — never bodies or query strings,
/// which may hold personal data.
pub async fn request_id(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = client_request_id(&req).unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let route = match req.app_data::<RoutePatterns>() {
        Some(patterns) => patterns.of(&req),
        None => Rc::from(req.match_pattern().as_deref().unwrap_or("unmatched")),
    };
    let span =
        tracing::info_span!("request", request_id = %id, method = %req.method(), route = %route);
    let started = Instant::now();
    let mut res = next.call(req).instrument(span.clone()).await?;
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID, value);
    }
    let status = res.status();
    let elapsed = started.elapsed();
    if let Some(state) = res.request().app_data::<web::Data<AppState>>() {
        state.metrics.observe_request(
            &route,
            res.request().method().as_str(),
            status.as_str(),
            elapsed.as_secs_f64(),
        );
    }
    let status = status.as_u16();
    span.in_scope(|| tracing::info!(status, ms = elapsed.as_millis() as u64, "served"));
    Ok(res)
}

/// Liveness: the process answers.
#[utoipa::path(
    tag = "ops",
    responses((status = 200, description = "The process answers", body = Health))
)]
#[get("/healthz")]
pub async fn healthz() -> web::Json<Health> {
    web::Json(Health { status: "ok" })
}

/// Readiness: the database answers (else 503); the shared store's state is reported, and a
/// shared store that is down makes the service `degraded` (verification keeps working). Redis
/// is not waited for: with its circuit breaker open it counts as down at once, else its `PING`
/// gets `shared_store.readiness_timeout_ms` (50 ms), alongside the database's. On PostgreSQL the
/// database's circuit breaker is reported too; while it is open the answer is 503 at once.
#[utoipa::path(
    tag = "ops",
    responses(
        (status = 200, description = "`ready`, or `degraded` when the shared store is down", body = Readiness),
        (status = 503, description = "The database is down (`unavailable`)", content((Readiness = "application/json"))),
    )
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let (database, shared) = tokio::join!(state.store.ping(), state.shared.ping());
    let (database, shared) = (database.is_ok(), shared.is_ok());
    let body = Readiness::new(database, shared, state.shared.kind())
        .with_breaker(state.shared.breaker().map(|phase| phase.as_str()))
        .with_database_breaker(state.store.breaker().map(|phase| phase.as_str()));
    if database {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

/// Prometheus metrics, text exposition format — on the public listener in development mode
/// only; in production (or with `metrics_bind` set) this is 404 and the metrics are on the
/// internal listener.
#[utoipa::path(
    tag = "ops",
    responses(
        (status = 200, description = "Prometheus metrics (text exposition format 0.0.4)", content(("text/plain"))),
        (status = 404, description = "Metrics are served on the internal listener (`metrics_bind`)"),
    )
)]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    if state.settings.metrics_listener().is_some() {
        return no_such_route().await;
    }
    internal_metrics(state).await
}

/// `/metrics` on the internal listener (see [`crate::config::Settings::metrics_bind`]).
pub async fn internal_metrics(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let text = state.metrics.render().map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(text))
}

/// What no route of the public listener matched: 405 `method_not_allowed` with `Allow` when the
/// path is a documented one served for other methods (TRACE, OPTIONS and HEAD included), else
/// the 404 problem of [`no_such_route`].
pub async fn unmatched(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let routes = req.app_data::<web::Data<crate::openapi::DocumentedRoutes>>();
    match routes.and_then(|routes| routes.allow(req.path())) {
        Some(allow) => Err(ApiError::MethodNotAllowed {
            allow: allow.to_owned(),
        }),
        None => no_such_route().await,
    }
}

/// Any path no route matches: a problem document rather than an empty 404.
pub async fn no_such_route() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound(
        "no such route; the API is described at /openapi.json",
    ))
}
