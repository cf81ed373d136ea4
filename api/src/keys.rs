//! The service's keys (SPEC §4 "Keys"): the Jinhua root key (signs the trust and status lists), one
//! issuing key per district (signs permits) and the JWT key, as PKCS#8 PEM files (mode 0600) in
//! `<data dir>/keys/`, with the public halves and their validity in the `signing_keys` table.
//!
//! Signing goes through [`crypto::signer::Signer`], so an HSM can replace the files: only this
//! module knows where secrets live. The active key of a district is looked up in the database
//! for every signature, so a key rotated by `epermit keys rotate` is used at once by running
//! servers.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, SubsecRound, Utc};
use crypto::keys::{KeyId, public_key_hex};
use crypto::signer::{KeyFileSigner, Signer};
use crypto::trust_list::{KeyState, TrustList, TrustedKey};
use policy::District;

use crate::files::write_atomic;
use crate::store::{Store, StoreError, audit, lists, signing_keys};

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
    /// A key file does not hold an Ed25519 key, or not the one the database names.
    #[error("key file {0} does not hold the expected Ed25519 key")]
    Mismatch(PathBuf),
    /// The database.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Encoding a key failed.
    #[error(transparent)]
    Crypto(#[from] crypto::Error),
    /// A district has no active key (the database was changed by hand).
    #[error("no active key for {0}")]
    NoActiveKey(String),
}

/// The key files and a cache of the secrets already read.
pub struct KeyRing {
    dir: PathBuf,
    root: Arc<KeyFileSigner>,
    jwt: KeyFileSigner,
    loaded: Mutex<HashMap<String, Arc<KeyFileSigner>>>,
}

fn read_key(path: &Path) -> Result<KeyFileSigner, KeyError> {
    let text = std::fs::read_to_string(path).map_err(|source| KeyError::File {
        path: path.to_owned(),
        source,
    })?;
    KeyFileSigner::from_key_file(&text).map_err(|_| KeyError::Mismatch(path.to_owned()))
}

fn write_key(path: &Path, key: &KeyFileSigner) -> Result<(), KeyError> {
    let pem = key.to_key_file()?;
    write_atomic(path, pem.as_bytes(), true).map_err(|source| KeyError::File {
        path: path.to_owned(),
        source,
    })
}

fn read_or_create(path: &Path) -> Result<KeyFileSigner, KeyError> {
    if path.exists() {
        read_key(path)
    } else {
        let key = KeyFileSigner::generate();
        write_key(path, &key)?;
        Ok(key)
    }
}

fn district_file(dir: &Path, district: District, kid: &str) -> PathBuf {
    dir.join(format!("district-{}-{kid}.key", district.code()))
}

impl KeyRing {
    /// Opens the key ring in `<data_dir>/keys`, generating on first start the root key, the JWT
    /// key and an issuing key for every district that has none, and registering their public
    /// halves. Idempotent.
    pub async fn open(data_dir: &Path, store: &Store) -> Result<KeyRing, KeyError> {
        let dir = data_dir.join("keys");
        let root = read_or_create(&dir.join("root.key"))?;
        let jwt = read_or_create(&dir.join("jwt.key"))?;
        let ring = KeyRing {
            dir,
            root: Arc::new(root),
            jwt,
            loaded: Mutex::new(HashMap::new()),
        };
        // Whole seconds, as credentials carry `iat`: a permit signed in the key's first second
        // must not look issued before the key was valid.
        let now = Utc::now().trunc_subsecs(0);
        let txn = store.begin().await?;
        let root_kid = ring.root.key_id().to_string();
        if signing_keys::list(&txn)
            .await?
            .iter()
            .all(|k| k.kid != root_kid)
        {
            signing_keys::insert(
                &txn,
                &root_kid,
                None,
                &public_key_hex(&ring.root.public_key()),
                now,
            )
            .await?;
        }
        let mut added = Vec::new();
        for district in District::ALL {
            if signing_keys::active_for(&txn, Some(i32::from(district)))
                .await?
                .is_none()
            {
                added.push(ring.add_district_key(&txn, district, now).await?);
            }
        }
        if !added.is_empty() {
            lists::bump(&txn, lists::ListName::TrustList).await?;
            let detail = serde_json::json!({ "kids": added });
            audit::append(
                &txn,
                audit::NewEntry::new("system", "keys.generate", "trust_list", detail),
                now,
            )
            .await?;
        }
        txn.commit().await.map_err(StoreError::from)?;
        Ok(ring)
    }

    async fn add_district_key<C: sea_orm::ConnectionTrait>(
        &self,
        db: &C,
        district: District,
        now: DateTime<Utc>,
    ) -> Result<String, KeyError> {
        let key = KeyFileSigner::generate();
        let kid = key.key_id().to_string();
        write_key(&district_file(&self.dir, district, &kid), &key)?;
        signing_keys::insert(
            db,
            &kid,
            Some(i32::from(district)),
            &public_key_hex(&key.public_key()),
            now,
        )
        .await?;
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
        let now = Utc::now().trunc_subsecs(0);
        let txn = store.begin().await?;
        let old = signing_keys::active_for(&txn, Some(i32::from(district))).await?;
        let kid = self.add_district_key(&txn, district, now).await?;
        if let Some(old) = &old {
            signing_keys::retire(&txn, &old.kid, now).await?;
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

    /// The root key (signs the lists).
    pub fn root(&self) -> Arc<KeyFileSigner> {
        Arc::clone(&self.root)
    }

    /// The JWT key.
    pub fn jwt(&self) -> &KeyFileSigner {
        &self.jwt
    }

    /// The active issuing key of `district`, read from its file the first time.
    pub async fn issuer<C: sea_orm::ConnectionTrait>(
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
        let path = district_file(&self.dir, district, &row.kid);
        let key = read_key(&path)?;
        if key.key_id().to_string() != row.kid {
            return Err(KeyError::Mismatch(path));
        }
        let key = Arc::new(key);
        if let Ok(mut loaded) = self.loaded.lock() {
            loaded.insert(row.kid, Arc::clone(&key));
        }
        Ok(key)
    }

    fn cached(&self, kid: &str) -> Option<Arc<KeyFileSigner>> {
        self.loaded.lock().ok().and_then(|l| l.get(kid).cloned())
    }
}

/// The trust list as the database describes it now (unsigned): every district key with its
/// validity and state, under the current trust-list sequence, valid for `valid_for`.
pub async fn trust_list<C: sea_orm::ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    valid_for: chrono::Duration,
) -> Result<TrustList, KeyError> {
    let mut keys = Vec::new();
    for row in signing_keys::list(db).await? {
        let Some(district) = row
            .district
            .and_then(|d| u32::try_from(d).ok())
            .and_then(District::from_code)
        else {
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
    Ok(TrustList {
        sequence: u64::try_from(sequence).unwrap_or(0),
        issued_at: now,
        expires_at: now + valid_for,
        keys,
    })
}
