//! Database migrations of the epermit service (sea-orm-migration, SPEC §4 "Storage").
//!
//! The schema is written with sea-query only — never the `api` entity types — so a migration keeps
//! meaning what it meant when it was written. Every migration runs on SQLite (the embedded default)
//! and on PostgreSQL (production); the column types are chosen to be portable to both:
//! ids are auto-increment big integers, instants are `timestamp with time zone`, days are `date`,
//! closed vocabularies are text guarded by a `CHECK`, and the unique constraints that carry
//! correctness under concurrency (one permit per application, unique permit numbers, one resident
//! per phone, an unbroken audit chain) are declared in the schema rather than trusted to code.
#![forbid(unsafe_code)]

pub use sea_orm_migration::MigratorTrait;
use sea_orm_migration::prelude::*;

mod m20260101_000001_initial;
mod m20261201_000001_status_shards;
mod m20261202_000001_staff_lifecycle;
mod m20261202_000002_audit_checkpoints;
mod m20261202_000003_endorsement_once_a_day;
mod m20261202_000004_sealed_at_rest;
// issue 14: idempotency records
mod m20261215_000001_idempotency_records;
// issue 14: the review queue read in index order
mod m20261216_000001_review_queue_order;

/// The ordered list of the service's migrations; `Migrator::up(db, None)` brings a database to
/// the current schema, `Migrator::down(db, None)` removes it again.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20260101_000001_initial::Migration),
            Box::new(m20261201_000001_status_shards::Migration),
            Box::new(m20261202_000001_staff_lifecycle::Migration),
            Box::new(m20261202_000002_audit_checkpoints::Migration),
            Box::new(m20261202_000003_endorsement_once_a_day::Migration),
            Box::new(m20261202_000004_sealed_at_rest::Migration),
            // issue 14: idempotency records
            Box::new(m20261215_000001_idempotency_records::Migration),
            // issue 14: the review queue read in index order
            Box::new(m20261216_000001_review_queue_order::Migration),
        ]
    }
}
