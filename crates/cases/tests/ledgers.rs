//! Ledgers on a draft of the demonstration item, on both engines: all-or-nothing import,
//! replacement, typed rows, paging, export, the submission check and ownership.
use rust_xlsxwriter::Workbook;
use tongban_cases::ledgers::{add_row, delete_row, export, import, page};
use tongban_cases::{CaseError, open, start, submit};
use tongban_engine::Item;
use tongban_store::store_test;
use tongban_store::testing::TestStore;

mod common;
use common::{enterprise, item};

fn row(i: usize) -> Vec<String> {
    vec![
        format!("批件{i}"),
        "Cs-137".into(),
        "2025-06-01".into(),
        format!("{}", 1000 + i),
        "IV类".into(),
        format!("单位{i}"),
        "沪环辐证[00001]".into(),
    ]
}

fn xlsx(item: &Item, rows: &[Vec<String>]) -> Vec<u8> {
    let ledger = item.ledger("source_sales").unwrap();
    let mut book = Workbook::new();
    let s = book.add_worksheet();
    for (c, column) in ledger.columns.iter().enumerate() {
        s.write_string(0, c as u16, tongban_sheets::title(column))
            .unwrap();
    }
    for (r, values) in rows.iter().enumerate() {
        for (c, v) in values.iter().enumerate() {
            s.write_string(r as u32 + 1, c as u16, v).unwrap();
        }
    }
    book.save_to_buffer().unwrap()
}

