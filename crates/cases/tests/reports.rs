//! Yearly reports as officers handle them, on both engines: the index written at submission,
//! queries within a jurisdiction, the xlsx export, 年度报告批量确认 with its preview, single
//! confirmation, the zip of a query's reports and the year's statistics.
use std::collections::BTreeMap;

use rust_xlsxwriter::Workbook;
use tongban_cases::reports::{self, Filter, ReportError, ReportStatus, Scope};
use tongban_cases::{Applicant, start, submit, timeline};
use tongban_domain::{
    CreditCode, Enterprise, EnterpriseId, Jurisdiction, Officer, OfficerId, OfficerRole, Timestamp,
};
use tongban_engine::{FormData, Item};
use tongban_store::store_test;
use tongban_store::testing::TestStore;

mod common;
use common::file_store;

const PUDONG: &str = "310115";
const MINHANG: &str = "310112";

fn item() -> Item {
    Item::load(
        include_str!("fixtures/yearly-report.toml"),
        &tongban_items::rules(),
    )
    .unwrap()
}

fn officer(district: &str) -> Officer {
    Officer {
        id: OfficerId::from_raw(format!("officer-{district}")),
        username: format!("reviewer.{district}"),
        display_name: "审核员".into(),
        jurisdiction: Jurisdiction::by_code(district).unwrap(),
        roles: vec![OfficerRole::Review],
        created_at: Timestamp::now(),
    }
}

/// Unit `n`, registered in `district`: its enterprise row, and what its report says.
struct Unit {
    applicant: Applicant,
    name: String,
    code: String,
    licence: String,
}

async fn units(db: &TestStore, districts: &[&str]) -> Vec<Unit> {
    let mut tx = db.store.begin().await.unwrap();
    let mut out = vec![];
    for (n, district) in districts.iter().enumerate() {
        let code = CreditCode::complete(&format!("91{district}MA{n:07}")).unwrap();
        let e = Enterprise {
            id: EnterpriseId::from_raw(format!("ent-{n}")),
            name: format!("上海测试核技术应用{n:04}有限公司"),
            credit_code: code.clone(),
            legal_representative: format!("法人{n}"),
            registered_address: "上海市测试路1号".into(),
            district: Jurisdiction::by_code(district).unwrap(),
            created_at: Timestamp::now(),
        };
        tongban_store::enterprises::insert(&mut tx, &e)
            .await
            .unwrap();
        out.push(Unit {
            applicant: Applicant::Enterprise {
                id: e.id.clone(),
                actor: format!("enterprise:{}/cert:01", code.as_str()),
            },
            name: e.name.clone(),
            code: code.as_str().to_string(),
            licence: format!("沪环辐证[{:05}]", 10000 + n),
        });
    }
    tx.commit().await.unwrap();
    out
}

fn known(u: &Unit) -> BTreeMap<String, String> {
    [
        ("enterprise.name", u.name.as_str()),
        ("enterprise.credit_code", u.code.as_str()),
        ("enterprise.legal_representative", "王珺"),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .into()
}

/// Starts and submits `u`'s report for `year` with `sources` sources; returns the case id.
async fn report(db: &TestStore, item: &Item, u: &Unit, year: i64, sources: i64) -> String {
    let id = start(&db.store, item, &u.applicant, &known(u))
        .await
        .unwrap();
    let case = tongban_cases::open(&db.store, &u.applicant, &id)
        .await
        .unwrap();
    let mut data: FormData = case.projection.data.clone();
    data.set("year", year.to_string());
    data.set("licence_no", &u.licence);
    data.set("sources", sources.to_string());
    data.set("workplaces", "2");
    submit(&db.store, item, &u.applicant, &id, &data)
        .await
        .unwrap();
    id
}

/// An inspection table: a header and (检查编号, credit code, licence number) rows.
fn table(rows: &[(String, String, String)]) -> Vec<u8> {
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    for (c, t) in ["序号", "检查编号", "统一社会信用代码", "许可证号"]
        .iter()
        .enumerate()
    {
        ws.write_string(0, c as u16, *t).unwrap();
    }
    for (r, (number, code, licence)) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        ws.write_number(r, 0, r as f64).unwrap();
        ws.write_string(r, 1, number).unwrap();
        ws.write_string(r, 2, code).unwrap();
        ws.write_string(r, 3, licence).unwrap();
    }
    book.save_to_buffer().unwrap()
}

