//! End-to-end tests: the service driven over HTTP as its clients drive it, on SQLite + the
//! in-process store, or on PostgreSQL + Redis when `EPERMIT_TEST_DATABASE_URL` /
//! `EPERMIT_TEST_REDIS_URL` are set.

mod access;
mod applications;
mod approval_replay;
mod audit;
mod auth;
mod authorization;
mod bad_input;
mod connections;
mod console_queries;
mod database_outage;
mod docs;
mod identity;
// issue 14: idempotency records, SQLite WAL
mod idempotency;
mod import;
mod keys;
mod lifecycle;
mod lists_over_years;
mod moves;
mod ops;
mod otp_limits;
mod outage;
mod police_lookups;
mod residences;
mod rules_that_bind;
mod screens;
mod sealed;
mod shared_store_outage;
mod sms;
mod sqlite_wal;
// issue 14 item 4: instances starting together
mod first_start;
// issue 14 item 5: a city's worth of data
mod seed;
