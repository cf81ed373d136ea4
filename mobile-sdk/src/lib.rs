//! The mobile SDK (SPEC §5). Its exported surface is built in its own issue; until then the crate
//! only proves that `crypto` and `policy` build without `api`, tokio or a database.
#![forbid(unsafe_code)]
