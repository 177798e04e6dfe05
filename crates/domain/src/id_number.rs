//! The resident identity number (公民身份号码, GB 11643-1999): 6-digit address code, 8-digit birth
//! date, 3-digit sequence (odd for men), and a check character over the first 17.
use std::fmt;

use chrono::NaiveDate;

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: &[u8; 11] = b"10X98765432";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdNumberError {
    #[error("身份证号码应为18位，当前为{0}位")]
    Length(usize),
    #[error("身份证号码前17位应为数字，最后一位为数字或X")]
    Characters,
    #[error("身份证号码中的出生日期无效")]
    BirthDate,
    #[error("身份证号码校验位错误，请核对后重新输入")]
    CheckDigit,
}

/// A validated identity number, upper-case X.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdNumber(String);

impl IdNumber {
    pub fn parse(input: &str) -> Result<Self, IdNumberError> {
        let s = input.trim().to_ascii_uppercase();
        let chars: Vec<char> = s.chars().collect();
        if chars.len() != 18 {
            return Err(IdNumberError::Length(chars.len()));
        }
        if !chars[..17].iter().all(|c| c.is_ascii_digit())
            || !(chars[17].is_ascii_digit() || chars[17] == 'X')
        {
            return Err(IdNumberError::Characters);
        }
        if NaiveDate::parse_from_str(&s[6..14], "%Y%m%d").is_err() {
            return Err(IdNumberError::BirthDate);
        }
        if check_char(&s[..17]) != chars[17] {
            return Err(IdNumberError::CheckDigit);
        }
        Ok(Self(s))
    }

    /// The first 17 characters completed with their check character (for test and demo data).
    pub fn complete(first17: &str) -> Option<Self> {
        (first17.len() == 17 && first17.bytes().all(|b| b.is_ascii_digit()))
            .then(|| Self(format!("{first17}{}", check_char(first17))))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Shown masked, as portals do: 310104********123X.
    pub fn masked(&self) -> String {
        format!("{}********{}", &self.0[..6], &self.0[14..])
    }
}

fn check_char(first17: &str) -> char {
    let sum: u32 = first17
        .bytes()
        .zip(WEIGHTS)
        .map(|(b, w)| (b - b'0') as u32 * w)
        .sum();
    CHECK[(sum % 11) as usize] as char
}

/// Never print the number in full by accident.
impl fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdNumber({})", self.masked())
    }
}

/// A mainland mobile number: 11 digits starting with 1.
pub fn is_mobile(s: &str) -> bool {
    s.len() == 11 && s.starts_with('1') && s.bytes().all(|b| b.is_ascii_digit())
}

/// A mobile number, or a landline with its area code (021-12345678).
pub fn is_phone(s: &str) -> bool {
    let landline = match s.split_once('-') {
        Some((area, number)) => {
            (3..=4).contains(&area.len())
                && area.starts_with('0')
                && area.bytes().all(|b| b.is_ascii_digit())
                && (7..=8).contains(&number.len())
                && number.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    };
    is_mobile(s) || landline
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_numbers_with_the_right_check_character() {
        // 11010519491231002X is the standard's worked example.
        assert_eq!(
            IdNumber::parse("11010519491231002x").unwrap().as_str(),
            "11010519491231002X"
        );
        let made = IdNumber::complete("31010419900307123").unwrap();
        assert_eq!(IdNumber::parse(made.as_str()).unwrap(), made);
    }

    #[test]
    fn names_what_is_wrong() {
        assert_eq!(
            IdNumber::parse("110105194912310021"),
            Err(IdNumberError::CheckDigit)
        );
        assert_eq!(
            IdNumber::parse("11010519491331002X"),
            Err(IdNumberError::BirthDate)
        );
        assert_eq!(
            IdNumber::parse("1101051949123100"),
            Err(IdNumberError::Length(16))
        );
        assert_eq!(
            IdNumber::parse("1101051949123100AX"),
            Err(IdNumberError::Characters)
        );
    }

    #[test]
    fn is_masked_when_shown_or_debugged() {
        let id = IdNumber::parse("11010519491231002X").unwrap();
        assert_eq!(id.masked(), "110105********002X");
        assert!(!format!("{id:?}").contains("19491231"));
    }

    #[test]
    fn phones() {
        assert!(is_mobile("13812345678") && is_phone("13812345678"));
        assert!(is_phone("021-12345678") && is_phone("0512-1234567"));
        assert!(!is_phone("12345") && !is_phone("21-12345678") && !is_mobile("021-12345678"));
    }
}
