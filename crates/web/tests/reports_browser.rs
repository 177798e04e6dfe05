//! 年度报告管理 in headless Chromium, on both engines: a city officer opens the workbench's
//! report list, queries by unit name, uploads an inspection table for 年度报告批量确认, reads the
//! preview (matched and unmatched rows), confirms, confirms one more report by hand, and reads
//! the year's statistics.
//!
//! Screenshots go to the test's temporary directory; with `TONGBAN_DOC_SCREENSHOTS=1` they are
//! written to `docs/img/radiation-annual-report/` for the user page.

use fantoccini::{Client, Locator};
use tongban_store::store_test;
use tongban_store::testing::TestStore;

mod common;
use common::*;
#[path = "common/browser.rs"]
mod browser;
use browser::*;

async fn type_into(c: &Client, css: &str, text: &str) {
    let el = c.find(Locator::Css(css)).await.unwrap();
    el.clear().await.unwrap();
    el.send_keys(text).await.unwrap();
}

store_test!(
    an_officer_queries_and_confirms_the_years_reports_in_chromium,
    |db: TestStore| async move {
        let Some((_driver, driver_port)) = chromedriver().await else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let shots = screenshot_dir(dir.path(), "radiation-annual-report");
        let state = state(&db, dir.path());
        let app = tongban_web::app(state.clone());
        let base = serve(&app).await;
        let a = filed_report(&state, 1, "310115").await;
        let b = filed_report(&state, 2, "310104").await;
        let c3 = filed_report(&state, 3, "310112").await;

        let officer = officer_browser(&db, &app, "shi.shencha", "310000", "市局审核员").await;
        let session = officer.cookies["tongban_session"].clone();
        let c = chromium(driver_port, 1280, 900).await;
        take_session(&c, &base, &session).await;
        viewport(&c, 1280, 900).await;

        // From the workbench menu to the list of the year's reports.
        c.goto(&format!("{base}/workbench")).await.unwrap();
        click(&c, "a[href='/workbench/reports']").await;
        wait_text(&c, "#report-total", "共 3 份").await;
        type_into(&c, "#q-year", "2025").await;
        click(&c, "#report-query button[type=submit]").await;
        wait_text(&c, "#report-total", "共 3 份").await;
        let list = c
            .find(Locator::Css("#report-list"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        for text in [&a.1, &b.1, &c3.1, &a.3] {
            assert!(list.contains(text.as_str()), "{text} in {list}");
        }
        screenshot_to(&c, &shots, "21-workbench-reports.png").await;

        // A keyword narrows it to one unit.
        type_into(&c, "#q-keyword", "应用002").await;
        click(&c, "#report-query button[type=submit]").await;
        wait_text(&c, "#report-total", "共 1 份").await;
        wait_text(&c, "#report-list", &b.1).await;

        // 年度报告批量确认: the table names two units that filed and one that did not.
        c.goto(&format!(
            "{base}/workbench/reports/{REPORT_ITEM}/confirmations?year=2025"
        ))
        .await
        .unwrap();
        let unknown = tongban_domain::CreditCode::complete("91310115MA9999999").unwrap();
        let table = dir.path().join("检查表.xlsx");
        std::fs::write(
            &table,
            inspection_table(&[
                ("JC2026-001", &a.2, ""),
                ("JC2026-002", "", &c3.3),
                ("JC2026-003", unknown.as_str(), ""),
            ]),
        )
        .unwrap();
        c.find(Locator::Css("#file"))
            .await
            .unwrap()
            .send_keys(table.to_str().unwrap())
            .await
            .unwrap();
        click(&c, "form[enctype] button[type=submit]").await;
        wait_text(
            &c,
            "#confirm-summary",
            "匹配 2 行，已确认过 0 行，未匹配 1 行",
        )
        .await;
        let unmatched = wait_text(&c, "#confirm-unmatched", "JC2026-003").await;
        assert!(unmatched.contains("未找到该单位2025年度"), "{unmatched}");
        screenshot_to(&c, &shots, "22-confirm-preview.png").await;
        click(
            &c,
            "form[action$='/confirmations/apply'] button[type=submit]",
        )
        .await;
        wait_text(&c, "#confirm-done", "已确认 2 份年度报告，1 行未匹配").await;
        screenshot_to(&c, &shots, "23-confirm-done.png").await;

        // One report by hand, with a typed inspection number.
        c.goto(&format!("{base}/workbench/reports/{REPORT_ITEM}/{}", b.0))
            .await
            .unwrap();
        type_into(&c, "#inspection_number", "JC2026-101").await;
        click(&c, "form[action$='/confirm'] button[type=submit]").await;
        wait_text(&c, "#report-status", "已确认").await;
        wait_text(&c, "#report-inspection", "JC2026-101").await;
        screenshot_to(&c, &shots, "24-report-confirmed.png").await;

        // The year's statistics: every report confirmed, by district.
        c.goto(&format!(
            "{base}/workbench/reports/{REPORT_ITEM}/statistics?year=2025"
        ))
        .await
        .unwrap();
        let stats = wait_text(&c, "#stats-districts", "浦东新区").await;
        assert!(
            stats.contains("徐汇区") && stats.contains("闵行区"),
            "{stats}"
        );
        screenshot_to(&c, &shots, "25-statistics.png").await;
        c.close().await.unwrap();
    }
);
