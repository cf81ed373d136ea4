//! The masked resident ID number a credential carries (SPEC §2 private claim key 2): the first 6
//! and the last 4 characters of the 18-character ID number (GB 11643), the rest hidden.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

use crate::{Error, Result};

/// An ID number with only its first 6 (the hukou district code) and last 4 characters visible.
/// Displayed as 18 characters, e.g. `330702********123X`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MaskedIdNumber {
    visible: [u8; 10],
}

impl MaskedIdNumber {
    /// The shape of the displayed form (as JSON Schema / ECMA-262): the first 6 characters,
    /// eight `*`, the last 4.
    pub const PATTERN: &'static str = "^[1-9][0-9]{5}[*]{8}[0-9]{3}[0-9X]$";

    /// Masks a full 18-character ID number (17 digits and a final digit or `X`).
    pub fn from_full(id: &str) -> Result<MaskedIdNumber> {
        let b = id.as_bytes();
        let shape = b.len() == 18
            && b.iter().take(17).all(u8::is_ascii_digit)
            && b.get(17).is_some_and(|c| c.is_ascii_digit() || *c == b'X');
        if !shape {
            return Err(Error::Invalid("ID number"));
        }
        Self::from_visible(
            id.get(..6).unwrap_or_default(),
            id.get(14..).unwrap_or_default(),
        )
    }

    /// Reads the 10 visible characters as the credential carries them (`330702123X`).
    pub fn from_compact(text: &str) -> Result<MaskedIdNumber> {
        Self::from_visible(
            text.get(..6).unwrap_or_default(),
            text.get(6..).unwrap_or_default(),
        )
    }

    fn from_visible(head: &str, tail: &str) -> Result<MaskedIdNumber> {
        let h = head.as_bytes();
        let t = tail.as_bytes();
        let ok = h.len() == 6
            && h.iter().all(u8::is_ascii_digit)
            && h.first() != Some(&b'0')
            && t.len() == 4
            && t.iter().take(3).all(u8::is_ascii_digit)
            && t.get(3).is_some_and(|c| c.is_ascii_digit() || *c == b'X');
        if !ok {
            return Err(Error::Invalid("masked ID number"));
        }
        let mut visible = [0u8; 10];
        visible[..6].copy_from_slice(h);
        visible[6..].copy_from_slice(t);
        Ok(MaskedIdNumber { visible })
    }

    /// The 10 visible characters, the form inside a credential.
    pub fn compact(&self) -> String {
        String::from_utf8_lossy(&self.visible).into_owned()
    }
}

impl FromStr for MaskedIdNumber {
    type Err = Error;

    /// Accepts the 18-character masked form (`330702********123X`) or a full ID number.
    fn from_str(s: &str) -> Result<MaskedIdNumber> {
        match s.get(6..14) {
            Some("********") => Self::from_visible(
                s.get(..6).unwrap_or_default(),
                s.get(14..).unwrap_or_default(),
            ),
            _ => Self::from_full(s),
        }
    }
}

impl fmt::Display for MaskedIdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.compact();
        write!(
            f,
            "{}********{}",
            text.get(..6).unwrap_or_default(),
            text.get(6..).unwrap_or_default()
        )
    }
}

impl Serialize for MaskedIdNumber {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_id_number_is_masked_to_six_and_four() {
        let m: MaskedIdNumber = "33070219900101123X".parse().unwrap();
        assert_eq!(m.to_string(), "330702********123X");
        assert_eq!(m.compact(), "330702123X");
        assert_eq!("330702********123X".parse::<MaskedIdNumber>().unwrap(), m);
        assert_eq!(MaskedIdNumber::from_compact("330702123X").unwrap(), m);
    }

    #[test]
    fn malformed_id_numbers_are_refused() {
        for bad in [
            "",
            "330702********12X3",
            "330702*******1123X",
            "3307021990010112x",
            "03070219900101123X",
            "33070219900101123XX",
            "三三0702********123X",
        ] {
            assert!(bad.parse::<MaskedIdNumber>().is_err(), "{bad:?}");
        }
        assert!(MaskedIdNumber::from_compact("330702123").is_err());
        assert!(MaskedIdNumber::from_compact("330702123X0").is_err());
    }
}
