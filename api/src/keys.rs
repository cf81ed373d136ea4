//! The service's keys (SPEC §4 "Keys"): the Jinhua root key (signs the trust and status lists), one
//! issuing key per district (signs permits) and the JWT key, as PKCS#8 v1 PEM files (mode 0600)
//! in `<data dir>/keys/`, with the public halves and their validity in the `signing_keys` table.
//!
//! Keys are generated only on the first start, when `signing_keys` is empty. Afterwards the
//! database is the record of which keys exist: a key it names whose file is missing, or whose file
//! holds another key, stops start-up ([`KeyError::Missing`], [`KeyError::Swapped`]) — never a
//! silent new key, which would break every verifier that pinned the old one.
//!
//! Files: `root.key` (the first root key), `root-<kid>.key` (later root keys, see
//! [`KeyRing::rotate_root`]), `jwt.key`, `district-<code>-<kid>.key`. Several instances share one
//! key directory and one database: new keys are written by the CLI and found by running servers
//! through the database, their files read on first use.
//!
//! Signing goes through [`crypto::signer::Signer`], so an HSM can replace the files: only this
//! module knows where secrets live. The active key of a district is looked up in the database
//! for every signature, so a key rotated by `epermit keys rotate` is used at once by running
//! servers.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, SubsecRound, Utc};
use crypto::keys::{KeyId, VerifyingKey, public_key_hex};
use crypto::signer::{KeyFileSigner, Signer};
use crypto::trust_list::{KeyState, TrustList, TrustedKey};
use policy::District;
use sea_orm::{ConnectionTrait, DatabaseTransaction};

use crate::store::signing_keys::{self, Role};
use crate::store::{Store, StoreError, audit, lists};

/// The file of the root key generated on first start.
pub const ROOT_FILE: &str = "root.key";
/// The file of the JWT key.
pub const JWT_FILE: &str = "jwt.key";

const FIX: &str = "restore it from your key backup, or point EPERMIT_DATA_DIR at the right volume";

/// What can go wrong with keys.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// A key file could not be read or written.
    #[error("key file {path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The database knows a key whose file is not there.
    #[error(
        "the key file {path} of key {kid} is missing: {fix} (the database knows this key, so no \
         new key is generated)",
        fix = FIX
    )]
    Missing {
        /// The file.
        path: PathBuf,
        /// The key the database names.
        kid: String,
    },
    /// A key file holds another key than the one the database names.
    #[error(
        "the key file {path} holds key {found}, not key {kid} that the database names: {fix}",
        fix = FIX
    )]
    Swapped {
        /// The file.
        path: PathBuf,
        /// The key the database names.
        kid: String,
        /// The key in the file.
        found: String,
    },
    /// A key file does not hold an Ed25519 PKCS#8 private key.
    #[error(
        "the key file {path} of key {kid} is not an Ed25519 PKCS#8 PEM private key: {fix}",
        fix = FIX
    )]
    NotAKey {
        /// The file.
        path: PathBuf,
        /// The key the database names.
        kid: String,
    },
    /// The database.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Encoding a key failed.
    #[error(transparent)]
    Crypto(#[from] crypto::Error),
    /// A district (or the root) has no active key (the database was changed by hand).
    #[error("no active key for {0}")]
    NoActiveKey(String),
    /// No key has this kid.
    #[error("no key has the kid {0}")]
    UnknownKid(String),
    /// Only district keys can be marked compromised here.
    #[error(
        "{kid} is the {role} key: only district keys can be marked compromised (a compromised \
         root key needs new pinned keys in every app; a JWT key, a new jwt.key and a restart)"
    )]
    NotADistrictKey {
        /// The kid.
        kid: String,
        /// `root` or `jwt`.
        role: &'static str,
    },
    /// `rotate-root` while a successor is announced.
    #[error(
        "the root key {kid} is already announced as successor: finish that rotation first \
         (`epermit keys rotate-root --finish`, from {earliest})"
    )]
    RootRotationPending {
        /// The announced successor.
        kid: String,
        /// When the announcement has run long enough.
        earliest: DateTime<Utc>,
    },
    /// `rotate-root --finish` with no successor announced.
    #[error("no successor root key is announced: run `epermit keys rotate-root` first")]
    NoRootRotation,
    /// `rotate-root --finish` before the announcement has run its course.
    #[error(
        "the successor root key {kid} is announced until {earliest}: finishing earlier would cut \
         off verifiers that were offline since the announcement began"
    )]
    AnnouncementRunning {
        /// The announced successor.
        kid: String,
        /// When the announcement has run long enough.
        earliest: DateTime<Utc>,
    },
}

