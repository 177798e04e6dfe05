//! The whole cycle of a licence in headless Chromium, on both engines (issue 7, acceptance 1):
//! an enterprise fills and submits 一般固体废物跨省级行政区域贮存、处置审批 with its materials; the
//! 浦东 intake officer asks for a correction of one field and one material; the enterprise sees
//! them marked, changes the field, uploads the material again and resubmits; the officer
//! accepts, two reviews pass it on, the city approver drafts and seals the reply and issues the
//! licence; the enterprise finds it under 企业证照 and downloads it; the approver revokes it and
//! the page behind the licence's QR code (scanned from the PDF) says 已失效.
//!
//! Screenshots of the steps go to the test's temporary directory; with
//! `TONGBAN_DOC_SCREENSHOTS=1` to `docs/img/solid-waste-cross-storage/`, which the user page
//! (`docs/solid-waste-cross-storage.md`) shows.
use std::time::Duration;

use fantoccini::{Client, Locator};
use tongban_domain::OfficerRole;
use tongban_store::store_test;
use tongban_store::testing::TestStore;

mod common;
use common::*;
#[path = "common/browser.rs"]
mod browser;
use browser::*;

const CODE: &str = "91310115MA1FL8XQ34";
const ITEM: &str = "solid-waste-cross-storage";

/// Fills what of `data` the current page has: text typed, choices ticked, selects and dates
/// set as their pickers would; fields hidden by their conditions and prefilled ones are left.
async fn fill_page(c: &Client, data: &tongban_engine::FormData) {
    for (id, value) in &data.values {
        let tongban_engine::Value::One(value) = value else {
            continue;
        };
        let Ok(el) = c.find(Locator::Css(&format!("[name='f.{id}']"))).await else {
            continue;
        };
        let kind = el.attr("type").await.unwrap().unwrap_or_default();
        let tag = el.tag_name().await.unwrap();
        if kind == "radio" || kind == "checkbox" {
            let option = format!("input[name='f.{id}'][value='{value}']");
            if displayed(c, &option).await {
                choose(c, id, value).await;
            }
        } else if !el.is_displayed().await.unwrap() {
            continue;
        } else if tag == "select" || kind == "date" {
            c.execute(
                "const el = document.querySelector(arguments[0]); el.value = arguments[1]; \
                 el.dispatchEvent(new Event('change', { bubbles: true }));",
                vec![format!("[name='f.{id}']").into(), value.as_str().into()],
            )
            .await
            .unwrap();
        } else if el
            .prop("value")
            .await
            .unwrap()
            .unwrap_or_default()
            .is_empty()
        {
            fill(c, id, value).await;
        }
    }
}

/// Uploads `path` as material `id` from the materials table and waits for the page to return.
async fn upload(c: &Client, id: &str, path: &std::path::Path) {
    let input = c
        .find(Locator::Css(&format!("#material-{id} input[type=file]")))
        .await
        .unwrap_or_else(|e| panic!("no upload for {id}: {e}"));
    input.send_keys(path.to_str().unwrap()).await.unwrap();
    go(c, &format!("#material-{id} form.upload button")).await;
}

