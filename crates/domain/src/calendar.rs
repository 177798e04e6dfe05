//! Working days. Administrative licensing counts its time limits in working days (行政许可法
//! art. 82): Monday to Friday, less the State Council's public holidays, plus the weekend days it
//! declares worked (调休). The official schedule is compiled in from `data/holidays-cn.csv`; a
//! deployment may load a newer file with [`WorkCalendar::parse`].
use std::collections::HashMap;

use chrono::{Datelike, Duration, NaiveDate, Weekday};

const OFFICIAL: &str = include_str!("../data/holidays-cn.csv");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Holiday,
    Workday,
}

#[derive(Debug, Clone)]
pub struct WorkCalendar {
    exceptions: HashMap<NaiveDate, Kind>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("节假日安排第{line}行有误：{reason}")]
pub struct CalendarError {
    pub line: usize,
    pub reason: String,
}

impl WorkCalendar {
    /// The schedule shipped with Tongban.
    pub fn official() -> Self {
        Self::parse(OFFICIAL).expect("the shipped holiday schedule parses")
    }

    /// Reads `date,kind,name` lines (`kind` is `holiday` or `workday`); `#` starts a comment.
    pub fn parse(csv: &str) -> Result<Self, CalendarError> {
        let mut exceptions = HashMap::new();
        for (i, line) in csv.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with("date,") {
                continue;
            }
            let err = |reason: &str| CalendarError {
                line: i + 1,
                reason: reason.into(),
            };
            let mut cols = line.split(',');
            let date = cols
                .next()
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                .ok_or_else(|| err("日期格式应为YYYY-MM-DD"))?;
            let kind = match cols.next() {
                Some("holiday") => Kind::Holiday,
                Some("workday") => Kind::Workday,
                _ => return Err(err("类型应为holiday或workday")),
            };
            exceptions.insert(date, kind);
        }
        Ok(Self { exceptions })
    }

    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        match self.exceptions.get(&date) {
            Some(Kind::Holiday) => false,
            Some(Kind::Workday) => true,
            None => !matches!(date.weekday(), Weekday::Sat | Weekday::Sun),
        }
    }

    /// The day on which `n` working days after `start` have passed: the deadline of a matter
    /// received on `start` with a limit of `n` working days (the day of receipt does not count).
    pub fn add_working_days(&self, start: NaiveDate, n: u32) -> NaiveDate {
        let mut day = start;
        let mut left = n;
        while left > 0 {
            day += Duration::days(1);
            if self.is_working_day(day) {
                left -= 1;
            }
        }
        day
    }

    /// Working days after `from` up to and including `to` (0 when `to` is not after `from`).
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> i64 {
        let mut n = 0;
        let mut day = from;
        while day < to {
            day += Duration::days(1);
            if self.is_working_day(day) {
                n += 1;
            }
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn weekends_holidays_and_worked_weekends() {
        let c = WorkCalendar::official();
        assert!(c.is_working_day(d("2026-11-23")), "an ordinary Monday");
        assert!(!c.is_working_day(d("2026-11-22")), "an ordinary Sunday");
        assert!(!c.is_working_day(d("2026-10-05")), "National Day week");
        assert!(
            c.is_working_day(d("2026-10-10")),
            "a Saturday worked in exchange"
        );
    }

    #[test]
    fn one_working_day_after_a_friday_is_monday() {
        let c = WorkCalendar::official();
        assert_eq!(c.add_working_days(d("2026-11-20"), 1), d("2026-11-23"));
    }

    #[test]
    fn deadlines_skip_the_national_day_week() {
        let c = WorkCalendar::official();
        // Received Wednesday 30 September; 1-7 October are off; 10 October (Saturday) is worked.
        assert_eq!(c.add_working_days(d("2026-09-30"), 1), d("2026-10-08"));
        assert_eq!(c.add_working_days(d("2026-09-30"), 3), d("2026-10-10"));
        assert_eq!(c.working_days_between(d("2026-09-30"), d("2026-10-10")), 3);
    }

    #[test]
    fn a_bad_line_is_named() {
        let err = WorkCalendar::parse("date,kind,name\n2026-13-01,holiday,x\n").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(WorkCalendar::parse("2026-01-01,day-off,x").is_err());
    }
}
