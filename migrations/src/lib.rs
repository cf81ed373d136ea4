//! Database migrations of the epermit service (sea-orm-migration). Built in the service issue.
#![forbid(unsafe_code)]
