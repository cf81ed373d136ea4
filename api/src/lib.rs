#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod audit;
pub mod auth;
pub mod cli;
pub mod commands;
pub mod config;
pub mod domain;
pub mod error;
pub mod files;
pub mod idempotency;
pub mod issuance;
pub mod keys;
pub mod metrics;
pub mod openapi;
pub mod qr_image;
pub mod routes;
pub mod screens;
pub mod sealing;
pub mod shared_state;
pub mod signed_lists;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod wire;
pub mod workflows;
