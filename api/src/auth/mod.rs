//! Authentication and authorisation (SPEC §4): EdDSA access tokens, roles, passwords, one-time
//! codes and refresh-token families.

pub mod code_sender;
pub mod extract;
pub mod hash_pool;
pub mod jwt;
mod jwt_provider;
pub mod login;
pub mod password;
pub mod revocation;
pub mod session;
pub mod staff_accounts;
