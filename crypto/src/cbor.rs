//! Strict CBOR (RFC 8949) reading helpers over `ciborium::Value`: whole-input decoding, maps with
//! integer keys that refuse duplicates and unknown keys, and range-checked integers.
//!
//! [`Reader`] is the fast way in for what verification decodes on every scan (the COSE_Sign1s, the
//! permit claims, the presentation): it reads the shape the encoders of this crate write straight
//! from the bytes (`minicbor`'s decoder, no `Value` tree) and answers `None` at the first thing
//! outside that shape — an indefinite length, a tag, a float, an unknown or repeated key, a value
//! out of range. A `None` sends the same bytes through the `Value` readers, whose verdict and
//! error then stand, so the fast path only ever has to be right about what it accepts: anything it
//! accepts, the `Value` readers accept too, to the same value (property tests of each decoder).

use ciborium::value::{Integer, Value};

use crate::{Error, Result};

/// Encodes a value (infallible for in-memory values; errors mapped anyway).
pub(crate) fn to_vec(value: &Value) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    ciborium::ser::into_writer(value, &mut out).map_err(|_| Error::Malformed("CBOR encoding"))?;
    Ok(out)
}

/// The scratch space ciborium decodes text and byte strings through: longer strings are read in
/// chunks of this size (the same value either way). `ciborium::de::from_reader` zeroes 4 KiB of
/// scratch on every call, a tenth of the decoding cost of a presentation; every string of SPEC §2
/// but a status list's `lst` fits in 1 KiB.
const SCRATCH_LEN: usize = 1024;

/// Decodes exactly one CBOR item filling the whole input.
pub(crate) fn from_slice(bytes: &[u8], what: &'static str) -> Result<Value> {
    let mut rest = bytes;
    let mut scratch = [0u8; SCRATCH_LEN];
    let value: Value = ciborium::de::from_reader_with_buffer(&mut rest, &mut scratch)
        .map_err(|_| Error::Malformed(what))?;
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

/// A CBOR reader over a byte slice for the fast decoders: every method answers `None` when the
/// next item is not of the kind asked for (see the module documentation).
pub(crate) struct Reader<'b>(minicbor::Decoder<'b>);

impl<'b> Reader<'b> {
    pub(crate) fn new(bytes: &'b [u8]) -> Self {
        Reader(minicbor::Decoder::new(bytes))
    }

    /// The entry count of a map of definite length.
    pub(crate) fn map(&mut self) -> Option<u64> {
        self.0.map().ok()?
    }

    /// The length of an array of definite length.
    pub(crate) fn array(&mut self) -> Option<u64> {
        self.0.array().ok()?
    }

    /// A tag's number.
    pub(crate) fn tag(&mut self) -> Option<u64> {
        self.0.tag().ok().map(u64::from)
    }

    /// An integer in the range of `i64` (a map key).
    pub(crate) fn int(&mut self) -> Option<i64> {
        self.0.i64().ok()
    }

    /// An unsigned integer in `range` ([`as_u64`]).
    pub(crate) fn uint(&mut self, range: std::ops::RangeInclusive<u64>) -> Option<u64> {
        self.0.u64().ok().filter(|n| range.contains(n))
    }

    /// A text string of definite length, whatever it holds (a map key).
    pub(crate) fn key(&mut self) -> Option<&'b str> {
        self.0.str().ok()
    }

    /// A text string of definite length, not empty, of at most `max_chars` characters
    /// ([`as_text`]).
    pub(crate) fn text(&mut self, max_chars: usize) -> Option<&'b str> {
        self.key()
            .filter(|t| !t.is_empty() && t.chars().count() <= max_chars)
    }

    /// A byte string of definite length.
    pub(crate) fn bytes(&mut self) -> Option<&'b [u8]> {
        self.0.bytes().ok()
    }

    /// Whether the next item is `null`, consuming it if so.
    pub(crate) fn null(&mut self) -> bool {
        self.0.datatype().ok() == Some(minicbor::data::Type::Null) && self.0.null().is_ok()
    }

    /// A NumericDate ([`as_time`]).
    pub(crate) fn time(&mut self) -> Option<chrono::DateTime<chrono::Utc>> {
        let secs = self.uint(0..=MAX_EPOCH_SECONDS)?;
        chrono::DateTime::from_timestamp(i64::try_from(secs).ok()?, 0)
    }

    /// `Some` when the input has been read to its end.
    pub(crate) fn end(self) -> Option<()> {
        (self.0.position() == self.0.input().len()).then_some(())
    }
}

