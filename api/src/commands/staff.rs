//! `epermit staff add`: creates a staff account (officer of a district, verifier of an
//! organisation kind, or admin); the password is read from standard input. `epermit staff
//! list|disable|enable|unlock|reset-password`: the staff lifecycle, by the same rules as the admin
//! API ([`crate::auth::staff_accounts`]), audited as `operator:cli`.

use std::io::BufRead;
use std::path::Path;

use policy::District;
use serde_json::json;

use crate::auth::password;
use crate::commands::Outcome;
use crate::store::staff::{self, NewStaff, OrgKind, Role};
use crate::store::{Store, StoreError, audit};

/// Why an account was not created.
#[derive(Debug, thiserror::Error)]
pub enum StaffError {
    /// Bad arguments; the message names which.
    #[error("{0}")]
    Invalid(String),
    /// The username is taken.
    #[error("the username is taken")]
    Taken,
    /// The database failed.
    #[error(transparent)]
    Store(StoreError),
}

impl StaffError {
    fn code(&self) -> &'static str {
        match self {
            StaffError::Invalid(_) => "invalid_argument",
            StaffError::Taken => "username_taken",
            StaffError::Store(_) => "database_error",
        }
    }
}

/// Validates the arguments and creates the account (argon2id hash), audited.
pub async fn add(
    store: &Store,
    username: &str,
    role: &str,
    district: Option<&str>,
    org_kind: Option<&str>,
    password_text: &str,
) -> Result<staff::Model, StaffError> {
    let valid_name = (3..=32).contains(&username.len())
        && username
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-');
    if !valid_name {
        return Err(StaffError::Invalid(
            "--username: 3–32 of a-z, 0-9, _ . -".into(),
        ));
    }
    if password_text.chars().count() < password::MIN_LENGTH {
        return Err(StaffError::Invalid(format!(
            "the password needs at least {} characters",
            password::MIN_LENGTH
        )));
    }
    let (role, district, org_kind) = match (role, district, org_kind) {
        ("officer", Some(d), None) => {
            let d: District = d
                .parse()
                .map_err(|e: policy::Error| StaffError::Invalid(format!("--district: {e}")))?;
            (Role::Officer, Some(i32::from(d)), None)
        }
        ("verifier", None, Some(k)) => {
            let kind = match k {
                "school" => OrgKind::School,
                "hospital" => OrgKind::Hospital,
                "police" => OrgKind::Police,
                _ => {
                    return Err(StaffError::Invalid(
                        "--org-kind: school, hospital or police".into(),
                    ));
                }
            };
            (Role::Verifier, None, Some(kind))
        }
        ("admin", None, None) => (Role::Admin, None, None),
        ("officer", ..) => {
            return Err(StaffError::Invalid(
                "an officer needs --district (and no --org-kind)".into(),
            ));
        }
        ("verifier", ..) => {
            return Err(StaffError::Invalid(
                "a verifier needs --org-kind (and no --district)".into(),
            ));
        }
        ("admin", ..) => {
            return Err(StaffError::Invalid(
                "an admin takes neither --district nor --org-kind".into(),
            ));
        }
        _ => {
            return Err(StaffError::Invalid(
                "--role: officer, verifier or admin".into(),
            ));
        }
    };
    let password_hash =
        password::hash(password_text).map_err(|e| StaffError::Invalid(format!("hashing: {e}")))?;
    let txn = store.begin().await.map_err(StaffError::Store)?;
    let created = staff::create(
        &txn,
        NewStaff {
            username: username.to_owned(),
            password_hash,
            role,
            district,
            org_kind,
        },
    )
    .await
    .map_err(|e| match e {
        StoreError::Conflict(_) => StaffError::Taken,
        e => StaffError::Store(e),
    })?;
    let detail =
        json!({ "username": username, "role": role, "district": district, "org_kind": org_kind });
    audit::append(
        &txn,
        audit::NewEntry::new(
            "operator:cli",
            "staff.add",
            format!("staff:{}", created.id),
            detail,
        ),
        chrono::Utc::now(),
    )
    .await
    .map_err(StaffError::Store)?;
    txn.commit()
        .await
        .map_err(|e| StaffError::Store(e.into()))?;
    Ok(created)
}

/// The first line of standard input (a password), or the outcome to answer when there is none.
fn password_from_stdin(command: &str) -> Result<String, Outcome> {
    let mut line = String::new();
    if std::io::stdin().lock().read_line(&mut line).is_err() || line.trim().is_empty() {
        eprintln!(
            "epermit: give the password on standard input (e.g. `read -s P; echo \"$P\" | epermit staff {command} …`)"
        );
        return Err(Outcome::bad_input(json!({ "error": "password_missing" })));
    }
    Ok(line.trim_end_matches(['\n', '\r']).to_owned())
}

