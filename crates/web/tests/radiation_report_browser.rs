//! The radiation annual report (seed 000) end to end in headless Chromium, on both engines
//! (issue acceptance 1 and 5): an enterprise with a primary certificate opens the service guide,
//! clicks 年度报告书上报 +, waits out the five-second notice, keeps the three modules, fills every
//! page with the answers that show all seven ledgers, downloads each ledger's template, fills it
//! and imports it through the page, goes 上一步 and 下一步, uploads the monitoring report, submits,
//! signs with its certificate in two steps, finds 已盖章 in its list of reports and downloads the
//! signed report, whose signature verifies and whose text holds what every page took.
//!
//! Screenshots of the main steps go to the test's temporary directory; with
//! `TONGBAN_DOC_SCREENSHOTS=1` they are written to `docs/img/radiation-annual-report/` instead,
//! where the user page (`docs/radiation-annual-report.md`) shows them.
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use base64::Engine as _;
use fantoccini::{Client, Locator};
use tongban_store::store_test;
use tongban_store::testing::TestStore;

mod common;
use common::*;
#[path = "common/browser.rs"]
mod browser;
use browser::*;

const CODE: &str = "91310115MA1FL8XQ34";
const ITEM: &str = "radiation-annual-report";

/// The rows typed into each ledger's template: (column title as the template writes it, the
/// value of each row).
fn ledger_rows(ledger: &str) -> Vec<(&'static str, Vec<&'static str>)> {
    match ledger {
        "source_sales" => vec![
            (
                "转让/进口批件文号",
                vec!["沪环辐转[2025]0317", "沪环辐转[2025]0418"],
            ),
            ("核素", vec!["Cs-137", "Ir-192"]),
            ("出厂日期", vec!["2024-06-01", "2025-02-15"]),
            ("出厂活度（Bq）", vec!["37000000000", "3700000000000"]),
            ("编码", vec!["0524CS012345", "0225IR000987"]),
            ("类别", vec!["V类", "II类"]),
            ("来源", vec!["中国同辐股份有限公司", "中国同辐股份有限公司"]),
            ("去向", vec!["上海示范检测站", "上海示范探伤公司"]),
            ("许可证号", vec!["沪环辐证[20001]", "沪环辐证[20002]"]),
        ],
        "waste_disposal_log" => vec![
            ("核素", vec!["I-131", "Tc-99m"]),
            ("处置方式", vec!["解控", "解控"]),
            ("废物处置后的去向", vec!["医废处置", "城市放废库"]),
            (
                "解控/豁免依据",
                vec!["暂存超过10个半衰期", "暂存超过10个半衰期"],
            ),
            ("检测结果是否满足解控/豁免要求", vec!["是", "是"]),
            ("总重量（kg）", vec!["12.5", "8"]),
        ],
        "unsealed_trade_log" => vec![
            ("转让/进口批件文号", vec!["沪环辐转[2025]0520"]),
            ("核素", vec!["F-18"]),
            ("总活度（Bq）", vec!["1110000000000"]),
            ("频次", vec!["每日"]),
            ("来源", vec!["本单位回旋加速器"]),
            ("去向", vec!["上海示范肿瘤医院"]),
            ("许可证号", vec!["沪环辐证[20003]"]),
        ],
        "pharma_report" => vec![
            ("原料名称", vec!["氧-18水"]),
            ("进口批次（次/月份）", vec!["2次/3月、9月"]),
            ("生产的放射性药品名称", vec!["氟[18F]脱氧葡糖注射液"]),
            ("原料量（Bq）", vec!["2220000000000"]),
            ("产品量（Bq）", vec!["1110000000000"]),
            ("销售用户名称", vec!["上海示范肿瘤医院"]),
            ("销售量（Bq）", vec!["740000000000"]),
        ],
        "unsealed_use_log" => vec![
            ("核素", vec!["Tc-99m", "I-131"]),
            ("库存总活度（Bq）", vec!["7400000000", "3700000000"]),
            ("使用总活度（Bq）", vec!["370000000000", "185000000000"]),
            ("用途", vec!["核医学显像", "甲状腺疾病治疗"]),
            ("环评预估废物产生量（kg）", vec!["100", "50"]),
            ("当年产生废物量（kg）", vec!["35.2", "12.5"]),
            (
                "产生废物内容物（如针筒、手套等）",
                vec!["针筒、手套", "棉签、手套"],
            ),
            ("库存待处置废物总重量（kg）", vec!["3.5", "1.2"]),
        ],
        "device_trade_log" => vec![
            ("装置名称", vec!["X射线安检机"]),
            ("规格型号", vec!["SX-100"]),
            ("类别", vec!["III类"]),
            ("购买单位名称", vec!["上海示范地铁运营公司"]),
            ("购买方地址", vec!["上海市黄浦区示范路8号"]),
            ("购买方辐射安全许可证号", vec!["沪环辐证[20004]"]),
            ("最终用户（公共场所安检仪必填）", vec!["示范地铁1号线"]),
        ],
        "activation_waste_log" => vec![
            ("当年固体废物产生量（kg）", vec!["120"]),
            ("库存固体废物贮存量（kg）", vec!["80"]),
            ("当年固体废物处置量（kg）", vec!["40"]),
            ("产生固体废物是否可衰变至环境水平", vec!["是"]),
            ("已处置固体废物去向", vec!["城市放射性废物库"]),
        ],
        other => panic!("no rows for ledger {other}"),
    }
}

