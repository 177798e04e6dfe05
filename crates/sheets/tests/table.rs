//! Query results exported as a table: Chinese headers, typed cells that read back as dates and
//! numbers, columns as wide as their content.
use std::io::{Cursor, Read};

use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use chrono::{NaiveDate, NaiveDateTime};
use tongban_sheets::{Cell, Column, ColumnKind, export_table};

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn datetime(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
    date(y, m, d).and_hms_opt(h, min, 0).unwrap()
}

fn columns() -> Vec<Column> {
    vec![
        Column::text("受理编号"),
        Column::text("单位名称"),
        Column::integer("件数"),
        Column::decimal("金额（万元）"),
        Column::date("受理日期"),
        Column::datetime("办结时间"),
        Column::new("ID", ColumnKind::Text),
    ]
}

fn rows() -> Vec<Vec<Cell>> {
    vec![
        vec![
            "SH-2026-0001".into(),
            "上海市示范放射诊疗医院有限公司（浦东新区分院）".into(),
            3.into(),
            12.5.into(),
            date(2026, 1, 31).into(),
            datetime(2026, 2, 3, 14, 5).into(),
            "a1".into(),
        ],
        vec![
            "SH-2026-0002".into(),
            "某单位".into(),
            Cell::Integer(-42),
            Cell::Empty,
            Cell::from(None::<NaiveDate>),
            Cell::DateTime(datetime(2025, 12, 31, 23, 59)),
            "b".into(),
        ],
    ]
}

fn open(bytes: &[u8]) -> Xlsx<Cursor<&[u8]>> {
    open_workbook_from_rs(Cursor::new(bytes)).unwrap()
}

/// A part of the xlsx (a zip) as text.
fn part(bytes: &[u8], name: &str) -> String {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut text = String::new();
    zip.by_name(name)
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    text
}

/// The widths set in a sheet's `<cols>`, by zero-based column.
fn widths(sheet_xml: &str) -> Vec<(usize, f64)> {
    let attr = |tag: &str, name: &str| -> Option<String> {
        let at = tag.find(&format!(" {name}=\""))? + name.len() + 3;
        Some(tag[at..].split('"').next()?.to_string())
    };
    sheet_xml
        .split("<col ")
        .skip(1)
        .map(|tag| format!(" {}", tag.split("/>").next().unwrap()))
        .flat_map(|tag| {
            let tag = tag.as_str();
            let min: usize = attr(tag, "min").unwrap().parse().unwrap();
            let max: usize = attr(tag, "max").unwrap().parse().unwrap();
            let width: f64 = attr(tag, "width").unwrap().parse().unwrap();
            (min..=max).map(move |c| (c - 1, width))
        })
        .collect()
}

#[test]
fn a_query_result_reads_back_with_its_headers_dates_and_numbers() {
    let bytes = export_table("查询结果", &columns(), rows()).unwrap();
    let mut book = open(&bytes);
    assert_eq!(book.sheet_names(), ["查询结果"]);
    let range = book.worksheet_range("查询结果").unwrap();

    let header: Vec<String> = range
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(
        header,
        [
            "受理编号",
            "单位名称",
            "件数",
            "金额（万元）",
            "受理日期",
            "办结时间",
            "ID"
        ]
    );

    let first = &range.rows().nth(1).unwrap();
    assert_eq!(
        first[1],
        Data::String("上海市示范放射诊疗医院有限公司（浦东新区分院）".into())
    );
    // Integers and decimals are numbers, not text.
    assert_eq!(first[2], Data::Float(3.0));
    assert_eq!(first[3], Data::Float(12.5));
    // The date is an Excel date, of that day.
    match &first[4] {
        Data::DateTime(d) => {
            assert!(d.is_datetime());
            assert_eq!(d.to_ymd_hms_milli(), (2026, 1, 31, 0, 0, 0, 0));
        }
        other => panic!("expected a date, got {other:?}"),
    }
    match &first[5] {
        Data::DateTime(d) => assert_eq!(d.to_ymd_hms_milli(), (2026, 2, 3, 14, 5, 0, 0)),
        other => panic!("expected a date-time, got {other:?}"),
    }

    let second = &range.rows().nth(2).unwrap();
    assert_eq!(second[2], Data::Float(-42.0));
    assert_eq!(second[3], Data::Empty);
    assert_eq!(second[4], Data::Empty);
    match &second[5] {
        Data::DateTime(d) => assert_eq!(d.to_ymd_hms_milli(), (2025, 12, 31, 23, 59, 0, 0)),
        other => panic!("expected a date-time, got {other:?}"),
    }

    // The formats Excel shows them in, and the bold header.
    let styles = book.worksheet_style("查询结果").unwrap();
    let number_format = |r, c| {
        styles
            .get((r, c))
            .and_then(|s| s.number_format.clone())
            .map(|f| f.format_code)
    };
    assert_eq!(number_format(1, 4).as_deref(), Some("yyyy-mm-dd"));
    assert_eq!(number_format(1, 5).as_deref(), Some("yyyy-mm-dd hh:mm"));
    let bold = |r, c| {
        styles
            .get((r, c))
            .and_then(|s| s.font.as_ref())
            .is_some_and(|f| f.is_bold())
    };
    assert!(bold(0, 0) && bold(0, 6));
    assert!(!bold(1, 0));
}