/// An account as `staff list` prints it (no password hash).
fn listed(account: &staff::Model) -> serde_json::Value {
    json!({
        "id": account.id,
        "username": account.username,
        "role": account.role,
        "district": account.district,
        "org_kind": account.org_kind,
        "disabled": account.is_disabled(),
        "disabled_at": account.disabled_since(),
        "failed_logins": account.failed_logins,
        "created_at": account.created_at,
    })
}

/// `epermit staff list|disable|enable|unlock|reset-password` (`add` is [`run`]).
pub fn lifecycle(config: Option<&Path>, command: crate::cli::StaffCommand) -> Outcome {
    use crate::auth::staff_accounts::{self, Change};
    use crate::cli::StaffCommand as C;
    let (username, change) = match command {
        C::Add { .. } => return Outcome::bad_input(json!({ "error": "invalid_argument" })),
        C::List => {
            return crate::commands::operator::with_store(config, |_, store| async move {
                match staff::list(store.conn()).await {
                    Ok(all) => {
                        Outcome::ok(json!({ "staff": all.iter().map(listed).collect::<Vec<_>>() }))
                    }
                    Err(e) => {
                        eprintln!("epermit: {e}");
                        Outcome::bad_input(json!({ "error": "database_error" }))
                    }
                }
            });
        }
        C::Disable { username } => (username, Change::Disable),
        C::Enable { username } => (username, Change::Enable),
        C::Unlock { username } => (username, Change::Unlock),
        C::ResetPassword { username } => {
            let text = match password_from_stdin("reset-password") {
                Ok(text) => text,
                Err(outcome) => return outcome,
            };
            if let Err(e) = password::check_new(&text) {
                eprintln!("epermit: {e}");
                return Outcome::bad_input(json!({ "error": "invalid_argument" }));
            }
            match password::hash(&text) {
                Ok(password_hash) => (username, Change::ResetPassword { password_hash }),
                Err(e) => {
                    eprintln!("epermit: hashing: {e}");
                    return Outcome::bad_input(json!({ "error": "invalid_argument" }));
                }
            }
        }
    };
    crate::commands::operator::with_store(config, |settings, store| async move {
        let account = match staff::find_by_username(store.conn(), username.trim()).await {
            Ok(Some(account)) => account,
            Ok(None) => {
                eprintln!("epermit: no staff account is called {username}");
                return Outcome::bad_input(json!({ "error": "unknown_username" }));
            }
            Err(e) => {
                eprintln!("epermit: {e}");
                return Outcome::bad_input(json!({ "error": "database_error" }));
            }
        };
        let unlock = matches!(change, Change::Unlock);
        match staff_accounts::apply(&store, "operator:cli", account.id, change).await {
            Ok(applied) => {
                // The throttles live in the shared store: with Redis, forget them there too, as
                // the admin API does (with the in-process store they lapse on their own).
                let throttles_forgotten = match crate::auth::revocation::cli_shared_store(&settings)
                {
                    Some(shared) if unlock => {
                        crate::auth::login::forget_throttles(&shared, account.id)
                            .await
                            .is_ok()
                    }
                    _ => false,
                };
                let subject = format!("staff:{}", account.id);
                let mirrored = match applied.epoch {
                    Some(epoch) => {
                        crate::auth::revocation::publish_from_cli(&settings, &subject, epoch).await
                    }
                    None => false,
                };
                let mut answer = listed(&applied.account);
                answer["changed"] = json!(applied.changed);
                if applied.epoch.is_some() {
                    answer["revocation_published"] = json!(mirrored);
                }
                if unlock {
                    answer["throttles_forgotten"] = json!(throttles_forgotten);
                }
                Outcome::ok(answer)
            }
            Err(e) => {
                eprintln!("epermit: {e}");
                Outcome::bad_input(json!({ "error": "database_error" }))
            }
        }
    })
}

/// The CLI: reads the password from the first line of standard input.
pub fn run(
    config: Option<&Path>,
    username: &str,
    role: &str,
    district: Option<&str>,
    org_kind: Option<&str>,
) -> Outcome {
    let mut line = String::new();
    if std::io::stdin().lock().read_line(&mut line).is_err() || line.trim().is_empty() {
        eprintln!(
            "epermit: give the password on standard input (e.g. `read -s P; echo \"$P\" | epermit staff add …`)"
        );
        return Outcome::bad_input(json!({ "error": "password_missing" }));
    }
    let password_text = line.trim_end_matches(['\n', '\r']).to_owned();
    crate::commands::operator::with_store(config, |_, store| async move {
        match add(&store, username, role, district, org_kind, &password_text).await {
            Ok(created) => Outcome::ok(json!({ "id": created.id, "username": created.username })),
            Err(e) => {
                eprintln!("epermit: {e}");
                Outcome::bad_input(json!({ "error": e.code() }))
            }
        }
    })
}