store_test!(
    a_licence_goes_through_correction_approval_issue_and_revocation_in_chromium,
    |db: TestStore| async move {
        let Some((_driver, driver_port)) = chromedriver().await else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let state = state(&db, dir.path());
        let app = tongban_web::app(state.clone());
        let base = serve(&app).await;
        let mut city = officer_browser(&db, &app, "shi.shouli", "310000", "市局受理员").await;
        let (mut firm, _, _, _) = primary(&state, &app, &mut city, CODE).await;
        let intake = officer_browser(&db, &app, "pd.intake", "310115", "浦东受理员").await;
        let reviewer = officer_browser_with(
            &db,
            &app,
            "pd.review",
            "310115",
            "浦东审核员",
            &[OfficerRole::Review],
        )
        .await;
        let approver = officer_browser_with(
            &db,
            &app,
            "shi.approve",
            "310000",
            "市局审批员",
            &[OfficerRole::Approval],
        )
        .await;
        let session = |b: &Browser| b.cookies["tongban_session"].clone();
        let c = chromium(driver_port, 1280, 900).await;
        let as_firm = session(&firm);
        take_session(&c, &base, &as_firm).await;
        viewport(&c, 1280, 900).await;
        let shots = screenshot_dir(dir.path(), "solid-waste-cross-storage");
        let shot = |name: &'static str| {
            let (c, shots) = (&c, &shots);
            async move { screenshot_to(c, shots, name).await }
        };
        let pdf_file = |name: &str, tag: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, format!("%PDF-1.7\n% {tag}\n")).unwrap();
            path
        };

        // ── The enterprise applies: guide, notice with its countdown, four pages, materials.
        c.goto(&format!("{base}/items/{ITEM}")).await.unwrap();
        go(&c, &format!("a[href='/items/{ITEM}/apply']")).await;
        for tick in c
            .find_all(Locator::Css("input[name=commitment]"))
            .await
            .unwrap()
        {
            tick.click().await.unwrap();
        }
        shot("01-notice.png").await;
        let button = c.find(Locator::Css("#continue")).await.unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !button.is_enabled().await.unwrap() {
            assert!(
                std::time::Instant::now() < deadline,
                "the countdown never ended"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        go(&c, "#continue").await;
        let example = tongban_items::solid_waste::example_application();
        for next in ["固体废物信息", "接收单位", "运输信息", "申请材料"] {
            fill_page(&c, &example).await;
            if next == "接收单位" {
                shot("02-waste.png").await;
            }
            step_to(&c, "next", next).await;
        }
        upload(&c, "application_form", &pdf_file("申报表.pdf", "form")).await;
        upload(
            &c,
            "transport_contract",
            &pdf_file("运输合同.pdf", "unstamped"),
        )
        .await;
        upload(
            &c,
            "receiver_contract",
            &pdf_file("处置合同.pdf", "receiver"),
        )
        .await;
        shot("03-materials.png").await;
        go(&c, "button[value=submit]").await;
        wait_text(&c, ".ok", "提交成功").await;
        shot("04-submitted.png").await;
        let url = c.current_url().await.unwrap();
        let id = url.path().trim_start_matches("/cases/").to_string();

        // ── The intake officer marks one field and one material for 补正.
        take_session(&c, &base, &session(&intake)).await;
        c.goto(&format!("{base}/workbench/cases?queue=acceptance"))
            .await
            .unwrap();
        wait_text(&c, "#case-queue", CODE).await;
        shot("05-queue.png").await;
        go(&c, &format!("#case-queue a[href='/workbench/cases/{id}']")).await;
        wait_text(&c, "#case-stage", "待受理").await;
        go(&c, "#do-correction").await;
        click(&c, "input[value='field:quantity']").await;
        c.find(Locator::Css("input[name='note:field:quantity']"))
            .await
            .unwrap()
            .send_keys("数量与合同约定不一致，请核实")
            .await
            .unwrap();
        click(&c, "input[value='material:transport_contract']").await;
        c.find(Locator::Css(
            "input[name='note:material:transport_contract']",
        ))
        .await
        .unwrap()
        .send_keys("合同未加盖运输单位公章")
        .await
        .unwrap();
        shot("06-marking.png").await;
        go(&c, "#send-correction").await;
        wait_text(&c, "#flash", "已发出补正告知书").await;
        wait_text(&c, "#case-state", "补正中").await;

        // ── The enterprise corrects only what was marked and resubmits.
        take_session(&c, &base, &as_firm).await;
        c.goto(&format!("{base}/cases/{id}")).await.unwrap();
        wait_text(&c, "main", "合同未加盖运输单位公章").await;
        shot("07-case-correcting.png").await;
        go(&c, &format!("a[href='/cases/{id}/correction']")).await;
        shot("08-correction.png").await;
        assert!(
            c.find(Locator::Css("[name='f.waste_name']")).await.is_err(),
            "an unmarked field is not editable"
        );
        assert!(
            text_of(&c, "#field-quantity")
                .await
                .contains("数量与合同约定不一致")
        );
        fill(&c, "quantity", "9000").await;
        go(&c, "button[form=correction-form]").await;
        wait_text(&c, ".alert", "请按补正意见重新上传").await;
        upload(
            &c,
            "transport_contract",
            &pdf_file("运输合同（盖章）.pdf", "stamped"),
        )
        .await;
        fill(&c, "quantity", "9000").await;
        go(&c, "button[form=correction-form]").await;
        wait_text(&c, "main", "补正已提交").await;
        shot("09-resubmitted.png").await;

        // ── 受理, 承办, 审核, then the city approver's reply and the licence.
        take_session(&c, &base, &session(&intake)).await;
        c.goto(&format!("{base}/workbench/cases/{id}"))
            .await
            .unwrap();
        wait_text(&c, "main", "9000").await;
        go(&c, "#do-accept").await;
        wait_text(&c, "#flash", "已受理").await;
        take_session(&c, &base, &session(&reviewer)).await;
        for (stage, opinion) in [("承办", "材料齐全，拟同意"), ("审核", "同意承办意见")]
        {
            c.goto(&format!("{base}/workbench/cases/{id}"))
                .await
                .unwrap();
            wait_text(&c, "#case-stage", stage).await;
            c.find(Locator::Css("#pass-opinion"))
                .await
                .unwrap()
                .send_keys(opinion)
                .await
                .unwrap();
            if stage == "承办" {
                shot("10-review.png").await;
            }
            go(&c, "#do-pass").await;
            wait_text(&c, "#flash", "审查意见已提交").await;
        }
        take_session(&c, &base, &session(&approver)).await;
        c.goto(&format!("{base}/workbench/cases?queue=approval"))
            .await
            .unwrap();
        go(&c, &format!("#case-queue a[href='/workbench/cases/{id}']")).await;
        go(&c, "#do-decision").await;
        let items = c
            .find(Locator::Css("#letter-items"))
            .await
            .unwrap()
            .prop("value")
            .await
            .unwrap()
            .unwrap_or_default();
        assert!(
            items.contains("拟转移数量：9000"),
            "drafted from the case: {items}"
        );
        let title = c.find(Locator::Css("#letter-title")).await.unwrap();
        title.clear().await.unwrap();
        title
            .send_keys("关于同意转移燃煤电厂粉煤灰至江苏省处置的复函")
            .await
            .unwrap();
        shot("11-decision.png").await;
        go(&c, "#seal-decision").await;
        wait_text(&c, "#flash", "复函已签发").await;
        wait_text(&c, "#case-state", "准予许可").await;
        go(&c, "#do-licence").await;
        wait_text(&c, "#flash", "电子证照已发放").await;
        wait_text(&c, "#case-state", "办结").await;
        shot("12-licensed.png").await;
        assert!(
            text_of(&c, "#documents")
                .await
                .contains("关于同意转移燃煤电厂粉煤灰至江苏省处置的复函")
        );

        // ── The enterprise finds the licence under 企业证照 and downloads it.
        take_session(&c, &base, &as_firm).await;
        c.goto(&format!("{base}/enterprise")).await.unwrap();
        wait_text(&c, "main", "电子证照已发放").await;
        go(&c, "a[href='/enterprise/licences']").await;
        wait_text(&c, "main", "有效").await;
        shot("13-licences.png").await;
        let href = c
            .find(Locator::Css("main a[href*='/documents/']"))
            .await
            .unwrap()
            .attr("href")
            .await
            .unwrap()
            .unwrap();
        let download = firm.get(&href).await;
        assert_eq!(download.headers["content-type"], "application/pdf");
        let pdf = download.bytes.clone();
        let check = tongban_documents::signature::verify(&pdf).unwrap();
        assert!(check.signatures.iter().all(|s| s.valid) && !check.signatures.is_empty());
        let licence_text = tongban_documents::testing::text_of(&pdf);
        assert!(licence_text.contains("沪环固跨"), "{licence_text}");
        let scanned = tongban_documents::testing::qr_of(&pdf).expect("the licence has a QR code");
        let payload = scanned.rsplit("/verify/").next().unwrap().to_string();
        c.goto(&format!("{base}/verify/{payload}")).await.unwrap();
        wait_text(&c, "#status", "有效").await;
        shot("14-qr-valid.png").await;

        // ── The approver revokes it: the QR page says 已失效 at once.
        take_session(&c, &base, &session(&approver)).await;
        c.goto(&format!("{base}/workbench/cases/{id}"))
            .await
            .unwrap();
        // On a finished case the only folded action is 撤销电子证照.
        click(&c, "#actions details summary").await;
        let revoke = c.find(Locator::Css("#revoke-reason")).await.unwrap();
        revoke.send_keys("企业申请注销").await.unwrap();
        go(&c, "#do-revoke").await;
        wait_text(&c, "#flash", "电子证照已撤销").await;
        c.goto(&format!("{base}/verify/{payload}")).await.unwrap();
        wait_text(&c, "#status", "已失效").await;
        wait_text(&c, "main", "企业申请注销").await;
        shot("15-qr-revoked.png").await;
        c.close().await.unwrap();
    }
);
