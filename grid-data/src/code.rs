//! Cell codes built on the national administrative division code (GB/T 2260 + GB/T 10114).
//!
//! Rules (also in `docs/grid.md`):
//!
//! | level   | shape                         | example          | meaning |
//! |---------|-------------------------------|------------------|---------|
//! | town    | 9 digits `CCCCCC TTT`         | `419001190`      | county 6 + township 3, township 100–199 (镇) |
//! | area    | town 9 digits + `A` + 2 digits | `419001190A01`   | management area 01–99 (管理片区; not an administrative unit, so it gets a letter the national scheme never uses) |
//! | area    | 12 digits `… NNN` (survey)     | `419001190501`   | a survey's own numeric area code 001–999, level from the `level` property |
//! | village | 12 digits `… VVV`             | `419001190201`   | village 001–399 (001–199 居委会, 200–399 村委会) |
//! | village | 14 digits `… VVV SS`          | `41900119020101` | a cell subdividing a village, sequence 01–99 |
//!
//! A 12-digit town code ending in `000` (the form some survey tools write) is accepted and
//! normalised to its 9-digit form, so a town has exactly one spelling.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::model::CellLevel;

/// Longest code (a 14-digit village sub-cell).
const MAX_LEN: usize = 14;

/// A validated grid cell code; `Copy` and allocation-free so index lookups can return it cheaply.
///
/// Ordering is the ordering of the code text (the border tie-break rule relies on it).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CellCode {
    // Zero-padded ASCII; zero sorts before every digit/letter so array order == text order.
    bytes: [u8; MAX_LEN],
    len: u8,
}

/// Why a text is not a valid cell code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    /// The text is empty.
    #[error("编码为空 / empty code")]
    Empty,
    /// The text has a length no rule accepts.
    #[error("编码 `{0}` 长度不合法（镇 9 位、片区 9 位+A+2 位、村 12 或 14 位）/ invalid length")]
    Length(String),
    /// The text has characters other than digits (and the area letter).
    #[error("编码 `{0}` 含非法字符 / code may only contain digits (and `A` for areas)")]
    Charset(String),
    /// The first two digits are not a province code (11–82).
    #[error("编码 `{0}` 的省级代码不在 11–82 / province part not in 11–82")]
    Province(String),
    /// The township part is not a town (镇, 100–199).
    #[error("编码 `{0}` 的乡级代码不是镇（100–199）/ township part is not a town (100–199)")]
    Township(String),
    /// The village part is outside 001–399.
    #[error("编码 `{0}` 的村级代码不在 001–399 / village part not in 001–399")]
    Village(String),
    /// An area or sub-cell sequence is 00.
    #[error("编码 `{0}` 的序号不能为 00 / sequence must be 01–99")]
    Sequence(String),
}

