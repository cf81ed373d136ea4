//! The trust list (SPEC §2): the district issuing keys, signed by the root key (Jinhua bureau) as a
//! COSE_Sign1 served as `application/cose`. Payload {1 sequence, 2 issued-at, 3 expires-at,
//! 4 [{1 kid, 2 district (GB/T 2260 code), 3 public key, 4 not-before, 5 not-after | null,
//! 6 state}], 5 successor (optional)}; instants are epoch seconds.
//!
//! Root-key rotation (verifier side): field 5 `successor`, when present, is the raw 32-byte
//! Ed25519 public key of the root key that signs the next lists. It is written only when set and
//! read when present. A verifier that accepts a list naming a successor pins only the successor
//! from then on ([`crate::trust_store::TrustStore::load_trust_list`]).

use chrono::{DateTime, Utc};
use ciborium::Value;
use policy::District;
use serde::Serialize;

use crate::cbor::{self, Map, int, uint};
use crate::cose::{self, Sign1};
use crate::keys::{KeyId, VerifyingKey, public_key_from_bytes, serialize_key, serialize_opt_key};
use crate::{Error, Result, Signer};

/// The largest trust list accepted, in bytes.
pub const MAX_TRUST_LIST_LEN: usize = 64 * 1024;
/// The most keys a trust list holds.
pub const MAX_KEYS: usize = 256;

/// The state of an issuing key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyState {
    /// Signing now.
    Active,
    /// Replaced by a newer key; credentials it signed while valid still verify.
    Retired,
    /// Leaked: nothing it signed is trusted.
    Compromised,
}

impl KeyState {
    fn code(self) -> u64 {
        match self {
            KeyState::Active => 0,
            KeyState::Retired => 1,
            KeyState::Compromised => 2,
        }
    }

    fn from_code(n: u64) -> Option<KeyState> {
        match n {
            0 => Some(KeyState::Active),
            1 => Some(KeyState::Retired),
            2 => Some(KeyState::Compromised),
            _ => None,
        }
    }
}

/// One issuing key of a district.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrustedKey {
    /// Its identifier, which must be [`KeyId::of`] the key.
    pub kid: KeyId,
    /// The district whose bureau holds it.
    pub district: District,
    /// The public key.
    #[serde(serialize_with = "serialize_key")]
    pub public_key: VerifyingKey,
    /// Credentials issued (`iat`) before this instant are not its.
    pub not_before: DateTime<Utc>,
    /// Credentials issued at or after this instant are not its; `None` while open-ended.
    pub not_after: Option<DateTime<Utc>>,
    /// Its state.
    pub state: KeyState,
}

impl TrustedKey {
    /// An active key valid from `not_before`, its `kid` computed.
    pub fn new(district: District, public_key: VerifyingKey, not_before: DateTime<Utc>) -> Self {
        TrustedKey {
            kid: KeyId::of(&public_key),
            district,
            public_key,
            not_before: cbor::whole_seconds(not_before),
            not_after: None,
            state: KeyState::Active,
        }
    }

    /// Whether a credential issued at `iat` falls in `[not_before, not_after)`.
    pub fn covers(&self, iat: DateTime<Utc>) -> bool {
        self.not_before <= iat && self.not_after.is_none_or(|end| iat < end)
    }
}

/// The list of issuing keys a verifier trusts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrustList {
    /// Increases with every list published; a verifier never goes back (SPEC §2).
    pub sequence: u64,
    /// When it was published.
    pub issued_at: DateTime<Utc>,
    /// When a verifier should consider it stale.
    pub expires_at: DateTime<Utc>,
    /// The keys.
    pub keys: Vec<TrustedKey>,
    /// The next root key (payload field 5), announced by the current root: a verifier that
    /// accepts this list pins only the successor from then on. `None`: no rotation announced.
    #[serde(serialize_with = "serialize_opt_key")]
    pub successor: Option<VerifyingKey>,
}

impl TrustList {
    /// The key with this identifier.
    pub fn key(&self, kid: &KeyId) -> Option<&TrustedKey> {
        self.keys.iter().find(|k| k.kid == *kid)
    }

    /// Signs the list with the root key: tagged COSE_Sign1 bytes, `kid` = the root's key id.
    /// Refuses a list that [`TrustList::verify`] would refuse.
    pub fn sign(&self, root: &dyn Signer) -> Result<Vec<u8>> {
        self.check()?;
        let keys = self
            .keys
            .iter()
            .map(|k| {
                Value::Map(vec![
                    (int(1), Value::Bytes(k.kid.as_bytes().to_vec())),
                    (int(2), uint(u64::from(k.district.code()))),
                    (int(3), Value::Bytes(k.public_key.as_bytes().to_vec())),
                    (int(4), cbor::time(k.not_before)),
                    (int(5), k.not_after.map_or(Value::Null, cbor::time)),
                    (int(6), uint(k.state.code())),
                ])
            })
            .collect();
        let mut fields = vec![
            (int(1), uint(self.sequence)),
            (int(2), cbor::time(self.issued_at)),
            (int(3), cbor::time(self.expires_at)),
            (int(4), Value::Array(keys)),
        ];
        if let Some(successor) = &self.successor {
            fields.push((int(5), Value::Bytes(successor.as_bytes().to_vec())));
        }
        let payload = Value::Map(fields);
        let protected = cose::protected(Some(root.key_id()), None);
        cose::to_tagged(cose::sign(protected, cbor::to_vec(&payload)?, root)?)
    }