/// 模板下载 with the browser's session, then the template filled in as a person would: the
/// same sheet and header, the rows below (numbers as numbers). Returns the file and its rows.
async fn filled_template(base: &str, session: &str, ledger: &str, dir: &Path) -> (PathBuf, usize) {
    let response = reqwest::Client::new()
        .get(format!("{base}/items/{ITEM}/ledgers/{ledger}/template"))
        .header("cookie", format!("tongban_session={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "template of {ledger}");
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment"),
        "the template is a download"
    );
    let template = response.bytes().await.unwrap();
    let table = tongban_sheets::read_table(&template).unwrap();
    assert!(table.rows.is_empty(), "a template has no rows");
    let wanted = ledger_rows(ledger);
    assert_eq!(
        table.titles,
        wanted
            .iter()
            .map(|(t, _)| t.to_string())
            .collect::<Vec<_>>(),
        "the template's columns of {ledger}"
    );
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(&table.sheet).unwrap();
    for (col, (title, values)) in wanted.iter().enumerate() {
        let col = col as u16;
        sheet.write_string(0, col, *title).unwrap();
        for (row, value) in values.iter().enumerate() {
            let row = row as u32 + 1;
            match value.parse::<f64>() {
                Ok(n) => sheet.write_number(row, col, n).unwrap(),
                Err(_) => sheet.write_string(row, col, *value).unwrap(),
            };
        }
    }
    let path = dir.join(format!("{}.xlsx", table.sheet));
    book.save(&path).unwrap();
    (path, wanted[0].1.len())
}

/// 台账导入 through the page's file chooser; the ledger then lists the rows.
async fn import(c: &Client, base: &str, session: &str, ledger: &str, dir: &Path) {
    let (file, rows) = filled_template(base, session, ledger, dir).await;
    c.find(Locator::Css(&format!("input[form=import-{ledger}]")))
        .await
        .unwrap()
        .send_keys(file.to_str().unwrap())
        .await
        .unwrap();
    go(c, &format!("button[form=import-{ledger}]")).await;
    if let Ok(alert) = c
        .find(Locator::Css(&format!("#ledger-{ledger} .alert")))
        .await
    {
        panic!("{ledger} refused: {}", alert.text().await.unwrap());
    }
    wait_text(
        c,
        &format!("#ledger-{ledger} .pager"),
        &format!("共 {rows} 行"),
    )
    .await;
    let first = ledger_rows(ledger)[0].1[0];
    let cell = c
        .find(Locator::Css(&format!(
            "#ledger-{ledger} tbody tr:first-child td:nth-child(2)"
        )))
        .await
        .unwrap();
    assert_eq!(cell.text().await.unwrap(), first, "{ledger}'s first row");
}

async fn texts(c: &Client, css: &str) -> Vec<String> {
    let mut out = vec![];
    for el in c.find_all(Locator::Css(css)).await.unwrap() {
        out.push(el.text().await.unwrap().trim().to_string());
    }
    out
}

store_test!(
    an_annual_report_is_filled_signed_and_downloaded_in_chromium,
    |db: TestStore| async move {
        let Some((_driver, driver_port)) = chromedriver().await else {
            return;
        };
        let started = Instant::now();
        let dir = tempfile::tempdir().unwrap();
        let shots = screenshot_dir(dir.path(), "radiation-annual-report");
        let state = state(&db, dir.path());
        let app = tongban_web::app(state.clone());
        let base = serve(&app).await;

        let mut city = officer_browser(&db, &app, "shi.shouli", "310000", "市局受理员").await;
        let (enterprise, _, key, pem) = primary(&state, &app, &mut city, CODE).await;
        let session = enterprise.cookies["tongban_session"].clone();
        let c = chromium(driver_port, 1280, 900).await;
        take_session(&c, &base, &session).await;
        viewport(&c, 1280, 900).await;
        let shot = |name: &'static str| {
            let (c, shots) = (&c, &shots);
            async move { screenshot_to(c, shots, name).await }
        };

        // 办事指南, then 年度报告书上报 + and the notice: held for five seconds.
        c.goto(&format!("{base}/items/{ITEM}")).await.unwrap();
        wait_text(&c, "#new-report", "年度报告书上报 +").await;
        shot("01-guide.png").await;
        go(&c, "#new-report").await;
        let button = c.find(Locator::Css("#continue")).await.unwrap();
        assert!(!button.is_enabled().await.unwrap(), "held by the countdown");
        assert!(button.text().await.unwrap().contains('秒'));
        let notice = c.find(Locator::Css(".notice-text")).await.unwrap();
        assert!(
            notice
                .text()
                .await
                .unwrap()
                .contains("瞒报漏报或提供虚假信息的法律责任")
        );
        shot("02-notice.png").await;
        let shown = Instant::now();
        let deadline = shown + Duration::from_secs(8);
        while !button.is_enabled().await.unwrap() {
            assert!(Instant::now() < deadline, "the countdown never ended");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(
            shown.elapsed() >= Duration::from_secs(4),
            "five seconds, not {:?}",
            shown.elapsed()
        );
        go(&c, "#continue").await;
        c.wait()
            .for_element(Locator::Css("#case-form"))
            .await
            .unwrap();

        // ① 基本信息: the three modules kept, prefilled from the enterprise, corrected.
        for module in ["sources", "unsealed", "devices"] {
            let m = c
                .find(Locator::Css(&format!(
                    "input[name=_module][value={module}]"
                )))
                .await
                .unwrap();
            assert!(m.is_selected().await.unwrap(), "module {module} preset");
        }
        assert_eq!(value_of(&c, "credit_code").await, CODE, "prefilled");
        assert_eq!(value_of(&c, "year").await, "2025", "the year just ended");
        c.find(Locator::Css("select[name='f.year']"))
            .await
            .unwrap()
            .select_by_value("2025")
            .await
            .unwrap();
        for (id, value) in [
            ("unit_name", "上海示范医院"),
            ("registered_address", "上海市浦东新区示范路1号"),
            ("mailing_address", "上海市浦东新区示范路1号门诊楼"),
            ("legal_rep_name", "张三"),
            ("legal_rep_phone", "13812345678"),
            ("safety_org_name", "辐射安全防护管理小组"),
            ("safety_head_name", "李四"),
            ("safety_head_phone", "021-58881234"),
            ("contact_name", "王五"),
            ("contact_post", "科长"),
            ("contact_department", "设备科"),
            ("contact_phone", "13912345678"),
            ("licence_no", "沪环辐证[12345]"),
            ("licence_issuer", "上海市生态环境局"),
        ] {
            fill(&c, id, value).await;
        }
        choose(&c, "licence_scope", "含生产或使用").await;
        date(&c, "issued_on", "2022-12-12").await;
        date(&c, "valid_until", "2027-12-12").await;
        choose(&c, "workplace_matches", "是").await;
        assert!(!displayed(&c, "#field-unaccepted_project").await);
        choose(&c, "acceptance_done", "否").await;
        assert!(displayed(&c, "#field-unaccepted_project").await, "asked");
        // No licence registry here, so the project is typed after 其他项目（手动填写）.
        c.find(Locator::Css("select[name='f.unaccepted_project']"))
            .await
            .unwrap()
            .select_by_value("其他项目（手动填写）")
            .await
            .unwrap();
        assert!(
            displayed(&c, "#field-unaccepted_project_other").await,
            "the name is asked"
        );
        fill(&c, "unaccepted_project_other", "核医学科扩建项目").await;
        save(&c).await;
        assert_eq!(value_of(&c, "unit_name").await, "上海示范医院", "kept");
        shot("03-basic.png").await;
        step_to(&c, "next", "放射源").await;

        // ② 放射源: sales and use, a high-risk unit and an exemption holder.
        choose(&c, "source_activities", "销售").await;
        choose(&c, "source_activities", "使用").await;
        choose(&c, "source_classes", "II类").await;
        choose(&c, "source_classes", "V类").await;
        fill(&c, "source_count_ii", "25").await;
        fill(&c, "source_count_v", "3").await;
        choose(&c, "source_transfer_filed", "是").await;
        choose(&c, "source_ledger_matches", "是").await;
        choose(&c, "high_risk_unit", "是").await;
        choose(&c, "high_risk_online_monitoring", "是").await;
        choose(&c, "high_risk_work_orders", "是").await;
        choose(&c, "exempt_producer", "是").await;
        choose(&c, "exempt_sources_marked", "是").await;
        assert!(displayed(&c, "#ledger-source_sales").await, "销售 shows it");
        save(&c).await;
        scroll_to(&c, ".steps").await;
        shot("04-sources.png").await;
        import(&c, &base, &session, "source_sales", dir.path()).await;
        scroll_to(&c, "#ledger-source_sales").await;
        shot("05-sources-ledger.png").await;
        step_to(&c, "next", "非密封放射性物质").await;

        // ③ 非密封放射性物质: production, sales and use; every question that shows a ledger.
        for activity in ["生产", "销售", "使用"] {
            choose(&c, "unsealed_activities", activity).await;
        }
        choose(&c, "unsealed_grades", "乙级").await;
        choose(&c, "unsealed_grades", "丙级").await;
        fill(&c, "workplaces_grade_b", "2").await;
        fill(&c, "workplaces_grade_c", "1").await;
        for (id, answer) in [
            ("unsealed_actual_use", "是"),
            ("exhaust_treatment", "是"),
            ("filters_replaced", "是"),
            ("decay_tank", "是"),
            ("decay_tank_normal", "是"),
            ("discharge_records", "是"),
            ("waste_records", "是"),
            ("waste_disposed", "是"),
            ("unsealed_trade", "是"),
            ("pharma_trade", "是"),
        ] {
            choose(&c, id, answer).await;
        }
        let unsealed_ledgers = [
            "waste_disposal_log",
            "unsealed_trade_log",
            "pharma_report",
            "unsealed_use_log",
        ];
        for ledger in unsealed_ledgers {
            assert!(
                displayed(&c, &format!("#ledger-{ledger}")).await,
                "{ledger} shown"
            );
        }
        save(&c).await;
        scroll_to(&c, "fieldset.section").await;
        shot("06-unsealed.png").await;
        for ledger in unsealed_ledgers {
            import(&c, &base, &session, ledger, dir.path()).await;
        }
        scroll_to(&c, "#ledger-waste_disposal_log").await;
        shot("07-unsealed-ledgers.png").await;
        step_to(&c, "next", "射线装置").await;

        // ④ 射线装置: sales and use, an accelerator with activation products.
        choose(&c, "device_activities", "销售").await;
        choose(&c, "device_activities", "使用").await;
        choose(&c, "device_classes", "II类").await;
        choose(&c, "device_classes", "III类").await;
        fill(&c, "device_count_ii", "12").await;
        fill(&c, "device_count_iii", "52").await;
        choose(&c, "device_ledger_matches", "是").await;
        choose(&c, "uses_accelerator", "是").await;
        choose(&c, "activation_products", "是").await;
        save(&c).await;
        for ledger in ["device_trade_log", "activation_waste_log"] {
            import(&c, &base, &session, ledger, dir.path()).await;
        }
        scroll_to(&c, "#field-device_activities").await;
        shot("08-devices.png").await;

        // 上一步 keeps both pages: the workplaces and the imported rows are still there.
        step_to(&c, "previous", "非密封放射性物质").await;
        assert_eq!(value_of(&c, "workplaces_grade_b").await, "2");
        wait_text(&c, "#ledger-unsealed_use_log .pager", "共 2 行").await;
        step_to(&c, "next", "射线装置").await;
        assert_eq!(value_of(&c, "device_count_iii").await, "52");
        step_to(&c, "next", "其他相关").await;

        // ⑤ 其他相关: staff, instruments, doses and the monitoring report.
        for (id, value) in [
            ("staff_count", "273"),
            ("dosimeter_count", "273"),
            ("self_assessed_count", "114"),
            ("exam_passed_count", "159"),
            ("survey_meters", "2"),
            ("alarm_meters", "10"),
            ("other_instruments", "1"),
            ("monitoring_cycle", "4"),
            ("monitoring_executor", "设备科"),
            ("dose_annual_max", "1.2"),
            ("dose_single_max", "300"),
            ("monitoring_report_numbers", "SFJC-2025-001、SFJC-2025-002"),
            ("monitoring_conclusion", "各工作场所辐射水平均符合标准要求"),
        ] {
            fill(&c, id, value).await;
        }
        choose(&c, "monitoring_as_required", "是").await;
        choose(&c, "dose_annual_unit", "mSv").await;
        choose(&c, "dose_single_unit", "μSv").await;
        choose(&c, "monitoring_units", "其他").await;
        fill(&c, "monitoring_units_other", "上海示范检测公司").await;
        date(&c, "monitoring_date", "2025-11-20").await;
        save(&c).await;
        scroll_to(&c, ".steps").await;
        shot("09-other.png").await;
        step_to(&c, "next", "申请材料").await;

        // 申请材料: the monitoring report, then 提交.
        let report = dir.path().join("辐射安全与防护年度监测报告.pdf");
        std::fs::write(&report, b"%PDF-1.7\n% monitoring report SFJC-2025-001\n").unwrap();
        c.find(Locator::Css("#material-monitoring_report input[type=file]"))
            .await
            .unwrap()
            .send_keys(report.to_str().unwrap())
            .await
            .unwrap();
        go(&c, "#material-monitoring_report button").await;
        wait_text(
            &c,
            "#material-monitoring_report .file a",
            "辐射安全与防护年度监测报告.pdf",
        )
        .await;
        shot("10-materials.png").await;
        go(&c, "button[value=submit]").await;
        if let Ok(alert) = c.find(Locator::Css(".alert")).await {
            panic!("submission refused: {}", alert.text().await.unwrap());
        }
        wait_text(&c, ".ok", "提交成功").await;

        // The list: 已提交, with 签章 and 报告下载; 修改 and 删除 only for drafts.
        c.goto(&format!("{base}/items/{ITEM}")).await.unwrap();
        go(&c, &format!("a[href='/cases?item={ITEM}']")).await;
        let headers = texts(&c, "#reports thead th").await;
        assert_eq!(
            headers,
            [
                "年度",
                "单位名称",
                "统一社会信用代码",
                "注册地址",
                "法定代表人姓名",
                "安全机构名称",
                "发证机关",
                "状态",
                "操作"
            ]
        );
        let row = texts(&c, "#reports tbody tr td").await;
        assert_eq!(row[7], "已提交", "{row:?}");
        assert!(
            row[8].contains("签章") && row[8].contains("报告下载"),
            "{row:?}"
        );
        assert!(
            !row[8].contains("修改") && !row[8].contains("删除"),
            "{row:?}"
        );
        shot("11-list-submitted.png").await;

        // 签章: the certificate, the digest it signs, the signature back.
        go(&c, "#reports a[href$='/signing']").await;
        wait_text(&c, "h1", "年度评估报告").await;
        c.find(Locator::Css("#certificate"))
            .await
            .unwrap()
            .send_keys(&pem)
            .await
            .unwrap();
        go(&c, "form[action$='/signing/prepare'] button").await;
        let digest = c
            .find(Locator::Css("#digest"))
            .await
            .unwrap_or_else(|_| panic!("no digest"))
            .text()
            .await
            .unwrap();
        assert_eq!(digest.len(), 64, "an SM3 digest in hex: {digest}");
        scroll_to(&c, "h2").await;
        shot("12-signing.png").await;
        let signature = base64::engine::general_purpose::STANDARD
            .encode(key.sign(&hex::decode(&digest).unwrap()));
        c.find(Locator::Css("#signature"))
            .await
            .unwrap()
            .send_keys(&signature)
            .await
            .unwrap();
        go(&c, "form[action$='/signing/finish'] button").await;
        wait_text(&c, ".ok", "签章成功").await;
        wait_text(&c, "main", "全部签章已完成").await;
        shot("13-signed.png").await;

        // Back to the list: 已盖章, the report's facts in its row, and 报告下载.
        c.goto(&format!("{base}/items/{ITEM}")).await.unwrap();
        go(&c, &format!("a[href='/cases?item={ITEM}']")).await;
        let row = texts(&c, "#reports tbody tr td").await;
        assert_eq!(
            row[..8],
            [
                "2025",
                "上海示范医院",
                CODE,
                "上海市浦东新区示范路1号",
                "张三",
                "辐射安全防护管理小组",
                "上海市生态环境局",
                "已盖章"
            ],
            "{row:?}"
        );
        assert!(
            row[8].contains("报告下载") && !row[8].contains("签章"),
            "{row:?}"
        );
        shot("14-list-sealed.png").await;
        let href = c
            .find(Locator::Css("#reports a.download"))
            .await
            .unwrap()
            .attr("href")
            .await
            .unwrap()
            .unwrap();
        let download = reqwest::Client::new()
            .get(format!("{base}{href}"))
            .header("cookie", format!("tongban_session={session}"))
            .send()
            .await
            .unwrap();
        assert_eq!(download.status(), 200);
        assert_eq!(download.headers()["content-type"], "application/pdf");
        let disposition = download.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            disposition.starts_with("attachment")
                && disposition.contains(&urlencode(
                    "2025年放射性同位素与射线装置的安全和防护状况年度评估报告-上海示范医院.pdf"
                )),
            "{disposition}"
        );
        let pdf = download.bytes().await.unwrap().to_vec();

        // The downloaded report is signed by the enterprise and holds every page's answers.
        let check = tongban_documents::signature::verify(&pdf).unwrap();
        assert!(check.intact(), "{check:?}");
        let signers: Vec<(&str, &str)> = check
            .signatures
            .iter()
            .map(|s| (s.role.as_str(), s.name.as_str()))
            .collect();
        assert_eq!(signers, [("applicant", format!("企业{CODE}").as_str())]);
        let text = tongban_documents::testing::text_of(&pdf);
        let flat: String = text.split_whitespace().collect();
        for needle in [
            // 基本信息
            "上海示范医院",
            CODE,
            "沪环辐证[12345]",
            "核医学科扩建项目",
            // 放射源, with its sales ledger
            "25枚",
            "0524CS012345",
            "Ir-192",
            // 非密封放射性物质, with its four ledgers
            "2个",
            "城市放废库",
            "F-18",
            "氧-18水",
            "核医学显像",
            // 射线装置, with its two ledgers
            "52台",
            "SX-100",
            "X射线安检机",
            // 其他相关
            "273人",
            "上海示范检测公司",
            "SFJC-2025-001",
            "各工作场所辐射水平均符合标准要求",
        ] {
            assert!(flat.contains(needle), "the report lacks {needle}:\n{text}");
        }

        // A second report from the list's 年度报告书上报 +, left as a draft: 修改 and 删除.
        c.goto(&format!("{base}/cases?item={ITEM}")).await.unwrap();
        go(&c, "#new-report").await;
        let button = c.find(Locator::Css("#continue")).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(8);
        while !button.is_enabled().await.unwrap() {
            assert!(Instant::now() < deadline, "the countdown never ended");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        go(&c, "#continue").await;
        fill(&c, "unit_name", "上海示范医院（草稿）").await;
        save(&c).await;
        c.goto(&format!("{base}/cases?item={ITEM}")).await.unwrap();
        let rows = c.find_all(Locator::Css("#reports tbody tr")).await.unwrap();
        assert_eq!(rows.len(), 2, "the draft and the sealed report");
        let draft = texts(&c, "#reports tbody tr:first-child td").await;
        assert_eq!(draft[1], "上海示范医院（草稿）", "newest first: {draft:?}");
        assert!(draft[7].starts_with("暂存"), "{draft:?}");
        assert!(
            draft[8].contains("修改")
                && draft[8].contains("删除")
                && !draft[8].contains("报告下载"),
            "{draft:?}"
        );
        shot("15-list-draft.png").await;
        let edit = c
            .find(Locator::Css("#reports tbody tr:first-child a"))
            .await
            .unwrap()
            .attr("href")
            .await
            .unwrap()
            .unwrap();
        assert!(edit.ends_with("/edit"), "修改 opens the form: {edit}");
        go(&c, "#reports tbody tr:first-child button").await;
        wait_text(&c, ".ok", "已删除").await;
        assert!(
            c.current_url()
                .await
                .unwrap()
                .as_str()
                .contains(&format!("item={ITEM}"))
        );
        assert_eq!(
            c.find_all(Locator::Css("#reports tbody tr"))
                .await
                .unwrap()
                .len(),
            1,
            "back on the list, without the draft"
        );

        // The generic 我的办件 still lists it.
        c.goto(&format!("{base}/cases")).await.unwrap();
        wait_text(
            &c,
            "main table",
            "放射性同位素与射线装置的安全和防护状况年度评估报告填报",
        )
        .await;
        c.close().await.unwrap();
        eprintln!("the annual report in Chromium took {:?}", started.elapsed());
    }
);
