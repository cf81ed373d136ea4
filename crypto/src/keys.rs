//! Public keys and key identifiers (SPEC §2: `kid` = first 8 bytes of SHA-256 of the raw 32-byte
//! Ed25519 public key, RFC 8032).

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};
use sha2::{Digest, Sha256};

pub use ed25519_dalek::{Signature, VerifyingKey};

use crate::{Error, Result};

/// A key identifier: the first 8 bytes of SHA-256 over the raw public key. Displayed as 16 lowercase
/// hex digits.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyId([u8; 8]);

impl KeyId {
    /// The identifier of `key`.
    pub fn of(key: &VerifyingKey) -> KeyId {
        let digest = Sha256::digest(key.as_bytes());
        let mut id = [0u8; 8];
        id.copy_from_slice(&digest[..8]);
        KeyId(id)
    }

    /// Wraps 8 raw bytes.
    pub const fn from_bytes(bytes: [u8; 8]) -> KeyId {
        KeyId(bytes)
    }

    /// Reads a `kid` header value, which must be exactly 8 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<KeyId> {
        <[u8; 8]>::try_from(bytes)
            .map(KeyId)
            .map_err(|_| Error::Invalid("kid (must be 8 bytes)"))
    }

    /// The raw bytes.
    pub const fn as_bytes(&self) -> &[u8; 8] {
        &self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

impl FromStr for KeyId {
    type Err = Error;

    /// Parses 16 hex digits.
    fn from_str(s: &str) -> Result<KeyId> {
        let mut id = [0u8; 8];
        hex::decode_to_slice(s, &mut id).map_err(|_| Error::Key("kid must be 16 hex digits"))?;
        Ok(KeyId(id))
    }
}

impl Serialize for KeyId {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Reads a raw 32-byte Ed25519 public key, refusing non-canonical encodings that do not decode to a
/// curve point and the small-order ("weak") keys that `verify_strict` would refuse anyway.
pub fn public_key_from_bytes(bytes: &[u8]) -> Result<VerifyingKey> {
    let raw = <[u8; 32]>::try_from(bytes).map_err(|_| Error::Key("public key must be 32 bytes"))?;
    let key = VerifyingKey::from_bytes(&raw).map_err(|_| Error::Key("not an Ed25519 point"))?;
    if key.is_weak() {
        return Err(Error::Key("small-order public key"));
    }
    Ok(key)
}

/// Parses a public key written as 64 hex digits (the form the CLI and API configuration use).
pub fn parse_public_key_hex(text: &str) -> Result<VerifyingKey> {
    let mut raw = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut raw)
        .map_err(|_| Error::Key("public key must be 64 hex digits"))?;
    public_key_from_bytes(&raw)
}

/// Writes a public key as 64 lowercase hex digits.
pub fn public_key_hex(key: &VerifyingKey) -> String {
    hex::encode(key.as_bytes())
}

/// Serde helper: a public key as 64 hex digits.
pub(crate) fn serialize_key<S: Serializer>(
    key: &VerifyingKey,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&public_key_hex(key))
}

/// Serde helper: an optional public key as 64 hex digits or `null`.
pub(crate) fn serialize_opt_key<S: Serializer>(
    key: &Option<VerifyingKey>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    match key {
        Some(k) => s.serialize_some(&public_key_hex(k)),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC8032_TEST1_PUBLIC: &str =
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

    #[test]
    fn a_key_id_is_the_first_eight_bytes_of_the_keys_sha256() {
        let key = parse_public_key_hex(RFC8032_TEST1_PUBLIC).unwrap();
        let digest = Sha256::digest(key.as_bytes());
        let id = KeyId::of(&key);
        assert_eq!(id.as_bytes()[..], digest[..8]);
        assert_eq!(id.to_string().len(), 16);
        assert_eq!(id.to_string().parse::<KeyId>().unwrap(), id);
    }

    #[test]
    fn public_keys_round_trip_through_hex() {
        let key = parse_public_key_hex(RFC8032_TEST1_PUBLIC).unwrap();
        assert_eq!(public_key_hex(&key), RFC8032_TEST1_PUBLIC);
    }

    #[test]
    fn malformed_public_keys_are_refused() {
        for bad in ["", "d75a", &"zz".repeat(32), &"00".repeat(33)] {
            assert!(parse_public_key_hex(bad).is_err(), "{bad:?}");
        }
        // The identity point is a small-order key.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert!(public_key_from_bytes(&identity).is_err());
    }
}