    /// Reads a signed trust list, accepting it only if one of the pinned `root_keys` signed it,
    /// every `kid` is the key id of its key, and no `kid` appears twice. Expiry is the caller's
    /// ([`crate::trust_store::TrustStore`] refuses expired lists; [`crate::verify::verify`] warns).
    pub fn verify(bytes: &[u8], root_keys: &[VerifyingKey]) -> Result<TrustList> {
        if bytes.len() > MAX_TRUST_LIST_LEN {
            return Err(Error::Malformed("trust list (too large)"));
        }
        let sign1 = Sign1::from_tagged(bytes, "trust list COSE_Sign1")?;
        if sign1.typ().is_some() {
            return Err(Error::Malformed("trust list header"));
        }
        verify_by_root(&sign1, root_keys)?;
        let list = Self::decode(cbor::from_slice(&sign1.payload, "trust list")?)?;
        list.check()?;
        Ok(list)
    }

    fn check(&self) -> Result<()> {
        if self.expires_at <= self.issued_at || self.keys.len() > MAX_KEYS {
            return Err(Error::Invalid("trust list"));
        }
        for (i, k) in self.keys.iter().enumerate() {
            if k.kid != KeyId::of(&k.public_key) {
                return Err(Error::Invalid("trust list kid (not the key's id)"));
            }
            if k.not_after.is_some_and(|end| end <= k.not_before) {
                return Err(Error::Invalid("trust list key validity"));
            }
            if self.keys.iter().skip(i + 1).any(|o| o.kid == k.kid) {
                return Err(Error::Invalid("trust list kid (duplicate)"));
            }
        }
        Ok(())
    }

    fn decode(v: Value) -> Result<TrustList> {
        let mut m = Map::new(v, "trust list")?;
        let sequence = cbor::as_u64(&m.require(1, "sequence")?, 0..=u64::MAX, "sequence")?;
        let issued_at = cbor::as_time(&m.require(2, "issued-at")?, "issued-at")?;
        let expires_at = cbor::as_time(&m.require(3, "expires-at")?, "expires-at")?;
        let raw = cbor::as_array(m.require(4, "keys")?, "keys")?;
        let successor = m
            .take_int(5)
            .map(|v| public_key_from_bytes(&cbor::as_bytes(v, "successor")?))
            .transpose()?;
        m.finish()?;
        if raw.len() > MAX_KEYS {
            return Err(Error::Invalid("keys (too many)"));
        }
        let mut keys = Vec::with_capacity(raw.len());
        for entry in raw {
            let mut e = Map::new(entry, "trust list entry")?;
            let kid = KeyId::from_slice(&cbor::as_bytes(e.require(1, "kid")?, "kid")?)?;
            let code = cbor::as_u64(&e.require(2, "district")?, 0..=999_999, "district")?;
            let district = u32::try_from(code)
                .ok()
                .and_then(District::from_code)
                .ok_or(Error::Invalid("district (not a Jinhua district)"))?;
            let public_key =
                public_key_from_bytes(&cbor::as_bytes(e.require(3, "public key")?, "public key")?)?;
            let not_before = cbor::as_time(&e.require(4, "not-before")?, "not-before")?;
            let not_after = match e.require(5, "not-after")? {
                Value::Null => None,
                v => Some(cbor::as_time(&v, "not-after")?),
            };
            let state = KeyState::from_code(cbor::as_u64(&e.require(6, "state")?, 0..=2, "state")?)
                .ok_or(Error::Invalid("state"))?;
            e.finish()?;
            keys.push(TrustedKey {
                kid,
                district,
                public_key,
                not_before,
                not_after,
                state,
            });
        }
        Ok(TrustList {
            sequence,
            issued_at,
            expires_at,
            keys,
            successor,
        })
    }

    /// Whether `other` holds the same keys and successor (what the sequence stands for); issue and
    /// expiry times may differ (a re-signed list).
    pub fn same_content(&self, other: &TrustList) -> bool {
        self.keys == other.keys && self.successor == other.successor
    }
}

/// Checks that one of the pinned root keys signed `sign1`: the one its `kid` names, or, without a
/// `kid`, any of them.
pub(crate) fn verify_by_root(sign1: &Sign1, root_keys: &[VerifyingKey]) -> Result<()> {
    match sign1.kid()? {
        Some(kid) => {
            let key = root_keys
                .iter()
                .find(|k| KeyId::of(k) == kid)
                .ok_or(Error::UnknownSigner)?;
            sign1.verify(key)
        }
        None => {
            if root_keys.iter().any(|k| sign1.verify(k).is_ok()) {
                Ok(())
            } else {
                Err(Error::UnknownSigner)
            }
        }
    }
}