/// The key files and a cache of the secrets already read.
pub struct KeyRing {
    dir: PathBuf,
    root: Arc<KeyFileSigner>,
    jwt: KeyFileSigner,
    loaded: Mutex<HashMap<String, Arc<KeyFileSigner>>>,
}

/// What [`KeyRing::compromise`] did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Compromised {
    /// The key marked compromised.
    pub kid: String,
    /// Its district.
    pub district: District,
    /// The fresh active key that replaces it, when it was the district's active key.
    pub replaced_by: Option<String>,
}

/// An announced successor root key ([`KeyRing::rotate_root`]).
#[derive(Debug, Clone, serde::Serialize)]
pub struct RootSuccessor {
    /// Its kid.
    pub kid: String,
    /// Its public key, 64 hex digits (what apps pin).
    pub public_key: String,
    /// The earliest time the rotation may be finished.
    pub announced_until: DateTime<Utc>,
}

/// Reads the key `kid` from `path`: [`KeyError::Missing`] when there is no file,
/// [`KeyError::Swapped`] when it holds another key.
pub(crate) fn load(path: &Path, kid: &str) -> Result<KeyFileSigner, KeyError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(KeyError::Missing {
                path: path.to_owned(),
                kid: kid.to_owned(),
            });
        }
        Err(source) => {
            return Err(KeyError::File {
                path: path.to_owned(),
                source,
            });
        }
    };
    let key = KeyFileSigner::from_key_file(&text).map_err(|_| KeyError::NotAKey {
        path: path.to_owned(),
        kid: kid.to_owned(),
    })?;
    let found = key.key_id().to_string();
    if found != kid {
        return Err(KeyError::Swapped {
            path: path.to_owned(),
            kid: kid.to_owned(),
            found,
        });
    }
    Ok(key)
}

/// Writes a new key file (PKCS#8 v1 PEM, mode 0600) through a temporary file; never replaces an
/// existing file.
pub(crate) fn write_new(path: &Path, key: &KeyFileSigner) -> Result<(), KeyError> {
    let io = |source: std::io::Error| KeyError::File {
        path: path.to_owned(),
        source,
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io)?;
    let pem = key.to_key_file()?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(io)?;
    }
    tmp.write_all(pem.as_bytes()).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist_noclobber(path).map_err(|e| io(e.error))?;
    Ok(())
}

/// The key in `path` if the file exists (a key kept from an earlier database), else a new key
/// written there. Only for the first start.
pub(crate) fn adopt_or_generate(path: &Path) -> Result<(KeyFileSigner, bool), KeyError> {
    match std::fs::read_to_string(path) {
        Ok(text) => KeyFileSigner::from_key_file(&text)
            .map(|key| (key, true))
            .map_err(|_| KeyError::NotAKey {
                path: path.to_owned(),
                kid: "(none yet)".to_owned(),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = KeyFileSigner::generate();
            write_new(path, &key)?;
            Ok((key, false))
        }
        Err(source) => Err(KeyError::File {
            path: path.to_owned(),
            source,
        }),
    }
}

fn district_file(dir: &Path, district: District, kid: &str) -> PathBuf {
    dir.join(format!("district-{}-{kid}.key", district.code()))
}

/// The file of root key `kid`: `root.key` for the first root key (`first_kid`), else
/// `root-<kid>.key`.
fn root_file(dir: &Path, kid: &str, first_kid: &str) -> PathBuf {
    if kid == first_kid {
        dir.join(ROOT_FILE)
    } else {
        dir.join(format!("root-{kid}.key"))
    }
}

/// The kid of the first root key (the one in `root.key`): the oldest root row.
async fn first_root_kid<C: ConnectionTrait>(db: &C) -> Result<Option<String>, KeyError> {
    Ok(signing_keys::list(db)
        .await?
        .into_iter()
        .filter(|k| k.role() == Role::Root)
        .min_by_key(|k| (k.not_before, k.created_at))
        .map(|k| k.kid))
}

fn district_of(row: &signing_keys::Model) -> Option<District> {
    match row.role() {
        Role::District(code) => u32::try_from(code).ok().and_then(District::from_code),
        Role::Root | Role::Jwt => None,
    }
}

/// Now in whole seconds, as credentials carry `iat`: a permit signed in the key's first second
/// must not look issued before the key was valid.
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(0)
}

