//! Mainland (PRC) mobile phone numbers: the residents' login (issue 12 item 2: only numbers an
//! SMS can reach are accepted, so no code is sent to anything else).

use std::fmt;

/// An 11-digit mainland mobile number (`1[3-9]` + 9 digits); an optional `+86`, `0086` or `86`
/// country prefix, spaces and dashes are dropped. Anything else (other digits, letters,
/// full-width characters, landlines, other countries) is refused. `Debug` and `Display` show only the masked form `138****5678`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PhoneNumber(String);

/// Why a phone number was refused; names no digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a phone number is an 11-digit mainland mobile number starting 13–19")]
pub struct PhoneNumberError;

impl PhoneNumber {
    /// What [`PhoneNumber::parse`] accepts, as an ECMA-262 / JSON Schema pattern (the OpenAPI
    /// document's): spaces and dashes anywhere, an optional `+86`, `0086` or `86`, then `1`,
    /// `3`–`9` and nine digits.
    pub const PATTERN: &'static str =
        r"^[ -]*(\+[ -]*8[ -]*6|0[ -]*0[ -]*8[ -]*6|8[ -]*6)?[ -]*1[ -]*[3-9]([ -]*[0-9]){9}[ -]*$";

    /// Parses and normalises a phone number.
    pub fn parse(text: &str) -> Result<Self, PhoneNumberError> {
        let digits: String = text.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        let digits = digits
            .strip_prefix("+86")
            .or_else(|| digits.strip_prefix("0086"))
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
        for ok in [
            "13812345678",
            "+86 138-1234-5678",
            "8613812345678",
            "0086 138 1234 5678",
            "+8613812345678",
        ] {
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
            "11812345678",
            "10812345678",
            "23812345678",
            "+85213812345678",
            "00 86 13812345678x",
            "+86+8613812345678",
            "0571-12345678",
            "１３８１２３４５６７８",
            "13812345678\n",
            "138.1234.5678",
        ] {
            assert!(PhoneNumber::parse(bad).is_err(), "{bad}");
        }
    }

    use proptest::prelude::*;

    /// A PRC mobile number: `1`, `3`–`9`, nine digits.
    fn mobile() -> impl Strategy<Value = String> {
        (3u8..=9, proptest::collection::vec(0u8..=9, 9)).prop_map(|(second, rest)| {
            let mut s = format!("1{second}");
            s.extend(rest.iter().map(|d| char::from(b'0' + d)));
            s
        })
    }

    proptest! {
        #[test]
        fn every_prc_mobile_number_parses_with_any_prefix_and_separators(
            number in mobile(),
            prefix in prop::sample::select(vec!["", "+86", "0086", "86", "+86 ", "0086-"]),
            cuts in proptest::collection::vec((0usize..11, prop::sample::select(vec![" ", "-", "  "])), 0..4),
        ) {
            let mut body = number.clone();
            let mut cuts = cuts;
            cuts.sort_by_key(|c| std::cmp::Reverse(c.0));
            for (at, sep) in cuts {
                body.insert_str(at, sep);
            }
            let text = format!("{prefix}{body}");
            let parsed = PhoneNumber::parse(&text);
            prop_assert_eq!(parsed.map(|p| p.expose().to_owned()), Ok(number), "{}", text);
        }

        #[test]
        fn whatever_parses_is_an_eleven_digit_prc_mobile_number(text in "[-+ 0-9a-z]{0,20}") {
            if let Ok(p) = PhoneNumber::parse(&text) {
                let b = p.expose().as_bytes();
                prop_assert!(b.len() == 11 && b.iter().all(u8::is_ascii_digit));
                prop_assert!(b[0] == b'1' && (b'3'..=b'9').contains(&b[1]));
                prop_assert!(!text.chars().any(|c| c.is_ascii_alphabetic()));
            }
        }

        #[test]
        fn eleven_digits_not_starting_1_3_to_1_9_are_refused(
            first in 0u8..=9,
            second in 0u8..=9,
            rest in "[0-9]{9}",
        ) {
            prop_assume!(!(first == 1 && second >= 3));
            let text = format!("{first}{second}{rest}");
            prop_assert!(PhoneNumber::parse(&text).is_err(), "{}", text);
        }

        #[test]
        fn a_wrong_length_is_refused(number in mobile(), extra in "[0-9]{1,3}", cut in 1usize..11) {
            let longer = format!("{number}{extra}");
            prop_assert!(PhoneNumber::parse(&longer).is_err());
            prop_assert!(PhoneNumber::parse(&number[..11 - cut]).is_err());
        }

        #[test]
        fn the_masked_form_hides_the_middle_four_digits(number in mobile()) {
            let p = PhoneNumber::parse(&number).unwrap();
            prop_assert_eq!(p.to_string(), format!("{}****{}", &number[..3], &number[7..]));
            let debug = format!("{:?}", p);
            prop_assert!(!debug.contains(&number));
        }
    }

    #[test]
    fn phone_numbers_show_only_their_masked_form() {
        let p = PhoneNumber::parse("13812345678").unwrap();
        assert_eq!(p.to_string(), "138****5678");
        assert_eq!(format!("{p:?}"), "PhoneNumber(138****5678)");
    }
}
