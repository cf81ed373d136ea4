//! The HTTP surface: one module per resource, each handler thin (extract → authorise → call a
//! workflow → respond). [`configure`] mounts them all through `utoipa-actix-web`, so each route is
//! registered together with its OpenAPI documentation and none can be served undocumented.

pub mod applications;
pub mod audit;
pub mod auth;
pub mod lists;
pub mod me;
pub mod ops;
pub mod permits;
pub mod residences;
pub mod residents;

use actix_web::HttpRequest;
use utoipa_actix_web::service_config::ServiceConfig;

/// The client's address: the key of per-client limits, and where a holder key was bound from.
pub(crate) fn client_ip(req: &HttpRequest) -> String {
    req.peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Mounts every route of the API (documented). The docs pages themselves are mounted by
/// [`crate::openapi::serve`].
pub fn configure(cfg: &mut ServiceConfig<'_>) {
    cfg.configure(ops::configure)
        .configure(auth::configure)
        .configure(me::configure)
        .configure(residences::configure)
        .configure(applications::configure)
        .configure(permits::configure)
        .configure(lists::configure)
        .configure(audit::configure)
        .configure(residents::configure);
}
