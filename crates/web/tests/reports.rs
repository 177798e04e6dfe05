//! 年度报告管理 on the workbench, on both engines: the query with its filters and paging links,
//! the xlsx export, the zip as a batch, one report's PDF and confirmation, 年度报告批量确认 with
//! its preview, statistics, and a district officer kept to their district.
use axum::http::StatusCode;
use tongban_store::store_test;
use tongban_store::testing::TestStore;
use tongban_web::app;

mod common;
use common::*;

const ITEM: &str = REPORT_ITEM;

fn base() -> String {
    format!("/workbench/reports/{ITEM}")
}

store_test!(
    officers_query_export_confirm_and_count_the_years_reports,
    |db: TestStore| async move {
        let dir = tempfile::tempdir().unwrap();
        let state = state(&db, dir.path());
        let app = app(state.clone());
        let a = filed_report(&state, 1, "310115").await;
        let b = filed_report(&state, 2, "310115").await;
        let c = filed_report(&state, 3, "310112").await;
        let mut city = officer_browser(&db, &app, "shi.shencha", "310000", "市局审核员").await;

        // The menu leads to the item's list; all three, newest first.
        let home = city.get("/workbench").await;
        assert!(home.body.contains("年度报告管理"));
        let entry = city.get("/workbench/reports").await;
        assert_eq!(entry.status, StatusCode::SEE_OTHER);
        let list = city.get(&base()).await;
        assert_eq!(list.status, StatusCode::OK);
        assert!(list.body.contains("共 3 份"), "{}", list.body);
        let (ia, ib, ic) = (
            list.body.find(&a.1).unwrap(),
            list.body.find(&b.1).unwrap(),
            list.body.find(&c.1).unwrap(),
        );
        assert!(ic < ib && ib < ia, "newest first");
        for text in [
            &a.2,
            &a.3,
            "浦东新区",
            "闵行区",
            "已提交",
            "辐射安全防护管理小组",
        ] {
            assert!(list.body.contains(text), "{text}");
        }

        // Filters: unit keyword, licence number, district; a bad year is said so.
        let by_name = city
            .get(&format!("{}?keyword={}", base(), urlencode("应用002")))
            .await;
        assert!(by_name.body.contains("共 1 份") && by_name.body.contains(&b.1));
        let by_licence = city
            .get(&format!("{}?licence={}", base(), urlencode(&c.3)))
            .await;
        assert!(by_licence.body.contains("共 1 份") && by_licence.body.contains(&c.1));
        let by_district = city.get(&format!("{}?district=310112", base())).await;
        assert!(by_district.body.contains("共 1 份"));
        let bad = city.get(&format!("{}?year=25", base())).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.body.contains("「年度」应为四位年份"));

        // The export holds the query's rows.
        let xlsx = city
            .get(&format!("{}/export?district=310115&year=2025", base()))
            .await;
        assert_eq!(xlsx.status, StatusCode::OK);
        let sheet = tongban_sheets::read_table(&xlsx.bytes).unwrap();
        assert_eq!(sheet.rows.len(), 2);
        let unit = sheet.column(&["单位名称"]).unwrap();
        assert_eq!(sheet.rows[1].1[unit], a.1);

        // One report: its PDF prints what was filed.
        let pdf = city.get(&format!("{}/{}/pdf", base(), a.0)).await;
        assert_eq!(pdf.status, StatusCode::OK);
        assert_eq!(&pdf.bytes[..5], b"%PDF-");
        let text = tongban_documents::testing::text_of(&pdf.bytes);
        // Table cells wrap long values, so shorter ones are looked for.
        assert!(
            text.contains("20001") && text.contains("辐射安全防护管理小组"),
            "{text}"
        );

        // A 闵行 officer: 闵行's report only; 浦东's does not exist for them.
        let mut minhang = officer_browser(&db, &app, "mh.shencha", "310112", "闵行审核员").await;
        let theirs = minhang.get(&format!("{}?district=310115", base())).await;
        assert!(theirs.body.contains("共 1 份") && theirs.body.contains(&c.1));
        assert!(!theirs.body.contains(&a.1));
        for path in [
            format!("{}/{}", base(), a.0),
            format!("{}/{}/pdf", base(), a.0),
        ] {
            assert_eq!(
                minhang.get(&path).await.status,
                StatusCode::NOT_FOUND,
                "{path}"
            );
        }
        let refused = minhang
            .post_form(
                &format!("{}/{}/confirm", base(), a.0),
                "inspection_number=JC-X",
            )
            .await;
        assert_eq!(refused.status, StatusCode::NOT_FOUND);

        // 年度报告批量确认: upload, preview (nothing confirmed yet), confirm.
        let upload = post_multipart(
            &mut city,
            &format!("{}/confirmations", base()),
            &[("year", "2025")],
            (
                "file",
                "检查表.xlsx",
                &inspection_table(&[
                    ("JC-001", &a.2, ""),
                    ("JC-002", "", &c.3),
                    ("JC-003", "91310115MA9999999X", ""),
                ]),
            ),
        )
        .await;
        assert_eq!(upload.status, StatusCode::OK, "{}", upload.body);
        assert!(
            upload
                .body
                .contains("匹配 2 行，已确认过 0 行，未匹配 1 行"),
            "{}",
            upload.body
        );
        // A mistyped credit code is named as such rather than "not found".
        assert!(upload.body.contains("JC-003"));
        assert!(
            upload
                .body
                .contains("统一社会信用代码「91310115MA9999999X」有误"),
            "{}",
            upload.body
        );
        let still = city.get(&format!("{}?status=confirmed", base())).await;
        assert!(still.body.contains("共 0 份"));
        let table = upload
            .body
            .split("name=\"table\" value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string();
        let proof = upload
            .body
            .split("name=\"proof\" value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string();
        // Another officer cannot confirm with this officer's table, nor anyone with a made-up
        // digest: the proof binds the upload to who made it.
        let mut other = officer_browser(&db, &app, "shi.shenpi", "310000", "市局审批员").await;
        for (who, body) in [
            (&mut other, format!("year=2025&table={table}&proof={proof}")),
            (
                &mut city,
                format!("year=2025&table={}&proof={proof}", "0".repeat(64)),
            ),
        ] {
            let refused = who
                .post_form(&format!("{}/confirmations/apply", base()), &body)
                .await;
            assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
            assert!(refused.body.contains("检查表已失效"), "{}", refused.body);
        }
        let applied = city
            .post_form(
                &format!("{}/confirmations/apply", base()),
                &format!("year=2025&table={table}&proof={proof}&file_name=x.xlsx"),
            )
            .await;
        assert_eq!(applied.status, StatusCode::OK, "{}", applied.body);
        assert!(
            applied.body.contains("已确认 2 份年度报告，1 行未匹配"),
            "{}",
            applied.body
        );
        let confirmed = city.get(&format!("{}?status=confirmed", base())).await;
        assert!(confirmed.body.contains("共 2 份") && confirmed.body.contains("JC-001"));
        // The enterprise sees the bureau's confirmation in its own list of reports.
        let (mut unit, _, _, _) = primary(&state, &app, &mut city, &a.2).await;
        let mine = unit.get(&format!("/cases?item={ITEM}")).await;
        assert!(
            mine.body.contains(&a.1) && mine.body.contains("已确认（检查编号 JC-001）"),
            "{}",
            mine.body
        );
        // A report's pages lead back to the list of reports, not the generic case list.
        let detail = unit.get(&format!("/cases/{}", a.0)).await;
        assert!(
            detail.body.contains(&format!(
                "<a href=\"/cases?item={ITEM}\">我的年度评估报告</a>"
            )),
            "{}",
            detail.body
        );

        // A table that is not a workbook is refused with the reason, nothing stored.
        let junk = post_multipart(
            &mut city,
            &format!("{}/confirmations", base()),
            &[("year", "2025")],
            ("file", "检查表.xlsx", b"PK not really"),
        )
        .await;
        assert_eq!(junk.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(junk.body.contains("不是有效的Excel"), "{}", junk.body);

        // One report by hand: the number is required, then it is confirmed once.
        let empty = city
            .post_form(
                &format!("{}/{}/confirm", base(), b.0),
                "inspection_number=+",
            )
            .await;
        assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(empty.body.contains("请填写检查编号"));
        let done = city
            .post_form(
                &format!("{}/{}/confirm", base(), b.0),
                "inspection_number=JC-009",
            )
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER);
        let detail = city.get(&format!("{}/{}?confirmed=1", base(), b.0)).await;
        assert!(detail.body.contains("已确认") && detail.body.contains("JC-009"));

        // Statistics of the year: 浦东 2 confirmed, 闵行 1 confirmed; the summed figures.
        let stats = city.get(&format!("{}/statistics?year=2025", base())).await;
        assert_eq!(stats.status, StatusCode::OK);
        assert!(
            stats
                .body
                .contains("<tr><td>浦东新区</td><td>0</td><td>0</td><td>2</td><td>2</td></tr>"),
            "{}",
            stats.body
        );
        // example_report has 25 class-II sources and 12 class-II devices per unit.
        assert!(
            stats
                .body
                .contains("<td>放射源使用台账数量（II类）</td><td>75</td>")
        );
        assert!(
            stats
                .body
                .contains("<td>射线装置使用台账数量（II类）</td><td>36</td>")
        );

        // The zip of the query's reports runs as a batch of the officer's.
        let zip = city
            .post_form(&format!("{}/zip", base()), "year=2025&district=310115")
            .await;
        assert_eq!(zip.status, StatusCode::SEE_OTHER, "{}", zip.body);
        let batch = zip.headers[axum::http::header::LOCATION].to_str().unwrap();
        assert!(batch.starts_with("/workbench/batches/"));
        let page = city.get(batch).await;
        assert!(page.body.contains("（2份）"), "{}", page.body);

        // An enterprise is not an officer.
        let mut ent = Browser::new(&app);
        let not = ent.get(&base()).await;
        assert!(
            matches!(not.status, StatusCode::SEE_OTHER | StatusCode::FORBIDDEN),
            "{}",
            not.status
        );
    }
);
