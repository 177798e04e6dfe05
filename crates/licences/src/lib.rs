//! The ministry's radiation-safety licence registry (全国核技术利用辐射安全申报系统) as a prefill
//! source. The ministry's own interface is not public, so the protocol is ours and small:
//!
//! ```text
//! GET {base}/api/v1/licences?credit_code={统一社会信用代码}
//! 200 {"licences": [LicenceRecord, …]}      every licence the unit holds or held ([] if none)
//! 400 {"error": {"code": …, "message": …}}  credit_code missing or not a valid code
//! ```
//!
//! [`RegistrySource`] asks a registry over HTTP, [`FileSource`] reads the same document from an
//! export file (or text); both pick one licence ([`choose`]) and map it to the `licence.*` keys
//! the radiation items prefill from ([`LicenceRecord::known`]). [`peer`] serves the protocol
//! locally, for the tests and by hand (`licence-peer`).
#![forbid(unsafe_code)]

use chrono::NaiveDate;
use tongban_engine::prefill::Known;

pub mod peer;
pub mod record;
pub mod registry;

pub use record::{Activities, Document, LicenceRecord, parse_document};
pub use registry::{FileSource, RegistrySource};

/// The known key the sources look the enterprise up by.
pub const CREDIT_CODE_KEY: &str = "enterprise.credit_code";

/// Today in Beijing: the date a licence's validity is judged on.
pub fn beijing_today() -> NaiveDate {
    let offset = chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset");
    chrono::Utc::now().with_timezone(&offset).date_naive()
}

/// The licence of `credit_code` to prefill from: of those valid on `today`, the latest issued;
/// when none is valid, the latest issued of all (an expired licence still tells the unit's
/// contacts, and the applicant sees its dates). Records of other units are never chosen.
pub fn choose<'a>(
    records: &'a [LicenceRecord],
    credit_code: &str,
    today: NaiveDate,
) -> Option<&'a LicenceRecord> {
    let code = credit_code.trim();
    let theirs = || {
        records
            .iter()
            .filter(move |r| r.credit_code.trim().eq_ignore_ascii_case(code))
    };
    let latest = |r: &&LicenceRecord| (r.issued_on, r.valid_until);
    theirs()
        .filter(|r| r.valid_on(today))
        .max_by_key(latest)
        .or_else(|| theirs().max_by_key(latest))
}

/// What `records` add to `known`: the chosen licence's `licence.*` keys, or nothing when the
/// enterprise's credit code is not known or it holds no licence.
pub fn prefill_from(records: &[LicenceRecord], known: &Known, today: NaiveDate) -> Known {
    known
        .get(CREDIT_CODE_KEY)
        .and_then(|code| choose(records, code, today))
        .map(LicenceRecord::known)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn licence(code: &str, number: &str, issued: &str, until: &str) -> LicenceRecord {
        LicenceRecord {
            credit_code: code.into(),
            number: number.into(),
            issued_on: issued.parse().unwrap(),
            valid_until: until.parse().unwrap(),
            ..LicenceRecord::example()
        }
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn the_valid_licence_wins_over_a_later_expired_or_future_one() {
        let code = "91310115MA1FL8XQ34";
        let records = [
            licence(code, "A", "2018-05-01", "2023-04-30"),
            licence(code, "B", "2023-04-20", "2028-04-19"),
            licence(code, "C", "2027-01-01", "2032-01-01"),
            licence("91310112MA1GB2Y75X", "D", "2025-01-01", "2030-01-01"),
        ];
        assert_eq!(
            choose(&records, code, day("2026-11-23")).unwrap().number,
            "B"
        );
        // On its last day a licence is still valid.
        assert_eq!(
            choose(&records, code, day("2023-04-30")).unwrap().number,
            "B"
        );
        assert_eq!(
            choose(&records, code, day("2023-04-19")).unwrap().number,
            "A"
        );
    }

    #[test]
    fn with_none_valid_the_latest_issued_is_chosen() {
        let code = "91310115MA1FL8XQ34";
        let records = [
            licence(code, "A", "2013-05-01", "2018-04-30"),
            licence(code, "B", "2018-04-20", "2023-04-19"),
        ];
        assert_eq!(
            choose(&records, code, day("2026-11-23")).unwrap().number,
            "B"
        );
        assert!(choose(&records, "91310112MA1GB2Y75X", day("2026-11-23")).is_none());
    }

    #[test]
    fn without_a_credit_code_nothing_is_added() {
        let records = [LicenceRecord::example()];
        assert!(prefill_from(&records, &Known::new(), day("2026-11-23")).is_empty());
    }
}