impl CellCode {
    /// Parse and validate a code, normalising `…000` town codes to 9 digits.
    pub fn parse(text: &str) -> Result<Self, CodeError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(CodeError::Empty);
        }
        let upper = text.to_ascii_uppercase();
        let b = upper.as_bytes();
        let err_text = || text.to_owned();
        let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
        let body: &[u8] = match b.len() {
            9 | 14 if digits(b) => b,
            12 if digits(b) && &b[9..] == b"000" => &b[..9],
            12 if digits(b) => b,
            12 if b[9] == b'A' && digits(&b[..9]) && digits(&b[10..]) => b,
            9 | 12 | 14 => return Err(CodeError::Charset(err_text())),
            _ => return Err(CodeError::Length(err_text())),
        };
        let num = |s: &[u8]| s.iter().fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'));
        if !(11..=82).contains(&num(&body[..2])) {
            return Err(CodeError::Province(err_text()));
        }
        if !(100..=199).contains(&num(&body[6..9])) {
            return Err(CodeError::Township(err_text()));
        }
        if body.len() == 12 && body[9] == b'A' {
            if num(&body[10..]) == 0 {
                return Err(CodeError::Sequence(err_text()));
            }
        } else if body.len() == 12 {
            // 001–999: a survey's own 12-digit area codes are numeric too; whether 400–999 is
            // allowed depends on the feature's `level` (villages stop at 399), see `fits_level`.
            if num(&body[9..12]) == 0 {
                return Err(CodeError::Village(err_text()));
            }
        } else if body.len() == 14 {
            if !(1..=399).contains(&num(&body[9..12])) {
                return Err(CodeError::Village(err_text()));
            }
            if body.len() == 14 && num(&body[12..]) == 0 {
                return Err(CodeError::Sequence(err_text()));
            }
        }
        let mut bytes = [0u8; MAX_LEN];
        bytes[..body.len()].copy_from_slice(body);
        // body.len() <= 14 by the match above, so the cast cannot truncate.
        Ok(Self {
            bytes,
            len: body.len() as u8,
        })
    }

    /// Town code from a 6-digit county code and a township number (100–199).
    pub fn town(county: &str, township: u16) -> Result<Self, CodeError> {
        Self::parse(&format!("{county}{township:03}"))
    }

    /// Area code `<town>A<seq>` for area number `seq` (1–99) of `town`.
    pub fn area(town: CellCode, seq: u8) -> Result<Self, CodeError> {
        Self::parse(&format!("{}A{seq:02}", town.township_prefix()))
    }

    /// Village code `<town><village>` (village 1–399), or `<town><village><seq>` with a sub-cell sequence.
    pub fn village(town: CellCode, village: u16, seq: Option<u8>) -> Result<Self, CodeError> {
        match seq {
            None => Self::parse(&format!("{}{village:03}", town.township_prefix())),
            Some(s) => Self::parse(&format!("{}{village:03}{s:02}", town.township_prefix())),
        }
    }

    /// The code text.
    pub fn as_str(&self) -> &str {
        // Only ASCII is ever stored (checked in `parse`), so this cannot fail; fall back to "" anyway.
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or("")
    }

    /// Whether a cell of `level` may carry this code: the town 9 digits; an area `…A01` or a
    /// survey's own 12 digits (001–999, e.g. `419001190501`); a village 12 digits 001–399 or 14
    /// digits. A 12-digit numeric code is thus an area or a village as its `level` says.
    pub fn fits_level(&self, level: CellLevel) -> bool {
        match (level, self.len, self.bytes[9]) {
            (CellLevel::Town, 9, _) | (CellLevel::Area, 12, _) | (CellLevel::Village, 14, _) => {
                true
            }
            (CellLevel::Village, 12, b'A') => false,
            (CellLevel::Village, 12, _) => self.number() <= 399,
            _ => false,
        }
    }

    /// Whether the code is a 12-digit village shape beyond the village range (400–999): only an
    /// area may carry it.
    pub fn beyond_village_range(&self) -> bool {
        self.len == 12 && self.bytes[9] != b'A' && self.number() > 399
    }

    /// The 3-digit number after the town prefix (0 for a town or a lettered area).
    fn number(&self) -> u32 {
        if self.len < 12 || self.bytes[9] == b'A' {
            return 0;
        }
        self.bytes[9..12]
            .iter()
            .fold(0, |acc, d| acc * 10 + u32::from(d - b'0'))
    }

    /// The level this code's shape suggests; a 12-digit numeric code is taken as a village here
    /// (a survey's numeric area codes have the same shape: see [`CellCode::fits_level`]).
    pub fn level(&self) -> CellLevel {
        match (self.len, self.bytes[9]) {
            (9, _) => CellLevel::Town,
            (12, b'A') => CellLevel::Area,
            _ => CellLevel::Village,
        }
    }

    /// The 9-digit county+township prefix every code of one town shares.
    pub fn township_prefix(&self) -> &str {
        &self.as_str()[..9]
    }

    /// The 6-digit county code.
    pub fn county(&self) -> &str {
        &self.as_str()[..6]
    }
}

impl fmt::Display for CellCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for CellCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CellCode({})", self.as_str())
    }
}

