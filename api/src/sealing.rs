//! Personal data sealed at rest (issue 12 item 8): ID numbers, phone numbers and evidence files
//! are stored encrypted with XChaCha20-Poly1305 (random 192-bit nonces) under the **data key**,
//! and looked up by a keyed hash (a blind index, HMAC-SHA256), so a database dump or a backup
//! without the key directory reveals none of them.
//!
//! - The data key is 32 random bytes, hex, in `<data dir>/keys/data.key` (mode 0600), beside the
//!   signing keys. Two keys are derived from it: the sealing key and the index key.
//! - Each sealed value is `EPS1 ‖ nonce ‖ ciphertext+tag`, hex in a text column (raw in a blob); its associated
//!   data names the table, column and row it belongs to ([`Sealer::seal`]), so a value copied to
//!   another row or column does not open.
//! - Custody as for the signing keys ([`crate::keys`]): the `data_keys` table records the key's id.
//!   The key is generated only when the database records none (and holds no sealed data); when
//!   the database records a key whose file is missing or holds another key, start-up stops with
//!   [`SealError::Missing`] / [`SealError::Swapped`] — never a new key, which would make every
//!   sealed row unreadable.
//! - [`carry_over`] seals what older versions stored in clear, at start-up, in one transaction.

use std::path::{Path, PathBuf};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand_core::{OsRng, RngCore};
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait, Order, Query};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::store::{Store, StoreError};

/// The file of the data key in the key directory.
pub const DATA_KEY_FILE: &str = "data.key";

/// The first bytes of every sealed value (format version 1).
const MAGIC: &[u8; 4] = b"EPS1";
const NONCE_LEN: usize = 24;

const FIX: &str = "restore it from your key backup, or point EPERMIT_DATA_DIR at the right volume";

/// What can go wrong with the data key or a sealed value. None of these carries personal data.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// The key file could not be read or written.
    #[error("data key file {path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The database holds sealed data but the key file is not there.
    #[error(
        "the data key file {path} (key {kid}) is missing: {fix} (the database holds personal data \
         sealed under this key, so no new key is generated; without it the data cannot be read)",
        fix = FIX
    )]
    Missing {
        /// The file.
        path: PathBuf,
        /// The key the database names.
        kid: String,
    },
    /// The key file holds another key than the one the database names.
    #[error(
        "the data key file {path} holds key {found}, not key {kid} that the database names: {fix}",
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
    /// The key file does not hold 32 bytes in hex.
    #[error("the data key file {path} does not hold a data key (64 hex digits): {fix}", fix = FIX)]
    NotAKey {
        /// The file.
        path: PathBuf,
    },
    /// The database holds sealed rows but records no data key (changed by hand).
    #[error(
        "the database holds sealed personal data but records no data key: restore the database \
         together with its key directory"
    )]
    Unrecorded,
    /// A sealed value does not open under this key for this place (corrupted, or moved from
    /// another row or column).
    #[error("a sealed value in {0} does not open")]
    Open(&'static str),
    /// The database.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sea_orm::DbErr> for SealError {
    fn from(e: sea_orm::DbErr) -> Self {
        SealError::Store(e.into())
    }
}

/// Where a sealed value lives: its table and column; with the row it makes the associated data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// `residents.phone_sealed`.
    ResidentPhone,
    /// `residents.id_number_sealed`.
    ResidentIdNumber,
    /// `evidence.bytes`.
    Evidence,
}

impl Place {
    fn name(self) -> &'static str {
        match self {
            Place::ResidentPhone => "residents.phone",
            Place::ResidentIdNumber => "residents.id_number",
            Place::Evidence => "evidence.bytes",
        }
    }
}

/// What a blind index is computed over (each kind with its own domain separation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Index {
    /// A phone number (`residents.phone_index`).
    Phone,
    /// An ID number (`residents.id_number_index`).
    IdNumber,
    /// An evidence file's content (its address, `evidence.sha256`).
    Evidence,
    /// The dedupe key of an imported registration (`residences.import_index`).
    Import,
    /// An `Idempotency-Key` as sent (`idempotency_records.key_hash`).
    IdempotencyKey,
}

impl Index {
    fn name(self) -> &'static str {
        match self {
            Index::Phone => "phone",
            Index::IdNumber => "id_number",
            Index::Evidence => "evidence",
            Index::Import => "import",
            Index::IdempotencyKey => "idempotency_key",
        }
    }
}

/// The data key, ready to seal, open and index. `Debug` shows the key id only.
pub struct Sealer {
    aead: XChaCha20Poly1305,
    index_key: Zeroizing<[u8; 32]>,
    kid: String,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealer")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    for part in parts {
        mac.update(&(part.len() as u64).to_be_bytes());
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

impl Sealer {
    /// The sealer of a 32-byte data key.
    pub fn from_key(key: &[u8; 32]) -> Sealer {
        let seal_key = Zeroizing::new(hmac(key, &[b"epermit data key: sealing v1"]));
        let index_key = Zeroizing::new(hmac(key, &[b"epermit data key: blind index v1"]));
        let kid = hex::encode(&hmac(key, &[b"epermit data key: id v1"])[..8]);
        Sealer {
            aead: XChaCha20Poly1305::new(seal_key.as_ref().into()),
            index_key,
            kid,
        }
    }