/// When a key whose validity ends `now` stops being valid: `now`, but at least a second after
/// it became valid (a trust list holds no empty validity, SPEC §2), for a key replaced in its
/// first second.
fn ends(row: &signing_keys::Model, now: DateTime<Utc>) -> DateTime<Utc> {
    now.max(row.not_before + chrono::Duration::seconds(1))
}

impl KeyRing {
    /// Opens the key ring in `<data_dir>/keys`.
    ///
    /// On the first start (no key in the database) it generates the root key, the JWT key and an
    /// issuing key for every district, and registers their public halves; a `root.key` or
    /// `jwt.key` already there is kept, never overwritten. On every later start it reads every
    /// key the database holds as active (and the JWT key) and checks that each file holds the
    /// key the database names; it generates nothing.
    pub async fn open(data_dir: &Path, store: &Store) -> Result<KeyRing, KeyError> {
        let dir = data_dir.join("keys");
        let now = now();
        let txn = store.begin().await?;
        let rows = signing_keys::list(&txn).await?;
        let ring = if rows.is_empty() {
            Self::first_start(dir, &txn, now).await?
        } else {
            Self::check(dir, &txn, &rows, now).await?
        };
        txn.commit().await.map_err(StoreError::from)?;
        Ok(ring)
    }

    async fn first_start(
        dir: PathBuf,
        db: &DatabaseTransaction,
        now: DateTime<Utc>,
    ) -> Result<KeyRing, KeyError> {
        let (root, root_kept) = adopt_or_generate(&dir.join(ROOT_FILE))?;
        let (jwt, jwt_kept) = adopt_or_generate(&dir.join(JWT_FILE))?;
        for (key, role) in [(&root, Role::Root), (&jwt, Role::Jwt)] {
            signing_keys::insert(
                db,
                &key.key_id().to_string(),
                role.column(),
                &public_key_hex(&key.public_key()),
                now,
            )
            .await?;
        }
        let ring = KeyRing {
            dir,
            root: Arc::new(root),
            jwt,
            loaded: Mutex::new(HashMap::new()),
        };
        ring.remember(ring.root.key_id().to_string(), Arc::clone(&ring.root));
        let mut added = Vec::new();
        for district in District::ALL {
            added.push(ring.add_district_key(db, district, now).await?);
        }
        lists::bump(db, lists::ListName::TrustList).await?;
        let detail = serde_json::json!({
            "root": ring.root.key_id(),
            "root_kept_from_file": root_kept,
            "jwt": ring.jwt.key_id(),
            "jwt_kept_from_file": jwt_kept,
            "kids": added,
        });
        audit::append(
            db,
            audit::NewEntry::new("system", "keys.generate", "trust_list", detail),
            now,
        )
        .await?;
        Ok(ring)
    }

    async fn check(
        dir: PathBuf,
        db: &DatabaseTransaction,
        rows: &[signing_keys::Model],
        now: DateTime<Utc>,
    ) -> Result<KeyRing, KeyError> {
        let first_root = first_root_kid(db)
            .await?
            .ok_or_else(|| KeyError::NoActiveKey("the root".to_owned()))?;
        let mut loaded = HashMap::new();
        let roots = signing_keys::active_roots(db).await?;
        for row in &roots {
            let key = load(&root_file(&dir, &row.kid, &first_root), &row.kid)?;
            loaded.insert(row.kid.clone(), Arc::new(key));
        }
        let root = roots
            .first()
            .and_then(|r| loaded.get(&r.kid).cloned())
            .ok_or_else(|| KeyError::NoActiveKey("the root".to_owned()))?;
        for row in rows {
            let Some(district) = district_of(row) else {
                continue;
            };
            if row.state == signing_keys::State::Active {
                let key = load(&district_file(&dir, district, &row.kid), &row.kid)?;
                loaded.insert(row.kid.clone(), Arc::new(key));
            }
        }
        let jwt_path = dir.join(JWT_FILE);
        let jwt = match rows.iter().find(|k| k.role() == Role::Jwt) {
            Some(row) => load(&jwt_path, &row.kid)?,
            None => Self::record_jwt(&jwt_path, db, now).await?,
        };
        Ok(KeyRing {
            dir,
            root,
            jwt,
            loaded: Mutex::new(loaded),
        })
    }

