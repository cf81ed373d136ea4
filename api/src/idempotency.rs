//! `Idempotency-Key` (SPEC §4 "Flows"): a retried request with the same key and the same content
//! gets the first answer again (`Idempotency-Replayed: true`); the same key with other content is
//! 422 `idempotency_key_reused`.
//!
//! The answer is kept in the database (`idempotency_records`, [`crate::store::idempotency`]) in
//! the same transaction as the state change it guards: the workflow takes the key as the first
//! write of its transaction ([`Claim::take`]) and keeps its answer as the last before the commit
//! ([`Taken::keep`]). So a retry after a restart replays the first answer; a request that failed,
//! or was cut off or killed half-way, rolled its record back with everything else and its key is
//! free again; and a concurrent duplicate waits for the first transaction to end, loses to the
//! unique index and then replays (there is no "in progress" answer that outlives a request).
//!
//! The key is stored as its blind index (HMAC-SHA256 under the data key's index key, never as
//! sent) within a scope naming the operation and the caller. A record expires [`TTL`] after it
//! was written: lookups ignore older ones, a new use of an expired key replaces its record, and
//! [`spawn_sweeper`] deletes expired records every [`SWEEP_EVERY`].

use std::future::Future;
use std::time::Duration;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use sea_orm::DatabaseTransaction;
use serde::Serialize;

use crate::domain::IdempotencyKey;
use crate::error::{ApiError, ApiResult};
use crate::sealing::Index;
use crate::state::AppState;
use crate::store::{self, Store, sha256_hex};

/// How long a key is remembered.
pub const TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// How often [`spawn_sweeper`] deletes expired records.
pub const SWEEP_EVERY: Duration = Duration::from_secs(60 * 60);

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

/// The oldest creation time of a record still in force at `now`.
fn since(now: DateTime<Utc>) -> DateTime<Utc> {
    now - chrono::Duration::from_std(TTL).unwrap_or(chrono::TimeDelta::MAX)
}

/// An `Idempotency-Key` of one request, to be taken by the workflow's transaction.
#[derive(Clone, Debug)]
pub struct Claim {
    scope: String,
    key_hash: String,
    fingerprint: String,
}

impl Claim {
    /// Takes the key as the first write of `txn`: a concurrent request with the same key waits
    /// until `txn` ends, then fails (and [`once`] replays this one's answer). Fails with 409
    /// `conflict` when a request with the key has committed since [`once`] looked.
    pub async fn take(&self, txn: &DatabaseTransaction) -> ApiResult<Taken> {
        let now = Utc::now();
        let id = store::idempotency::claim(
            txn,
            &self.scope,
            &self.key_hash,
            &self.fingerprint,
            now,
            since(now),
        )
        .await?;
        Ok(Taken { id })
    }
}

/// A key taken by an open transaction, waiting for its answer.
#[derive(Debug)]
#[must_use = "keep the answer before the commit"]
pub struct Taken {
    id: i64,
}

impl Taken {
    /// Keeps `body` with `status` as the key's answer, in `txn` (just before its commit). It must
    /// be what the handler answers: build both with one function.
    pub async fn keep<T: Serialize>(
        self,
        txn: &DatabaseTransaction,
        status: StatusCode,
        body: &T,
    ) -> ApiResult<()> {
        let body = serde_json::to_string(body).map_err(ApiError::internal)?;
        store::idempotency::answer(txn, self.id, status.as_u16(), &body).await?;
        Ok(())
    }
}

/// Takes the key of `claim`, if there is one, in `txn`.
pub async fn take(claim: Option<&Claim>, txn: &DatabaseTransaction) -> ApiResult<Option<Taken>> {
    match claim {
        Some(claim) => Ok(Some(claim.take(txn).await?)),
        None => Ok(None),
    }
}

/// Runs `run` at most once per (`scope`, `key`): `fingerprint` identifies the request's content.
/// Without a key, `run` simply runs (given no claim). With one, a kept answer is replayed (or 422
/// for other content) without running; otherwise `run` gets the [`Claim`] to take in its
/// transaction, and if it fails because a duplicate committed first, that answer is replayed.
/// The answer is JSON with `run`'s status.
pub async fn once<T, F, Fut>(
    state: &AppState,
    scope: &str,
    key: Option<IdempotencyKey>,
    fingerprint: &str,
    run: F,
) -> ApiResult<HttpResponse>
where
    T: Serialize,
    F: FnOnce(Option<Claim>) -> Fut,
    Fut: Future<Output = ApiResult<(StatusCode, T)>>,
{
    let Some(key) = key else {
        let (status, body) = run(None).await?;
        return Ok(HttpResponse::build(status).json(body));
    };
    let claim = Claim {
        scope: scope.to_owned(),
        key_hash: state
            .store
            .sealer()?
            .index(Index::IdempotencyKey, key.as_bytes()),
        fingerprint: sha256_hex(fingerprint.as_bytes()),
    };
    if let Some(response) = kept(&state.store, &claim).await? {
        return response;
    }
    match run(Some(claim.clone())).await {
        Ok((status, body)) => Ok(HttpResponse::build(status).json(body)),
        Err(e) => match kept(&state.store, &claim).await {
            // A duplicate committed while this one ran: its answer is the answer.
            Ok(Some(response)) => response,
            Ok(None) | Err(_) => Err(e),
        },
    }
}

/// The answer kept for `claim`'s key: the replay, or 422 `idempotency_key_reused` when it came
/// with other content; `None` when the key is free.
async fn kept(store: &Store, claim: &Claim) -> ApiResult<Option<ApiResult<HttpResponse>>> {
    let Some(answer) = store::idempotency::find(
        store.conn(),
        &claim.scope,
        &claim.key_hash,
        since(Utc::now()),
    )
    .await?
    else {
        return Ok(None);
    };
    if answer.fingerprint != claim.fingerprint {
        return Ok(Some(Err(ApiError::unprocessable(
            "idempotency_key_reused",
            Some("Idempotency-Key"),
            "this idempotency key was used with a different request",
        ))));
    }
    Ok(Some(replay(answer)))
}

/// A kept answer, replayed.
fn replay(answer: store::idempotency::Answer) -> ApiResult<HttpResponse> {
    let status = StatusCode::from_u16(answer.status).map_err(ApiError::internal)?;
    Ok(HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .insert_header(("Idempotency-Replayed", "true"))
        .body(answer.body))
}

/// Deletes expired records now and every [`SWEEP_EVERY`] (a failed sweep is logged and tried
/// again at the next tick).
pub fn spawn_sweeper(store: Store) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(SWEEP_EVERY);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            match store::idempotency::sweep(store.conn(), since(Utc::now())).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(deleted = n, "expired idempotency records swept"),
                Err(e) => tracing::warn!(error = %e, "idempotency records not swept"),
            }
        }
    })
}
