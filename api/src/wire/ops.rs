//! Liveness and readiness on the wire.

use serde::Serialize;
use utoipa::ToSchema;

/// `GET /healthz`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok`.
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// Whether a dependency answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UpDown {
    /// It answers.
    Up,
    /// It does not.
    Down,
}

impl From<bool> for UpDown {
    fn from(up: bool) -> Self {
        if up { UpDown::Up } else { UpDown::Down }
    }
}

/// The shared store's state in `GET /readyz`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SharedStoreState {
    /// `memory` or `redis`.
    pub kind: &'static str,
    /// Whether it answers.
    pub state: UpDown,
    /// Redis' circuit breaker: `closed`, `open` (calls fail at once; rate limits are counted
    /// per instance) or `half_open` (a probe is out). Absent for the in-process store.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "closed")]
    pub breaker: Option<&'static str>,
}

/// `GET /readyz`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// `ready`, `degraded` (shared store down) or `unavailable` (database down).
    #[schema(example = "ready")]
    pub status: &'static str,
    /// Whether the database answers.
    pub database: UpDown,
    /// The database's circuit breaker on PostgreSQL: `closed`, `open` (requests are answered
    /// 503 at once) or `half_open` (a probe is out). Absent on SQLite.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "closed")]
    pub database_breaker: Option<&'static str>,
    /// The shared store.
    pub shared_store: SharedStoreState,
}

impl Readiness {
    /// The readiness of a service whose database and shared store answer (or not).
    pub fn new(database: bool, shared: bool, kind: &'static str) -> Self {
        Readiness {
            status: match (database, shared) {
                (true, true) => "ready",
                (true, false) => "degraded",
                _ => "unavailable",
            },
            database: database.into(),
            database_breaker: None,
            shared_store: SharedStoreState {
                kind,
                state: shared.into(),
                breaker: None,
            },
        }
    }

    /// The same, reporting the shared store's circuit breaker.
    pub fn with_breaker(mut self, breaker: Option<&'static str>) -> Self {
        self.shared_store.breaker = breaker;
        self
    }

    /// The same, reporting the database's circuit breaker.
    pub fn with_database_breaker(mut self, breaker: Option<&'static str>) -> Self {
        self.database_breaker = breaker;
        self
    }
}
