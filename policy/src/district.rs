//! District codes (GB/T 2260, county level) and the nine districts of Jinhua (SPEC §1).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Error;

/// One of the nine county-level districts of Jinhua, in the order SPEC §1 lists them.
///
/// The order is part of the credential format: [`District::index`] is how a district travels in a
/// QR code, so variants are never reordered, only appended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum District {
    /// 330702 婺城区
    Wucheng,
    /// 330703 金东区
    Jindong,
    /// 330723 武义县
    Wuyi,
    /// 330726 浦江县
    Pujiang,
    /// 330727 磐安县
    Panan,
    /// 330781 兰溪市
    Lanxi,
    /// 330782 义乌市
    Yiwu,
    /// 330783 东阳市
    Dongyang,
    /// 330784 永康市
    Yongkang,
}

impl District {
    /// All Jinhua districts, in index order.
    pub const ALL: [District; 9] = [
        District::Wucheng,
        District::Jindong,
        District::Wuyi,
        District::Pujiang,
        District::Panan,
        District::Lanxi,
        District::Yiwu,
        District::Dongyang,
        District::Yongkang,
    ];

    /// The six-digit GB/T 2260 code.
    pub const fn code(self) -> u32 {
        match self {
            District::Wucheng => 330702,
            District::Jindong => 330703,
            District::Wuyi => 330723,
            District::Pujiang => 330726,
            District::Panan => 330727,
            District::Lanxi => 330781,
            District::Yiwu => 330782,
            District::Dongyang => 330783,
            District::Yongkang => 330784,
        }
    }

    /// The Chinese name, as printed on the permit.
    pub const fn name_zh(self) -> &'static str {
        match self {
            District::Wucheng => "婺城区",
            District::Jindong => "金东区",
            District::Wuyi => "武义县",
            District::Pujiang => "浦江县",
            District::Panan => "磐安县",
            District::Lanxi => "兰溪市",
            District::Yiwu => "义乌市",
            District::Dongyang => "东阳市",
            District::Yongkang => "永康市",
        }
    }

    /// Position in [`District::ALL`] (0–8): the one-byte form used inside credentials.
    pub const fn index(self) -> u8 {
        self as u8
    }

    /// The district at `index` in [`District::ALL`].
    pub fn from_index(index: u64) -> Option<District> {
        usize::try_from(index)
            .ok()
            .and_then(|i| District::ALL.get(i))
            .copied()
    }

    /// The Jinhua district with this GB/T 2260 code, if it is one.
    pub fn from_code(code: u32) -> Option<District> {
        District::ALL.into_iter().find(|d| d.code() == code)
    }

    /// The district as a general [`DistrictCode`].
    pub fn as_code(self) -> DistrictCode {
        DistrictCode(self.code())
    }
}

/// A district as its GB/T 2260 code in an integer column: how the service's database stores
/// districts. Every Jinhua code fits an `i32` (they are six digits).
impl From<District> for i32 {
    fn from(district: District) -> i32 {
        // Six-digit codes: 330702 … 330784.
        district.code() as i32
    }
}

/// The district an integer column holds: [`Error::DistrictNotInJinhua`] when the code is not
/// one of Jinhua's nine (a row written by hand, or a corrupted one).
impl TryFrom<i32> for District {
    type Error = Error;

    fn try_from(code: i32) -> Result<District, Error> {
        u32::try_from(code)
            .ok()
            .and_then(District::from_code)
            .ok_or(Error::DistrictNotInJinhua)
    }
}

impl fmt::Display for District {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code())
    }
}

impl FromStr for District {
    type Err = Error;

    /// Parses a six-digit code that must name a Jinhua district.
    fn from_str(s: &str) -> Result<Self, Error> {
        s.parse::<DistrictCode>()?
            .jinhua()
            .ok_or(Error::DistrictNotInJinhua)
    }
}

impl Serialize for District {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for District {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Any county-level administrative code (GB/T 2260): six digits, the first not zero.
///
/// Registrations outside Jinhua are possible inputs of the report (they count as gaps), so this
/// type is wider than [`District`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DistrictCode(u32);

impl DistrictCode {
    /// The shape of a code's text: six digits, the first not `0` (as JSON Schema / ECMA-262).
    pub const PATTERN: &'static str = "^[1-9][0-9]{5}$";

    /// Builds a code from its number, which must have exactly six digits.
    pub fn new(code: u32) -> Result<Self, Error> {
        if (100_000..=999_999).contains(&code) {
            Ok(DistrictCode(code))
        } else {
            Err(Error::InvalidDistrict)
        }
    }

    /// The numeric code.
    pub const fn value(self) -> u32 {
        self.0
    }

    /// The Jinhua district this code names, or `None` for anywhere outside Jinhua.
    pub fn jinhua(self) -> Option<District> {
        District::from_code(self.0)
    }

    /// Whether the code names a Jinhua district.
    pub fn is_jinhua(self) -> bool {
        self.jinhua().is_some()
    }
}

impl From<District> for DistrictCode {
    fn from(d: District) -> Self {
        d.as_code()
    }
}

impl fmt::Display for DistrictCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for DistrictCode {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        if s.len() != 6 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::InvalidDistrict);
        }
        s.parse::<u32>()
            .map_err(|_| Error::InvalidDistrict)
            .and_then(DistrictCode::new)
    }
}

impl Serialize for DistrictCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for DistrictCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nine_jinhua_districts_round_trip_through_code_and_index() {
        for (i, d) in District::ALL.into_iter().enumerate() {
            assert_eq!(d.index() as usize, i);
            assert_eq!(District::from_index(i as u64), Some(d));
            assert_eq!(District::from_code(d.code()), Some(d));
            assert_eq!(d.to_string().parse::<District>(), Ok(d));
        }
        assert_eq!(District::from_index(9), None);
    }

    #[test]
    fn anything_else_is_outside_jinhua() {
        let hangzhou: DistrictCode = "330102".parse().unwrap();
        assert!(!hangzhou.is_jinhua());
        assert_eq!(
            "330102".parse::<District>(),
            Err(Error::DistrictNotInJinhua)
        );
    }

    #[test]
    fn a_district_code_is_exactly_six_digits() {
        for bad in [
            "", "33070", "3307021", "33070a", "+33070", "033070", " 330702",
        ] {
            assert_eq!(
                bad.parse::<DistrictCode>(),
                Err(Error::InvalidDistrict),
                "{bad:?}"
            );
        }
    }
}