/// Fills `slot` with `value` unless a value is there already: for the fast decoders, a map key
/// read twice (`None`).
pub(crate) fn once<T>(slot: &mut Option<T>, value: T) -> Option<()> {
    match slot {
        Some(_) => None,
        None => {
            *slot = Some(value);
            Some(())
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

/// One change to encoded bytes, for the property tests that hold a fast decoder to its `Value`
/// twin: whatever the change makes of the bytes, the fast path may only accept what the other
/// accepts, to the same value.
#[cfg(test)]
pub(crate) mod mutation {
    use proptest::prelude::*;
    use proptest::sample::Index;

    /// What [`apply`] does at the chosen place.
    #[derive(Debug, Clone, Copy)]
    pub(crate) enum Mutation {
        /// The byte there XORed with this one.
        Flip(u8),
        /// The bytes from there on dropped.
        Truncate,
        /// This byte inserted there.
        Insert(u8),
        /// The first byte at or after the place whose additional information is a value 0–23
        /// given a one-byte argument instead (`0x18` + major type): a longer encoding of the
        /// same value, which only a strict reader tells apart.
        Widen,
    }

    /// Flips, truncations and insertions.
    pub(crate) fn damage() -> impl Strategy<Value = Mutation> {
        prop_oneof![
            any::<u8>().prop_map(Mutation::Flip),
            Just(Mutation::Truncate),
            any::<u8>().prop_map(Mutation::Insert),
        ]
    }

    /// [`damage`] and [`Mutation::Widen`].
    pub(crate) fn any_change() -> impl Strategy<Value = Mutation> {
        prop_oneof![3 => damage(), 1 => Just(Mutation::Widen)]
    }

    /// Applies `change` at `at` (an index into `bytes`); empty bytes stay as they are.
    pub(crate) fn apply(bytes: &mut Vec<u8>, at: Index, change: Mutation) {
        if bytes.is_empty() {
            return;
        }
        let i = at.index(bytes.len());
        match change {
            Mutation::Flip(b) => bytes[i] ^= b,
            Mutation::Truncate => bytes.truncate(i),
            Mutation::Insert(b) => bytes.insert(i, b),
            Mutation::Widen => {
                if let Some(j) = (i..bytes.len()).find(|&j| bytes[j] & 0x1f < 24) {
                    let b = bytes[j];
                    bytes.splice(j..=j, [(b & 0xe0) | 24, b & 0x1f]);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// What `ciborium::de::from_reader` (a 4 KiB scratch) makes of the same bytes.
    fn with_default_scratch(bytes: &[u8]) -> Option<Value> {
        let mut rest = bytes;
        let value: Value = ciborium::de::from_reader(&mut rest).ok()?;
        rest.is_empty().then_some(value)
    }

    proptest! {
        /// Text and byte strings longer than [`SCRATCH_LEN`] (read in chunks, multi-byte
        /// characters across chunk boundaries) decode to the same value as with ciborium's own
        /// scratch.
        #[test]
        fn long_strings_decode_as_with_ciborium_s_default_scratch(
            text in "\\PC{0,1500}",
            bytes in proptest::collection::vec(any::<u8>(), 0..3000),
        ) {
            let value = Value::Array(vec![Value::Text(text), Value::Bytes(bytes)]);
            let encoded = to_vec(&value).unwrap();
            prop_assert_eq!(from_slice(&encoded, "test").ok(), Some(value));
        }

        /// Any bytes, truncated strings and invalid UTF-8 included: the same verdict and value.
        #[test]
        fn any_bytes_decode_as_with_ciborium_s_default_scratch(
            head in proptest::collection::vec(any::<u8>(), 0..8),
            text in "\\PC{1100,1200}",
            cut in 0usize..64,
            flip in any::<u8>(),
        ) {
            let mut encoded = to_vec(&Value::Text(text)).unwrap();
            let at = encoded.len() - 1 - cut;
            encoded[at] ^= flip;
            encoded.truncate(encoded.len() - cut / 2);
            for bytes in [encoded.clone(), [head.as_slice(), &encoded].concat()] {
                prop_assert_eq!(from_slice(&bytes, "test").ok(), with_default_scratch(&bytes));
            }
        }
    }
}
