//! Strict CBOR (RFC 8949) reading helpers over `ciborium::Value`: whole-input decoding, maps with
//! integer keys that refuse duplicates and unknown keys, and range-checked integers.

use ciborium::value::{Integer, Value};

use crate::{Error, Result};

/// Encodes a value (infallible for in-memory values; errors mapped anyway).
pub(crate) fn to_vec(value: &Value) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    ciborium::ser::into_writer(value, &mut out).map_err(|_| Error::Malformed("CBOR encoding"))?;
    Ok(out)
}

/// Decodes exactly one CBOR item filling the whole input.
pub(crate) fn from_slice(bytes: &[u8], what: &'static str) -> Result<Value> {
    let mut rest = bytes;
    let value: Value = ciborium::de::from_reader(&mut rest).map_err(|_| Error::Malformed(what))?;
    if !rest.is_empty() {
        return Err(Error::Malformed(what));
    }
    Ok(value)
}

/// An integer value.
pub(crate) fn int(n: i64) -> Value {
    Value::Integer(Integer::from(n))
}

/// An unsigned integer value.
pub(crate) fn uint(n: u64) -> Value {
    Value::Integer(Integer::from(n))
}

/// The value as an unsigned integer in `range`.
pub(crate) fn as_u64(
    v: &Value,
    range: std::ops::RangeInclusive<u64>,
    what: &'static str,
) -> Result<u64> {
    match v {
        Value::Integer(i) => u64::try_from(i128::from(*i))
            .ok()
            .filter(|n| range.contains(n))
            .ok_or(Error::Invalid(what)),
        _ => Err(Error::Invalid(what)),
    }
}

/// The value as text of at most `max` characters, not empty.
pub(crate) fn as_text(v: Value, max_chars: usize, what: &'static str) -> Result<String> {
    match v {
        Value::Text(t) if !t.is_empty() && t.chars().count() <= max_chars => Ok(t),
        _ => Err(Error::Invalid(what)),
    }
}

/// The value as a byte string.
pub(crate) fn as_bytes(v: Value, what: &'static str) -> Result<Vec<u8>> {
    match v {
        Value::Bytes(b) => Ok(b),
        _ => Err(Error::Invalid(what)),
    }
}

/// The value as an array.
pub(crate) fn as_array(v: Value, what: &'static str) -> Result<Vec<Value>> {
    match v {
        Value::Array(a) => Ok(a),
        _ => Err(Error::Invalid(what)),
    }
}

/// A map being read: each key is taken at most once and [`Map::finish`] refuses leftovers.
pub(crate) struct Map {
    entries: Vec<(Value, Value)>,
    what: &'static str,
}

impl Map {
    /// Reads `v` as a map without duplicate keys.
    pub(crate) fn new(v: Value, what: &'static str) -> Result<Self> {
        let Value::Map(entries) = v else {
            return Err(Error::Malformed(what));
        };
        for (i, (k, _)) in entries.iter().enumerate() {
            if entries.iter().skip(i + 1).any(|(other, _)| other == k) {
                return Err(Error::Malformed(what));
            }
        }
        Ok(Map { entries, what })
    }

    fn take(&mut self, key: &Value) -> Option<Value> {
        let at = self.entries.iter().position(|(k, _)| k == key)?;
        Some(self.entries.swap_remove(at).1)
    }

    /// Takes the value at integer `key`, if present.
    pub(crate) fn take_int(&mut self, key: i64) -> Option<Value> {
        self.take(&int(key))
    }

    /// Takes the value at text `key`, if present.
    pub(crate) fn take_text(&mut self, key: &str) -> Option<Value> {
        self.take(&Value::Text(key.to_owned()))
    }

    /// Takes the value at integer `key`, which must be present.
    pub(crate) fn require(&mut self, key: i64, what: &'static str) -> Result<Value> {
        self.take_int(key).ok_or(Error::Invalid(what))
    }

    /// Takes the value at text `key`, which must be present.
    pub(crate) fn require_text(&mut self, key: &str, what: &'static str) -> Result<Value> {
        self.take_text(key).ok_or(Error::Invalid(what))
    }

    /// Refuses keys nobody asked for.
    pub(crate) fn finish(self) -> Result<()> {
        if self.entries.is_empty() {
            Ok(())
        } else {
            Err(Error::Malformed(self.what))
        }
    }
}

/// The latest instant a NumericDate may name here: 9999-12-31T23:59:59Z.
pub(crate) const MAX_EPOCH_SECONDS: u64 = 253_402_300_799;

/// An instant as a CWT NumericDate (RFC 8392 §2: whole seconds since the epoch). Sub-second parts
/// are dropped; instants before 1970 become 0.
pub(crate) fn time(t: chrono::DateTime<chrono::Utc>) -> Value {
    uint(u64::try_from(t.timestamp()).unwrap_or(0))
}

/// A NumericDate, as an unsigned integer of seconds up to [`MAX_EPOCH_SECONDS`].
pub(crate) fn as_time(v: &Value, what: &'static str) -> Result<chrono::DateTime<chrono::Utc>> {
    let secs = as_u64(v, 0..=MAX_EPOCH_SECONDS, what)?;
    i64::try_from(secs)
        .ok()
        .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
        .ok_or(Error::Invalid(what))
}

/// `t` with its sub-second part dropped.
pub(crate) fn whole_seconds(t: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(t.timestamp(), 0).unwrap_or(t)
}
