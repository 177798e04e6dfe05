//! The import reads the sheet as a stream of cells: rows and cells left out of the file (as
//! Excel and rust_xlsxwriter leave out empty ones) must not move a value to another column or a
//! problem to another row.
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, Worksheet};
use tongban_engine::Ledger;
use tongban_sheets::{ImportError, Row, export, import, import_each, title};

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
        format!("沪环辐审[2026]{i:05}号"),
        ["Cs-137", "Co-60", "Ir-192", "Am-241"][i % 4].into(),
        format!("2025-{:02}-{:02}", i % 12 + 1, i % 28 + 1),
        format!("{}", 3_700_000_000u64 + i as u64),
        ["I类", "II类", "III类", "IV类", "V类"][i % 5].into(),
        format!("上海示范医院{i}"),
        format!("沪环辐证[{:05}]", i % 100_000),
    ]
    .to_vec()
}

/// A workbook with the ledger's header on row 1 and `fill` writing the rest.
fn sheet(ledger: &Ledger, fill: impl FnOnce(&mut Worksheet)) -> Vec<u8> {
    let mut book = Workbook::new();
    let s = book.add_worksheet();
    s.set_name(&ledger.title).unwrap();
    for (c, column) in ledger.columns.iter().enumerate() {
        s.write_string(0, c as u16, title(column)).unwrap();
    }
    fill(s);
    book.save_to_buffer().unwrap()
}

/// Writes `values` on Excel row `excel_row`, leaving empty strings out of the file.
fn put(s: &mut Worksheet, excel_row: u32, values: &[String]) {
    for (c, v) in values.iter().enumerate() {
        if !v.is_empty() {
            s.write_string(excel_row - 1, c as u16, v).unwrap();
        }
    }
}

fn problems(e: ImportError) -> Vec<String> {
    match e {
        ImportError::Cells(list) => list.iter().map(|p| p.to_string()).collect(),
        other => panic!("expected cell problems, got {other}"),
    }
}

#[test]
fn a_cell_missing_mid_row_is_named_in_its_own_column() {
    let l = ledger();
    let mut gap = row(2);
    gap[2] = String::new();
    let bytes = sheet(&l, |s| {
        put(s, 2, &row(1));
        put(s, 3, &gap);
    });
    assert_eq!(
        problems(import(&l, &bytes).unwrap_err()),
        ["工作表「放射源销售台账」第3行C列「出厂日期」：必填，不能为空"]
    );

    // Two cells left out and a bad one after them: the bad one is still D, not B.
    let mut gaps = row(2);
    gaps[1] = String::new();
    gaps[2] = String::new();
    gaps[3] = "-5".into();
    let bytes = sheet(&l, |s| put(s, 2, &gaps));
    assert_eq!(
        problems(import(&l, &bytes).unwrap_err()),
        [
            "工作表「放射源销售台账」第2行B列「核素」：必填，不能为空",
            "工作表「放射源销售台账」第2行C列「出厂日期」：必填，不能为空",
            "工作表「放射源销售台账」第2行D列「出厂活度（Bq）」：不能小于0",
        ]
    );

    // The last cells left out.
    let mut short = row(2);
    short[5] = String::new();
    short[6] = String::new();
    let bytes = sheet(&l, |s| put(s, 2, &short));
    assert_eq!(
        problems(import(&l, &bytes).unwrap_err()),
        [
            "工作表「放射源销售台账」第2行F列「去向」：必填，不能为空",
            "工作表「放射源销售台账」第2行G列「许可证号」：必填，不能为空",
        ]
    );
}

#[test]
fn rows_left_out_keep_the_excel_row_numbers() {
    let l = ledger();
    let mut bad = row(4);
    bad[3] = "-1".into();
    // Row 3 is not in the file at all; row 4 has the bad value.
    let bytes = sheet(&l, |s| {
        put(s, 2, &row(2));
        put(s, 4, &bad);
    });
    assert_eq!(
        problems(import(&l, &bytes).unwrap_err()),
        ["工作表「放射源销售台账」第4行D列「出厂活度（Bq）」：不能小于0"]
    );

    // Many rows left out, a row of spaces, and a row of formatted blanks are all skipped.
    let mut bad = row(640);
    bad[4] = "VI类".into();
    let bytes = sheet(&l, |s| {
        put(s, 2, &row(2));
        s.write_string(9, 1, "   ").unwrap();
        s.write_blank(10, 3, &Format::new().set_bold()).unwrap();
        put(s, 641, &bad);
        put(s, 1000, &row(1000));
    });
    assert_eq!(
        problems(import(&l, &bytes).unwrap_err()),
        ["工作表「放射源销售台账」第641行E列「类别」：“VI类”不是可选项"]
    );

    bad[4] = "V类".into();
    let bytes = sheet(&l, |s| {
        put(s, 2, &row(2));
        s.write_string(9, 1, "   ").unwrap();
        put(s, 641, &bad);
        put(s, 1000, &row(1000));
    });
    assert_eq!(import(&l, &bytes).unwrap(), [row(2), bad, row(1000)]);
}