    /// A sealer with a fresh random key that is kept nowhere (unit tests only).
    pub fn ephemeral() -> Sealer {
        let mut key = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(key.as_mut());
        Sealer::from_key(&key)
    }

    /// The key's id (16 hex digits), recorded in `data_keys`.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    fn aad(place: Place, row: &str) -> Vec<u8> {
        let mut aad = b"epermit sealed v1\0".to_vec();
        aad.extend_from_slice(place.name().as_bytes());
        aad.push(0);
        aad.extend_from_slice(row.as_bytes());
        aad
    }

    /// Seals `plaintext` for `place` in `row` (the row's id or address): the bytes stored.
    pub fn seal_bytes(&self, place: Place, row: &str, plaintext: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        let ciphertext = self
            .aead
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: &Self::aad(place, row),
                },
            )
            .expect("XChaCha20-Poly1305 encrypts any length a request can carry");
        let mut out = Vec::with_capacity(MAGIC.len() + NONCE_LEN + ciphertext.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        out
    }

    /// Opens what [`Sealer::seal_bytes`] made for the same `place` and `row`.
    pub fn open_bytes(&self, place: Place, row: &str, sealed: &[u8]) -> Result<Vec<u8>, SealError> {
        let fail = || SealError::Open(place.name());
        let rest = sealed.strip_prefix(MAGIC.as_slice()).ok_or_else(fail)?;
        if rest.len() < NONCE_LEN {
            return Err(fail());
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        self.aead
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: &Self::aad(place, row),
                },
            )
            .map_err(|_| fail())
    }

    /// Seals a text value as text (hex) for a text column.
    pub fn seal(&self, place: Place, row: &str, plaintext: &str) -> String {
        hex::encode(self.seal_bytes(place, row, plaintext.as_bytes()))
    }

    /// Opens what [`Sealer::seal`] made.
    pub fn open(&self, place: Place, row: &str, sealed: &str) -> Result<String, SealError> {
        let bytes = hex::decode(sealed).map_err(|_| SealError::Open(place.name()))?;
        String::from_utf8(self.open_bytes(place, row, &bytes)?)
            .map_err(|_| SealError::Open(place.name()))
    }

    /// The blind index of `value` of kind `index`: 64 hex digits of HMAC-SHA256 under the index
    /// key. Equal values give equal indexes; without the key, an index says nothing about the
    /// value (no dictionary of ID numbers or phones can be hashed against it).
    pub fn index(&self, index: Index, value: &[u8]) -> String {
        hex::encode(hmac(
            self.index_key.as_ref(),
            &[index.name().as_bytes(), value],
        ))
    }
}

/// Whether `bytes` are a sealed value (rather than a file stored in clear by an older version).
pub fn is_sealed(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

fn read_key(path: &Path) -> Result<Option<Sealer>, SealError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => Zeroizing::new(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(SealError::File {
                path: path.to_owned(),
                source,
            });
        }
    };
    let mut key = Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(text.trim(), key.as_mut()).map_err(|_| SealError::NotAKey {
        path: path.to_owned(),
    })?;
    Ok(Some(Sealer::from_key(&key)))
}

fn write_new_key(path: &Path) -> Result<(), SealError> {
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;
    let io = |source: std::io::Error| SealError::File {
        path: path.to_owned(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io)?;
    let mut key = Zeroizing::new([0u8; 32]);
    OsRng.fill_bytes(key.as_mut());
    let text = Zeroizing::new(format!("{}\n", hex::encode(key.as_ref())));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o600))
        .map_err(io)?;
    tmp.write_all(text.as_bytes()).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    match tmp.persist_noclobber(path) {
        Ok(_) => Ok(()),
        // Another instance wrote it first: use that one.
        Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(io(e.error)),
    }
}

