//! `epermit keys …` (SPEC §4 "Keys"): list, rotate a district key, mark one compromised, rotate
//! the root key. Every command opens the key ring first, so a key file that is missing or holds
//! another key stops it with the file, the kid and the fix named (exit 4).

use std::path::Path;

use crypto::keys::KeyId;
use policy::District;
use serde_json::{Value, json};

use crate::cli::KeysCommand;
use crate::commands::operator::with_store;
use crate::commands::{Outcome, exit};
use crate::keys::{KeyError, KeyRing};
use crate::store::signing_keys::{self, Role, State};
use crate::store::{Store, lists};

/// Who the audit log names for these commands.
const ACTOR: &str = "operator:cli";

/// Runs one `epermit keys` subcommand.
pub fn run(config: Option<&Path>, command: KeysCommand) -> Outcome {
    match command {
        KeysCommand::List => with_ring(config, |_ring, store| async move {
            list(&store).await.map(Outcome::ok)
        }),
        KeysCommand::Rotate { district } => rotate(config, &district),
        KeysCommand::Compromise { kid } => compromise(config, &kid),
        KeysCommand::RotateRoot {
            finish: false,
            announce_days,
        } => with_ring(config, move |ring, store| async move {
            let announce = chrono::Duration::days(i64::from(announce_days));
            let successor = ring.rotate_root(&store, announce, ACTOR).await?;
            eprintln!(
                "epermit: root key {} announced until {}; then run `epermit keys rotate-root --finish`",
                successor.kid, successor.announced_until
            );
            Ok(Outcome::ok(json!({ "successor": successor })))
        }),
        KeysCommand::RotateRoot { finish: true, .. } => {
            with_ring(config, |ring, store| async move {
                let kid = ring.finish_root_rotation(&store, ACTOR).await?;
                let root = ring.list_signer(store.conn()).await?;
                Ok(Outcome::ok(json!({
                    "root_kid": kid,
                    "root_public_key": crypto::keys::public_key_hex(
                        &crypto::signer::Signer::public_key(root.as_ref())
                    ),
                })))
            })
        }
    }
}

/// Opens the settings, the database and the key ring, then runs `f`; a [`KeyError`] becomes the
/// command's error answer.
fn with_ring<F, Fut>(config: Option<&Path>, f: F) -> Outcome
where
    F: FnOnce(KeyRing, Store) -> Fut,
    Fut: Future<Output = Result<Outcome, KeyError>>,
{
    with_store(config, |settings, store| async move {
        let result = match KeyRing::open(&settings.data_dir, &store).await {
            Ok(ring) => f(ring, store).await,
            Err(e) => Err(e),
        };
        result.unwrap_or_else(failed)
    })
}

/// The answer of a failed key command: `{"error": code}`, exit 3 for a refusal, 4 for key files
/// or the database.
fn failed(e: KeyError) -> Outcome {
    eprintln!("epermit: {e}");
    let refused = |code: &str| Outcome::bad_input(json!({ "error": code }));
    match e {
        KeyError::UnknownKid(_) => refused("unknown_kid"),
        KeyError::NotADistrictKey { .. } => refused("not_a_district_key"),
        KeyError::RootRotationPending { .. } => refused("root_rotation_pending"),
        KeyError::NoRootRotation => refused("no_root_rotation"),
        KeyError::AnnouncementRunning { .. } => refused("announcement_running"),
        KeyError::Missing { .. } | KeyError::Swapped { .. } | KeyError::NotAKey { .. } => Outcome {
            json: Some(json!({ "error": "key_file_mismatch" })),
            code: exit::IO,
        },
        KeyError::File { .. }
        | KeyError::Store(_)
        | KeyError::Crypto(_)
        | KeyError::NoActiveKey(_) => Outcome {
            json: Some(json!({ "error": "keys_unavailable" })),
            code: exit::IO,
        },
    }
}

/// `keys list`: every key, and the root public key apps pin.
async fn list(store: &Store) -> Result<Value, KeyError> {
    let db = store.conn();
    let roots = signing_keys::active_roots(db).await?;
    let current = roots.first().map(|r| r.kid.clone());
    let mut keys = Vec::new();
    for row in signing_keys::list(db).await? {
        let (role, district) = match row.role() {
            Role::Root => ("root", None),
            Role::Jwt => ("jwt", None),
            Role::District(code) => ("district", Some(code.to_string())),
        };
        let state = match row.state {
            State::Active if role == "root" && current.as_deref() != Some(row.kid.as_str()) => {
                "next"
            }
            State::Active => "active",
            State::Retired => "retired",
            State::Compromised => "compromised",
        };
        keys.push(json!({
            "kid": row.kid,
            "role": role,
            "district": district,
            "state": state,
            "not_before": row.not_before,
            "not_after": row.not_after,
            "public_key": row.public_key,
        }));
    }
    let root = roots.first();
    let successor = roots.get(1).map(|next| {
        json!({ "kid": next.kid, "public_key": next.public_key, "announced_until": next.not_before })
    });
    Ok(json!({
        "root_kid": root.map(|r| &r.kid),
        "root_public_key": root.map(|r| &r.public_key),
        "root_successor": successor,
        "trust_list_sequence": lists::get(db, lists::ListName::TrustList).await?,
        "keys": keys,
    }))
}

/// `keys rotate --district D`: a new issuing key for `D`; the old one is retired (it stays in the
/// trust list, so what it signed still verifies).
fn rotate(config: Option<&Path>, district: &str) -> Outcome {
    let district: District = match district.parse() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("epermit: --district {district}: {e}");
            return Outcome::bad_input(json!({ "error": e.code() }));
        }
    };
    with_ring(config, move |ring, store| async move {
        let kid = ring.rotate(&store, district, ACTOR).await?;
        Ok(Outcome::ok(json!({ "district": district, "kid": kid })))
    })
}

/// `keys compromise --kid K`.
fn compromise(config: Option<&Path>, kid: &str) -> Outcome {
    let kid = match kid.trim().to_ascii_lowercase().parse::<KeyId>() {
        Ok(kid) => kid.to_string(),
        Err(e) => {
            eprintln!("epermit: --kid {kid}: {e}");
            return Outcome::bad_input(json!({ "error": "invalid_kid" }));
        }
    };
    with_ring(config, move |ring, store| async move {
        let done = ring.compromise(&store, &kid, ACTOR).await?;
        Ok(Outcome::ok(json!({
            "kid": done.kid,
            "district": done.district,
            "state": "compromised",
            "replaced_by": done.replaced_by,
        })))
    })
}