store_test!(
    a_submitted_report_is_indexed_and_queried_within_the_jurisdiction,
    |db: TestStore| async move {
        let item = item();
        let us = units(&db, &[PUDONG, PUDONG, MINHANG]).await;
        let a = report(&db, &item, &us[0], 2025, 3).await;
        report(&db, &item, &us[1], 2025, 1).await;
        report(&db, &item, &us[2], 2025, 4).await;
        report(&db, &item, &us[0], 2024, 2).await;
        // A draft is not a report yet.
        start(&db.store, &item, &us[2].applicant, &known(&us[2]))
            .await
            .unwrap();

        let city = Scope::city();
        let all = reports::query(&db.store, &item, &city, &Filter::default(), 1)
            .await
            .unwrap();
        assert_eq!(all.total, 4);
        let r = reports::get(&db.store, &item, &city, &a).await.unwrap();
        assert_eq!(
            (r.year, r.title.as_str(), r.credit_code.as_str()),
            (2025, us[0].name.as_str(), us[0].code.as_str())
        );
        assert_eq!(r.reference, us[0].licence);
        assert_eq!(r.district, PUDONG);
        assert_eq!(r.district_name(), "浦东新区");
        assert_eq!(r.columns, ["王珺"]);
        assert_eq!(r.figures, [3, 2]);
        assert_eq!(r.status, ReportStatus::Submitted);

        // Each criterion narrows the result.
        let count = |f: Filter| {
            let (store, item) = (db.store.clone(), item.clone());
            async move {
                reports::query(&store, &item, &Scope::city(), &f, 1)
                    .await
                    .unwrap()
                    .total
            }
        };
        let year = |y| Filter {
            year: Some(y),
            ..Filter::default()
        };
        assert_eq!(count(year(2025)).await, 3);
        assert_eq!(count(year(2024)).await, 1);
        let keyword = Filter {
            keyword: "0002".into(),
            ..Filter::default()
        };
        assert_eq!(count(keyword).await, 1);
        // A LIKE wildcard typed by the officer is taken literally.
        let wildcard = Filter {
            keyword: "%".into(),
            ..Filter::default()
        };
        assert_eq!(count(wildcard).await, 0);
        let licence = Filter {
            reference: us[1].licence.clone(),
            ..Filter::default()
        };
        assert_eq!(count(licence).await, 1);
        let minhang = Filter {
            district: MINHANG.into(),
            ..Filter::default()
        };
        assert_eq!(count(minhang).await, 1);

        // A 闵行 officer sees 闵行's report only, whatever district the query asks for, and
        // 浦东's report does not exist for them.
        let mh = Scope::of(&officer(MINHANG));
        let pudong = Filter {
            district: PUDONG.into(),
            ..Filter::default()
        };
        let theirs = reports::query(&db.store, &item, &mh, &pudong, 1)
            .await
            .unwrap();
        assert_eq!(theirs.total, 1);
        assert_eq!(theirs.reports[0].credit_code, us[2].code);
        assert!(matches!(
            reports::get(&db.store, &item, &mh, &a).await,
            Err(ReportError::NotFound)
        ));
        assert!(matches!(
            reports::confirm_one(&db.store, &item, &officer(MINHANG), &a, "JC-1").await,
            Err(ReportError::NotFound)
        ));
    }
);

store_test!(
    the_list_pages_twenty_at_a_time_newest_first,
    |db: TestStore| async move {
        let item = item();
        let us = units(&db, &[PUDONG; 23]).await;
        for u in &us {
            report(&db, &item, u, 2025, 1).await;
        }
        let first = reports::query(&db.store, &item, &Scope::city(), &Filter::default(), 1)
            .await
            .unwrap();
        assert_eq!(
            (first.total, first.pages(), first.reports.len()),
            (23, 2, 20)
        );
        assert_eq!(first.reports[0].title, us[22].name, "newest first");
        let second = reports::query(&db.store, &item, &Scope::city(), &Filter::default(), 2)
            .await
            .unwrap();
        assert_eq!(second.reports.len(), 3);
        assert_eq!(second.reports[2].title, us[0].name);
    }
);

