//! `AppState`: everything a request handler needs, built once at start-up and shared.

use std::sync::Arc;

use crate::auth::code_sender::CodeSender;
use crate::auth::jwt::JwtKeys;
use crate::config::Settings;
use crate::keys::KeyRing;
use crate::shared_state::SharedState;
use crate::signed_lists::ListCache;
use crate::store::Store;

/// The state of one service instance.
pub struct AppState {
    /// The settings it runs with.
    pub settings: Settings,
    /// The database.
    pub store: Store,
    /// Short-lived state shared between instances (Redis) or in-process.
    pub shared: Arc<dyn SharedState>,
    /// The signing keys.
    pub keys: KeyRing,
    /// Access-token keys.
    pub jwt: JwtKeys,
    /// Prometheus metrics.
    pub metrics: crate::metrics::Metrics,
    /// Where login codes go.
    pub sender: Arc<dyn CodeSender>,
    /// The signed lists.
    pub lists: ListCache,
    /// A server secret (derived from the JWT key) keying the hashes of shared-store keys.
    pub pepper: [u8; 32],
    /// The audit key (signs checkpoints, keys the chain).
    pub audit_key: crate::audit::AuditKey,
    /// Where audit checkpoints are exported.
    pub audit_export: crate::audit::Exporter,
    /// The accounts' revocation epochs this instance read lately.
    pub revocations: crate::auth::revocation::Revocations,
    /// Slots for argon2 verifications (`auth.max_concurrent_hashes`): bounds their memory.
    pub hash_slots: tokio::sync::Semaphore,
    /// The threads argon2 runs on (as many as slots).
    pub hash_pool: crate::auth::hash_pool::HashPool,
}