fn messages(e: CaseError) -> Vec<String> {
    match e {
        CaseError::Invalid(p) => p.into_iter().map(|p| p.message).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

store_test!(
    a_ledger_imports_all_or_nothing_and_pages,
    |db: TestStore| async move {
        let (item, me) = (item(), enterprise(1));
        let id = start(&db.store, &item, &me, &Default::default())
            .await
            .unwrap();
        let mut rows: Vec<_> = (1..=1000).map(row).collect();
        rows[736][3] = "-5".into();
        let e = import(
            &db.store,
            &item,
            &me,
            &id,
            "source_sales",
            &xlsx(&item, &rows),
        )
        .await
        .unwrap_err();
        assert_eq!(
            messages(e),
            ["工作表「Sheet1」第738行D列「出厂活度（Bq）」：不能小于0"]
        );
        assert_eq!(
            page(&db.store, &me, &id, "source_sales", 1)
                .await
                .unwrap()
                .total,
            0,
            "nothing imported"
        );

        rows[736][3] = "5".into();
        assert_eq!(
            import(
                &db.store,
                &item,
                &me,
                &id,
                "source_sales",
                &xlsx(&item, &rows)
            )
            .await
            .unwrap(),
            1000
        );
        let p = page(&db.store, &me, &id, "source_sales", 2).await.unwrap();
        assert_eq!((p.total, p.rows.len()), (1000, 20));
        assert_eq!(p.rows[0].1, row(21));
        // A second import replaces, it does not add.
        let few: Vec<_> = (1..=3).map(row).collect();
        assert_eq!(
            import(
                &db.store,
                &item,
                &me,
                &id,
                "source_sales",
                &xlsx(&item, &few)
            )
            .await
            .unwrap(),
            3
        );
        assert_eq!(
            page(&db.store, &me, &id, "source_sales", 1)
                .await
                .unwrap()
                .total,
            3
        );

        // Typed rows are checked like imported ones; the export imports back.
        let e = add_row(&db.store, &item, &me, &id, "source_sales", &["x".into()])
            .await
            .unwrap_err();
        assert!(messages(e).contains(&"放射源销售台账·核素：请填写".to_string()));
        add_row(&db.store, &item, &me, &id, "source_sales", &row(4))
            .await
            .unwrap();
        delete_row(&db.store, &item, &me, &id, "source_sales", 1)
            .await
            .unwrap();
        let rows_now: Vec<_> = page(&db.store, &me, &id, "source_sales", 1)
            .await
            .unwrap()
            .rows
            .into_iter()
            .map(|(_, r)| r)
            .collect();
        assert_eq!(rows_now, vec![row(2), row(3), row(4)]);
        let exported = export(&db.store, &item, &me, &id, "source_sales")
            .await
            .unwrap();
        assert_eq!(
            tongban_sheets::import(item.ledger("source_sales").unwrap(), &exported).unwrap(),
            rows_now
        );

        // Another enterprise reaches none of it.
        let other = enterprise(2);
        assert!(matches!(
            page(&db.store, &other, &id, "source_sales", 1).await,
            Err(CaseError::NotFound)
        ));
        assert!(matches!(
            export(&db.store, &item, &other, &id, "source_sales").await,
            Err(CaseError::NotFound)
        ));
        assert!(matches!(
            import(&db.store, &item, &other, &id, "source_sales", &exported).await,
            Err(CaseError::NotFound)
        ));
        assert!(matches!(
            delete_row(&db.store, &item, &other, &id, "source_sales", 2).await,
            Err(CaseError::NotFound)
        ));
        assert_eq!(
            page(&db.store, &me, &id, "source_sales", 1)
                .await
                .unwrap()
                .total,
            3
        );
    }
);

store_test!(
    a_shown_ledger_needs_its_rows_to_submit,
    |db: TestStore| async move {
        let (item, me) = (item(), enterprise(1));
        let id = start(&db.store, &item, &me, &Default::default())
            .await
            .unwrap();
        let mut data = open(&db.store, &me, &id).await.unwrap().projection.data;
        data.set_many("source_activities", vec!["销售".into()]);
        let e = submit(&db.store, &item, &me, &id, &data).await.unwrap_err();
        assert!(messages(e).contains(&"放射源销售台账：至少填写1行".to_string()));
    }
);

store_test!(
    submission_checks_the_ledgers_against_the_form,
    |db: TestStore| async move {
        // The radiation annual report: a sold source of a class the unit did not tick.
        let item = tongban_items::catalogue()
            .unwrap()
            .get("radiation-annual-report")
            .unwrap()
            .clone();
        let me = enterprise(1);
        let dir = tempfile::tempdir().unwrap();
        let files = common::file_store(dir.path());
        let id = start(&db.store, &item, &me, &Default::default())
            .await
            .unwrap();
        tongban_cases::materials::attach(
            &db.store,
            &files,
            &item,
            &me,
            &id,
            tongban_cases::materials::Target::Material("monitoring_report"),
            "监测报告.pdf",
            bytes::Bytes::from_static(b"%PDF-1.7 report"),
        )
        .await
        .unwrap();
        let mut data = tongban_items::radiation::example_report();
        data.set_many("source_activities", vec!["使用".into(), "销售".into()]);
        let sales = item.ledger("source_sales").unwrap();
        let row = |class: &str| -> Vec<String> {
            sales
                .columns
                .iter()
                .map(|c| match c.id.as_str() {
                    "nuclide" => "Cs-137".to_string(),
                    "made_on" => "2025-03-01".to_string(),
                    "activity" => "37000000000".to_string(),
                    "class" => class.to_string(),
                    _ => "沪环辐证[00001]".to_string(),
                })
                .collect()
        };
        let book = tongban_sheets::export(sales, &[row("I类"), row("IV类")]).unwrap();
        import(&db.store, &item, &me, &id, "source_sales", &book)
            .await
            .unwrap();
        let refused = submit(&db.store, &item, &me, &id, &data).await.unwrap_err();
        assert!(
            refused
                .to_string()
                .contains("放射源销售台账第2行：类别「IV类」未在“放射源类别”中勾选"),
            "{refused}"
        );
        // Nothing was submitted; with the class ticked it goes through.
        assert_eq!(
            open(&db.store, &me, &id).await.unwrap().state(),
            tongban_engine::case::CaseState::Draft
        );
        data.set_many("source_classes", vec!["I类".into(), "IV类".into()]);
        submit(&db.store, &item, &me, &id, &data).await.unwrap();
    }
);
