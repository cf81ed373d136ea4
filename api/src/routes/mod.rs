//! The HTTP surface: one module per resource; `configure` mounts them all.

pub mod applications;
pub mod audit;
pub mod auth;
pub mod lists;
pub mod me;
pub mod ops;
pub mod permits;
pub mod residences;

use actix_web::web;

/// Mounts every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(ops::healthz)
        .service(auth::otp)
        .service(auth::login)
        .service(auth::staff_login)
        .service(auth::refresh)
        .service(me::put_me)
        .service(me::get_me)
        .service(audit::list)
        .service(ops::readyz)
        .service(ops::metrics)
        .service(lists::trust_list)
        .route("/v1/status-list", web::get().to(lists::status_list))
        .route("/sl", web::get().to(lists::status_list))
        .configure(residences::configure)
        .configure(applications::configure)
        .configure(permits::configure)
        .configure(crate::openapi::configure);
}
