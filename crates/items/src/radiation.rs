//! What the radiation annual evaluation report (`specs/radiation-annual-report.toml`, seed 000)
//! needs beyond its spec: the nuclide reference list its nuclide columns are held to, and the
//! cross-field rules a reviewer would otherwise send back. Form rules see only the shown form
//! values (hidden answers are already dropped); the ledger rule, run at submission, also sees the
//! rows of the shown ledgers. Each message names its field, or its ledger and row.
use std::sync::OnceLock;

use tongban_engine::rules::LedgerRows;
use tongban_engine::{FormData, Item, Problem, RuleRegistry};

/// The nuclide reference table, copied from the shared reference data (source noted in the file).
const NUCLIDES_CSV: &str = include_str!("../data/nuclides.csv");

/// What a spec writes where the nuclide list belongs: `pattern = "{nuclides}"`. Loaded without
/// [`expand`] it is not a valid pattern, so a spec read raw fails instead of refusing every
/// nuclide.
const NUCLIDES_MARK: &str = "\"{nuclides}\"";

/// The nuclide names of the reference table (`Cs-137`, `Tc-99m` …), in its order.
pub fn nuclides() -> &'static [&'static str] {
    static NAMES: OnceLock<Vec<&'static str>> = OnceLock::new();
    NAMES.get_or_init(|| {
        NUCLIDES_CSV
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .skip(1) // the header
            .filter_map(|l| l.split(',').next())
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .collect()
    })
}

pub fn is_nuclide(name: &str) -> bool {
    nuclides().contains(&name.trim())
}

