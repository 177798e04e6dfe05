//! The unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters from a
//! 31-character alphabet (no I, O, S, V, Z), the last one a check character over the first 17.
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// Why a string is not a unified social credit code. The messages name the field as users know it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreditCodeError {
    #[error("统一社会信用代码应为18位，当前为{0}位")]
    Length(usize),
    #[error("统一社会信用代码第{position}位“{found}”不是有效字符（不使用I、O、S、V、Z）")]
    Character { position: usize, found: char },
    #[error("统一社会信用代码校验位错误，请核对后重新输入")]
    CheckCharacter,
}

/// A validated unified social credit code, kept upper-case.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CreditCode(String);

impl CreditCode {
    pub fn parse(input: &str) -> Result<Self, CreditCodeError> {
        let code = input.trim().to_ascii_uppercase();
        let chars: Vec<char> = code.chars().collect();
        if chars.len() != 18 {
            return Err(CreditCodeError::Length(chars.len()));
        }
        let mut values = [0u32; 18];
        for (i, c) in chars.iter().enumerate() {
            values[i] = value_of(*c).ok_or(CreditCodeError::Character {
                position: i + 1,
                found: *c,
            })?;
        }
        if check_value(&values[..17]) != values[17] {
            return Err(CreditCodeError::CheckCharacter);
        }
        Ok(Self(code))
    }

    /// Completes the first 17 characters with their check character; `None` if a character is
    /// outside the alphabet. Used to make demo and test codes that pass the rule.
    pub fn complete(first17: &str) -> Option<Self> {
        let chars: Vec<char> = first17.chars().collect();
        if chars.len() != 17 {
            return None;
        }
        let values: Option<Vec<u32>> = chars.iter().map(|c| value_of(*c)).collect();
        let check = ALPHABET[check_value(&values?) as usize] as char;
        Some(Self(format!("{first17}{check}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The administrative division code (positions 3-8) of the registering authority.
    pub fn division(&self) -> &str {
        &self.0[2..8]
    }
}

fn value_of(c: char) -> Option<u32> {
    ALPHABET
        .iter()
        .position(|a| *a as char == c)
        .map(|p| p as u32)
}

fn check_value(values: &[u32]) -> u32 {
    let sum: u32 = values.iter().zip(WEIGHTS).map(|(v, w)| v * w).sum();
    (31 - sum % 31) % 31
}

impl FromStr for CreditCode {
    type Err = CreditCodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for CreditCode {
    type Error = CreditCodeError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<CreditCode> for String {
    fn from(c: CreditCode) -> String {
        c.0
    }
}

impl fmt::Display for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_codes_computed_with_the_standard_rule() {
        for code in [
            "91310115MA1K3YJ12G",
            "12310104425024451U",
            "91310000132210546R",
        ] {
            assert_eq!(CreditCode::parse(code).unwrap().as_str(), code);
        }
        // Lower case input is accepted and normalised, as users type it.
        assert_eq!(
            CreditCode::parse(" 91310115ma1k3yj12g ").unwrap().as_str(),
            "91310115MA1K3YJ12G"
        );
    }

    #[test]
    fn rejects_a_wrong_check_character() {
        assert_eq!(
            CreditCode::parse("91310115MA1K3YJ12H"),
            Err(CreditCodeError::CheckCharacter)
        );
    }

    #[test]
    fn rejects_letters_outside_the_alphabet_naming_the_position() {
        let err = CreditCode::parse("91310115MA1K3YJ1IG").unwrap_err();
        assert_eq!(
            err,
            CreditCodeError::Character {
                position: 17,
                found: 'I'
            }
        );
        assert!(err.to_string().contains("第17位"));
    }

    #[test]
    fn rejects_wrong_length() {
        assert_eq!(CreditCode::parse("9131"), Err(CreditCodeError::Length(4)));
    }

    #[test]
    fn completes_a_prefix_to_a_valid_code() {
        let code = CreditCode::complete("91310115MA1K3YJ12").unwrap();
        assert_eq!(code.as_str(), "91310115MA1K3YJ12G");
        assert_eq!(code.division(), "310115");
        assert!(CreditCode::complete("91310115MA1K3YJ1O").is_none());
    }
}