store_test!(
    an_inspection_table_of_500_rows_with_3_unmatched_confirms_497,
    |db: TestStore| async move {
        let item = item();
        let districts: Vec<&str> = (0..497)
            .map(|i| if i % 3 == 0 { MINHANG } else { PUDONG })
            .collect();
        let us = units(&db, &districts).await;
        for (i, u) in us.iter().enumerate() {
            report(&db, &item, u, 2025, (i % 5) as i64).await;
        }
        // 497 rows name a unit (half by credit code, half by licence number only) and 3 name
        // units that filed no 2025 report.
        let mut rows: Vec<(String, String, String)> = us
            .iter()
            .enumerate()
            .map(|(i, u)| {
                let number = format!("JC2026-{i:04}");
                if i % 2 == 0 {
                    (number, u.code.clone(), String::new())
                } else {
                    (number, String::new(), u.licence.clone())
                }
            })
            .collect();
        for (n, missing) in ["91310115MA9999991", "91310115MA9999992"]
            .iter()
            .enumerate()
        {
            let code = CreditCode::complete(missing).unwrap();
            rows.insert(
                100 * (n + 1),
                (format!("JC-X{n}"), code.as_str().into(), String::new()),
            );
        }
        rows.push(("JC-X2".into(), String::new(), "沪环辐证[99999]".into()));
        assert_eq!(rows.len(), 500);
        let parsed = reports::read_inspections(&table(&rows)).unwrap();
        assert_eq!(parsed.len(), 500);

        let city = officer("310000");
        let preview = reports::preview(&db.store, &item, &Scope::of(&city), 2025, &parsed)
            .await
            .unwrap();
        assert_eq!((preview.matched.len(), preview.unmatched.len()), (497, 3));
        // The preview changed nothing.
        let confirmed = Filter {
            status: Some(ReportStatus::Confirmed),
            ..Filter::default()
        };
        let none = reports::query(&db.store, &item, &Scope::city(), &confirmed, 1)
            .await
            .unwrap();
        assert_eq!(none.total, 0);

        let done = reports::confirm_table(&db.store, &item, &city, 2025, &parsed)
            .await
            .unwrap();
        assert_eq!(done.confirmed, 497);
        let unmatched: Vec<(u32, &str)> = done
            .preview
            .unmatched
            .iter()
            .map(|u| (u.inspection.row, u.inspection.number.as_str()))
            .collect();
        // Excel rows: the header is row 1.
        assert_eq!(unmatched, [(102, "JC-X0"), (202, "JC-X1"), (501, "JC-X2")]);
        assert!(
            done.preview.unmatched[0]
                .reason
                .contains("未找到该单位2025年度")
        );
        let all = reports::query(&db.store, &item, &Scope::city(), &confirmed, 1)
            .await
            .unwrap();
        assert_eq!(all.total, 497);

        // Each report carries its inspection number and a case event says so.
        let r = reports::query(
            &db.store,
            &item,
            &Scope::city(),
            &Filter {
                reference: us[1].licence.clone(),
                ..Filter::default()
            },
            1,
        )
        .await
        .unwrap()
        .reports
        .remove(0);
        assert_eq!(r.inspection_number.as_deref(), Some("JC2026-0001"));
        let events = timeline(&db.store, &us[1].applicant, &r.case_id)
            .await
            .unwrap();
        assert!(
            events
                .iter()
                .any(|e| e.body.label() == "年度报告已确认" && e.actor == "officer:officer-310000"),
            "{events:?}"
        );

        // The confirmation is in the audit log, committed with it.
        let audit = tongban_store::audit::by_actor(&db.store, "officer:officer-310000", 5)
            .await
            .unwrap();
        assert!(
            audit.iter().any(|e| e.action == "case_action"
                && e.detail.contains("年度报告批量确认")
                && e.detail.contains("\"confirmed\":497")
                && e.detail.contains("\"unmatched\":3")),
            "{audit:?}"
        );

        // The same table again: nothing new, every row reported as confirmed already.
        let again = reports::confirm_table(&db.store, &item, &city, 2025, &parsed)
            .await
            .unwrap();
        assert_eq!((again.confirmed, again.preview.already.len()), (0, 497));

        // A 闵行 officer's table matches 闵行's reports only.
        let mh = reports::preview(
            &db.store,
            &item,
            &Scope::of(&officer(MINHANG)),
            2025,
            &parsed,
        )
        .await
        .unwrap();
        assert_eq!(mh.already.len(), 166);
        assert_eq!(mh.unmatched.len(), 334);
    }
);

