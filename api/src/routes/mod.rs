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

use utoipa_actix_web::service_config::ServiceConfig;

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
        .configure(audit::configure);
}
