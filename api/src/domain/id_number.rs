//! Resident identity card numbers (GB 11643-1999): 17 digits and a check character.

use std::fmt;

/// A citizen identity number whose check character is right. Its `Debug` and `Display` show only
/// the masked form (first 6 + last 4), so it cannot leak into logs or errors by accident.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdNumber(String);

/// Why an identity number was refused; names no digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdNumberError {
    /// Not 17 digits followed by a digit or `X`.
    #[error("an ID number is 17 digits followed by a digit or X")]
    Shape,
    /// The check character (GB 11643 ISO 7064 MOD 11-2) does not match.
    #[error("the ID number's check character is wrong")]
    CheckDigit,
}

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: [u8; 11] = *b"10X98765432";

impl IdNumber {
    /// The shape [`IdNumber::parse`] accepts, as a JSON Schema pattern (the check character is
    /// verified beyond it; surrounding whitespace is trimmed).
    pub const PATTERN: &'static str = "^[0-9]{17}[0-9Xx]$";

    /// The 18-character number of `first17` (17 ASCII digits) with its check character
    /// appended: for synthetic residents (`epermit seed`) and tests.
    pub fn with_check(first17: &str) -> String {
        let sum: u32 = first17
            .bytes()
            .zip(WEIGHTS)
            .map(|(b, w)| u32::from(b.wrapping_sub(b'0')) * w)
            .sum();
        let check = char::from(CHECK[(sum % 11) as usize]);
        format!("{first17}{check}")
    }

    /// Parses an 18-character number (a lower-case `x` is accepted and stored upper-case).
    pub fn parse(text: &str) -> Result<Self, IdNumberError> {
        let upper = text.trim().to_ascii_uppercase();
        let bytes = upper.as_bytes();
        let shape_ok = bytes.len() == 18
            && bytes[..17].iter().all(u8::is_ascii_digit)
            && (bytes[17].is_ascii_digit() || bytes[17] == b'X');
        if !shape_ok {
            return Err(IdNumberError::Shape);
        }
        let sum: u32 = bytes[..17]
            .iter()
            .zip(WEIGHTS)
            .map(|(b, w)| u32::from(b - b'0') * w)
            .sum();
        if CHECK[(sum % 11) as usize] != bytes[17] {
            return Err(IdNumberError::CheckDigit);
        }
        Ok(IdNumber(upper))
    }

    /// The full number, for storage only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// First 6 and last 4 characters, the rest as `*`: `330702********123X`.
    pub fn masked(&self) -> String {
        format!("{}********{}", &self.0[..6], &self.0[14..])
    }
}

impl fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdNumber({})", self.masked())
    }
}

impl fmt::Display for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A number with a valid check character, built for tests (not a real person's).
    pub(crate) fn valid(prefix17: &str) -> String {
        let sum: u32 = prefix17
            .bytes()
            .zip(WEIGHTS)
            .map(|(b, w)| u32::from(b - b'0') * w)
            .sum();
        format!("{prefix17}{}", CHECK[(sum % 11) as usize] as char)
    }

    #[test]
    fn gb_11643_check_character_is_verified() {
        assert!(IdNumber::parse("11010519491231002X").is_ok());
        assert_eq!(
            IdNumber::parse("110105194912310021"),
            Err(IdNumberError::CheckDigit)
        );
        assert!(IdNumber::parse("11010519491231002x").is_ok());
        let n = valid("33070219900101123");
        assert_eq!(IdNumber::parse(&n).unwrap().expose(), n);
    }

    #[test]
    fn malformed_id_numbers_are_refused_by_shape() {
        for bad in [
            "",
            "1234",
            "11010519491231002Y",
            "1101051949123100211",
            "１1010519491231002X",
        ] {
            assert_eq!(IdNumber::parse(bad), Err(IdNumberError::Shape), "{bad:?}");
        }
    }

    #[test]
    fn id_numbers_show_only_their_masked_form() {
        let n = IdNumber::parse("11010519491231002X").unwrap();
        assert_eq!(n.to_string(), "110105********002X");
        assert_eq!(format!("{n:?}"), "IdNumber(110105********002X)");
    }
}