store_test!(
    a_bad_inspection_table_names_its_rows_and_confirms_nothing,
    |db: TestStore| async move {
        let item = item();
        let us = units(&db, &[PUDONG]).await;
        report(&db, &item, &us[0], 2025, 1).await;
        let rows = vec![
            ("JC-1".to_string(), us[0].code.clone(), String::new()),
            (String::new(), us[0].code.clone(), String::new()),
            ("JC-3".to_string(), String::new(), String::new()),
        ];
        let e = reports::read_inspections(&table(&rows)).unwrap_err();
        let m = e.to_string();
        assert!(m.contains("第3行：「检查编号」未填写"), "{m}");
        assert!(m.contains("第4行：未填写统一社会信用代码或许可证号"), "{m}");
        assert!(m.contains("未确认任何报告"), "{m}");

        // Without the columns it needs.
        let mut book = Workbook::new();
        book.add_worksheet().write_string(0, 0, "单位名称").unwrap();
        let m = reports::read_inspections(&book.save_to_buffer().unwrap())
            .unwrap_err()
            .to_string();
        assert!(m.contains("「检查编号」"), "{m}");
        let m = reports::read_inspections(b"not a workbook")
            .unwrap_err()
            .to_string();
        assert!(m.contains("xlsx"), "{m}");

        let r = reports::query(&db.store, &item, &Scope::city(), &Filter::default(), 1)
            .await
            .unwrap();
        assert_eq!(r.reports[0].status, ReportStatus::Submitted);
    }
);

store_test!(
    one_report_is_confirmed_with_a_typed_inspection_number_once,
    |db: TestStore| async move {
        let item = item();
        let us = units(&db, &[PUDONG]).await;
        let id = report(&db, &item, &us[0], 2025, 1).await;
        let pd = officer(PUDONG);
        assert!(matches!(
            reports::confirm_one(&db.store, &item, &pd, &id, "  ").await,
            Err(ReportError::NoInspectionNumber)
        ));
        let long = "检".repeat(51);
        assert!(matches!(
            reports::confirm_one(&db.store, &item, &pd, &id, &long).await,
            Err(ReportError::InspectionNumberTooLong)
        ));
        let r = reports::confirm_one(&db.store, &item, &pd, &id, " JC-2026-7 ")
            .await
            .unwrap();
        assert_eq!(r.status, ReportStatus::Confirmed);
        assert_eq!(r.inspection_number.as_deref(), Some("JC-2026-7"));
        let twice = reports::confirm_one(&db.store, &item, &pd, &id, "JC-2026-8")
            .await
            .unwrap_err();
        assert_eq!(
            twice.to_string(),
            "该年度报告已确认（检查编号 JC-2026-7），不能重复确认"
        );
    }
);

store_test!(
    the_years_statistics_count_reports_and_sum_the_figures,
    |db: TestStore| async move {
        let item = item();
        let us = units(&db, &[PUDONG, PUDONG, MINHANG, MINHANG]).await;
        let a = report(&db, &item, &us[0], 2025, 3).await;
        report(&db, &item, &us[1], 2025, 1).await;
        report(&db, &item, &us[2], 2025, 4).await;
        report(&db, &item, &us[3], 2024, 9).await;
        reports::confirm_one(&db.store, &item, &officer("310000"), &a, "JC-1")
            .await
            .unwrap();
        let s = reports::statistics(&db.store, &item, &Scope::city(), 2025)
            .await
            .unwrap();
        assert_eq!(s.total, 3);
        assert_eq!(s.by_district[PUDONG], [1, 0, 1]);
        assert_eq!(s.by_district[MINHANG], [1, 0, 0]);
        assert_eq!(s.by_status(), [2, 0, 1]);
        assert_eq!(
            s.figures,
            [
                ("放射源数量".to_string(), 8),
                ("工作场所数量".to_string(), 6)
            ]
        );
        let mh = reports::statistics(&db.store, &item, &Scope::of(&officer(MINHANG)), 2025)
            .await
            .unwrap();
        assert_eq!((mh.total, mh.figures[0].1), (1, 4));
    }
);