#[test]
fn the_header_is_frozen_and_filtered_and_columns_fit_their_content() {
    let bytes = export_table("查询结果", &columns(), rows()).unwrap();
    let xml = part(&bytes, "xl/worksheets/sheet1.xml");
    assert!(
        xml.contains(
            r#"<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>"#
        ),
        "{xml}"
    );
    assert!(xml.contains(r#"<autoFilter ref="A1:G3"/>"#), "{xml}");

    let widths = widths(&xml);
    let width = |c: usize| widths.iter().find(|(i, _)| *i == c).unwrap().1;
    assert_eq!(widths.len(), 7);
    // The long Chinese name is wider than the short ASCII id, and wider than its own character
    // count: a Chinese character counts two.
    assert!(width(1) > width(6), "{widths:?}");
    let name = "上海市示范放射诊疗医院有限公司（浦东新区分院）"
        .chars()
        .count() as f64;
    assert!(width(1) > name * 1.5, "{widths:?}");
    // A Chinese header alone makes its column wide enough for it.
    assert!(width(3) >= 12.0, "{widths:?}");
    // Dates fit `yyyy-mm-dd` and `yyyy-mm-dd hh:mm`.
    assert!(
        width(4) >= 10.0 && width(5) >= 16.0 && width(5) > width(4),
        "{widths:?}"
    );

    // A very long cell does not make a very wide column.
    let long = vec![vec![Cell::from("很长的备注".repeat(100))]];
    let bytes = export_table("查询结果", &[Column::text("备注")], long).unwrap();
    let widths = self::widths(&part(&bytes, "xl/worksheets/sheet1.xml"));
    assert!(widths[0].1 <= 61.0, "{widths:?}");
}

#[test]
fn what_excel_cannot_hold_as_a_number_or_date_is_kept_as_text() {
    let columns = [
        Column::integer("编号"),
        Column::date("日期"),
        Column::decimal("比值"),
    ];
    let rows = vec![vec![
        Cell::Integer(1_234_567_890_123_456_789),
        Cell::Date(date(1850, 3, 1)),
        Cell::Decimal(f64::NAN),
    ]];
    let bytes = export_table("1/2 月[汇总]", &columns, rows).unwrap();
    let mut book = open(&bytes);
    assert_eq!(book.sheet_names(), ["12 月汇总"]);
    let range = book.worksheet_range("12 月汇总").unwrap();
    let row: Vec<Data> = range.rows().nth(1).unwrap().to_vec();
    assert_eq!(row[0], Data::String("1234567890123456789".into()));
    assert_eq!(row[1], Data::String("1850-03-01".into()));
    assert_eq!(row.get(2).cloned().unwrap_or(Data::Empty), Data::Empty);
}

#[test]
fn many_rows_and_no_rows_are_written() {
    let columns = [
        Column::integer("序号"),
        Column::text("名称"),
        Column::date("日期"),
    ];
    let rows = (0..20_000i64).map(|i| {
        vec![
            Cell::Integer(i),
            Cell::Text(format!("第{i}项")),
            Cell::Date(date(2026, 1, 1) + chrono::Days::new(i as u64 % 365)),
        ]
    });
    let bytes = export_table("结果", &columns, rows).unwrap();
    let range = open(&bytes).worksheet_range("结果").unwrap();
    assert_eq!(range.height(), 20_001);
    assert_eq!(range.get((20_000, 0)), Some(&Data::Float(19_999.0)));
    assert_eq!(
        range.get((20_000, 1)),
        Some(&Data::String("第19999项".into()))
    );

    let none: Vec<Vec<Cell>> = vec![];
    let bytes = export_table("结果", &columns, none).unwrap();
    let range = open(&bytes).worksheet_range("结果").unwrap();
    assert_eq!(range.height(), 1);
    let xml = part(&bytes, "xl/worksheets/sheet1.xml");
    assert!(xml.contains(r#"<autoFilter ref="A1:C1"/>"#), "{xml}");
}
