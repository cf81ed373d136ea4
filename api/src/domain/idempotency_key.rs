//! The `Idempotency-Key` header of retry-safe requests (SPEC §4 "Flows").

use std::fmt;

/// 1–255 visible ASCII characters, as the client sent them.
#[derive(Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

/// Why a key was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an idempotency key is 1 to 255 visible ASCII characters")]
pub struct IdempotencyKeyError;

impl IdempotencyKey {
    /// The header's bytes as a key.
    pub fn parse(value: &[u8]) -> Result<Self, IdempotencyKeyError> {
        let ok = (1..=255).contains(&value.len()) && value.iter().all(u8::is_ascii_graphic);
        match std::str::from_utf8(value) {
            Ok(key) if ok => Ok(IdempotencyKey(key.to_owned())),
            _ => Err(IdempotencyKeyError),
        }
    }

    /// The key's bytes (hashed before they are stored anywhere).
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IdempotencyKey(…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_1_to_255_visible_ascii_characters() {
        assert!(IdempotencyKey::parse(b"a").is_ok());
        assert!(IdempotencyKey::parse(&[b'k'; 255]).is_ok());
        for bad in [&b""[..], &[b'k'; 256], b"with space", "长".as_bytes()] {
            assert!(IdempotencyKey::parse(bad).is_err(), "{bad:?}");
        }
    }
}
