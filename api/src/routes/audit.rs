//! `GET /v1/audit` (admins): the hash-chained audit log, paged by id, filtered by action, actor
//! and time; `POST
//! /v1/audit/checkpoints` (admins): a signed checkpoint of its head now.

use actix_web::{get, post, web};

use crate::auth::extract::Auth;
use crate::error::ApiResult;
use crate::state::AppState;
use crate::store::audit;
use crate::wire::audit::{AuditPage, CheckpointView, Page};

/// Mounts the routes of this module.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.service(list).service(checkpoint);
}

/// The entries after `after` matching the filters (`action` prefix, `actor`, `since`, `until`),
/// oldest first, with the cursor of the next page.
#[utoipa::path(
    tag = "audit",
    security(("bearer_jwt" = [])),
    params(Page),
    responses(
        (status = 200, description = "Entries after `after`, oldest first", body = AuditPage),
        (status = 400, description = "`invalid_limit`, `invalid_field` (`action`, `actor`), `invalid_date` (`since`, `until`), `invalid_query`"),
    )
)]
#[get("/v1/audit")]
pub async fn list(
    auth: Auth,
    state: web::Data<AppState>,
    page: web::Query<Page>,
) -> ApiResult<web::Json<AuditPage>> {
    auth.admin()?;
    let filter = page.filter()?;
    let entries =
        audit::list_filtered(state.store.conn(), &filter, page.after, page.limit()?).await?;
    Ok(web::Json(entries.into()))
}

/// Signs the chain head now (a checkpoint) and returns it; the latest checkpoint when it anchors
/// the head already. Its export runs in the background.
#[utoipa::path(
    tag = "audit",
    security(("bearer_jwt" = [])),
    responses(
        (status = 200, description = "The checkpoint of the head", body = CheckpointView),
        (status = 409, description = "`audit_chain_broken`: the chain does not verify since the last checkpoint; nothing signed"),
    )
)]
#[post("/v1/audit/checkpoints")]
pub async fn checkpoint(
    auth: Auth,
    state: web::Data<AppState>,
) -> ApiResult<web::Json<CheckpointView>> {
    use crate::audit::CheckpointError;
    use crate::error::ApiError;
    auth.admin()?;
    let taken = crate::audit::checkpoint::take(&state.store, &state.audit_key)
        .await
        .map_err(|e| match e {
            CheckpointError::Store(e) => ApiError::from(e),
            e @ (CheckpointError::Broken { .. } | CheckpointError::Truncated { .. }) => {
                tracing::error!(error = %e, "audit checkpoint refused");
                ApiError::Conflict {
                    code: "audit_chain_broken",
                    detail: "the audit chain does not verify since the last checkpoint: run \
                             `epermit audit verify`"
                        .into(),
                }
            }
            e @ CheckpointError::Sign(_) => ApiError::Internal(Box::new(e)),
        })?;
    let (store, exporter) = (state.store.clone(), state.audit_export.clone());
    actix_web::rt::spawn(async move {
        let _ = exporter.export_pending(&store).await;
    });
    Ok(web::Json(CheckpointView::from(&taken)))
}
