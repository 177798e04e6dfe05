//! 一般固体废物跨省级行政区域贮存、处置审批 (`specs/solid-waste-cross-storage.toml`, seed 003
//! modules 18-23): what an applicant notices — the notice, the prefilled basics, the questions
//! that appear with their answers, the messages that name the field, and the material checks.
use tongban_engine::materials;
use tongban_engine::prefill::{Known, again, new_application};
use tongban_engine::validate::{clean, shown, validate};
use tongban_engine::{FieldKind, FormData, Item};

fn item() -> Item {
    tongban_items::catalogue()
        .unwrap()
        .get("solid-waste-cross-storage")
        .unwrap()
        .clone()
}

fn complete() -> FormData {
    tongban_items::solid_waste::example_application()
}

fn messages(item: &Item, d: &FormData) -> Vec<String> {
    validate(item, d).into_iter().map(|p| p.message).collect()
}

#[track_caller]
fn only_problem(item: &Item, d: &FormData, field: &str, message: &str) {
    let problems = validate(item, d);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].field, field);
    assert_eq!(problems[0].message, message);
}

#[track_caller]
fn is_shown(item: &Item, d: &FormData, id: &str) -> bool {
    shown(item, d).fields.contains(id)
}

// ── the item ───────────────────────────────────────────────────────────────

#[test]
fn the_spec_loads_as_a_licence_of_the_bureau() {
    let item = item();
    assert_eq!(item.name, "一般固体废物跨省级行政区域贮存、处置审批");
    assert_eq!(item.department, "上海市生态环境局");
    assert_eq!(item.kind.label(), "行政许可");
    assert_eq!(item.case_prefix, "GF");
    assert_eq!(item.draft_days, 15);
    let steps: Vec<_> = item.steps.iter().map(|s| s.title.as_str()).collect();
    assert_eq!(steps, ["基本信息", "固体废物信息", "接收单位", "运输信息"]);
    let rules: Vec<_> = item.rules.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(rules, ["dates_in_order", "solid_waste_period_within_year"]);
    // No signing section: the applicant alone seals the form.
    assert_eq!(item.signing.parties.len(), 1);
    assert_eq!(item.signing.parties[0].label, "申请单位（盖章）");
    let guide: Vec<_> = item.guide.iter().map(|g| g.title.as_str()).collect();
    for title in [
        "适用对象",
        "办理依据",
        "受理条件",
        "办理时限",
        "收费标准",
        "审批结果",
    ] {
        assert!(guide.contains(&title), "{title} in {guide:?}");
    }
    let text = |t: &str| &item.guide.iter().find(|g| g.title == t).unwrap().text;
    assert!(text("办理依据").contains("第二十二条"));
    assert!(text("办理时限").contains("承诺时限 20 个工作日"));
    assert!(text("审批结果").contains("电子批复证照"));
}

#[test]
fn the_notice_counts_down_five_seconds_and_states_the_conditions() {
    let item = item();
    assert_eq!(item.notice.countdown_seconds, 5);
    for phrase in [
        "接收地省级生态环境主管部门同意",
        "合同中应当约定污染防治要求",
        "逾期不补正的，视为放弃申请",
    ] {
        assert!(item.notice.text.contains(phrase), "{phrase}");
    }
    assert!(!item.commitments.is_empty());
    assert!(item.commitments[0].contains("真实"));
}

#[test]
fn the_example_application_validates() {
    let item = item();
    let d = complete();
    assert_eq!(validate(&item, &d), vec![]);
    // Nothing in it is hidden and dropped.
    assert_eq!(clean(&item, &d), d);
}