    /// An installation from before the JWT key was recorded: its `jwt.key` is recorded now.
    async fn record_jwt(
        path: &Path,
        db: &DatabaseTransaction,
        now: DateTime<Utc>,
    ) -> Result<KeyFileSigner, KeyError> {
        let text = std::fs::read_to_string(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => KeyError::Missing {
                path: path.to_owned(),
                kid: "jwt".to_owned(),
            },
            _ => KeyError::File {
                path: path.to_owned(),
                source: e,
            },
        })?;
        let jwt = KeyFileSigner::from_key_file(&text).map_err(|_| KeyError::NotAKey {
            path: path.to_owned(),
            kid: "jwt".to_owned(),
        })?;
        let kid = jwt.key_id().to_string();
        signing_keys::insert(
            db,
            &kid,
            Role::Jwt.column(),
            &public_key_hex(&jwt.public_key()),
            now,
        )
        .await?;
        audit::append(
            db,
            audit::NewEntry::new(
                "system",
                "keys.record",
                "jwt",
                serde_json::json!({ "kid": kid }),
            ),
            now,
        )
        .await?;
        Ok(jwt)
    }

    async fn add_district_key<C: ConnectionTrait>(
        &self,
        db: &C,
        district: District,
        now: DateTime<Utc>,
    ) -> Result<String, KeyError> {
        let key = KeyFileSigner::generate();
        let kid = key.key_id().to_string();
        write_new(&district_file(&self.dir, district, &kid), &key)?;
        signing_keys::insert(
            db,
            &kid,
            Some(i32::from(district)),
            &public_key_hex(&key.public_key()),
            now,
        )
        .await?;
        self.remember(kid.clone(), Arc::new(key));
        Ok(kid)
    }

    /// Adds a new issuing key for `district` and retires the old one as of now: the old key stays
    /// in the trust list as retired, so what it signed still verifies. Returns the new kid.
    pub async fn rotate(
        &self,
        store: &Store,
        district: District,
        actor: &str,
    ) -> Result<String, KeyError> {
        let now = now();
        let txn = store.begin().await?;
        let old = signing_keys::active_for(&txn, Some(i32::from(district))).await?;
        let kid = self.add_district_key(&txn, district, now).await?;
        if let Some(old) = &old {
            signing_keys::retire(&txn, &old.kid, ends(old, now)).await?;
        }
        lists::bump(&txn, lists::ListName::TrustList).await?;
        let detail =
            serde_json::json!({ "district": district, "new": kid, "retired": old.map(|o| o.kid) });
        audit::append(
            &txn,
            audit::NewEntry::new(actor, "keys.rotate", "trust_list", detail),
            now,
        )
        .await?;
        txn.commit().await.map_err(StoreError::from)?;
        Ok(kid)
    }

    /// Marks the district key `kid` compromised (from any state; its validity ends now, or when
    /// it was retired) and bumps the trust-list sequence, in one audited transaction. When it was
    /// its district's active key, a fresh active key replaces it so the district keeps issuing.
    /// Marking a key already compromised changes nothing.
    pub async fn compromise(
        &self,
        store: &Store,
        kid: &str,
        actor: &str,
    ) -> Result<Compromised, KeyError> {
        let now = now();
        let txn = store.begin().await?;
        let row = signing_keys::get(&txn, kid)
            .await?
            .ok_or_else(|| KeyError::UnknownKid(kid.to_owned()))?;
        let district = match row.role() {
            Role::Root => {
                return Err(KeyError::NotADistrictKey {
                    kid: kid.to_owned(),
                    role: "root",
                });
            }
            Role::Jwt => {
                return Err(KeyError::NotADistrictKey {
                    kid: kid.to_owned(),
                    role: "jwt",
                });
            }
            Role::District(_) => {
                district_of(&row).ok_or_else(|| KeyError::UnknownKid(kid.into()))?
            }
        };
        if row.state == signing_keys::State::Compromised {
            return Ok(Compromised {
                kid: row.kid,
                district,
                replaced_by: None,
            });
        }
        let not_after = row.not_after.unwrap_or_else(|| ends(&row, now));
        signing_keys::mark_compromised(&txn, kid, not_after).await?;
        let replaced_by = if row.state == signing_keys::State::Active {
            Some(self.add_district_key(&txn, district, now).await?)
        } else {
            None
        };
        lists::bump(&txn, lists::ListName::TrustList).await?;
        let outcome = Compromised {
            kid: row.kid,
            district,
            replaced_by,
        };
        audit::append(
            &txn,
            audit::NewEntry::new(
                actor,
                "keys.compromise",
                "trust_list",
                serde_json::to_value(&outcome).unwrap_or_default(),
            ),
            now,
        )
        .await?;
        txn.commit().await.map_err(StoreError::from)?;
        Ok(outcome)
    }

    /// Starts a root-key rotation: generates the successor root key (`root-<kid>.key`) and
    /// records it as an active root key that does not sign yet. From now on the trust list is
    /// still signed by the current root key and names the successor, so that verifiers pinning
    /// the current key move to the successor without an app update. The rotation can be
    /// finished ([`KeyRing::finish_root_rotation`]) once `announce` has passed.
    pub async fn rotate_root(
        &self,
        store: &Store,
        announce: chrono::Duration,
        actor: &str,
    ) -> Result<RootSuccessor, KeyError> {
        let now = now();
        let txn = store.begin().await?;
        let roots = signing_keys::active_roots(&txn).await?;
        if let Some(pending) = roots.get(1) {
            return Err(KeyError::RootRotationPending {
                kid: pending.kid.clone(),
                earliest: pending.not_before,
            });
        }
        let first = first_root_kid(&txn)
            .await?
            .ok_or_else(|| KeyError::NoActiveKey("the root".to_owned()))?;
        let key = KeyFileSigner::generate();
        let kid = key.key_id().to_string();
        write_new(&root_file(&self.dir, &kid, &first), &key)?;
        let announced_until = now + announce;
        let public_key = public_key_hex(&key.public_key());
        signing_keys::insert(
            &txn,
            &kid,
            Role::Root.column(),
            &public_key,
            announced_until,
        )
        .await?;
        lists::bump(&txn, lists::ListName::TrustList).await?;
        let successor = RootSuccessor {
            kid,
            public_key,
            announced_until,
        };
        let detail = serde_json::json!({
            "current": roots.first().map(|r| &r.kid),
            "successor": successor,
        });
        audit::append(
            &txn,
            audit::NewEntry::new(actor, "keys.rotate_root", "trust_list", detail),
            now,
        )
        .await?;
        txn.commit().await.map_err(StoreError::from)?;
        self.remember(successor.kid.clone(), Arc::new(key));
        Ok(successor)
    }

    /// Finishes a root-key rotation once its announcement has run: the current root key is
    /// retired, the successor signs the trust and status lists from now on (both sequences are
    /// bumped, so every instance signs them again). Returns the new root's kid.
    pub async fn finish_root_rotation(
        &self,
        store: &Store,
        actor: &str,
    ) -> Result<String, KeyError> {
        let now = now();
        let txn = store.begin().await?;
        let roots = signing_keys::active_roots(&txn).await?;
        let (Some(current), Some(next)) = (roots.first(), roots.get(1)) else {
            return Err(KeyError::NoRootRotation);
        };
        if now < next.not_before {
            return Err(KeyError::AnnouncementRunning {
                kid: next.kid.clone(),
                earliest: next.not_before,
            });
        }
        // The successor's file must be readable before the old key is let go.
        self.root_signer(&txn, &next.kid).await?;
        signing_keys::retire(&txn, &current.kid, ends(current, now)).await?;
        lists::bump(&txn, lists::ListName::TrustList).await?;
        lists::bump(&txn, lists::ListName::StatusList).await?;
        let detail = serde_json::json!({ "retired": current.kid, "root": next.kid });
        audit::append(
            &txn,
            audit::NewEntry::new(actor, "keys.finish_root_rotation", "trust_list", detail),
            now,
        )
        .await?;
        txn.commit().await.map_err(StoreError::from)?;
        Ok(next.kid.clone())
    }

    /// The root key that signs the trust and status lists now: the oldest active root key (a
    /// newer one is an announced successor), read from its file the first time. Running servers
    /// call this for every signature, so a rotation finished by the CLI is used at once.
    pub async fn list_signer<C: ConnectionTrait>(
        &self,
        db: &C,
    ) -> Result<Arc<KeyFileSigner>, KeyError> {
        let roots = signing_keys::active_roots(db).await?;
        let current = roots
            .first()
            .ok_or_else(|| KeyError::NoActiveKey("the root".to_owned()))?;
        self.root_signer(db, &current.kid).await
    }

    async fn root_signer<C: ConnectionTrait>(
        &self,
        db: &C,
        kid: &str,
    ) -> Result<Arc<KeyFileSigner>, KeyError> {
        if let Some(key) = self.cached(kid) {
            return Ok(key);
        }
        let first = first_root_kid(db).await?.unwrap_or_default();
        let key = Arc::new(load(&root_file(&self.dir, kid, &first), kid)?);
        self.remember(kid.to_owned(), Arc::clone(&key));
        Ok(key)
    }

    /// The root key that signed the lists when this ring was opened.
    pub fn root(&self) -> Arc<KeyFileSigner> {
        Arc::clone(&self.root)
    }

    /// The JWT key.
    pub fn jwt(&self) -> &KeyFileSigner {
        &self.jwt
    }

    /// The active issuing key of `district`, read from its file the first time.
    pub async fn issuer<C: ConnectionTrait>(
        &self,
        db: &C,
        district: District,
    ) -> Result<Arc<KeyFileSigner>, KeyError> {
        let row = signing_keys::active_for(db, Some(i32::from(district)))
            .await?
            .ok_or_else(|| KeyError::NoActiveKey(district.to_string()))?;
        if let Some(key) = self.cached(&row.kid) {
            return Ok(key);
        }
        let key = Arc::new(load(
            &district_file(&self.dir, district, &row.kid),
            &row.kid,
        )?);
        self.remember(row.kid, Arc::clone(&key));
        Ok(key)
    }

    fn cached(&self, kid: &str) -> Option<Arc<KeyFileSigner>> {
        self.loaded.lock().ok().and_then(|l| l.get(kid).cloned())
    }

    fn remember(&self, kid: String, key: Arc<KeyFileSigner>) {
        if let Ok(mut loaded) = self.loaded.lock() {
            loaded.insert(kid, key);
        }
    }
}

