//! `GET /v1/audit` (admins): the hash-chained audit log, paged by id.

use actix_web::{HttpResponse, get, web};
use serde::Deserialize;
use serde_json::json;

use crate::auth::extract::Auth;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::audit;

/// `?after=ID&limit=N` (limit 1–500, default 100).
#[derive(Deserialize, utoipa::IntoParams)]
pub struct Page {
    /// The id after which the page starts (default 0).
    #[serde(default)]
    after: i64,
    /// 1–500, default 100.
    limit: Option<u64>,
}

/// The entries after `after`, oldest first, with the cursor of the next page.
#[utoipa::path(
    tag = "audit",
    security(("bearer_jwt" = [])),
    responses(
        (status = 200, description = "Entries after `after`, oldest first", body = crate::openapi::AuditPage),
        (status = 400, description = "`invalid_limit`"),
        (status = 401, description = "No valid access token"),
        (status = 403, description = "Not an admin"),
    )
)]
#[get("/v1/audit")]
pub async fn list(
    auth: Auth,
    state: web::Data<AppState>,
    page: web::Query<Page>,
) -> ApiResult<HttpResponse> {
    auth.admin()?;
    let limit = page.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::invalid(
            "invalid_limit",
            "limit",
            "between 1 and 500",
        ));
    }
    let entries = audit::list(state.store.conn(), page.after, limit)
        .await
        .map_err(ApiError::internal)?;
    let next = entries.last().map(|e| e.id);
    let items: Vec<_> = entries
        .iter()
        .map(|e| {
            json!({
                "id": e.id, "at": e.at, "actor": e.actor, "action": e.action, "subject": e.subject,
                "detail": serde_json::from_str::<serde_json::Value>(&e.detail).unwrap_or_default(),
                "prev_hash": e.prev_hash, "hash": e.hash,
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "items": items, "next_after": next })))
}
