//! The test item in headless Chromium (Debian's `chromium` and `chromedriver`, installed by
//! `.ci/run`): the notice's countdown holds the continue button, a `show_if` question appears and
//! disappears as the answer changes, a missing answer is named, 暂存 keeps the draft, and the
//! application is submitted. The page's screenshot is left in `target/screenshots/`.
use std::time::{Duration, Instant};

use fantoccini::Locator;
use tongban_store::store_test;
use tongban_store::testing::TestStore;

mod common;
use common::*;
#[path = "common/browser.rs"]
mod browser;
use browser::*;

const CODE: &str = "91310115MA1FL8XQ34";

async fn screenshot(c: &fantoccini::Client, name: &str) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    screenshot_to(c, &dir, name).await;
}

store_test!(the_form_runs_in_chromium, |db: TestStore| async move {
    let Some((_driver, driver_port)) = chromedriver().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let state = state_with_test_item(&db, dir.path());
    let app = tongban_web::app(state.clone());
    let base = serve(&app).await;

    // Logging in by certificate is tested elsewhere; the browser takes over the session.
    let mut city = officer_browser(&db, &app, "shi.shouli", "310000", "市局受理员").await;
    let (enterprise_browser, _, _) = enterprise(&state, &app, &mut city, CODE).await;
    let session = enterprise_browser.cookies["tongban_session"].clone();

    let c = chromium(driver_port, 1280, 1600).await;
    take_session(&c, &base, &session).await;

    // The notice: continue is held for the countdown, then works.
    c.goto(&format!("{base}/items/test-filing/apply"))
        .await
        .unwrap();
    let button = c.find(Locator::Css("#continue")).await.unwrap();
    assert!(
        !button.is_enabled().await.unwrap(),
        "held during the countdown"
    );
    assert!(button.text().await.unwrap().contains('秒'));
    click(&c, "input[name=commitment]").await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while !button.is_enabled().await.unwrap() {
        assert!(Instant::now() < deadline, "the countdown never ended");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    button.click().await.unwrap();
    c.wait()
        .for_element(Locator::Css("#case-form"))
        .await
        .unwrap();
    assert!(c.current_url().await.unwrap().path().ends_with("/edit"));

    // show_if, live: 贮存能力 appears with 是 and goes with 否.
    assert!(!displayed(&c, "#field-storage_capacity").await);
    let yes = "input[name='f.has_storage'][value='是']";
    let no = "input[name='f.has_storage'][value='否']";
    click(&c, yes).await;
    assert!(displayed(&c, "#field-storage_capacity").await);
    click(&c, no).await;
    assert!(!displayed(&c, "#field-storage_capacity").await);
    click(&c, yes).await;

    // 下一步 with the capacity missing: named, and the page stays.
    c.find(Locator::Css("select[name='f.year']"))
        .await
        .unwrap()
        .select_by_value("2026")
        .await
        .unwrap();
    click(&c, "button[value=next]").await;
    let alert = c.wait().for_element(Locator::Css(".alert")).await.unwrap();
    assert!(alert.text().await.unwrap().contains("贮存能力：请填写"));
    screenshot(&c, "case-form-error.png").await;

    // 暂存 keeps the answer.
    let capacity = c
        .find(Locator::Css("input[name='f.storage_capacity']"))
        .await
        .unwrap();
    capacity.send_keys("12.5").await.unwrap();
    click(&c, "button[value=save]").await;
    let ok = c.wait().for_element(Locator::Css(".ok")).await.unwrap();
    assert!(ok.text().await.unwrap().contains("已暂存"));
    let kept = c
        .find(Locator::Css("input[name='f.storage_capacity']"))
        .await
        .unwrap();
    assert_eq!(kept.prop("value").await.unwrap().as_deref(), Some("12.5"));

    // 台账导入 from the page: the file chooser, then the rows in the table.
    let sheet = dir.path().join("贮存台账.xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    for (c, t) in ["日期", "废物名称", "数量（吨）", "去向"]
        .iter()
        .enumerate()
    {
        ws.write_string(0, c as u16, *t).unwrap();
    }
    for r in 1..=3u32 {
        ws.write_string(r, 0, "2026-03-01").unwrap();
        ws.write_string(r, 1, format!("废活性炭{r}")).unwrap();
        ws.write_number(r, 2, 1.5).unwrap();
        ws.write_string(r, 3, "委托处置").unwrap();
    }
    book.save(&sheet).unwrap();
    c.find(Locator::Css("input[form=import-storage_log]"))
        .await
        .unwrap()
        .send_keys(sheet.to_str().unwrap())
        .await
        .unwrap();
    click(&c, "button[form=import-storage_log]").await;
    wait_text(&c, "#ledger-storage_log .pager", "共 3 行").await;
    let cells = c
        .find(Locator::Css("#ledger-storage_log tbody tr td:nth-child(3)"))
        .await
        .unwrap();
    assert_eq!(cells.text().await.unwrap(), "废活性炭1");
    screenshot(&c, "case-ledger.png").await;

    // On to 其他相关, then 申请材料: the file chooser, the upload, and submission.
    for next in ["其他相关", "申请材料"] {
        click(&c, "button[value=next]").await;
        wait_text(&c, ".steps .current", next).await;
    }
    c.wait()
        .for_element(Locator::Css("#material-report input[type=file]"))
        .await
        .unwrap();
    let report = dir.path().join("检测报告.pdf");
    std::fs::write(&report, b"%PDF-1.7\n% a test report\n").unwrap();
    c.find(Locator::Css("#material-report input[type=file]"))
        .await
        .unwrap()
        .send_keys(report.to_str().unwrap())
        .await
        .unwrap();
    click(&c, "#material-report button").await;
    let listed = c
        .wait()
        .for_element(Locator::Css("#material-report .file a"))
        .await
        .unwrap();
    assert_eq!(listed.text().await.unwrap(), "检测报告.pdf");
    screenshot(&c, "case-materials.png").await;
    click(&c, "button[value=submit]").await;
    let done = c.wait().for_element(Locator::Css(".ok")).await.unwrap();
    assert!(done.text().await.unwrap().contains("提交成功"), "submitted");
    screenshot(&c, "case-submitted.png").await;
    c.close().await.unwrap();
});