#[test]
fn the_basics_are_prefilled_from_the_enterprise() {
    let item = item();
    let known: Known = [
        ("enterprise.name", "上海示范热电有限公司"),
        ("enterprise.credit_code", "91310113MA1GL0RT3B"),
        ("enterprise.registered_address", "上海市宝山区示范路88号"),
        ("enterprise.legal_representative", "陈明"),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .into();
    let d = new_application(&item, &known);
    assert_eq!(d.one("unit_name"), Some("上海示范热电有限公司"));
    assert_eq!(d.one("credit_code"), Some("91310113MA1GL0RT3B"));
    assert_eq!(d.one("registered_address"), Some("上海市宝山区示范路88号"));
    assert_eq!(d.one("legal_person"), Some("陈明"));
    assert_eq!(d.one("second_carrier"), Some("否"));
    assert_eq!(d.one("contact_phone"), None);
    // 再来一单 keeps the waste and the receiver, not last time's period.
    let next = again(&item, &complete(), &known);
    assert_eq!(next.one("receiver_name"), Some("江苏示范固废处置有限公司"));
    assert_eq!(next.one("transport_from"), None);
    assert_eq!(next.one("transport_to"), None);
}

// ── messages naming the field ─────────────────────────────────────────────

#[test]
fn the_contact_phone_is_required_and_checked() {
    let item = item();
    assert!(matches!(
        item.field("contact_phone").unwrap().kind,
        FieldKind::Phone
    ));
    let mut d = complete();
    d.values.remove("contact_phone");
    only_problem(&item, &d, "contact_phone", "联系电话：请填写");
    d.set("contact_phone", "5888123");
    only_problem(
        &item,
        &d,
        "contact_phone",
        "联系电话：应为11位手机号码或带区号的固定电话，如 021-12345678",
    );
    d.set("contact_phone", "021-58881234");
    assert_eq!(messages(&item, &d), Vec::<String>::new());
}

#[test]
fn a_wrong_credit_code_is_named() {
    let item = item();
    let mut d = complete();
    // The applicant's code with its check character changed.
    d.set("credit_code", "91310113MA1GL0RT3C");
    only_problem(
        &item,
        &d,
        "credit_code",
        "统一社会信用代码：统一社会信用代码校验位错误，请核对后重新输入",
    );
    let mut d = complete();
    d.set("receiver_credit_code", "91320582MA1N7KQ4X");
    only_problem(
        &item,
        &d,
        "receiver_credit_code",
        "贮存/处置单位统一社会信用代码：统一社会信用代码应为18位，当前为17位",
    );
    let mut d = complete();
    d.set("carrier_credit_code", "91310120MA1HW6E2KO");
    let m = messages(&item, &d);
    assert_eq!(m.len(), 1, "{m:?}");
    assert!(m[0].starts_with("运输单位统一社会信用代码："), "{m:?}");
    // Lower case is accepted and stored upper case.
    let mut d = complete();
    d.set("receiver_credit_code", "91320582ma1n7kq4xa");
    assert!(validate(&item, &d).is_empty());
    assert_eq!(
        clean(&item, &d).one("receiver_credit_code"),
        Some("91320582MA1N7KQ4XA")
    );
}

#[test]
fn the_waste_answers_are_held_to_the_form() {
    let item = item();
    let mut d = complete();
    d.set("quantity", "0");
    only_problem(&item, &d, "quantity", "拟转移数量：不能小于0.01");
    d.set("quantity", "12.345");
    only_problem(&item, &d, "quantity", "拟转移数量：最多2位小数");
    let mut d = complete();
    d.set("waste_category", "SW08 放射性废物");
    only_problem(
        &item,
        &d,
        "waste_category",
        "废物类别：“SW08 放射性废物”不是可选项",
    );
    let FieldKind::Choice { options, select } = &item.field("waste_category").unwrap().kind else {
        panic!("废物类别 is a choice");
    };
    assert!(select, "a select, the list is long");
    assert!(
        options
            .iter()
            .all(|o| o.starts_with("SW") && o.contains(' '))
    );
    assert!(options.contains(&"SW59 其他工业固体废物".to_string()));
    let mut d = complete();
    d.values.remove("purpose");
    only_problem(&item, &d, "purpose", "转移目的：请选择");
}

#[test]
fn the_applicant_must_confirm_the_pollution_terms() {
    let item = item();
    let mut d = complete();
    d.values.remove("pollution_terms_agreed");
    only_problem(
        &item,
        &d,
        "pollution_terms_agreed",
        "合同是否已约定污染防治要求：请选择",
    );
    d.set("pollution_terms_agreed", "否");
    only_problem(
        &item,
        &d,
        "pollution_terms_agreed",
        "合同是否已约定污染防治要求：“否”不是可选项",
    );
}

// ── questions that appear with their answers ─────────────────────────────

#[test]
fn the_wharf_is_asked_only_when_shipping() {
    let item = item();
    let mut d = complete();
    assert!(!is_shown(&item, &d, "departure_wharf"), "汽车: no wharf");
    for mode in ["汽车", "其他"] {
        d.set("transport_mode", mode);
        assert!(!is_shown(&item, &d, "departure_wharf"), "{mode}");
    }
    d.set("transport_mode_other", "铁路");
    assert!(validate(&item, &d).is_empty(), "其他 with its description");
    d.set("transport_mode", "轮船");
    assert!(is_shown(&item, &d, "departure_wharf"));
    only_problem(&item, &d, "departure_wharf", "离岸码头：请填写");
    d.set("departure_wharf", "上海港罗泾港区示范码头");
    assert!(validate(&item, &d).is_empty());
    // Back to 汽车: the wharf is dropped, not required, not kept.
    d.set("transport_mode", "汽车");
    assert!(validate(&item, &d).is_empty());
    assert_eq!(clean(&item, &d).one("departure_wharf"), None);
}

#[test]
fn another_transport_mode_is_described() {
    let item = item();
    let mut d = complete();
    d.set("transport_mode", "其他");
    only_problem(
        &item,
        &d,
        "transport_mode_other",
        "其他运输方式说明：请填写",
    );
}

#[test]
fn another_province_is_named() {
    let item = item();
    let mut d = complete();
    assert!(!is_shown(&item, &d, "receiver_province_other"));
    d.set("receiver_province", "其他省份");
    only_problem(&item, &d, "receiver_province_other", "其他省份名称：请填写");
    d.set("receiver_province_other", "山东省");
    assert!(validate(&item, &d).is_empty());
}

#[test]
fn a_second_carrier_is_filled_in_when_there_is_one() {
    let item = item();
    let mut d = complete();
    assert!(!is_shown(&item, &d, "carrier2_name"));
    d.set("second_carrier", "是");
    let fields: Vec<_> = validate(&item, &d).into_iter().map(|p| p.field).collect();
    assert_eq!(
        fields,
        [
            "carrier2_name",
            "carrier2_credit_code",
            "carrier2_permit_no"
        ]
    );
    d.set("carrier2_name", "江苏示范运输有限公司");
    d.set("carrier2_credit_code", "91320506MA1P8DW5CA");
    d.set("carrier2_permit_no", "苏交运管许可苏字320506005678号");
    assert!(validate(&item, &d).is_empty());
}

// ── the transfer period ────────────────────────────────────────────────────

#[test]
fn the_period_cannot_end_before_it_starts() {
    let item = item();
    let mut d = complete();
    d.set("transport_from", "2026-06-01");
    d.set("transport_to", "2026-05-31");
    only_problem(
        &item,
        &d,
        "transport_to",
        "转移截止日期：不能早于转移起始日期",
    );
    d.set("transport_to", "2026-06-01");
    assert!(validate(&item, &d).is_empty(), "one day is a period");
}

#[test]
fn the_period_is_at_most_a_year() {
    let item = item();
    let mut d = complete();
    d.set("transport_from", "2026-03-01");
    d.set("transport_to", "2027-02-28");
    assert!(validate(&item, &d).is_empty());
    d.set("transport_to", "2027-03-01");
    only_problem(
        &item,
        &d,
        "transport_to",
        "转移截止日期：转移期限不能超过一年，自转移起始日期起最晚为2027-02-28",
    );
    d.set("transport_to", "2026/12/31");
    only_problem(
        &item,
        &d,
        "transport_to",
        "转移截止日期：应为日期，格式如 2026-01-31",
    );
}

// ── 材料预检 ───────────────────────────────────────────────────────────────

#[test]
fn the_materials_are_the_form_and_both_contracts() {
    let item = item();
    let listed: Vec<_> = item
        .materials
        .iter()
        .map(|m| (m.id.as_str(), m.required))
        .collect();
    assert_eq!(
        listed,
        [
            ("application_form", true),
            ("transport_contract", true),
            ("receiver_contract", true),
            ("receiving_opinion", false),
        ]
    );
    for id in ["transport_contract", "receiver_contract"] {
        let m = item.materials.iter().find(|m| m.id == id).unwrap();
        assert!(m.name.contains("盖章扫描件"), "{}", m.name);
        assert!(m.help.as_deref().unwrap().contains("污染防治要求"));
        assert_eq!(m.types, ["pdf", "jpg", "png"]);
        assert!(materials::check(m, "合同.jpg", &[0xFF, 0xD8, 0xFF, 0xE0]).is_ok());
    }
    let form = &item.materials[0];
    assert!(materials::check(form, "申报表.pdf", b"%PDF-1.7\n").is_ok());
    assert_eq!(
        materials::check(form, "申报表.pdf", &[0xFF, 0xD8, 0xFF, 0xE0]).unwrap_err(),
        "一般固体废物跨省转移贮存/处置申报表：文件内容不是允许的格式（pdf），请勿仅修改文件扩展名"
    );
}
