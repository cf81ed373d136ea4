//! Mainland mobile phone numbers: the residents' login.

use std::fmt;

/// An 11-digit mainland mobile number (`1[3-9]` + 9 digits); an optional `+86`/`86` prefix, spaces
/// and dashes are dropped. `Debug` and `Display` show only the masked form `138****5678`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PhoneNumber(String);

/// Why a phone number was refused; names no digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a phone number is an 11-digit mainland mobile number starting 13–19")]
pub struct PhoneNumberError;

impl PhoneNumber {
    /// Parses and normalises a phone number.
    pub fn parse(text: &str) -> Result<Self, PhoneNumberError> {
        let digits: String = text.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        let digits = digits
            .strip_prefix("+86")
            .or_else(|| {
                (digits.len() == 13)
                    .then(|| digits.strip_prefix("86"))
                    .flatten()
            })
            .unwrap_or(&digits);
        let b = digits.as_bytes();
        if b.len() == 11
            && b.iter().all(u8::is_ascii_digit)
            && b[0] == b'1'
            && (b'3'..=b'9').contains(&b[1])
        {
            Ok(PhoneNumber(digits.to_owned()))
        } else {
            Err(PhoneNumberError)
        }
    }

    /// The full number, for storage and the code sender only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `138****5678`.
    pub fn masked(&self) -> String {
        format!("{}****{}", &self.0[..3], &self.0[7..])
    }
}

impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhoneNumber({})", self.masked())
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_are_normalised_mainland_mobiles() {
        for ok in ["13812345678", "+86 138-1234-5678", "8613812345678"] {
            assert_eq!(
                PhoneNumber::parse(ok).unwrap().expose(),
                "13812345678",
                "{ok}"
            );
        }
        for bad in [
            "",
            "12812345678",
            "1381234567",
            "138123456789",
            "1381234567a",
        ] {
            assert!(PhoneNumber::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn phone_numbers_show_only_their_masked_form() {
        let p = PhoneNumber::parse("13812345678").unwrap();
        assert_eq!(p.to_string(), "138****5678");
        assert_eq!(format!("{p:?}"), "PhoneNumber(138****5678)");
    }
}