#[test]
fn ten_thousand_rows_import_as_written() {
    let l = ledger();
    let rows: Vec<Row> = (1..=10_000).map(row).collect();
    // As a person fills the template: text typed in every cell.
    let typed = sheet(&l, |s| {
        for (i, r) in rows.iter().enumerate() {
            put(s, i as u32 + 2, r);
        }
    });
    assert_eq!(import(&l, &typed).unwrap(), rows);
    // As an export, numbers as numbers.
    assert_eq!(import(&l, &export(&l, &rows).unwrap()).unwrap(), rows);
    // With real Excel dates, every tenth row left out, and a shared string table.
    let dated = sheet(&l, |s| {
        let fmt = Format::new().set_num_format("yyyy-mm-dd");
        for (i, r) in rows.iter().enumerate() {
            let excel_row = i as u32 + 2 + (i as u32 / 9);
            put(s, excel_row, r);
            let d = ExcelDateTime::parse_from_str(&r[2]).unwrap();
            s.write_datetime_with_format(excel_row - 1, 2, d, &fmt)
                .unwrap();
            s.write_number(excel_row - 1, 3, r[3].parse::<f64>().unwrap())
                .unwrap();
        }
    });
    assert_eq!(import(&l, &dated).unwrap(), rows);

    // One bad cell in the last of them is named by its Excel row.
    let mut bad = rows.clone();
    bad[9_999][2] = "2025-13-01".into();
    let typed = sheet(&l, |s| {
        for (i, r) in bad.iter().enumerate() {
            put(s, i as u32 + 2, r);
        }
    });
    assert_eq!(
        problems(import(&l, &typed).unwrap_err()),
        ["工作表「放射源销售台账」第10001行C列「出厂日期」：应为日期，格式如 2026-01-31"]
    );
}

#[test]
fn import_each_passes_rows_in_order_until_a_problem() {
    let l = ledger();
    let rows: Vec<Row> = (1..=20).map(row).collect();
    let bytes = export(&l, &rows).unwrap();
    let mut seen = vec![];
    assert_eq!(import_each(&l, &bytes, |r| seen.push(r)).unwrap(), 20);
    assert_eq!(seen, rows);

    let mut with_bad = rows.clone();
    with_bad[4][3] = "-3".into();
    with_bad[14][3] = "-4".into();
    let bytes = sheet(&l, |s| {
        for (i, r) in with_bad.iter().enumerate() {
            put(s, i as u32 + 2, r);
        }
    });
    let mut seen = vec![];
    let err = import_each(&l, &bytes, |r| seen.push(r)).unwrap_err();
    // Every problem is named, but no row after the first problem was passed on.
    assert_eq!(
        problems(err),
        [
            "工作表「放射源销售台账」第6行D列「出厂活度（Bq）」：不能小于0",
            "工作表「放射源销售台账」第16行D列「出厂活度（Bq）」：不能小于0",
        ]
    );
    assert_eq!(seen, rows[..4]);
}

#[test]
fn the_ledger_sheet_is_found_by_name_else_the_first() {
    let l = ledger();
    let mut book = Workbook::new();
    book.add_worksheet()
        .set_name("说明")
        .unwrap()
        .write_string(0, 0, "请填写第二个工作表")
        .unwrap();
    let s = book.add_worksheet();
    s.set_name(&l.title).unwrap();
    for (c, column) in l.columns.iter().enumerate() {
        s.write_string(0, c as u16, title(column)).unwrap();
    }
    put(s, 2, &row(7));
    assert_eq!(
        import(&l, &book.save_to_buffer().unwrap()).unwrap(),
        [row(7)]
    );

    // A sheet by another name: the first is read, and its header is refused.
    let mut book = Workbook::new();
    book.add_worksheet()
        .set_name("台账")
        .unwrap()
        .write_string(0, 0, "序号")
        .unwrap();
    let found = problems(import(&l, &book.save_to_buffer().unwrap()).unwrap_err());
    assert_eq!(
        found[0],
        "工作表「台账」第1行A列：表头应为「转让/进口批件文号」，请使用下载的模板"
    );
    assert_eq!(found.len(), l.columns.len());
}
