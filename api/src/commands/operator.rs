//! Operator commands on the service's data: `audit verify`, `token`, and [`with_store`], which
//! the other operator commands share (`keys …` is in [`crate::commands::keys`]).

use std::path::Path;

use serde_json::json;

use crate::commands::{Outcome, exit};
use crate::config::Settings;
use crate::keys::KeyRing;
use crate::store::{Store, audit};

/// Loads the settings, opens the database and runs `f` on an actix runtime.
pub fn with_store<F, Fut>(config: Option<&Path>, f: F) -> Outcome
where
    F: FnOnce(Settings, Store) -> Fut,
    Fut: Future<Output = Outcome>,
{
    let settings = match Settings::load(config) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("epermit: {e}");
            return Outcome::bad_input(json!({ "error": "invalid_settings" }));
        }
    };
    actix_web::rt::System::new().block_on(async move {
        use secrecy::ExposeSecret;
        let store = match Store::connect(settings.database_url().expose_secret()).await {
            Ok(store) => crate::sealing::open(&settings.data_dir, &store)
                .await
                .map(|sealer| store.with_sealer(std::sync::Arc::new(sealer)))
                .map_err(|e| e.to_string()),
            Err(e) => Err(format!("database: {e}")),
        };
        match store {
            Ok(store) => f(settings, store).await,
            Err(e) => {
                eprintln!("epermit: {e}");
                Outcome {
                    json: Some(json!({ "error": "database_unavailable" })),
                    code: exit::IO,
                }
            }
        }
    })
}

/// `epermit audit verify`: walks the hash chain; exits 1 naming the first broken link.
pub fn verify_audit(config: Option<&Path>) -> Outcome {
    with_store(config, |_, store| async move {
        match audit::verify_chain(store.conn()).await {
            Ok(entries) => Outcome::ok(json!({ "status": "intact", "entries": entries })),
            Err(audit::AuditError::BrokenLink { id }) => {
                eprintln!("epermit: the audit chain is broken at entry {id}");
                Outcome {
                    json: Some(json!({ "status": "broken", "first_broken_id": id })),
                    code: exit::NOT_VALID,
                }
            }
            Err(e) => {
                eprintln!("epermit: {e}");
                Outcome {
                    json: Some(json!({ "error": "database_unavailable" })),
                    code: exit::IO,
                }
            }
        }
    })
}

/// `epermit token --resident PHONE`: prints an access token for the resident with this phone
/// (created if new) — for support staff and scripted tests.
pub fn resident_token(config: Option<&Path>, phone: &str) -> Outcome {
    let phone = match crate::domain::PhoneNumber::parse(phone) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("epermit: --resident: {e}");
            return Outcome::bad_input(json!({ "error": "invalid_phone" }));
        }
    };
    with_store(config, |settings, store| async move {
        let result = async {
            let ring = KeyRing::open(&settings.data_dir, &store)
                .await
                .map_err(|e| e.to_string())?;
            let jwt = crate::auth::jwt::JwtKeys::new(ring.jwt()).map_err(|e| e.to_string())?;
            let resident = crate::store::residents::find_or_create_by_phone(
                store.conn(),
                store.sealer().map_err(|e| e.to_string())?,
                phone.expose(),
            )
            .await
            .map_err(|e| e.to_string())?;
            let principal = crate::auth::jwt::Principal {
                subject: crate::auth::jwt::Subject::Resident(resident.id),
                role: crate::auth::jwt::Role::Resident,
            };
            let ttl = chrono::Duration::seconds(
                i64::try_from(settings.tokens.access_ttl_secs).unwrap_or(900),
            );
            jwt.issue(principal, chrono::Utc::now(), ttl)
                .map_err(|e| e.to_string())
        }
        .await;
        match result {
            Ok(token) => Outcome::ok(json!({ "access_token": token, "token_type": "Bearer" })),
            Err(e) => {
                eprintln!("epermit: {e}");
                Outcome {
                    json: Some(json!({ "error": "token_failed" })),
                    code: exit::IO,
                }
            }
        }
    })
}
