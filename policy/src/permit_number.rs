//! Permit numbers (SPEC §1.3): district code + year of issue + six-digit sequence, e.g.
//! `330782-2026-000123`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{District, Error, Result};

/// A permit number: the issuing district, the year of issue and a sequence within both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PermitNumber {
    district: District,
    year: u16,
    sequence: u32,
}

impl PermitNumber {
    /// The largest sequence a year can hold in a district (six digits).
    pub const MAX_SEQUENCE: u32 = 999_999;

    /// The shape of a number's text: `DDDDDD-YYYY-NNNNNN` (as JSON Schema / ECMA-262; the
    /// district must also be one of Jinhua's, the year and serial not zero).
    pub const PATTERN: &'static str = "^[1-9][0-9]{5}-[1-9][0-9]{3}-[0-9]{6}$";

    /// A permit number; the year must have four digits and the sequence six at most (1 ≤ seq).
    pub fn new(district: District, year: u16, sequence: u32) -> Result<Self> {
        if !(1000..=9999).contains(&year) || !(1..=Self::MAX_SEQUENCE).contains(&sequence) {
            return Err(Error::InvalidPermitNumber);
        }
        Ok(PermitNumber {
            district,
            year,
            sequence,
        })
    }

    /// The issuing district.
    pub fn district(&self) -> District {
        self.district
    }

    /// The year of issue.
    pub fn year(&self) -> u16 {
        self.year
    }

    /// The sequence within district and year.
    pub fn sequence(&self) -> u32 {
        self.sequence
    }

    /// The number as one integer, `DDDDDDYYYYSSSSSS` (16 digits), the compact form credentials carry.
    pub fn to_u64(&self) -> u64 {
        u64::from(self.district.code()) * 10_000_000_000
            + u64::from(self.year) * 1_000_000
            + u64::from(self.sequence)
    }

    /// The inverse of [`PermitNumber::to_u64`].
    pub fn from_u64(n: u64) -> Result<Self> {
        let code = u32::try_from(n / 10_000_000_000).map_err(|_| Error::InvalidPermitNumber)?;
        let district = District::from_code(code).ok_or(Error::InvalidPermitNumber)?;
        let year = u16::try_from(n / 1_000_000 % 10_000).map_err(|_| Error::InvalidPermitNumber)?;
        let sequence = u32::try_from(n % 1_000_000).map_err(|_| Error::InvalidPermitNumber)?;
        PermitNumber::new(district, year, sequence)
    }
}

impl fmt::Display for PermitNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{:04}-{:06}",
            self.district.code(),
            self.year,
            self.sequence
        )
    }
}

impl FromStr for PermitNumber {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let mut parts = s.split('-');
        let (Some(d), Some(y), Some(n), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Error::InvalidPermitNumber);
        };
        let digits = |t: &str, len: usize| t.len() == len && t.bytes().all(|b| b.is_ascii_digit());
        if !digits(d, 6) || !digits(y, 4) || !digits(n, 6) {
            return Err(Error::InvalidPermitNumber);
        }
        let district: District = d.parse().map_err(|_| Error::InvalidPermitNumber)?;
        let year = y.parse().map_err(|_| Error::InvalidPermitNumber)?;
        let sequence = n.parse().map_err(|_| Error::InvalidPermitNumber)?;
        PermitNumber::new(district, year, sequence)
    }
}

impl Serialize for PermitNumber {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PermitNumber {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permit_number_is_district_year_and_six_digit_sequence() {
        let n: PermitNumber = "330782-2026-000123".parse().unwrap();
        assert_eq!(n.district(), District::Yiwu);
        assert_eq!((n.year(), n.sequence()), (2026, 123));
        assert_eq!(n.to_string(), "330782-2026-000123");
        assert_eq!(n.to_u64(), 3_307_822_026_000_123);
        assert_eq!(PermitNumber::from_u64(n.to_u64()), Ok(n));
    }

    #[test]
    fn malformed_permit_numbers_are_refused() {
        for bad in [
            "",
            "330782-2026-123",
            "330102-2026-000123",
            "330782-26-000123",
            "330782-2026-000000",
            "330782-2026-000123-1",
            "330782_2026_000123",
        ] {
            assert_eq!(
                bad.parse::<PermitNumber>(),
                Err(Error::InvalidPermitNumber),
                "{bad:?}"
            );
        }
        assert!(PermitNumber::from_u64(u64::MAX).is_err());
    }
}
