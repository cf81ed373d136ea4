//! `Idempotency-Key` (SPEC §4 "Flows"): a retried request with the same key and the same content
//! gets the first answer again (`Idempotency-Replayed: true`); the same key with other content is
//! 422 `idempotency_key_reused`; while the first is still running, 409 `idempotency_in_progress`.
//! The keys live in the shared store for a day, hashed (never as sent).

use std::future::Future;
use std::time::Duration;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;

use crate::domain::IdempotencyKey;
use crate::error::{ApiError, ApiResult};
use crate::shared_state::{IdempotencyBegin, StoredResponse};
use crate::state::AppState;
use crate::store::sha256_hex;

/// How long a key is remembered.
const TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// The header, if sent: 400 `invalid_idempotency_key` when malformed.
pub fn key(req: &HttpRequest) -> ApiResult<Option<IdempotencyKey>> {
    req.headers()
        .get("Idempotency-Key")
        .map(|value| {
            IdempotencyKey::parse(value.as_bytes()).map_err(|e| {
                ApiError::invalid("invalid_idempotency_key", "Idempotency-Key", e.to_string())
            })
        })
        .transpose()
}

/// Runs `run` at most once per (`scope`, `key`): `fingerprint` identifies the request's content.
/// Without a key, `run` simply runs. The answer is JSON with `run`'s status.
pub async fn once<T, F>(
    state: &AppState,
    scope: &str,
    key: Option<IdempotencyKey>,
    fingerprint: &str,
    run: F,
) -> ApiResult<HttpResponse>
where
    T: Serialize,
    F: Future<Output = ApiResult<(StatusCode, T)>>,
{
    let Some(key) = key else {
        let (status, body) = run.await?;
        return Ok(HttpResponse::build(status).json(body));
    };
    let slot = format!("idem:{scope}:{}", sha256_hex(key.as_bytes()));
    let fingerprint = sha256_hex(fingerprint.as_bytes());
    match state
        .shared
        .idempotency_begin(&slot, &fingerprint, TTL)
        .await?
    {
        IdempotencyBegin::New => {}
        IdempotencyBegin::Done(stored) => return replay(stored),
        IdempotencyBegin::InProgress => {
            return Err(ApiError::conflict(
                "idempotency_in_progress",
                "a request with this idempotency key is still being handled",
            ));
        }
        IdempotencyBegin::Mismatch => {
            return Err(ApiError::unprocessable(
                "idempotency_key_reused",
                Some("Idempotency-Key"),
                "this idempotency key was used with a different request",
            ));
        }
    }
    match run.await {
        Ok((status, body)) => {
            let stored = StoredResponse {
                status: status.as_u16(),
                content_type: "application/json".to_owned(),
                body: serde_json::to_string(&body).map_err(ApiError::internal)?,
            };
            if let Err(e) = state
                .shared
                .idempotency_finish(&slot, &fingerprint, &stored, TTL)
                .await
            {
                tracing::warn!(error = %e, "cannot record an idempotent response");
            }
            replay_first(stored)
        }
        Err(e) => {
            if let Err(e) = state.shared.idempotency_abandon(&slot).await {
                tracing::warn!(error = %e, "cannot release an idempotency key");
            }
            Err(e)
        }
    }
}

/// The first answer, as it is stored.
fn replay_first(stored: StoredResponse) -> ApiResult<HttpResponse> {
    let status = StatusCode::from_u16(stored.status).map_err(ApiError::internal)?;
    Ok(HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, stored.content_type))
        .body(stored.body))
}

/// A stored answer, replayed.
fn replay(stored: StoredResponse) -> ApiResult<HttpResponse> {
    let mut response = replay_first(stored)?;
    response.headers_mut().insert(
        header::HeaderName::from_static("idempotency-replayed"),
        header::HeaderValue::from_static("true"),
    );
    Ok(response)
}