impl FromStr for CellCode {
    type Err = CodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for CellCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for CellCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn town_area_village_shapes_parse_to_their_levels() {
        assert_eq!(
            CellCode::parse("419001190").unwrap().level(),
            CellLevel::Town
        );
        assert_eq!(
            CellCode::parse("419001190a07").unwrap().level(),
            CellLevel::Area
        );
        assert_eq!(
            CellCode::parse("419001190201").unwrap().level(),
            CellLevel::Village
        );
        assert_eq!(
            CellCode::parse("41900119020103").unwrap().level(),
            CellLevel::Village
        );
    }

    #[test]
    fn twelve_digit_town_code_is_normalised_to_nine_digits() {
        let c = CellCode::parse("419001190000").unwrap();
        assert_eq!(c.as_str(), "419001190");
        assert_eq!(c, CellCode::parse("419001190").unwrap());
    }

    #[test]
    fn codes_breaking_gbt_10114_ranges_are_rejected() {
        assert!(matches!(
            CellCode::parse("419001090"),
            Err(CodeError::Township(_))
        ));
        assert!(matches!(
            CellCode::parse("41900119040001"),
            Err(CodeError::Village(_))
        ));
        assert!(matches!(
            CellCode::parse("419001190A"),
            Err(CodeError::Length(_))
        ));
        assert!(matches!(
            CellCode::parse("419001190A00"),
            Err(CodeError::Sequence(_))
        ));
        assert!(matches!(
            CellCode::parse("41900119020100"),
            Err(CodeError::Sequence(_))
        ));
        assert!(matches!(
            CellCode::parse("999001190"),
            Err(CodeError::Province(_))
        ));
        assert!(matches!(
            CellCode::parse("4190011"),
            Err(CodeError::Length(_))
        ));
        assert!(matches!(
            CellCode::parse("41900119x"),
            Err(CodeError::Charset(_))
        ));
        assert!(matches!(CellCode::parse(" "), Err(CodeError::Empty)));
    }

    #[test]
    fn twelve_numeric_digits_fit_an_area_and_a_village_only_up_to_399() {
        let survey = CellCode::parse("419001190501").unwrap();
        assert!(survey.fits_level(CellLevel::Area));
        assert!(!survey.fits_level(CellLevel::Village));
        assert!(survey.beyond_village_range());
        let village = CellCode::parse("419001190201").unwrap();
        assert!(village.fits_level(CellLevel::Area) && village.fits_level(CellLevel::Village));
        let lettered = CellCode::parse("419001190A01").unwrap();
        assert!(lettered.fits_level(CellLevel::Area) && !lettered.fits_level(CellLevel::Village));
        let town = CellCode::parse("419001190").unwrap();
        assert!(town.fits_level(CellLevel::Town) && !town.fits_level(CellLevel::Area));
        assert!(!CellCode::parse("41900119020101")
            .unwrap()
            .fits_level(CellLevel::Area));
        assert!(matches!(
            CellCode::parse("419001190000"),
            Ok(c) if c.fits_level(CellLevel::Town)
        ));
    }

    #[test]
    fn ordering_follows_code_text() {
        let mut v: Vec<CellCode> = [
            "419001190202",
            "419001190A01",
            "419001190",
            "41900119020101",
        ]
        .iter()
        .map(|s| CellCode::parse(s).unwrap())
        .collect();
        v.sort();
        let texts: Vec<&str> = v.iter().map(CellCode::as_str).collect();
        let mut expected = texts.clone();
        expected.sort_unstable();
        assert_eq!(texts, expected);
    }

    #[test]
    fn constructors_build_codes_of_the_same_town() {
        let town = CellCode::town("419001", 190).unwrap();
        let area = CellCode::area(town, 3).unwrap();
        let village = CellCode::village(town, 215, Some(7)).unwrap();
        assert_eq!(area.as_str(), "419001190A03");
        assert_eq!(village.as_str(), "41900119021507");
        assert_eq!(village.township_prefix(), town.as_str());
    }

    #[test]
    fn serde_round_trips_as_plain_string() {
        let c = CellCode::parse("419001190A01").unwrap();
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(json, "\"419001190A01\"");
        assert_eq!(serde_json::from_str::<CellCode>(&json).unwrap(), c);
        assert!(serde_json::from_str::<CellCode>("\"12\"").is_err());
    }
}
