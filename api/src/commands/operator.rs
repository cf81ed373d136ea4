//! Operator commands on the service's data: `token`, and [`with_store`], which the other
//! operator commands share (`keys …` is in [`crate::commands::keys`], `audit …` in
//! [`crate::commands::audit`]).

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
                .map_err(|e| ("data_key_unavailable", format!("data key: {e}"))),
            Err(e) => Err(("database_unavailable", format!("database: {e}"))),
        };
        match store {
            // The audit key first: every command that writes the log keys its entries with it.
            Ok(store) => match crate::audit::AuditKey::open(&settings.data_dir, &store).await {
                Ok(_) => f(settings, store).await,
                Err(e) => {
                    eprintln!("epermit: audit key: {e}");
                    Outcome {
                        json: Some(json!({ "error": "audit_key_unavailable" })),
                        code: exit::IO,
                    }
                }
            },
            Err((code, e)) => {
                eprintln!("epermit: {e}");
                Outcome {
                    json: Some(json!({ "error": code })),
                    code: exit::IO,
                }
            }
        }
    })
}

/// `epermit token --resident PHONE`: prints an access token for the resident with this phone
/// (created if new) — for support staff and scripted tests; `--seeded ID` names the phone by
/// the seed's rule ([`crate::commands::seed::phone`]).
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
            let now = chrono::Utc::now();
            let txn = store.begin().await.map_err(|e| e.to_string())?;
            let resident = crate::store::residents::find_or_create_by_phone(
                &txn,
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
            let token = jwt.issue(principal, now, ttl).map_err(|e| e.to_string())?;
            // Minting a token is an operator acting as a resident: audited, without the phone.
            let entry = audit::NewEntry::new(
                "operator:cli",
                "token.issue",
                format!("resident:{}", resident.id),
                json!({ "role": "resident", "ttl_secs": ttl.num_seconds() }),
            );
            audit::commit_with_audit(txn, entry, now)
                .await
                .map_err(|e| e.to_string())?;
            Ok::<_, String>(token)
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