store_test!(
    a_query_exports_to_xlsx_and_its_reports_zip_as_a_batch,
    |db: TestStore| async move {
        let item = item();
        let us = units(&db, &[PUDONG, PUDONG, MINHANG]).await;
        for u in &us {
            report(&db, &item, u, 2025, 2).await;
        }
        let pudong = Filter {
            district: PUDONG.into(),
            ..Filter::default()
        };
        let city = officer("310000");
        let xlsx = reports::export(&db.store, &item, &city, &pudong)
            .await
            .unwrap();
        let sheet = tongban_sheets::read_table(&xlsx).unwrap();
        assert_eq!(sheet.rows.len(), 2);
        let name = sheet.column(&["单位名称"]).unwrap();
        let district = sheet.column(&["所属区"]).unwrap();
        let licence = sheet.column(&["许可证号"]).unwrap();
        let sources = sheet.column(&["放射源数量"]).unwrap();
        assert_eq!(sheet.rows[0].1[name], us[1].name, "newest first");
        assert_eq!(sheet.rows[0].1[district], "浦东新区");
        assert_eq!(sheet.rows[1].1[licence], us[0].licence);
        assert_eq!(sheet.rows[1].1[sources], "2");
        assert!(sheet.column(&["法定代表人姓名"]).is_some());

        // The zip: a batch of the query's reports, one PDF each, named by year, unit and number.
        let dir = tempfile::tempdir().unwrap();
        let files = file_store(dir.path());
        let id = reports::zip(&db.store, &item, &city, &pudong)
            .await
            .unwrap();
        let renderer = std::sync::Arc::new(tongban_documents::Renderer::new());
        let runner = tongban_cases::batch::Runner::new(db.store.clone(), files.clone(), renderer);
        while runner.run(&id).await.unwrap() == tongban_cases::batch::Outcome::More {}
        let (batch, zip) = tongban_cases::batch::zip_of(&db.store, &files, "officer-310000", &id)
            .await
            .unwrap();
        assert_eq!((batch.done, batch.total), (2, 2));
        assert!(
            batch.title.contains("测试年度报告（2份）"),
            "{}",
            batch.title
        );
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip.to_vec())).unwrap();
        let mut entries: Vec<(String, Vec<u8>)> = (0..archive.len())
            .map(|i| {
                let mut file = archive.by_index(i).unwrap();
                let mut bytes = Vec::new();
                std::io::Read::read_to_end(&mut file, &mut bytes).unwrap();
                (file.name().unwrap().to_string(), bytes)
            })
            .collect();
        entries.sort();
        assert_eq!(entries.len(), 2);
        let (name, pdf) = &entries[0];
        assert!(
            name.starts_with(&format!("2025年度-{}-TY", us[0].name)),
            "{name}"
        );
        let text = tongban_documents::testing::text_of(pdf);
        assert!(text.contains(&us[0].licence), "{text}");

        // Nothing to zip is said so.
        let none = Filter {
            year: Some(2020),
            ..Filter::default()
        };
        assert!(matches!(
            reports::zip(&db.store, &item, &city, &none).await,
            Err(ReportError::Empty)
        ));

        // Both ways out are in the audit log, with who, how many and the query.
        let entries = tongban_store::audit::by_actor(&db.store, "officer:officer-310000", 10)
            .await
            .unwrap();
        let exports: Vec<&str> = entries
            .iter()
            .filter(|e| e.action == "data_exported")
            .map(|e| e.detail.as_str())
            .collect();
        assert_eq!(exports.len(), 2, "{entries:?}");
        assert!(
            exports
                .iter()
                .any(|d| d.contains("\"what\":\"xlsx\"") && d.contains("\"count\":2"))
        );
        assert!(
            exports
                .iter()
                .any(|d| d.contains("\"what\":\"zip\"") && d.contains(PUDONG))
        );
        // A district officer's export is held to the district whatever the query said.
        let mh = officer(MINHANG);
        let theirs = reports::export(&db.store, &item, &mh, &pudong)
            .await
            .unwrap();
        assert_eq!(tongban_sheets::read_table(&theirs).unwrap().rows.len(), 1);
    }
);
