//! The engine on the demonstration item (`crates/items/specs/radiation-self-check.toml`) and on broken specs.
use tongban_engine::validate::{check_fields, clean, shown, validate};
use tongban_engine::{FormData, Item, RuleRegistry};

fn demo() -> Item {
    let text = include_str!("../../items/specs/radiation-self-check.toml");
    Item::load(text, &RuleRegistry::standard()).unwrap()
}

/// A complete, valid application with both modules on.
fn complete() -> FormData {
    let mut d = FormData {
        modules: ["sources".to_string(), "devices".to_string()].into(),
        ..FormData::default()
    };
    for (k, v) in [
        ("year", "2026"),
        ("unit_name", "上海示范医院"),
        ("credit_code", "91310115MA1FL8XQ34"),
        ("registered_address", "上海市浦东新区示范路1号"),
        ("legal_person", "张三"),
        ("contact_phone", "021-58881234"),
        ("licence_no", "沪环辐证[12345]"),
        ("issued_on", "2024-01-01"),
        ("valid_until", "2029-01-01"),
        ("sales_only", "否"),
        ("site_matches", "是"),
        ("acceptance_done", "不涉及"),
        ("source_count", "3"),
        ("high_risk", "否"),
        ("device_count", "2"),
        ("uses_accelerator", "否"),
        ("staff_count", "12"),
        ("monitoring_per_year", "1"),
    ] {
        d.set(k, v);
    }
    d.set_many("source_activities", vec!["使用".into()]);
    d
}

fn messages(problems: &[tongban_engine::Problem]) -> Vec<&str> {
    problems.iter().map(|p| p.message.as_str()).collect()
}

#[test]
fn the_demonstration_item_loads_with_its_steps_modules_and_ledger() {
    let item = demo();
    assert_eq!(item.case_prefix, "FZ");
    assert_eq!(item.notice.countdown_seconds, 5);
    let ids: Vec<_> = item.steps.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["basic", "sources", "devices", "other"]);
    assert!(item.ledger("source_sales").is_some());
    assert_eq!(item.default_modules().len(), 2);
    assert!(
        validate(&item, &complete()).is_empty(),
        "{:?}",
        validate(&item, &complete())
    );
}

#[test]
fn modules_switched_off_take_their_pages_and_requirements_away() {
    let item = demo();
    let mut d = complete();
    d.modules.remove("sources");
    for k in ["source_count", "high_risk"] {
        d.values.remove(k);
    }
    d.values.remove("source_activities");
    let steps: Vec<_> = item.active_steps(&d).map(|s| s.id.as_str()).collect();
    assert_eq!(steps, ["basic", "devices", "other"]);
    assert!(validate(&item, &d).is_empty());
    d.modules.insert("sources".into());
    let problems = validate(&item, &d);
    assert!(
        messages(&problems).contains(&"放射源活动：请选择"),
        "{problems:?}"
    );
    assert!(messages(&problems).contains(&"是否属于高风险源单位：请选择"));
}

#[test]
fn show_if_follows_the_answers_as_in_the_manual() {
    let item = demo();
    let mut d = complete();
    // 000: 在线监控 only for high-risk units.
    assert!(!shown(&item, &d).fields.contains("online_monitoring"));
    d.set("high_risk", "是");
    assert!(shown(&item, &d).fields.contains("online_monitoring"));
    assert_eq!(
        messages(&validate(&item, &d)),
        ["满足高风险源在线监控管理要求：请选择"]
    );
    // 000: 许可内容为纯销售 hides two questions, and their answers are not kept.
    d.set("sales_only", "是");
    let s = shown(&item, &d);
    assert!(!s.fields.contains("site_matches") && !s.fields.contains("acceptance_done"));
    assert!(!clean(&item, &d).values.contains_key("site_matches"));
    // The sales ledger appears with 销售.
    assert!(!s.ledgers.contains("source_sales"));
    d.set_many("source_activities", vec!["销售".into(), "使用".into()]);
    assert!(shown(&item, &d).ledgers.contains("source_sales"));
    // 自行监测周期 0 needs a reason, however the zero is typed.
    d.set("monitoring_per_year", "00");
    d.set("online_monitoring", "是");
    assert_eq!(messages(&validate(&item, &d)), ["检测周期为0原因：请填写"]);
}

#[test]
fn every_bad_value_is_named_with_its_field() {
    let item = demo();
    let mut d = complete();
    for (k, v) in [
        ("year", "2019"),
        ("credit_code", "91310115MA1FL8XQ35"),
        ("contact_phone", "12345"),
        ("licence_no", "沪环辐证12345"),
        ("issued_on", "2024-02-30"),
        ("source_count", "2.5"),
        ("staff_count", "-1"),
        ("sales_only", "也许"),
    ] {
        d.set(k, v);
    }
    let problems = check_fields(&item, &d, None);
    let m = messages(&problems);
    for expected in [
        "年度：应在2020年至2029年之间",
        "联系电话：应为11位手机号码或带区号的固定电话，如 021-12345678",
        "许可证号：应为“沪环辐证[五位数字]”，如 沪环辐证[12345]",
        "发证日期：应为日期，格式如 2026-01-31",
        "放射源使用台账数量：应为整数",
        "辐射工作人员数量：不能小于0",
        "许可内容为纯销售：“也许”不是可选项",
    ] {
        assert!(m.contains(&expected), "missing {expected}: {m:?}");
    }
    assert!(
        m.iter().any(|x| x.starts_with("统一社会信用代码：")),
        "{m:?}"
    );
    // One step at a time, as 下一步 checks.
    let basic_only = check_fields(&item, &d, Some("basic"));
    assert!(basic_only.iter().all(|p| p.field != "source_count"));
}

#[test]
fn named_rules_run_on_submission() {
    let item = demo();
    let mut d = complete();
    d.set("valid_until", "2023-12-31");
    assert_eq!(
        messages(&validate(&item, &d)),
        ["有效期至：不能早于发证日期"]
    );
}

#[test]
fn a_broken_spec_lists_every_mistake() {
    let broken = r#"
id = "Bad Id"
name = "x"
department = "x"
kind = "filing"
case_prefix = "toolong"
rules = ["no_such_rule"]
[notice]
text = "x"
[[modules]]
id = "m"
name = "m"
[[steps]]
id = "s"
title = "s"
module = "nope"
[[steps.sections]]
title = "a"
[[steps.sections.fields]]
id = "later_ref"
label = "x"
type = "text"
show_if = { field = "defined_later", equals = "是" }
[[steps.sections.fields]]
id = "defined_later"
label = "y"
type = "choice"
[[steps.sections.fields]]
id = "bad_pattern"
label = "z"
type = "text"
pattern = "("
[[steps.sections.fields]]
id = "typed_options"
label = "w"
type = "text"
options_prefill = "licence.projects"
[[materials]]
id = "m1"
name = "m"
types = ["exe"]
"#;
    let err = Item::load(broken, &RuleRegistry::standard()).unwrap_err();
    let all = err.problems.join("\n");
    for expected in [
        "id: lower case",
        "case_prefix",
        "unknown module `nope`",
        "`defined_later`, which is not a field defined before it",
        "a choice needs options",
        "pattern:",
        "type `exe`",
        "`no_such_rule` is not registered",
        "`typed_options`: options_prefill is for choice and multi fields",
    ] {
        assert!(all.contains(expected), "missing {expected} in\n{all}");
    }
    let typo = Item::load("id = \"x\"\nnmae = \"y\"", &RuleRegistry::standard()).unwrap_err();
    assert!(typo.problems[0].contains("nmae"), "{typo}");
}
