//! The radiation annual evaluation report (`specs/radiation-annual-report.toml`) against its
//! manual, seed 000: every conditional rule of issue 6 switched both ways, the checks a reviewer
//! wants, and the item's named rules.
use tongban_engine::prefill::{Known, again, new_application};
use tongban_engine::validate::{check, shown, validate};
use tongban_engine::{FieldKind, FormData, Item, Value};

fn item() -> Item {
    tongban_items::catalogue()
        .unwrap()
        .get("radiation-annual-report")
        .unwrap()
        .clone()
}

fn many(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// A complete, valid report of a hospital that uses sources, unsealed material and devices.
fn complete() -> FormData {
    tongban_items::radiation::example_report()
}

fn messages(item: &Item, d: &FormData) -> Vec<String> {
    validate(item, d).into_iter().map(|p| p.message).collect()
}

#[track_caller]
fn fields_shown(item: &Item, d: &FormData, ids: &[&str], want: bool) {
    let s = shown(item, d);
    for id in ids {
        assert_eq!(
            s.fields.contains(*id),
            want,
            "field {id} should be {}",
            if want { "shown" } else { "hidden" }
        );
    }
}

#[track_caller]
fn ledger_shown(item: &Item, d: &FormData, id: &str, want: bool) {
    assert_eq!(
        shown(item, d).ledgers.contains(id),
        want,
        "ledger {id} should be {}",
        if want { "shown" } else { "hidden" }
    );
}

// ── the item ───────────────────────────────────────────────────────────────

#[test]
fn the_spec_loads_as_the_catalogue_lists_it() {
    let item = item();
    assert_eq!(
        item.name,
        "放射性同位素与射线装置的安全和防护状况年度评估报告填报"
    );
    assert_eq!(item.department, "上海市生态环境局");
    assert_eq!(item.kind.label(), "公共服务");
    assert_eq!(item.case_prefix, "FN");
    let modules: Vec<_> = item.modules.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(modules, ["放射源", "非密封放射性物质", "射线装置"]);
    let steps: Vec<_> = item.steps.iter().map(|s| s.title.as_str()).collect();
    assert_eq!(
        steps,
        [
            "基本信息",
            "放射源",
            "非密封放射性物质",
            "射线装置",
            "其他相关"
        ]
    );
    let rules: Vec<_> = item.rules.iter().map(|(n, _)| n.as_str()).collect();
    assert!(rules.contains(&"dates_in_order"), "{rules:?}");
    let d = complete();
    assert!(validate(&item, &d).is_empty(), "{:?}", validate(&item, &d));
}

#[test]
fn the_notice_counts_down_five_seconds_with_the_legal_notice() {
    let item = item();
    assert_eq!(item.notice.countdown_seconds, 5);
    assert!(item.notice.text.contains(
        "已知晓在本年度评估报告以及全国核技术利用辐射安全申报系统中瞒报漏报或提供虚假信息的法律责任"
    ));
}

#[test]
fn the_raw_spec_without_the_nuclide_list_does_not_load() {
    let raw = include_str!("../specs/radiation-annual-report.toml");
    let err = Item::load(raw, &tongban_items::rules()).unwrap_err();
    assert!(err.to_string().contains("pattern"), "{err}");
}

// ── 模块定义 and the step bar ──────────────────────────────────────────────

#[test]
fn the_step_bar_follows_the_chosen_modules() {
    let item = item();
    let mut d = complete();
    let steps =
        |d: &FormData| -> Vec<String> { item.active_steps(d).map(|s| s.id.clone()).collect() };
    assert_eq!(
        steps(&d),
        ["basic", "sources", "unsealed", "devices", "other"]
    );
    assert_eq!(item.default_modules().len(), 3, "all three preset");
    for (module, question) in [
        ("sources", "high_risk_unit"),
        ("unsealed", "decay_tank"),
        ("devices", "uses_accelerator"),
    ] {
        d.modules.remove(module);
        assert!(!steps(&d).contains(&module.to_string()));
        fields_shown(&item, &d, &[question], false);
        d.values.remove(question);
        assert!(
            validate(&item, &d).is_empty(),
            "{module} off: {:?}",
            validate(&item, &d)
        );
        d.modules.insert(module.into());
        assert!(steps(&d).contains(&module.to_string()));
        fields_shown(&item, &d, &[question], true);
        assert!(
            validate(&item, &d)
                .iter()
                .any(|p| p.field == question && p.message.ends_with("：请选择")),
            "{module} on again asks {question}"
        );
        d = complete();
    }
    // Only devices: the report is the basic page, devices and 其他相关.
    d.modules = ["devices".to_string()].into();
    assert_eq!(steps(&d), ["basic", "devices", "other"]);
    assert!(validate(&item, &d).is_empty(), "{:?}", validate(&item, &d));
}

// ── 基本信息及辐射安全许可证信息 ────────────────────────────────────────────

#[test]
fn basic_and_licence_information_is_prefilled_and_the_year_is_per_case() {
    let item = item();
    let known: Known = [
        ("enterprise.name", "上海示范医院"),
        ("enterprise.credit_code", "91310115MA1K3YJ12G"),
        ("enterprise.registered_address", "上海市浦东新区示范路1号"),
        ("enterprise.legal_representative", "张三"),
        ("licence.number", "沪环辐证[12345]"),
        ("licence.issuer", "上海市生态环境局"),
        ("licence.issued_on", "2022-12-12"),
        ("licence.valid_until", "2027-12-12"),
        ("licence.scope", "纯销售"),
        ("licence.safety_org_name", "辐射安全防护管理小组"),
        ("calendar.last_year", "2025"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let d = new_application(&item, &known);
    for (field, value) in [
        ("unit_name", "上海示范医院"),
        ("credit_code", "91310115MA1K3YJ12G"),
        ("legal_rep_name", "张三"),
        ("licence_no", "沪环辐证[12345]"),
        ("issued_on", "2022-12-12"),
        ("licence_scope", "纯销售"),
        ("safety_org_name", "辐射安全防护管理小组"),
        ("year", "2025"),
    ] {
        assert_eq!(d.one(field), Some(value), "{field}");
    }
    // Without the ministry's data the issuer still starts as the city bureau.
    let bare = new_application(&item, &Known::new());
    assert_eq!(bare.one("licence_issuer"), Some("上海市生态环境局"));
    // 再来一单 keeps the answers but not the year.
    let mut previous = complete();
    previous.set("year", "2024");
    let next = again(&item, &previous, &Known::new());
    assert_eq!(next.one("year"), None);
    assert_eq!(next.one("unit_name"), Some("上海示范医院"));
}

#[test]
fn the_licence_presets_the_modules_and_all_three_are_on_without_it() {
    let item = item();
    let known: Known = [("licence.modules", "sources,devices")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let preset = new_application(&item, &known);
    assert_eq!(
        preset
            .modules
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        ["devices", "sources"]
    );
    assert!(
        !shown(&item, &preset).fields.contains("unsealed_activities"),
        "the unsealed page is off"
    );
    let bare = new_application(&item, &Known::new());
    assert_eq!(bare.modules.len(), 3);
}

#[test]
fn a_pure_sales_licence_hides_the_two_workplace_questions() {
    let item = item();
    let mut d = complete();
    let questions = ["workplace_matches", "acceptance_done"];
    fields_shown(&item, &d, &questions, true);
    d.set("licence_scope", "纯销售");
    fields_shown(&item, &d, &questions, false);
    assert!(validate(&item, &d).is_empty());
    d.set("licence_scope", "含生产或使用");
    d.values.remove("workplace_matches");
    fields_shown(&item, &d, &questions, true);
    assert_eq!(messages(&item, &d), ["工作场所是否与许可证一致：请选择"]);
}

#[test]
fn acceptance_not_done_asks_for_the_project() {
    let item = item();
    let mut d = complete();
    fields_shown(&item, &d, &["unaccepted_project"], false);
    d.set("acceptance_done", "否");
    fields_shown(&item, &d, &["unaccepted_project"], true);
    fields_shown(&item, &d, &["unaccepted_project_other"], false);
    assert_eq!(
        messages(&item, &d),
        ["未按规定完成自主验收并公示的项目：请选择"]
    );
    // Without projects from the licence, the project is typed after 其他项目（手动填写）.
    d.set("unaccepted_project", "其他项目（手动填写）");
    fields_shown(&item, &d, &["unaccepted_project_other"], true);
    assert_eq!(
        messages(&item, &d),
        ["未按规定完成自主验收并公示的项目名称：请填写"]
    );
    d.set(
        "unaccepted_project_other",
        "核医学科乙级非密封放射性物质工作场所",
    );
    assert!(validate(&item, &d).is_empty());
    // A project that is not on offer is refused.
    d.set("unaccepted_project", "核医学科扩建项目");
    assert_eq!(
        messages(&item, &d),
        ["未按规定完成自主验收并公示的项目：“核医学科扩建项目”不是可选项"]
    );
    d.set("acceptance_done", "不涉及");
    fields_shown(&item, &d, &["unaccepted_project"], false);
    // Hidden answers are not kept.
    assert!(
        !shown(&item, &d)
            .effective
            .values
            .contains_key("unaccepted_project")
    );
}

#[test]
fn the_project_is_picked_from_the_licences_projects() {
    let item = item();
    let mut known = Known::new();
    known.insert(
        "licence.projects".into(),
        "Ⅳ类、Ⅴ类放射源使用项目\n核医学科乙级非密封放射性物质工作场所\n".into(),
    );
    let fresh = new_application(&item, &known);
    let projects = [
        "Ⅳ类、Ⅴ类放射源使用项目",
        "核医学科乙级非密封放射性物质工作场所",
    ];
    assert_eq!(fresh.options["unaccepted_project"], projects);
    let field = item.field("unaccepted_project").unwrap();
    assert_eq!(
        field.options_for(&fresh),
        [projects[0], projects[1], "其他项目（手动填写）"]
    );
    let mut d = complete();
    d.options = fresh.options.clone();
    d.set("acceptance_done", "否");
    d.set("unaccepted_project", projects[1]);
    assert!(validate(&item, &d).is_empty(), "{:?}", messages(&item, &d));
    fields_shown(&item, &d, &["unaccepted_project_other"], false);
    // The choices stay with the application through 暂存 and submission.
    let kept = tongban_engine::validate::clean(&item, &d);
    assert_eq!(kept.options["unaccepted_project"], projects);
    assert_eq!(kept.one("unaccepted_project"), Some(projects[1]));
    // Another application without them may not name those projects.
    let mut other = complete();
    other.set("acceptance_done", "否");
    other.set("unaccepted_project", projects[1]);
    assert_eq!(messages(&item, &other).len(), 1);
    // 再来一单 offers today's projects, not last year's.
    let mut now = Known::new();
    now.insert("licence.projects".into(), "新建回旋加速器项目".into());
    let copy = again(&item, &kept, &now);
    assert_eq!(copy.options["unaccepted_project"], ["新建回旋加速器项目"]);
}

#[test]
fn licence_dates_must_be_in_order() {
    let item = item();
    let mut d = complete();
    d.set("valid_until", "2021-12-12");
    assert_eq!(messages(&item, &d), ["有效期至：不能早于发证日期"]);
    d.set("valid_until", "2022-12-12");
    assert!(validate(&item, &d).is_empty());
}

// ── 放射源 ─────────────────────────────────────────────────────────────────

const SOURCE_COUNTS: [&str; 5] = [
    "source_count_i",
    "source_count_ii",
    "source_count_iii",
    "source_count_iv",
    "source_count_v",
];

#[test]
fn source_use_shows_the_use_counts_per_class() {
    let item = item();
    let mut d = complete();
    let mut use_fields = SOURCE_COUNTS.to_vec();
    use_fields.push("source_ledger_matches");
    fields_shown(&item, &d, &use_fields, true);
    d.set_many("source_activities", many(&["销售"]));
    fields_shown(&item, &d, &use_fields, false);
    fields_shown(
        &item,
        &d,
        &["source_transfer_filed", "high_risk_unit"],
        true,
    );
    assert!(validate(&item, &d).is_empty(), "{:?}", validate(&item, &d));
    // With 使用 at least one class is counted; any class, as for a gamma knife ticked I类
    // with its 25 sources counted under II类.
    d.set_many("source_activities", many(&["销售", "使用"]));
    d.values.remove("source_count_ii");
    assert_eq!(
        messages(&item, &d),
        ["放射源使用台账数量：已勾选“使用”，请至少填写一类放射源的使用枚数（豁免不计入）"]
    );
    d.set("source_count_ii", "25");
    assert!(validate(&item, &d).is_empty());
    d.set("source_count_ii", "0");
    assert!(validate(&item, &d).is_empty(), "0 is a count");
}

#[test]
fn a_high_risk_unit_is_asked_about_online_monitoring_and_work_orders() {
    let item = item();
    let mut d = complete();
    let follow_ups = ["high_risk_online_monitoring", "high_risk_work_orders"];
    fields_shown(&item, &d, &follow_ups, false);
    d.set("high_risk_unit", "是");
    fields_shown(&item, &d, &follow_ups, true);
    assert_eq!(
        messages(&item, &d),
        [
            "满足高风险源在线监控管理要求：请选择",
            "每次作业有工单记录，含现场环境实测值：请选择"
        ]
    );
    d.set("high_risk_online_monitoring", "是");
    d.set("high_risk_work_orders", "否");
    assert!(validate(&item, &d).is_empty());
    d.set("high_risk_unit", "否");
    fields_shown(&item, &d, &follow_ups, false);
    assert!(
        !shown(&item, &d)
            .effective
            .values
            .contains_key("high_risk_work_orders")
    );
}

#[test]
fn a_conditional_exemption_unit_is_asked_about_marked_exempt_sources() {
    let item = item();
    let mut d = complete();
    fields_shown(&item, &d, &["exempt_sources_marked"], false);
    d.set("exempt_producer", "是");
    fields_shown(&item, &d, &["exempt_sources_marked"], true);
    assert_eq!(messages(&item, &d), ["按要求在申报系统标记豁免源：请选择"]);
    d.set("exempt_sources_marked", "是");
    assert!(validate(&item, &d).is_empty());
    d.set("exempt_producer", "否");
    fields_shown(&item, &d, &["exempt_sources_marked"], false);
}

#[test]
fn source_sales_show_the_sales_ledger_with_the_columns_of_000() {
    let item = item();
    let mut d = complete();
    ledger_shown(&item, &d, "source_sales", false);
    d.set_many("source_activities", many(&["销售", "使用"]));
    ledger_shown(&item, &d, "source_sales", true);
    d.set_many("source_activities", many(&["生产"]));
    ledger_shown(&item, &d, "source_sales", false);
    assert_eq!(
        columns(&item, "source_sales"),
        [
            "转让/进口批件文号",
            "核素",
            "出厂日期",
            "出厂活度（Bq）",
            "编码",
            "类别",
            "来源",
            "去向",
            "许可证号"
        ]
    );
}

// ── 非密封放射性物质 ───────────────────────────────────────────────────────

const WORKPLACES: [&str; 3] = [
    "workplaces_grade_a",
    "workplaces_grade_b",
    "workplaces_grade_c",
];

#[test]
fn unsealed_sales_only_has_no_workplaces() {
    let item = item();
    let mut d = complete();
    fields_shown(&item, &d, &["unsealed_grades", "workplaces_grade_b"], true);
    d.set_many("unsealed_activities", many(&["销售"]));
    let s = shown(&item, &d);
    assert!(!s.fields.contains("unsealed_grades"));
    for w in WORKPLACES {
        assert!(!s.fields.contains(w), "{w}");
    }
    d.set("unsealed_trade", "否");
    d.set("pharma_trade", "否");
    assert!(validate(&item, &d).is_empty(), "{:?}", validate(&item, &d));
    // 生产 brings the workplaces back.
    d.set_many("unsealed_activities", many(&["生产", "销售"]));
    fields_shown(&item, &d, &["unsealed_grades", "workplaces_grade_b"], true);
}

#[test]
fn each_ticked_grade_asks_for_its_workplace_count() {
    let item = item();
    let mut d = complete();
    fields_shown(&item, &d, &["workplaces_grade_b"], true);
    fields_shown(
        &item,
        &d,
        &["workplaces_grade_a", "workplaces_grade_c"],
        false,
    );
    d.set_many("unsealed_grades", many(&["甲级", "乙级"]));
    fields_shown(&item, &d, &["workplaces_grade_a"], true);
    assert_eq!(
        messages(&item, &d),
        ["非密封放射性物质使用场所数量（甲级）：请填写"]
    );
    d.set("workplaces_grade_a", "0");
    assert_eq!(
        messages(&item, &d),
        ["非密封放射性物质使用场所数量（甲级）：不能小于1"]
    );
    d.set("workplaces_grade_a", "2");
    assert!(validate(&item, &d).is_empty());
    d.set_many("unsealed_grades", many(&["乙级"]));
    fields_shown(&item, &d, &["workplaces_grade_a"], false);
    assert!(
        !shown(&item, &d)
            .effective
            .values
            .contains_key("workplaces_grade_a")
    );
}

#[test]
fn an_exhaust_treatment_facility_is_asked_about_its_filters() {
    let item = item();
    let mut d = complete();
    fields_shown(&item, &d, &["filters_replaced"], false);
    d.set("exhaust_treatment", "是");
    fields_shown(&item, &d, &["filters_replaced"], true);
    assert_eq!(
        messages(&item, &d),
        ["定期更换过滤器，并按规定处理：请选择"]
    );
    d.set("filters_replaced", "是");
    assert!(validate(&item, &d).is_empty());
    d.set("exhaust_treatment", "否");
    fields_shown(&item, &d, &["filters_replaced"], false);
}

#[test]
fn a_decay_tank_is_asked_about_operation_and_discharge_records() {
    let item = item();
    let mut d = complete();
    let follow_ups = ["decay_tank_normal", "discharge_records"];
    fields_shown(&item, &d, &follow_ups, false);
    d.set("decay_tank", "是");
    fields_shown(&item, &d, &follow_ups, true);
    assert_eq!(
        messages(&item, &d),
        ["衰变池运行正常：请选择", "有排放记录：请选择"]
    );
    d.set("decay_tank_normal", "是");
    d.set("discharge_records", "是");
    assert!(validate(&item, &d).is_empty());
    d.set("decay_tank", "否");
    fields_shown(&item, &d, &follow_ups, false);
}

#[test]
fn clearance_exemption_or_storage_shows_the_waste_disposal_ledger() {
    let item = item();
    let mut d = complete();
    ledger_shown(&item, &d, "waste_disposal_log", false);
    d.set("waste_disposed", "是");
    ledger_shown(&item, &d, "waste_disposal_log", true);
    assert_eq!(item.ledger("waste_disposal_log").unwrap().min_rows, 1);
    assert_eq!(
        columns(&item, "waste_disposal_log"),
        [
            "核素",
            "处置方式",
            "废物处置后的去向",
            "解控/豁免依据",
            "检测结果是否满足解控/豁免要求",
            "总重量（kg）"
        ]
    );
    let method = column(&item, "waste_disposal_log", "method");
    assert!(
        matches!(&method.kind, FieldKind::Choice { options, .. } if options == &["解控", "豁免", "收贮"])
    );
    d.set("waste_disposed", "否");
    ledger_shown(&item, &d, "waste_disposal_log", false);
}

#[test]
fn production_or_sales_shows_the_trade_ledger_but_not_without_sales() {
    let item = item();
    let mut d = complete();
    // 使用 only: not asked, no ledger.
    fields_shown(&item, &d, &["unsealed_trade", "pharma_trade"], false);
    ledger_shown(&item, &d, "unsealed_trade_log", false);
    d.set_many("unsealed_activities", many(&["销售"]));
    fields_shown(&item, &d, &["unsealed_trade", "pharma_trade"], true);
    // 销售 only and no sales this year: no ledger.
    d.set("unsealed_trade", "否");
    d.set("pharma_trade", "否");
    ledger_shown(&item, &d, "unsealed_trade_log", false);
    assert!(validate(&item, &d).is_empty());
    d.set("unsealed_trade", "是");
    ledger_shown(&item, &d, "unsealed_trade_log", true);
    assert_eq!(item.ledger("unsealed_trade_log").unwrap().min_rows, 1);
    assert_eq!(
        columns(&item, "unsealed_trade_log"),
        [
            "转让/进口批件文号",
            "核素",
            "总活度（Bq）",
            "频次",
            "来源",
            "去向",
            "许可证号"
        ]
    );
}

#[test]
fn radiopharmaceutical_trade_shows_the_annual_report_table() {
    let item = item();
    let mut d = complete();
    d.set_many("unsealed_activities", many(&["生产"]));
    d.set("unsealed_trade", "否");
    d.set("pharma_trade", "否");
    ledger_shown(&item, &d, "pharma_report", false);
    d.set("pharma_trade", "是");
    ledger_shown(&item, &d, "pharma_report", true);
    assert_eq!(
        columns(&item, "pharma_report"),
        [
            "原料名称",
            "进口批次（次/月份）",
            "生产的放射性药品名称",
            "原料量（Bq）",
            "产品量（Bq）",
            "销售用户名称",
            "销售量（Bq）"
        ]
    );
}

#[test]
fn unsealed_use_asks_for_actual_use_and_then_the_use_ledger() {
    let item = item();
    let mut d = complete();
    fields_shown(&item, &d, &["unsealed_actual_use"], true);
    ledger_shown(&item, &d, "unsealed_use_log", false);
    d.set("unsealed_actual_use", "是");
    ledger_shown(&item, &d, "unsealed_use_log", true);
    assert_eq!(item.ledger("unsealed_use_log").unwrap().min_rows, 1);
    assert_eq!(
        columns(&item, "unsealed_use_log"),
        [
            "核素",
            "库存总活度（Bq）",
            "使用总活度（Bq）",
            "用途",
            "环评预估废物产生量（kg）",
            "当年产生废物量（kg）",
            "产生废物内容物（如针筒、手套等）",
            "库存待处置废物总重量（kg）"
        ]
    );
    // Without 使用 neither the question nor the ledger.
    d.set_many("unsealed_activities", many(&["生产"]));
    d.set("unsealed_trade", "否");
    d.set("pharma_trade", "否");
    fields_shown(&item, &d, &["unsealed_actual_use"], false);
    ledger_shown(&item, &d, "unsealed_use_log", false);
    assert!(validate(&item, &d).is_empty(), "{:?}", validate(&item, &d));
}

// ── 射线装置 ───────────────────────────────────────────────────────────────

#[test]
fn device_use_shows_the_use_counts_per_class() {
    let item = item();
    let mut d = complete();
    let use_fields = [
        "device_count_i",
        "device_count_ii",
        "device_count_iii",
        "device_ledger_matches",
    ];
    fields_shown(&item, &d, &use_fields, true);
    d.set_many("device_activities", many(&["生产", "销售"]));
    fields_shown(&item, &d, &use_fields, false);
    assert!(validate(&item, &d).is_empty(), "{:?}", validate(&item, &d));
    d.set_many("device_activities", many(&["使用"]));
    for id in ["device_count_ii", "device_count_iii"] {
        d.values.remove(id);
    }
    assert_eq!(
        messages(&item, &d),
        ["射线装置使用台账数量：已勾选“使用”，请至少填写一类射线装置的使用台数（豁免不计入）"]
    );
    // A count belongs to a ticked class.
    d.set("device_count_i", "1");
    assert_eq!(
        messages(&item, &d),
        ["射线装置使用台账数量（I类）：未勾选I类射线装置，数量应为0或不填"]
    );
    d.set("device_count_i", "0");
    assert!(validate(&item, &d).is_empty());
    d.set("device_count_i", "1");
    d.set_many("device_classes", many(&["I类", "II类", "III类"]));
    assert!(validate(&item, &d).is_empty());
}

#[test]
fn an_accelerator_is_asked_about_activation_products_and_then_their_ledger() {
    let item = item();
    let mut d = complete();
    fields_shown(&item, &d, &["activation_products"], false);
    ledger_shown(&item, &d, "activation_waste_log", false);
    d.set("uses_accelerator", "是");
    fields_shown(&item, &d, &["activation_products"], true);
    let help = item.field("activation_products").unwrap().help.as_deref();
    assert!(
        help.is_some_and(|h| h.contains("能量大于等于10兆电子伏") && h.contains("其他粒子加速器")),
        "the 10 MeV rule is explained: {help:?}"
    );
    assert_eq!(messages(&item, &d), ["是否产生活化产物：请选择"]);
    d.set("activation_products", "否");
    ledger_shown(&item, &d, "activation_waste_log", false);
    d.set("activation_products", "是");
    ledger_shown(&item, &d, "activation_waste_log", true);
    assert_eq!(item.ledger("activation_waste_log").unwrap().min_rows, 1);
    assert_eq!(
        columns(&item, "activation_waste_log"),
        [
            "当年固体废物产生量（kg）",
            "库存固体废物贮存量（kg）",
            "当年固体废物处置量（kg）",
            "产生固体废物是否可衰变至环境水平",
            "已处置固体废物去向"
        ]
    );
    // No accelerator: the answer and the ledger go away.
    d.set("uses_accelerator", "否");
    fields_shown(&item, &d, &["activation_products"], false);
    ledger_shown(&item, &d, "activation_waste_log", false);
}

#[test]
fn device_production_or_sales_shows_the_trade_ledger() {
    let item = item();
    let mut d = complete();
    ledger_shown(&item, &d, "device_trade_log", false);
    for activity in ["生产", "销售"] {
        d.set_many("device_activities", many(&[activity]));
        ledger_shown(&item, &d, "device_trade_log", true);
    }
    d.set_many("device_activities", many(&["使用"]));
    ledger_shown(&item, &d, "device_trade_log", false);
    assert_eq!(
        columns(&item, "device_trade_log"),
        [
            "装置名称",
            "规格型号",
            "类别",
            "购买单位名称",
            "购买方地址",
            "购买方辐射安全许可证号",
            "最终用户（公共场所安检仪必填）"
        ]
    );
}

// ── 其他相关 ───────────────────────────────────────────────────────────────

#[test]
fn a_zero_monitoring_cycle_needs_a_reason_of_at_most_200_characters() {
    let item = item();
    let mut d = complete();
    fields_shown(&item, &d, &["zero_cycle_reason"], false);
    // However the zero is typed.
    d.set("monitoring_cycle", "00");
    fields_shown(&item, &d, &["zero_cycle_reason"], true);
    assert_eq!(messages(&item, &d), ["检测周期为0原因：请填写"]);
    d.set("zero_cycle_reason", "理".repeat(200));
    assert!(validate(&item, &d).is_empty());
    d.set("zero_cycle_reason", "理".repeat(201));
    assert_eq!(messages(&item, &d), ["检测周期为0原因：不能超过200个字"]);
    d.set("monitoring_cycle", "2");
    fields_shown(&item, &d, &["zero_cycle_reason"], false);
    assert!(
        validate(&item, &d).is_empty(),
        "a hidden reason is not checked"
    );
    d.set("monitoring_cycle", "1.5");
    assert_eq!(messages(&item, &d), ["自行监测周期：应为整数"]);
}

#[test]
fn a_monitoring_cycle_other_than_zero_needs_its_executor() {
    let item = item();
    let mut d = complete();
    d.values.remove("monitoring_executor");
    assert_eq!(
        messages(&item, &d),
        ["自行监测执行人：自行监测周期不为0时请填写"]
    );
    d.set("monitoring_cycle", "0");
    d.set(
        "zero_cycle_reason",
        "本年度无自行监测条件，委托有资质单位监测",
    );
    assert!(validate(&item, &d).is_empty());
}

#[test]
fn staff_counts_cannot_exceed_the_radiation_workers() {
    let item = item();
    let mut d = complete();
    d.set("dosimeter_count", "274");
    d.set("exam_passed_count", "300");
    assert_eq!(
        messages(&item, &d),
        [
            "配备个人剂量计人员数量：不能大于辐射工作人员数量（273人）",
            "通过辐射安全与防护考核人员数量：不能大于辐射工作人员数量（273人）"
        ]
    );
    d.set("dosimeter_count", "273");
    d.set("exam_passed_count", "0");
    assert!(validate(&item, &d).is_empty());
}

#[test]
fn counts_are_non_negative_whole_numbers_named_by_their_field() {
    let item = item();
    let mut d = complete();
    for (k, v) in [
        ("staff_count", "-1"),
        ("survey_meters", "1.5"),
        ("source_count_ii", "-3"),
        ("device_count_iii", "2.0"),
        ("workplaces_grade_b", "abc"),
    ] {
        d.set(k, v);
    }
    let m = messages(&item, &d);
    for expected in [
        "辐射工作人员数量：不能小于0",
        "巡测仪：应为整数",
        "放射源使用台账数量（II类）：不能小于0",
        "射线装置使用台账数量（III类）：应为整数",
        "非密封放射性物质使用场所数量（乙级）：应为数字",
    ] {
        assert!(m.iter().any(|x| x == expected), "missing {expected}: {m:?}");
    }
    // Every count of the report is held to whole numbers from 0 (场所数量 from 1).
    for (_, _, f) in item.fields() {
        if let FieldKind::Number { decimals, min, .. } = &f.kind {
            assert_eq!(*decimals, Some(0), "{}", f.id);
            assert!(min.is_some_and(|m| m >= 0.0), "{}", f.id);
        }
    }
}

#[test]
fn a_single_dose_report_cannot_exceed_the_annual_maximum_in_either_unit() {
    let item = item();
    let mut d = complete();
    d.set("dose_single_max", "1500");
    assert_eq!(
        messages(&item, &d),
        ["个人剂量单次报告最大值：不能大于个人剂量年度累计最大值"]
    );
    d.set("dose_single_unit", "mSv");
    d.set("dose_single_max", "1.2");
    assert!(validate(&item, &d).is_empty());
    // Symbols are allowed and not compared.
    d.set("dose_single_max", "<MDL");
    assert!(validate(&item, &d).is_empty());
    d.values.remove("dose_annual_unit");
    assert_eq!(messages(&item, &d), ["个人剂量年度累计最大值单位：请选择"]);
}

#[test]
fn the_monitoring_report_is_for_producers_and_users_only() {
    let item = item();
    let mut d = complete();
    let report_fields = [
        "monitoring_units",
        "monitoring_report_numbers",
        "monitoring_conclusion",
        "monitoring_date",
    ];
    let material = item
        .materials
        .iter()
        .find(|m| m.id == "monitoring_report")
        .unwrap();
    assert!(material.required && material.multiple);
    assert!(material.types.iter().any(|t| t == "zip"), "打包后上传");
    let needs_report = |d: &FormData| {
        let effective = shown(&item, d).effective;
        material
            .show_if
            .as_ref()
            .is_none_or(|c| c.holds(&effective))
    };
    fields_shown(&item, &d, &report_fields, true);
    assert!(needs_report(&d));
    // Selling only, in every module.
    d.set_many("source_activities", many(&["销售"]));
    d.set_many("unsealed_activities", many(&["销售"]));
    d.set_many("device_activities", many(&["销售"]));
    d.set("unsealed_trade", "否");
    d.set("pharma_trade", "否");
    fields_shown(&item, &d, &report_fields, false);
    assert!(!needs_report(&d));
    assert!(validate(&item, &d).is_empty(), "{:?}", validate(&item, &d));
    // One module that produces is enough; a module switched off does not count.
    d.set_many("device_activities", many(&["生产"]));
    fields_shown(&item, &d, &report_fields, true);
    assert!(needs_report(&d));
    d.modules.remove("devices");
    fields_shown(&item, &d, &report_fields, false);
    assert!(!needs_report(&d));
}

#[test]
fn a_monitoring_unit_not_in_the_list_is_typed_in_under_other() {
    let item = item();
    let mut d = complete();
    fields_shown(&item, &d, &["monitoring_units_other"], true);
    d.values.remove("monitoring_units_other");
    assert_eq!(messages(&item, &d), ["其他资质监测单位名称：请填写"]);
    d.set_many("monitoring_units", vec![]);
    fields_shown(&item, &d, &["monitoring_units_other"], false);
    assert_eq!(messages(&item, &d), ["资质监测单位名称：请选择"]);
    let units = item.field("monitoring_units").unwrap();
    assert!(
        matches!(&units.kind, FieldKind::Multi { options } if options.last().is_some_and(|o| o == "其他"))
    );
}

#[test]
fn the_monitoring_date_lies_in_the_report_year() {
    let item = item();
    let mut d = complete();
    d.set("monitoring_date", "2026-01-05");
    assert_eq!(
        messages(&item, &d),
        ["监测日期：应为2025年度内的日期（选择该年度最后一份报告的监测日期）"]
    );
    d.set("monitoring_date", "2025-12-31");
    assert!(validate(&item, &d).is_empty());
}

// ── ledgers ────────────────────────────────────────────────────────────────

fn column<'a>(item: &'a Item, ledger: &str, id: &str) -> &'a tongban_engine::Field {
    item.ledger(ledger)
        .unwrap()
        .columns
        .iter()
        .find(|c| c.id == id)
        .unwrap()
}

/// Column titles as the template writes them: the label, with the unit.
fn columns(item: &Item, ledger: &str) -> Vec<String> {
    item.ledger(ledger)
        .unwrap()
        .columns
        .iter()
        .map(|c| match &c.kind {
            FieldKind::Number {
                unit: Some(unit), ..
            } => format!("{}（{unit}）", c.label),
            _ => c.label.clone(),
        })
        .collect()
}

#[test]
fn nuclides_outside_the_reference_list_are_refused_with_a_clear_message() {
    let item = item();
    let with_nuclides = [
        "source_sales",
        "waste_disposal_log",
        "unsealed_trade_log",
        "unsealed_use_log",
    ];
    for ledger in with_nuclides {
        let nuclide = column(&item, ledger, "nuclide");
        for good in ["Cs-137", "Tc-99m", "I-131", " F-18 "] {
            assert_eq!(
                check(nuclide, &Value::One(good.into())),
                Ok(Value::One(good.trim().into())),
                "{ledger}: {good}"
            );
        }
        for bad in ["Cs137", "cs-137", "铯-137", "Cs-137m", "Xx-1"] {
            assert_eq!(
                check(nuclide, &Value::One(bad.into())),
                Err(
                    "不在核素参考表中，请按“Cs-137”格式填写（元素符号-质量数，如 I-131、Tc-99m）"
                        .into()
                ),
                "{ledger}: {bad}"
            );
        }
    }
    // Every name of the reference table is accepted.
    let nuclide = column(&item, "unsealed_use_log", "nuclide");
    for name in tongban_items::radiation::nuclides() {
        assert!(
            check(nuclide, &Value::One(name.to_string())).is_ok(),
            "{name}"
        );
    }
}

#[test]
fn every_ledger_has_a_template_excel_can_hold() {
    let item = item();
    let ids: Vec<_> = item.ledgers().map(|(_, _, l)| l.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "source_sales",
            "waste_disposal_log",
            "unsealed_trade_log",
            "pharma_report",
            "unsealed_use_log",
            "device_trade_log",
            "activation_waste_log"
        ]
    );
    for (_, _, ledger) in item.ledgers() {
        // Excel sheet names are at most 31 characters; the import finds the sheet by title.
        assert!(ledger.title.chars().count() <= 31, "{}", ledger.title);
        for c in &ledger.columns {
            // A drop-down list in the template is at most 255 characters (why nuclides are a
            // pattern, not a choice).
            if let FieldKind::Choice { options, .. } = &c.kind {
                assert!(options.join(",").chars().count() <= 255, "{}", c.id);
            }
        }
    }
}

// ── the ledgers against the form (run at submission) ──────────────────────

/// A row of ledger `ledger` with `values` in the named columns, the rest filled plausibly.
fn ledger_row(item: &Item, ledger: &str, values: &[(&str, &str)]) -> Vec<String> {
    item.ledger(ledger)
        .unwrap()
        .columns
        .iter()
        .map(|c| {
            values
                .iter()
                .find(|(id, _)| *id == c.id)
                .map(|(_, v)| v.to_string())
                .unwrap_or_else(|| "1".into())
        })
        .collect()
}

fn ledger_messages(
    item: &Item,
    d: &FormData,
    rows: &tongban_engine::rules::LedgerRows,
) -> Vec<String> {
    tongban_items::radiation::ledgers_agree(item, d, rows)
        .into_iter()
        .map(|p| p.message)
        .collect()
}

#[test]
fn a_source_sold_must_be_of_a_class_ticked_for_the_unit() {
    let item = item();
    let mut d = complete();
    d.set_many("source_activities", many(&["使用", "销售"]));
    let rows: tongban_engine::rules::LedgerRows = [(
        "source_sales".to_string(),
        vec![
            ledger_row(&item, "source_sales", &[("class", "I类")]),
            ledger_row(&item, "source_sales", &[("class", "III类")]),
        ],
    )]
    .into();
    assert_eq!(
        ledger_messages(&item, &d, &rows),
        ["放射源销售台账第2行：类别「III类」未在“放射源类别”中勾选，请核对台账或勾选该类别"]
    );
    d.set_many("source_classes", many(&["I类", "III类"]));
    assert!(ledger_messages(&item, &d, &rows).is_empty());
}

#[test]
fn the_unsealed_use_ledger_has_one_row_per_nuclide() {
    let item = item();
    let d = complete();
    let row = |n: &str| ledger_row(&item, "unsealed_use_log", &[("nuclide", n)]);
    let twice: tongban_engine::rules::LedgerRows = [(
        "unsealed_use_log".to_string(),
        vec![row("I-131"), row("Tc-99m"), row("I-131")],
    )]
    .into();
    assert_eq!(
        ledger_messages(&item, &d, &twice),
        ["非密封放射性物质使用台账第3行：核素「I-131」与第1行重复，每种核素只填写一行"]
    );
    let once: tongban_engine::rules::LedgerRows = [(
        "unsealed_use_log".to_string(),
        vec![row("I-131"), row("Tc-99m")],
    )]
    .into();
    assert!(ledger_messages(&item, &d, &once).is_empty());
    assert!(
        item.ledger_rules
            .iter()
            .any(|(name, _)| name == "radiation_ledgers_agree"),
        "the item runs the rule at submission"
    );
}
