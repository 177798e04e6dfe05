//! What 一般固体废物跨省级行政区域贮存、处置审批 (`specs/solid-waste-cross-storage.toml`, seed 003
//! modules 18-23) needs beyond its spec: the transfer period is at most a year. That the period
//! does not run backwards is the engine's `dates_in_order` (the fields are `transport_from` /
//! `transport_to`); this rule only looks at periods that run forwards, so an applicant gets one
//! message per mistake.
use tongban_engine::{FormData, Item, Problem, RuleRegistry};

/// The period's fields.
const FROM: &str = "transport_from";
const TO: &str = "transport_to";

/// Adds the item's rules to `registry`.
pub fn register(registry: &mut RuleRegistry) {
    registry.register("solid_waste_period_within_year", period_within_year);
}

/// A date as `YYYY-MM-DD`, when it is one.
fn date(s: &str) -> Option<(i32, u32, u32)> {
    let mut parts = s.trim().splitn(3, '-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (y, m, d) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    ((1..=12).contains(&m) && (1..=days_in_month(y, m)).contains(&d)).then_some((y, m, d))
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The last day of a year's period starting on `start`: the day before its anniversary
/// (2026-01-01 → 2026-12-31, 2026-03-01 → 2027-02-28, 2028-02-29 → 2029-02-28).
fn last_day_of_year_from((y, m, d): (i32, u32, u32)) -> (i32, u32, u32) {
    if d > 1 {
        (y + 1, m, (d - 1).min(days_in_month(y + 1, m)))
    } else if m == 1 {
        (y, 12, 31)
    } else {
        (y + 1, m - 1, days_in_month(y + 1, m - 1))
    }
}

/// 转移期限不超过一年: the end date is at most the day before the start's anniversary.
pub fn period_within_year(item: &Item, data: &FormData) -> Vec<Problem> {
    let (Some(start), Some(end)) = (data.one(FROM).and_then(date), data.one(TO).and_then(date))
    else {
        return vec![];
    };
    let (Some(from_field), Some(to_field)) = (item.field(FROM), item.field(TO)) else {
        return vec![];
    };
    let last = last_day_of_year_from(start);
    if end < start || end <= last {
        return vec![];
    }
    vec![Problem::new(
        to_field,
        format!(
            "转移期限不能超过一年，自{}起最晚为{:04}-{:02}-{:02}",
            from_field.label, last.0, last.1, last.2
        ),
    )]
}

/// A complete, valid application: a fictional Shanghai power-plant operator sends 粉煤灰 by road
/// to a fictional disposal unit in Jiangsu, one carrier, for the 180 days from today (Beijing),
/// so a licence granted on it is in force whenever it runs. The items tests start from it; the
/// demo can file it (changing the unit fields). The materials must still be attached.
pub fn example_application() -> FormData {
    let today = tongban_engine::workflow::beijing_date(tongban_domain::Timestamp::now());
    let until = today + chrono::Duration::days(180);
    let mut d = FormData::default();
    for (k, v) in [
        // 基本信息
        ("unit_name", "上海示范热电有限公司"),
        ("credit_code", "91310113MA1GL0RT3B"),
        ("registered_address", "上海市宝山区示范路88号"),
        ("legal_person", "陈明"),
        ("contact_name", "刘芳"),
        ("contact_phone", "13912345678"),
        // 固体废物信息
        ("waste_name", "燃煤电厂粉煤灰"),
        ("waste_category", "SW02 粉煤灰"),
        ("waste_code", "SW02"),
        ("physical_form", "固态"),
        ("quantity", "12000.50"),
        (
            "generating_process",
            "燃煤锅炉烟气经静电除尘器收集产生粉煤灰，经气力输送至灰库暂存。",
        ),
        ("origin_address", "上海市宝山区示范路88号厂区灰库"),
        ("purpose", "处置"),
        // 接收单位
        ("receiver_name", "江苏示范固废处置有限公司"),
        ("receiver_credit_code", "91320582MA1N7KQ4XA"),
        ("receiver_province", "江苏省"),
        ("receiver_address", "江苏省苏州市张家港市示范镇环保路1号"),
        ("receiver_licence_no", "91320582MA1N7KQ4XA001V"),
        ("receiver_capacity", "50000"),
        ("receiver_contact_name", "周强"),
        ("receiver_contact_phone", "0512-58881234"),
        // 运输信息
        ("carrier_name", "上海示范物流运输有限公司"),
        ("carrier_credit_code", "91310120MA1HW6E2KM"),
        ("carrier_permit_no", "沪交运管许可货字310120001234号"),
        ("second_carrier", "否"),
        ("transport_mode", "汽车"),
        (
            "transport_route",
            "上海市宝山区示范路88号—G1501上海绕城高速—G15沈海高速—江苏省张家港市示范镇环保路1号",
        ),
        ("pollution_terms_agreed", "是"),
    ] {
        d.set(k, v);
    }
    d.set("transport_from", today.format("%Y-%m-%d").to_string());
    d.set("transport_to", until.format("%Y-%m-%d").to_string());
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_read_only_when_real() {
        assert_eq!(date("2026-02-28"), Some((2026, 2, 28)));
        assert_eq!(date("2028-02-29"), Some((2028, 2, 29)));
        for bad in [
            "2026-02-29",
            "2026-13-01",
            "2026-1-01",
            "20260101",
            "2026-01-01-",
            "",
        ] {
            assert_eq!(date(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_year_ends_the_day_before_its_anniversary() {
        assert_eq!(last_day_of_year_from((2026, 1, 1)), (2026, 12, 31));
        assert_eq!(last_day_of_year_from((2026, 3, 1)), (2027, 2, 28));
        assert_eq!(last_day_of_year_from((2027, 3, 1)), (2028, 2, 29));
        assert_eq!(last_day_of_year_from((2026, 7, 15)), (2027, 7, 14));
        assert_eq!(last_day_of_year_from((2028, 2, 29)), (2029, 2, 28));
        assert_eq!(last_day_of_year_from((2026, 3, 31)), (2027, 3, 30));
    }

    fn item() -> Item {
        crate::catalogue()
            .unwrap()
            .get("solid-waste-cross-storage")
            .unwrap()
            .clone()
    }

    fn with_period(from: &str, to: &str) -> FormData {
        let mut d = example_application();
        d.set(FROM, from);
        d.set(TO, to);
        d
    }

    #[test]
    fn a_year_to_the_day_is_accepted_and_a_day_more_is_not() {
        let item = item();
        for (from, to) in [
            ("2026-01-01", "2026-12-31"),
            ("2026-03-01", "2027-02-28"),
            ("2026-06-01", "2026-06-01"),
        ] {
            assert!(
                period_within_year(&item, &with_period(from, to)).is_empty(),
                "{from} {to}"
            );
        }
        let p = period_within_year(&item, &with_period("2026-01-01", "2027-01-01"));
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].field, "transport_to");
        assert_eq!(
            p[0].message,
            "转移截止日期：转移期限不能超过一年，自转移起始日期起最晚为2026-12-31"
        );
    }

    #[test]
    fn a_backwards_or_unfinished_period_is_left_to_other_checks() {
        let item = item();
        // Backwards: dates_in_order says so; this rule adds nothing.
        assert!(period_within_year(&item, &with_period("2026-06-01", "2025-01-01")).is_empty());
        let mut d = example_application();
        d.values.remove(TO);
        assert!(period_within_year(&item, &d).is_empty());
        assert!(period_within_year(&item, &with_period("2026-01-01", "明年")).is_empty());
    }
}