/// Whether the database holds any sealed row (used when it records no data key).
async fn holds_sealed_rows<C: ConnectionTrait>(db: &C) -> Result<bool, SealError> {
    for (table, columns) in [
        ("residents", &["phone_sealed", "id_number_sealed"][..]),
        ("residences", &["import_index"][..]),
        ("evidence", &["key_id"][..]),
    ] {
        let mut any = Condition::any();
        for column in columns {
            any = any.add(Expr::col(Alias::new(*column)).is_not_null());
        }
        let select = Query::select()
            .expr_as(Expr::val(1), Alias::new("x"))
            .from(Alias::new(table))
            .cond_where(any)
            .limit(1)
            .to_owned();
        if db.query_one(&select).await?.is_some() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Opens the data key in `<data_dir>/keys/data.key` under the custody rule (see the module
/// header), records it in `data_keys` on first use, and seals what older versions stored in
/// clear ([`carry_over`]).
pub async fn open(data_dir: &Path, store: &Store) -> Result<Sealer, SealError> {
    let path = data_dir.join("keys").join(DATA_KEY_FILE);
    let txn = store.begin().await?;
    let (table, kid, created_at) = (
        Alias::new("data_keys"),
        Alias::new("kid"),
        Alias::new("created_at"),
    );
    let select = Query::select()
        .column(kid.clone())
        .from(table.clone())
        .order_by(created_at.clone(), Order::Asc)
        .limit(1)
        .to_owned();
    let recorded = txn
        .query_one(&select)
        .await?
        .map(|row| row.try_get::<String>("", "kid"))
        .transpose()?;
    let sealer = match recorded {
        Some(kid) => {
            let sealer = read_key(&path)?.ok_or_else(|| SealError::Missing {
                path: path.clone(),
                kid: kid.clone(),
            })?;
            if sealer.kid() != kid {
                return Err(SealError::Swapped {
                    path,
                    kid,
                    found: sealer.kid().to_owned(),
                });
            }
            sealer
        }
        None => {
            if holds_sealed_rows(&txn).await? {
                return Err(SealError::Unrecorded);
            }
            if !path.exists() {
                write_new_key(&path)?;
            }
            let sealer = read_key(&path)?.ok_or_else(|| SealError::Missing {
                path: path.clone(),
                kid: "(none yet)".to_owned(),
            })?;
            let insert = Query::insert()
                .into_table(table)
                .columns([kid, created_at])
                .values_panic([
                    sealer.kid().into(),
                    chrono::Utc::now().timestamp_micros().into(),
                ])
                .to_owned();
            txn.execute(&insert).await?;
            sealer
        }
    };
    txn.commit().await.map_err(StoreError::from)?;
    carry_over(store, &sealer).await?;
    Ok(sealer)
}

/// What [`carry_over`] sealed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct CarriedOver {
    /// Residents whose phone or ID number was stored in clear.
    pub residents: u64,
    /// Imported registrations whose dedupe key was an unkeyed hash.
    pub import_keys: u64,
    /// Evidence files stored in clear.
    pub evidence: u64,
}

/// Seals what older versions stored in clear, in one transaction (all or nothing), idempotent
/// (then rewrites the tables, so no clear value lingers in freed pages):
/// residents' phone and ID number (into the sealed and blind-index columns; the clear columns are
/// emptied), imported registrations' unkeyed dedupe keys (re-keyed: the index of the old hash, so
/// a later import of the same row still finds it), and evidence files (sealed under a keyed
/// address; the applications naming them follow).
pub async fn carry_over(store: &Store, sealer: &Sealer) -> Result<CarriedOver, SealError> {
    let txn = store.begin().await?;
    let done = crate::store::residents::carry_over(&txn, sealer).await?;
    let import_keys = crate::store::residences::carry_over(&txn, sealer).await?;
    let evidence = crate::store::evidence::carry_over(&txn, sealer).await?;
    txn.commit().await.map_err(StoreError::from)?;
    let carried = CarriedOver {
        residents: done,
        import_keys,
        evidence,
    };
    if carried != CarriedOver::default() {
        // The clear values linger in freed pages (SQLite, its WAL) or dead row versions
        // (PostgreSQL) until those are rewritten: rewrite them now.
        let db = store.conn();
        let statements: &[&str] = match db.get_database_backend() {
            sea_orm::DbBackend::Postgres => {
                &["VACUUM FULL residents, residences, evidence, applications"]
            }
            _ => &["VACUUM", "PRAGMA wal_checkpoint(TRUNCATE)"],
        };
        for sql in statements {
            db.execute_unprepared(sql).await?;
        }
        tracing::info!(?carried, "personal data stored in clear is sealed now");
    }
    Ok(carried)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_only_in_its_own_place_and_row() {
        let sealer = Sealer::ephemeral();
        let sealed = sealer.seal(Place::ResidentPhone, "7", "13800000001");
        assert_eq!(
            sealer.open(Place::ResidentPhone, "7", &sealed).unwrap(),
            "13800000001"
        );
        assert!(sealer.open(Place::ResidentPhone, "8", &sealed).is_err());
        assert!(sealer.open(Place::ResidentIdNumber, "7", &sealed).is_err());
        assert!(
            Sealer::ephemeral()
                .open(Place::ResidentPhone, "7", &sealed)
                .is_err()
        );
        assert_ne!(
            sealed,
            sealer.seal(Place::ResidentPhone, "7", "13800000001"),
            "random nonces"
        );
    }

    #[test]
    fn blind_indexes_are_keyed_and_separated_by_kind() {
        let a = Sealer::ephemeral();
        let b = Sealer::ephemeral();
        assert_eq!(a.index(Index::Phone, b"1"), a.index(Index::Phone, b"1"));
        assert_ne!(a.index(Index::Phone, b"1"), b.index(Index::Phone, b"1"));
        assert_ne!(a.index(Index::Phone, b"1"), a.index(Index::IdNumber, b"1"));
    }
}
