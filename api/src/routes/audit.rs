//! `GET /v1/audit` (admins): the hash-chained audit log, paged by id.

use actix_web::{get, web};

use crate::auth::extract::Auth;
use crate::error::ApiResult;
use crate::state::AppState;
use crate::store::audit;
use crate::wire::audit::{AuditPage, Page};

/// Mounts the routes of this module.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.service(list);
}

/// The entries after `after`, oldest first, with the cursor of the next page.
#[utoipa::path(
    tag = "audit",
    security(("bearer_jwt" = [])),
    params(Page),
    responses(
        (status = 200, description = "Entries after `after`, oldest first", body = AuditPage),
        (status = 400, description = "`invalid_limit`, `invalid_query`"),
    )
)]
#[get("/v1/audit")]
pub async fn list(
    auth: Auth,
    state: web::Data<AppState>,
    page: web::Query<Page>,
) -> ApiResult<web::Json<AuditPage>> {
    auth.admin()?;
    let entries = audit::list(state.store.conn(), page.after, page.limit()?).await?;
    Ok(web::Json(entries.into()))
}
