//! An audit log that cannot be cut (SPEC §4 "Audit", issue 12 item 7).
//!
//! The log itself is the hash chain of [`crate::store::audit`]. This module adds what makes
//! deleting its tail or recomputing it detectable:
//!
//! - [`key`]: the **audit key**, an Ed25519 key in `<data dir>/keys/audit.key` (PKCS#8 v1 PEM,
//!   0600) beside the service's other keys. From it derives the *chain key* that keys every new
//!   entry's hash (HMAC-SHA256), so someone who can write the database but not read the key
//!   directory cannot recompute the chain after an edit.
//! - [`checkpoint`]: **checkpoints**, the chain head (sequence, hash, time) signed by the audit
//!   key, written every `audit.checkpoint_every_entries` entries or `audit.checkpoint_every_secs`
//!   seconds by a background task of the server, on demand (`epermit audit checkpoint`,
//!   `POST /v1/audit/checkpoints`) and at a clean shutdown; each is exported to the append-only
//!   place `audit.checkpoint_export` names, retried until it got there.
//! - [`verify`]: `epermit audit verify`, which checks the chain against every validly signed
//!   checkpoint — from the database and from the exported file, since whoever edits the database
//!   can delete checkpoints too — and names truncation, rewriting and reordering.

pub mod checkpoint;
pub mod key;
pub mod verify;

pub use checkpoint::{CheckpointError, Exporter};
pub use key::AuditKey;
