//! The state changes of the service, one function each, in a module named after it: a workflow
//! takes an open transaction's store, the caller and domain values, checks the rules that bind
//! at that moment, writes, and ends in one [`commit_with_audit`](crate::store::audit::commit_with_audit)
//! — so a change and its audit entry land together or not at all (SPEC §4 "Audit", "Errors").
//!
//! | SPEC | state change | home |
//! | --- | --- | --- |
//! | §1.1 | declare, end, confirm a registration | [`registration`] |
//! | §1.2 | apply | [`application`] |
//! | §1.3 | approve (issue), reject | [`issue`], [`application::reject`] |
//! | §1.4 | endorse | [`endorsement`] |
//! | §2 | bind a holder key | [`holder_key`] |
//! | §1.5 | suspend, restore, revoke | [`permit_status`] |
//! | §4 | set the profile | [`profile`] |
//! | §4 | police look-ups and evidence downloads (audited reads) | [`records`] |
//!
//! Handlers (in [`crate::routes`]) only extract, authorise, call one of these and respond.

pub mod application;
pub mod endorsement;
pub mod holder_key;
pub mod issue;
pub mod permit_status;
pub mod profile;
pub mod records;
pub mod registration;

use sea_orm::{DatabaseTransaction, EntityTrait, QuerySelect};

use crate::error::{ApiError, ApiResult};
use crate::store::residents;

/// The audit-log name of a resident: `resident:12`.
pub fn resident_actor(resident: i64) -> String {
    format!("resident:{resident}")
}

/// Locks the resident's row until the transaction ends (`SELECT … FOR UPDATE` on PostgreSQL;
/// SQLite transactions are serialised already), so one resident's concurrent changes queue
/// instead of both passing a check such as "no open registration". Returns the row as locked.
pub(crate) async fn lock_resident(
    txn: &DatabaseTransaction,
    resident: i64,
) -> ApiResult<residents::Model> {
    residents::Entity::find_by_id(resident)
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or(ApiError::NotFound("resident"))
}
