//! Short texts people type: a person's name, an address, a reason. Each is trimmed, counted in
//! characters (not bytes) and kept within limits that the signed credential shares
//! ([`crypto::permit::MAX_NAME_CHARS`], [`crypto::permit::MAX_ADDRESS_CHARS`]), so a value the API
//! accepts never fails at signing.

use std::fmt;
use std::ops::RangeInclusive;

/// Why a text was refused: its stable code and what a valid one looks like. Never quotes the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{rule}")]
pub struct TextError {
    /// Stable code, e.g. `invalid_name`.
    pub code: &'static str,
    /// What a valid value is, for people.
    pub rule: &'static str,
}

/// `text` trimmed, if its length in characters is within `chars` and every character passes
/// `allowed`.
fn bounded(text: &str, chars: RangeInclusive<usize>, allowed: fn(char) -> bool) -> Option<String> {
    let text = text.trim();
    (chars.contains(&text.chars().count()) && text.chars().all(allowed)).then(|| text.to_owned())
}

/// The characters `str::trim` removes (Unicode `White_Space`) that are not control characters,
/// as a regex class body (the same in ECMA-262, Python and Rust).
macro_rules! white_space {
    () => {
        r"\u0020\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000"
    };
}

/// Control characters (`char::is_control`, category Cc), as a regex class body.
macro_rules! control {
    () => {
        r"\u0000-\u001F\u007F-\u009F"
    };
}

/// A character that is neither white space nor a control character.
macro_rules! edge {
    () => {
        concat!("[^", white_space!(), control!(), "]")
    };
}

/// A character that is not a control character.
macro_rules! inner {
    () => {
        concat!("[^", control!(), "]")
    };
}

/// A character `str::trim` keeps at an edge.
macro_rules! not_space {
    () => {
        concat!("[^", white_space!(), r"\u0009-\u000D\u0085", "]")
    };
}

/// A letter of the scripts names are written in here (Latin with its accented letters, CJK) or
/// `·`: a subset of `char::is_alphabetic`, so the documented form is never refused.
macro_rules! name_char {
    () => {
        r"[A-Za-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u024F\u3400-\u4DBF\u4E00-\u9FFF\u00B7]"
    };
}

macro_rules! text_type {
    ($(#[$doc:meta])* $name:ident, $chars:expr, $allowed:expr, $pattern:expr, $code:literal, $rule:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            /// The limits, in characters.
            pub const CHARS: RangeInclusive<usize> = $chars;

            /// The canonical (trimmed) form as a JSON Schema pattern, for the OpenAPI document;
            /// with [`Self::CHARS`] as `minLength`/`maxLength` it accepts nothing `parse` refuses.
            pub const PATTERN: &'static str = $pattern;

            /// Parses `text` (trimmed).
            pub fn parse(text: &str) -> Result<Self, TextError> {
                bounded(text, Self::CHARS, $allowed).map($name).ok_or(TextError {
                    code: $code,
                    rule: $rule,
                })
            }

            /// The text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The text, owned.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

text_type!(
    /// A name on a permit: 2–32 characters of letters (any script), spaces and the middle dot `·`.
    PersonName,
    2..=crypto::permit::MAX_NAME_CHARS,
    |c: char| c.is_alphabetic() || c == ' ' || c == '·',
    concat!("^", name_char!(), "(", name_char!(), "|[ ])*", name_char!(), "$"),
    "invalid_name",
    "a name has 2–32 letters, spaces or ·"
);

text_type!(
    /// An address to street or community level (SPEC §2): 2–64 characters, no control characters.
    Address,
    2..=crypto::permit::MAX_ADDRESS_CHARS,
    |c: char| !c.is_control(),
    concat!("^", edge!(), "(", inner!(), "*", edge!(), ")?$"),
    "invalid_address",
    "an address has 2 to 64 characters and no control characters"
);

text_type!(
    /// Why an officer decided so (a rejection, a suspension, a restoration, a revocation): 2–500
    /// characters, shown to the resident.
    Reason,
    2..=500,
    |_| true,
    concat!("^", not_space!(), r"([\s\S]*", not_space!(), ")?$"),
    "invalid_reason",
    "a reason has 2 to 500 characters"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_trimmed_and_counted_in_characters() {
        assert_eq!(PersonName::parse("  张小明 ").unwrap().as_str(), "张小明");
        assert_eq!(
            PersonName::parse("阿依古丽·买买提").unwrap().as_str(),
            "阿依古丽·买买提"
        );
        assert!(PersonName::parse("张").is_err());
        assert!(PersonName::parse(&"长".repeat(32)).is_ok());
        assert!(PersonName::parse(&"长".repeat(33)).is_err());
        assert_eq!(
            PersonName::parse("Zhang3").unwrap_err().code,
            "invalid_name"
        );
        assert!(Address::parse(&"长".repeat(64)).is_ok());
        assert!(Address::parse(&"长".repeat(65)).is_err());
        assert_eq!(Address::parse("a\nb").unwrap_err().code, "invalid_address");
        assert!(Reason::parse(" x ").is_err());
        assert!(Reason::parse(&"长".repeat(500)).is_ok());
        assert_eq!(
            Reason::parse(&"长".repeat(501)).unwrap_err().code,
            "invalid_reason"
        );
    }

    #[test]
    fn every_accepted_name_and_address_fits_the_credential() {
        assert_eq!(*PersonName::CHARS.end(), crypto::permit::MAX_NAME_CHARS);
        assert_eq!(*Address::CHARS.end(), crypto::permit::MAX_ADDRESS_CHARS);
    }
}