/// `spec` with every `"{nuclides}"` replaced by a pattern matching exactly the listed names.
pub fn expand(spec: &str) -> String {
    if !spec.contains(NUCLIDES_MARK) {
        return spec.to_string();
    }
    // Names are letters, digits and `-`: nothing to escape in a regex or a TOML string.
    debug_assert!(
        nuclides()
            .iter()
            .all(|n| n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
    );
    spec.replace(NUCLIDES_MARK, &format!("\"{}\"", nuclides().join("|")))
}

/// Adds the report's rules to `registry`.
pub fn register(registry: &mut RuleRegistry) {
    registry.register("radiation_use_counts", use_counts);
    registry.register("radiation_staff_counts", staff_counts);
    registry.register("radiation_self_monitoring", self_monitoring);
    registry.register("radiation_dose_maxima", dose_maxima);
    registry.register("radiation_monitoring_date_in_year", monitoring_date_in_year);
    registry.register_ledger("radiation_ledgers_agree", ledgers_agree);
}

/// A ledger's column `column`, by position.
fn column_of(item: &Item, ledger: &str, column: &str) -> Option<usize> {
    item.ledger(ledger)?
        .columns
        .iter()
        .position(|c| c.id == column)
}

fn ledger_problem(item: &Item, ledger: &str, row: usize, message: String) -> Problem {
    let title = item.ledger(ledger).map_or(ledger, |l| l.title.as_str());
    Problem {
        field: format!("ledger:{ledger}"),
        message: format!("{title}第{row}行：{message}"),
    }
}

/// The ledgers agree with the form: a source sold is of a class ticked under 放射源类别, and the
/// unsealed-material use ledger has one row per nuclide (000: 按核素分开填写 — a nuclide split over
/// two rows cannot be read as the year's use of it).
pub fn ledgers_agree(item: &Item, data: &FormData, rows: &LedgerRows) -> Vec<Problem> {
    let mut out = vec![];
    let classes = data.many("source_classes");
    if let (Some(sales), Some(at)) = (
        rows.get("source_sales"),
        column_of(item, "source_sales", "class"),
    ) {
        for (i, row) in sales.iter().enumerate() {
            let class = row.get(at).map(String::as_str).unwrap_or("");
            if !class.is_empty() && !classes.iter().any(|c| c == class) {
                out.push(ledger_problem(
                    item,
                    "source_sales",
                    i + 1,
                    format!("类别「{class}」未在“放射源类别”中勾选，请核对台账或勾选该类别"),
                ));
            }
        }
    }
    if let (Some(uses), Some(at)) = (
        rows.get("unsealed_use_log"),
        column_of(item, "unsealed_use_log", "nuclide"),
    ) {
        let mut first: std::collections::HashMap<&str, usize> = Default::default();
        for (i, row) in uses.iter().enumerate() {
            let Some(nuclide) = row.get(at).map(|n| n.trim()).filter(|n| !n.is_empty()) else {
                continue;
            };
            if let Some(earlier) = first.get(nuclide) {
                out.push(ledger_problem(
                    item,
                    "unsealed_use_log",
                    i + 1,
                    format!("核素「{nuclide}」与第{earlier}行重复，每种核素只填写一行"),
                ));
            } else {
                first.insert(nuclide, i + 1);
            }
        }
    }
    out
}

const SOURCE_COUNTS: [&str; 5] = [
    "source_count_i",
    "source_count_ii",
    "source_count_iii",
    "source_count_iv",
    "source_count_v",
];
const DEVICE_COUNTS: [(&str, &str); 3] = [
    ("device_count_i", "I类"),
    ("device_count_ii", "II类"),
    ("device_count_iii", "III类"),
];

fn whole(data: &FormData, id: &str) -> Option<i64> {
    data.one(id)?.parse().ok()
}

fn problem(item: &Item, id: &str, message: impl std::fmt::Display) -> Option<Problem> {
    item.field(id).map(|f| Problem::new(f, message))
}

/// 放射源/射线装置使用台账数量: with 使用 ticked at least one class is filled in ("需填写使用枚数");
/// a device count belongs to a ticked class. Source counts are not held to the ticked classes:
/// a gamma knife is ticked I类 while its sources are counted in their own class (000).
pub fn use_counts(item: &Item, data: &FormData) -> Vec<Problem> {
    let mut problems = vec![];
    let groups: [(&str, Vec<&str>, &str, &str); 2] = [
        (
            "source_activities",
            SOURCE_COUNTS.to_vec(),
            "放射源",
            "枚数",
        ),
        (
            "device_activities",
            DEVICE_COUNTS.iter().map(|(id, _)| *id).collect(),
            "射线装置",
            "台数",
        ),
    ];
    for (activities, counts, what, measure) in groups {
        let uses = data.many(activities).iter().any(|a| a == "使用");
        if uses && item.field(counts[0]).is_some() && counts.iter().all(|c| data.one(c).is_none()) {
            problems.push(Problem {
                field: counts[0].to_string(),
                message: format!(
                    "{what}使用台账数量：已勾选“使用”，请至少填写一类{what}的使用{measure}（豁免不计入）"
                ),
            });
        }
    }
    let classes = data.many("device_classes");
    for (id, class) in DEVICE_COUNTS {
        if whole(data, id).is_some_and(|n| n > 0) && !classes.iter().any(|c| c == class) {
            problems.extend(problem(
                item,
                id,
                format!("未勾选{class}射线装置，数量应为0或不填"),
            ));
        }
    }
    problems
}

/// Staff with a dosimeter, self-assessed, or through the national examination are radiation
/// workers: none of those counts exceeds 辐射工作人员数量.
pub fn staff_counts(item: &Item, data: &FormData) -> Vec<Problem> {
    let (Some(staff), Some(staff_field)) = (whole(data, "staff_count"), item.field("staff_count"))
    else {
        return vec![];
    };
    [
        "dosimeter_count",
        "self_assessed_count",
        "exam_passed_count",
    ]
    .into_iter()
    .filter(|id| whole(data, id).is_some_and(|n| n > staff))
    .filter_map(|id| {
        problem(
            item,
            id,
            format!("不能大于{}（{staff}人）", staff_field.label),
        )
    })
    .collect()
}

/// 自行监测周期 not 0: someone carries the monitoring out, so 自行监测执行人 is required. (0 needs
/// a reason instead; the spec's show_if and required say so.)
pub fn self_monitoring(item: &Item, data: &FormData) -> Vec<Problem> {
    let monitored = whole(data, "monitoring_cycle").is_some_and(|n| n > 0);
    if monitored && data.one("monitoring_executor").is_none() {
        return problem(item, "monitoring_executor", "自行监测周期不为0时请填写")
            .into_iter()
            .collect();
    }
    vec![]
}

/// A dose in µSv, when the value is a plain number (000 also allows symbols such as `<0.01`,
/// which are not compared).
fn micro_sievert(data: &FormData, value: &str, unit: &str) -> Option<f64> {
    let n: f64 = data
        .one(value)?
        .parse()
        .ok()
        .filter(|n: &f64| n.is_finite())?;
    match data.one(unit)? {
        "mSv" => Some(n * 1000.0),
        "μSv" | "µSv" => Some(n),
        _ => None,
    }
}

/// The largest single report cannot exceed the largest annual total: the person with that
/// report has at least that much in the year.
pub fn dose_maxima(item: &Item, data: &FormData) -> Vec<Problem> {
    let annual = micro_sievert(data, "dose_annual_max", "dose_annual_unit");
    let single = micro_sievert(data, "dose_single_max", "dose_single_unit");
    match (annual, single, item.field("dose_annual_max")) {
        (Some(a), Some(s), Some(annual_field)) if s > a => problem(
            item,
            "dose_single_max",
            format!("不能大于{}", annual_field.label),
        )
        .into_iter()
        .collect(),
        _ => vec![],
    }
}

/// 监测日期 is the date of the last monitoring report of the year reported on (000: "监测日期选择
/// 上一年度最后一份报告监测日期", the report being filed the year after).
pub fn monitoring_date_in_year(item: &Item, data: &FormData) -> Vec<Problem> {
    let (Some(year), Some(date)) = (data.one("year"), data.one("monitoring_date")) else {
        return vec![];
    };
    if date.get(..4) == Some(year) {
        return vec![];
    }
    problem(
        item,
        "monitoring_date",
        format!("应为{year}年度内的日期（选择该年度最后一份报告的监测日期）"),
    )
    .into_iter()
    .collect()
}

/// A complete, valid report of a hospital that uses sources, unsealed material and devices, with
/// no ledger rows needed: the items tests start from it, and the demo data and the load test file
/// it for their units (changing the unit fields). A monitoring report must still be attached.
pub fn example_report() -> FormData {
    let mut d = FormData {
        modules: ["sources", "unsealed", "devices"].map(String::from).into(),
        ..FormData::default()
    };
    for (k, v) in [
        ("year", "2025"),
        ("unit_name", "上海示范医院"),
        ("credit_code", "91310115MA1K3YJ12G"),
        ("registered_address", "上海市浦东新区示范路1号"),
        ("mailing_address", "上海市浦东新区示范路1号"),
        ("legal_rep_name", "张三"),
        ("legal_rep_phone", "13812345678"),
        ("safety_org_name", "辐射安全防护管理小组"),
        ("safety_head_name", "李四"),
        ("safety_head_phone", "021-58881234"),
        ("contact_name", "王五"),
        ("contact_post", "科长"),
        ("contact_department", "设备科"),
        ("contact_phone", "13912345678"),
        ("licence_scope", "含生产或使用"),
        ("licence_no", "沪环辐证[12345]"),
        ("licence_issuer", "上海市生态环境局"),
        ("issued_on", "2022-12-12"),
        ("valid_until", "2027-12-12"),
        ("workplace_matches", "是"),
        ("acceptance_done", "是"),
        // 放射源
        ("source_count_ii", "25"),
        ("source_transfer_filed", "是"),
        ("source_ledger_matches", "是"),
        ("high_risk_unit", "否"),
        ("exempt_producer", "否"),
        // 非密封放射性物质
        ("workplaces_grade_b", "1"),
        ("unsealed_actual_use", "否"),
        ("exhaust_treatment", "否"),
        ("decay_tank", "否"),
        ("waste_records", "是"),
        ("waste_disposed", "否"),
        // 射线装置
        ("device_count_ii", "12"),
        ("device_count_iii", "52"),
        ("device_ledger_matches", "是"),
        ("uses_accelerator", "否"),
        // 其他相关
        ("staff_count", "273"),
        ("dosimeter_count", "273"),
        ("self_assessed_count", "114"),
        ("exam_passed_count", "114"),
        ("survey_meters", "2"),
        ("alarm_meters", "10"),
        ("other_instruments", "0"),
        ("monitoring_cycle", "4"),
        ("monitoring_executor", "设备科"),
        ("monitoring_as_required", "是"),
        ("dose_annual_max", "1.2"),
        ("dose_annual_unit", "mSv"),
        ("dose_single_max", "300"),
        ("dose_single_unit", "μSv"),
        ("monitoring_units_other", "上海示范检测技术有限公司"),
        ("monitoring_report_numbers", "SFJC-2025-001、SFJC-2025-002"),
        ("monitoring_conclusion", "各工作场所辐射水平均符合标准要求"),
        ("monitoring_date", "2025-11-20"),
    ] {
        d.set(k, v);
    }
    d.set_many("source_activities", many_of(&["使用"]));
    d.set_many("source_classes", many_of(&["I类"]));
    d.set_many("unsealed_activities", many_of(&["使用"]));
    d.set_many("unsealed_grades", many_of(&["乙级"]));
    d.set_many("device_activities", many_of(&["使用"]));
    d.set_many("device_classes", many_of(&["II类", "III类"]));
    d.set_many("monitoring_units", many_of(&["其他"]));
    d
}

fn many_of(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_table_is_read_whole() {
        let names = nuclides();
        assert_eq!(names.first(), Some(&"H-3"));
        assert!(names.contains(&"Cs-137") && names.contains(&"Tc-99m") && names.contains(&"I-131"));
        assert!(!names.contains(&"nuclide"), "the header is not a nuclide");
        let rows = NUCLIDES_CSV
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .count();
        assert_eq!(names.len(), rows - 1);
        assert!(is_nuclide(" Co-60 ") && !is_nuclide("Co60") && !is_nuclide("cs-137"));
    }

    #[test]
    fn the_mark_becomes_the_list_and_nothing_else_changes() {
        let spec = "a = \"{nuclides}\"\nb = \"{nuclides\"";
        let out = expand(spec);
        assert!(out.starts_with("a = \"H-3|C-11|"), "{out}");
        assert!(out.ends_with("\nb = \"{nuclides\""));
        assert_eq!(expand("x = 1"), "x = 1");
    }
}