/// The announced successor of the root key, if a root rotation is under way: the trust list
/// names it (payload key 5, `TrustList::successor`) so verifiers pinning the current root move
/// to it.
pub async fn announced_successor<C: ConnectionTrait>(
    db: &C,
) -> Result<Option<VerifyingKey>, KeyError> {
    let roots = signing_keys::active_roots(db).await?;
    match roots.get(1) {
        Some(next) => Ok(Some(crypto::keys::parse_public_key_hex(&next.public_key)?)),
        None => Ok(None),
    }
}

/// The trust list as the database describes it now (unsigned): every district key with its
/// validity and state, under the current trust-list sequence, valid for `valid_for`.
pub async fn trust_list<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    valid_for: chrono::Duration,
) -> Result<TrustList, KeyError> {
    let mut keys = Vec::new();
    for row in signing_keys::list(db).await? {
        let Some(district) = district_of(&row) else {
            continue;
        };
        let public_key = crypto::keys::parse_public_key_hex(&row.public_key)?;
        let kid = KeyId::of(&public_key);
        keys.push(TrustedKey {
            kid,
            district,
            public_key,
            not_before: row.not_before,
            not_after: row.not_after,
            state: match row.state {
                signing_keys::State::Active => KeyState::Active,
                signing_keys::State::Retired => KeyState::Retired,
                signing_keys::State::Compromised => KeyState::Compromised,
            },
        });
    }
    let sequence = lists::get(db, lists::ListName::TrustList).await?;
    // During a root rotation the list names the announced successor (payload key 5): a verifier
    // pinning the current root moves to it (SPEC §2, README "Rotating the root key").
    let successor = announced_successor(db).await?;
    Ok(TrustList {
        sequence: u64::try_from(sequence).unwrap_or(0),
        issued_at: now,
        expires_at: now + valid_for,
        keys,
        successor,
    })
}
