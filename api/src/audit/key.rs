//! The audit key (`<data dir>/keys/audit.key`) and its custody, as for the other keys
//! ([`crate::keys`]): it is generated only while the database has no checkpoint (a new database,
//! or one from before checkpoints existed), and then its first checkpoint is written at once, so
//! every later entry is keyed. Once the database holds checkpoints, a missing `audit.key` — or
//! one holding another key than the checkpoints name — stops start-up and every command that
//! writes the log, naming the file and the fix; a new key is never made silently (it would cut
//! the chain of trust of every checkpoint exported before).

use std::path::Path;
use std::sync::Arc;

use chrono::Utc;
use crypto::keys::{KeyId, VerifyingKey, public_key_hex};
use crypto::signer::{KeyFileSigner, Signer};
use sha2::{Digest, Sha256};

use crate::keys::{KeyError, adopt_or_generate, load};
use crate::store::audit::{self, checkpoints};
use crate::store::{Store, StoreError};

/// The file of the audit key in the key directory.
pub const AUDIT_FILE: &str = "audit.key";

/// The audit key: signs checkpoints; its chain key keys the entries' hashes.
#[derive(Clone)]
pub struct AuditKey {
    signer: Arc<KeyFileSigner>,
    kid: String,
    chain_key: [u8; 32],
}

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl AuditKey {
    /// Opens `<data_dir>/keys/audit.key` under the custody rule (module doc). On first use it
    /// generates the key (or adopts an `audit.key` already there) and writes the first checkpoint
    /// of the current head, audited as `audit.key_generate`. Registers the chain key for this
    /// process ([`audit::register_chain_key`]).
    pub async fn open(data_dir: &Path, store: &Store) -> Result<AuditKey, KeyError> {
        let path = data_dir.join("keys").join(AUDIT_FILE);
        let txn = store.begin().await?;
        super::checkpoint::lock_log(&txn).await?;
        let key = match checkpoints::latest(&txn).await? {
            Some(latest) => {
                let key = AuditKey::from_signer(load(&path, &latest.kid)?);
                key.register();
                drop(txn);
                key
            }
            None => {
                let (signer, kept) = adopt_or_generate(&path)?;
                let key = AuditKey::from_signer(signer);
                key.register();
                let now = Utc::now();
                super::checkpoint::take_in(&txn, &key, now).await?;
                let detail = serde_json::json!({
                    "kid": key.kid,
                    "public_key": public_key_hex(&key.public_key()),
                    "kept_from_file": kept,
                });
                audit::commit_with_audit(
                    txn,
                    audit::NewEntry::new("system", "audit.key_generate", "audit_key", detail),
                    now,
                )
                .await?;
                tracing::info!(kid = %key.kid, "audit key generated; first checkpoint written");
                key
            }
        };
        Ok(key)
    }

    /// The key held by `signer` (tests and tools; [`AuditKey::open`] is the service's way).
    pub fn from_signer(signer: KeyFileSigner) -> AuditKey {
        let kid = signer.key_id().to_string();
        let chain_key = derive_chain_key(&signer);
        AuditKey {
            signer: Arc::new(signer),
            kid,
            chain_key,
        }
    }

    /// Makes the chain key available to the store's appends in this process.
    pub fn register(&self) {
        audit::register_chain_key(&self.kid, self.chain_key);
    }

    /// The key id (16 hex digits).
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public half (what a checkpoint is verified with).
    pub fn public_key(&self) -> VerifyingKey {
        self.signer.public_key()
    }

    /// Signs `message` (a checkpoint's canonical text).
    pub fn sign(&self, message: &[u8]) -> Result<String, KeyError> {
        Ok(hex::encode(self.signer.sign(message)?.to_bytes()))
    }
}

/// The chain key: SHA-256 over a domain label and the key's PKCS#8 document (the secret seed),
/// so it is as secret as the audit key and is never stored.
fn derive_chain_key(signer: &KeyFileSigner) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"epermit audit chain key v1");
    if let Ok(der) = signer.pkcs8_der() {
        h.update(&der);
    }
    h.finalize().into()
}

/// Whether `signature` (hex) is the audit key `public_key`'s signature of `message`.
pub fn verify_signature(public_key: &VerifyingKey, message: &[u8], signature: &str) -> bool {
    let Ok(bytes) = hex::decode(signature) else {
        return false;
    };
    let Ok(sig) = ed25519_dalek::Signature::from_slice(&bytes) else {
        return false;
    };
    public_key.verify_strict(message, &sig).is_ok()
}

/// The kid of `public_key`, as checkpoints name it.
pub fn kid_of(public_key: &VerifyingKey) -> String {
    KeyId::of(public_key).to_string()
}

impl From<StoreError> for super::CheckpointError {
    fn from(e: StoreError) -> Self {
        super::CheckpointError::Store(e)
    }
}
