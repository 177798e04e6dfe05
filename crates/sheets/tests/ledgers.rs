//! The demonstration item's 放射源销售台账 through xlsx: template, export, and imports that are
//! all or nothing.
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use tongban_engine::Ledger;
use tongban_sheets::{ImportError, Row, export, import, template, title};

fn ledger() -> Ledger {
    tongban_items::catalogue()
        .unwrap()
        .get("radiation-self-check")
        .unwrap()
        .ledger("source_sales")
        .unwrap()
        .clone()
}

fn row(i: usize) -> Row {
    [
        format!("沪环辐审[2026]{i:04}号"),
        "Cs-137".into(),
        "2025-06-01".into(),
        format!("{}", 3_700_000_000u64 + i as u64),
        "IV类".into(),
        format!("上海示范医院{i}"),
        format!("沪环辐证[{:05}]", i % 100_000),
    ]
    .to_vec()
}

/// An xlsx as a person fills the template: the header, then `rows` (a cell of `None` left empty).
fn sheet(ledger: &Ledger, rows: &[Row]) -> Vec<u8> {
    let mut book = Workbook::new();
    let s = book.add_worksheet();
    s.set_name(&ledger.title).unwrap();
    for (c, column) in ledger.columns.iter().enumerate() {
        s.write_string(0, c as u16, title(column)).unwrap();
    }
    for (r, values) in rows.iter().enumerate() {
        for (c, v) in values.iter().enumerate() {
            if !v.is_empty() {
                s.write_string(r as u32 + 1, c as u16, v).unwrap();
            }
        }
    }
    book.save_to_buffer().unwrap()
}

fn problems(e: ImportError) -> Vec<String> {
    match e {
        ImportError::Cells(list) => list.iter().map(|p| p.to_string()).collect(),
        other => panic!("expected cell problems, got {other}"),
    }
}

#[test]
fn the_template_has_the_columns_and_imports_as_empty() {
    let l = ledger();
    let bytes = template(&l).unwrap();
    assert_eq!(import(&l, &bytes).unwrap(), Vec::<Row>::new());
    // Its header is what a person sees.
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(&bytes)).unwrap();
    use calamine::Reader;
    assert_eq!(book.sheet_names(), ["放射源销售台账", "填写说明"]);
    let range = book.worksheet_range("放射源销售台账").unwrap();
    let header: Vec<String> = range
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(header[3], "出厂活度（Bq）");
    let notes = book.worksheet_range("填写说明").unwrap();
    assert!(
        notes
            .rows()
            .any(|r| r[1].to_string().contains("从下拉列表选择：I类、II类"))
    );
}

#[test]
fn an_export_imports_back_unchanged() {
    let l = ledger();
    let rows: Vec<Row> = (1..=50).map(row).collect();
    assert_eq!(import(&l, &export(&l, &rows).unwrap()).unwrap(), rows);
}

#[test]
fn one_bad_cell_among_a_thousand_rows_imports_nothing_and_is_named() {
    let l = ledger();
    let mut rows: Vec<Row> = (1..=1000).map(row).collect();
    assert_eq!(import(&l, &sheet(&l, &rows)).unwrap().len(), 1000);
    rows[500][4] = "VI类".into();
    let found = problems(import(&l, &sheet(&l, &rows)).unwrap_err());
    assert_eq!(
        found,
        ["工作表「放射源销售台账」第502行E列「类别」：“VI类”不是可选项"]
    );

    rows[500][4] = "IV类".into();
    rows[9][2] = "2025-02-30".into();
    rows[10][0] = String::new();
    rows[11][3] = "三十七亿".into();
    let found = problems(import(&l, &sheet(&l, &rows)).unwrap_err());
    assert_eq!(
        found,
        [
            "工作表「放射源销售台账」第11行C列「出厂日期」：应为日期，格式如 2026-01-31",
            "工作表「放射源销售台账」第12行A列「转让/进口批件文号」：必填，不能为空",
            "工作表「放射源销售台账」第13行D列「出厂活度（Bq）」：应为数字",
        ]
    );
}

#[test]
fn excel_dates_and_numbers_read_as_typed() {
    let l = ledger();
    let mut book = Workbook::new();
    let s = book.add_worksheet();
    for (c, column) in l.columns.iter().enumerate() {
        s.write_string(0, c as u16, title(column)).unwrap();
    }
    let date = ExcelDateTime::from_ymd(2025, 6, 1).unwrap();
    let fmt = Format::new().set_num_format("yyyy-mm-dd");
    s.write_string(1, 0, "批件1").unwrap();
    s.write_string(1, 1, "Co-60").unwrap();
    s.write_datetime_with_format(1, 2, &date, &fmt).unwrap();
    s.write_number(1, 3, 3.7e9).unwrap();
    s.write_string(1, 4, "II类").unwrap();
    s.write_string(1, 5, "某单位").unwrap();
    s.write_string(1, 6, "沪环辐证[00001]").unwrap();
    let rows = import(&l, &book.save_to_buffer().unwrap()).unwrap();
    assert_eq!(rows[0][2], "2025-06-01");
    assert_eq!(rows[0][3], "3700000000");
}

#[test]
fn a_wrong_sheet_or_file_is_refused_plainly() {
    let l = ledger();
    let mut book = Workbook::new();
    let s = book.add_worksheet();
    s.write_string(0, 0, "序号").unwrap();
    let found = problems(import(&l, &book.save_to_buffer().unwrap()).unwrap_err());
    assert_eq!(
        found[0],
        "工作表「Sheet1」第1行A列：表头应为「转让/进口批件文号」，请使用下载的模板"
    );
    assert!(matches!(
        import(&l, b"%PDF-1.7 not a workbook"),
        Err(ImportError::NotXlsx)
    ));
}
