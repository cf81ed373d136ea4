//! `epermit bundle --out FILE`: the signed verifier bundle (SPEC §5, issue 11 item 6) — the trust
//! list and every status list, as `GET /v1/verifier-bundle` serves them — written to a file that
//! an offline desk or phone loads (`Verifier::load_bundle`). Exit 4 when the keys, the database or
//! the file cannot be used.

use std::path::Path;

use chrono::Utc;
use serde_json::json;

use crate::commands::operator::with_store;
use crate::commands::{Outcome, exit};
use crate::files::write_atomic;
use crate::keys::KeyRing;
use crate::signed_lists::ListCache;

/// Writes the bundle to `out`; prints its size, `iat` and how many status lists it holds.
pub fn run(config: Option<&Path>, out: &Path) -> Outcome {
    with_store(config, |settings, store| async move {
        let failed = |what: &str, e: &dyn std::fmt::Display| {
            eprintln!("epermit: {what}: {e}");
            Outcome {
                json: Some(json!({ "error": "bundle_unavailable" })),
                code: exit::IO,
            }
        };
        let ring = match KeyRing::open(&settings.data_dir, &store).await {
            Ok(ring) => ring,
            Err(e) => return failed("keys", &e),
        };
        let lists = ListCache::new(&settings.public_url, settings.verify_recheck());
        let bundle = match lists.bundle(&store, &ring, Utc::now()).await {
            Ok(bundle) => bundle,
            Err(e) => return failed("bundle", &e),
        };
        let status_lists = match lists.status_list_uris(&store).await {
            Ok(uris) => uris.len(),
            Err(e) => return failed("bundle", &e),
        };
        if let Err(e) = write_atomic(out, &bundle.bytes, false) {
            return failed(&out.display().to_string(), &e);
        }
        Outcome::ok(json!({
            "out": out.display().to_string(),
            "bytes": bundle.bytes.len(),
            "issued_at": bundle.issued_at,
            "status_lists": status_lists,
            "etag": bundle.etag,
        }))
    })
}
