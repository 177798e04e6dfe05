//! A ledger on the form over HTTP, on both engines: 模板下载, 台账导入 (all or nothing, cells
//! named), paging, typed rows, deletion and 导出.
use axum::http::{StatusCode, header};
use rust_xlsxwriter::Workbook;
use tongban_store::store_test;
use tongban_store::testing::TestStore;

mod common;
use common::*;

const CODE: &str = "91310115MA1FL8XQ34";

/// The 贮存台账 as a person fills the template.
fn filled(rows: usize, bad_row: Option<usize>) -> Vec<u8> {
    let mut book = Workbook::new();
    let s = book.add_worksheet();
    s.set_name("贮存台账").unwrap();
    for (c, t) in ["日期", "废物名称", "数量（吨）", "去向"]
        .iter()
        .enumerate()
    {
        s.write_string(0, c as u16, *t).unwrap();
    }
    for i in 1..=rows {
        let r = i as u32;
        s.write_string(r, 0, "2026-03-01").unwrap();
        s.write_string(r, 1, format!("废活性炭{i}")).unwrap();
        s.write_number(r, 2, if bad_row == Some(i) { -1.0 } else { 1.5 })
            .unwrap();
        s.write_string(r, 3, "委托处置").unwrap();
    }
    book.save_to_buffer().unwrap()
}

store_test!(
    a_ledger_is_imported_paged_edited_and_exported_from_the_form,
    |db: TestStore| async move {
        let dir = tempfile::tempdir().unwrap();
        let state = state_with_test_item(&db, dir.path());
        let app = tongban_web::app(state.clone());
        let mut city = officer_browser(&db, &app, "shi.shouli", "310000", "市局受理员").await;
        let (mut b, _, _) = enterprise(&state, &app, &mut city, CODE).await;

        // 模板下载 is public and gives the columns.
        let template = Browser::new(&app)
            .get("/items/test-filing/ledgers/storage_log/template")
            .await;
        assert_eq!(template.status, StatusCode::OK);
        assert!(
            template.headers[header::CONTENT_DISPOSITION]
                .to_str()
                .unwrap()
                .contains("UTF-8''")
        );
        let ledger = state
            .items
            .get("test-filing")
            .unwrap()
            .ledger("storage_log")
            .unwrap();
        assert!(
            tongban_sheets::import(ledger, &template.bytes)
                .unwrap()
                .is_empty()
        );

        let started = through_the_notice(&mut b).await;
        let id = case_id_of(&started);
        let import = format!("/cases/{id}/ledgers/storage_log/import");

        // One bad cell among 1 000 rows: nothing imported, the cell named.
        let bad = post_multipart(
            &mut b,
            &import,
            &[],
            ("file", "贮存台账.xlsx", &filled(1000, Some(640))),
        )
        .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            bad.body
                .contains("工作表「贮存台账」第641行C列「数量（吨）」：不能小于0"),
            "{}",
            bad.body
        );
        assert!(bad.body.contains("共 0 行"));
        let not_xlsx = post_multipart(&mut b, &import, &[], ("file", "x.xlsx", b"%PDF-1.7")).await;
        assert!(not_xlsx.body.contains("文件不是有效的Excel（xlsx）文件"));

        let ok = post_multipart(
            &mut b,
            &import,
            &[],
            ("file", "贮存台账.xlsx", &filled(1000, None)),
        )
        .await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
        let page = b
            .get(&format!("/cases/{id}/edit?step=basic&page.storage_log=50"))
            .await;
        assert!(
            page.body.contains("共 1000 行 · 第 50 / 50 页") && page.body.contains("废活性炭1000")
        );
        assert!(!page.body.contains("废活性炭980<"));

        // A typed row is checked; a good one lands at the end; a row can be deleted.
        let wrong = b
            .post_form(
                &format!("/cases/{id}/ledgers/storage_log/rows"),
                "c=2026-13-01&c=&c=1&c=%E5%A7%94%E6%89%98%E5%A4%84%E7%BD%AE",
            )
            .await;
        assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            wrong.body.contains("贮存台账·日期：应为日期")
                && wrong.body.contains("贮存台账·废物名称：请填写")
        );
        let added = b
            .post_form(
                &format!("/cases/{id}/ledgers/storage_log/rows"),
                "c=2026-04-01&c=%E5%BA%9F%E6%B2%B9&c=0.5&c=%E8%87%AA%E8%A1%8C%E5%88%A9%E7%94%A8",
            )
            .await;
        assert_eq!(added.status, StatusCode::SEE_OTHER);
        let gone = b
            .post_form(
                &format!("/cases/{id}/ledgers/storage_log/rows/1/delete"),
                "",
            )
            .await;
        assert_eq!(gone.status, StatusCode::SEE_OTHER);
        let page = b
            .get(&format!("/cases/{id}/edit?step=basic&page.storage_log=50"))
            .await;
        assert!(
            page.body.contains("共 1000 行") && page.body.contains("废油"),
            "{}",
            page.body
        );

        // 导出 gives the rows back as a workbook that imports.
        let export = b
            .get(&format!("/cases/{id}/ledgers/storage_log/export"))
            .await;
        assert_eq!(export.status, StatusCode::OK);
        let rows = tongban_sheets::import(ledger, &export.bytes).unwrap();
        assert_eq!(rows.len(), 1000);
        assert_eq!(rows[0][1], "废活性炭2");
        assert_eq!(rows[999], ["2026-04-01", "废油", "0.5", "自行利用"]);
    }
);
