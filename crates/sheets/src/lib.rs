//! Ledgers (台账) as xlsx. The template and the export are written from the ledger's columns; an
//! import reads the sheet, checks every cell against its column exactly as the form checks a
//! field, and either returns every row or every problem — never some rows.
#![forbid(unsafe_code)]

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use rust_xlsxwriter::{DataValidation, Format, Workbook, XlsxError};
use tongban_engine::validate::check;
use tongban_engine::{Field, FieldKind, Ledger, Value};

/// One ledger row: a value per column, in column order, as stored.
pub type Row = Vec<String>;

/// A problem in one cell (or the header), located as a person reads the sheet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellProblem {
    pub sheet: String,
    /// The row as Excel numbers it (1 is the header).
    pub row: u32,
    /// Column letter and title, e.g. `D列「出厂活度（Bq）」`; empty for a whole-row problem.
    pub column: String,
    pub message: String,
}

impl std::fmt::Display for CellProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "工作表「{}」第{}行", self.sheet, self.row)?;
        if !self.column.is_empty() {
            write!(f, "{}", self.column)?;
        }
        write!(f, "：{}", self.message)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("文件不是有效的Excel（xlsx）文件，请使用下载的模板填写")]
    NotXlsx,
    #[error("文件中没有工作表")]
    NoSheet,
    /// Every problem found (the list may be long: show the first ones and the count).
    #[error("台账导入失败，共{}处错误，未导入任何数据", .0.len())]
    Cells(Vec<CellProblem>),
}

#[derive(Debug, thiserror::Error)]
#[error("生成Excel文件失败：{0}")]
pub struct WriteError(#[from] XlsxError);

/// A column's title in the template: its label, with its unit.
pub fn title(column: &Field) -> String {
    match &column.kind {
        FieldKind::Number {
            unit: Some(unit), ..
        } => format!("{}（{unit}）", column.label),
        _ => column.label.clone(),
    }
}

/// `A`, `B`, … `AA` for a zero-based column index.
pub fn column_letter(mut index: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (index % 26) as u8);
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).expect("ASCII letters")
}

/// The sheet name Excel allows for a ledger title (at most 31 characters, no `[]:*?/\`).
fn sheet_name(ledger: &Ledger) -> String {
    ledger
        .title
        .chars()
        .filter(|c| !"[]:*?/\\".contains(*c))
        .take(31)
        .collect()
}

fn help_text(column: &Field) -> String {
    let mut parts = vec![];
    if column.required {
        parts.push("必填".to_string());
    }
    match &column.kind {
        FieldKind::Date => parts.push("日期，格式如 2026-01-31".into()),
        FieldKind::Number {
            decimals: Some(0), ..
        } => parts.push("整数".into()),
        FieldKind::Number { .. } => parts.push("数字".into()),
        FieldKind::Choice { options, .. } => {
            parts.push(format!("从下拉列表选择：{}", options.join("、")))
        }
        FieldKind::Year { min, max } => parts.push(format!("{min}至{max}年")),
        FieldKind::CreditCode => parts.push("18位统一社会信用代码".into()),
        FieldKind::Phone => parts.push("手机号码或带区号的固定电话".into()),
        _ => {}
    }
    if let Some(h) = &column.help {
        parts.push(h.clone());
    }
    parts.join("；")
}

fn write(ledger: &Ledger, rows: &[Row]) -> Result<Vec<u8>, WriteError> {
    let mut book = Workbook::new();
    let header = Format::new().set_bold().set_background_color("#DDEBF7");
    let sheet = book.add_worksheet();
    sheet.set_name(sheet_name(ledger))?;
    for (i, column) in ledger.columns.iter().enumerate() {
        let col = i as u16;
        let title = title(column);
        sheet.write_string_with_format(0, col, &title, &header)?;
        sheet.set_column_width(col, (title.chars().count() as f64 * 2.2).max(12.0))?;
        if let FieldKind::Choice { options, .. } = &column.kind {
            let list = DataValidation::new().allow_list_strings(options)?;
            sheet.add_data_validation(1, col, 1_048_575, col, &list)?;
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    for (r, row) in rows.iter().enumerate() {
        for (c, value) in row.iter().enumerate() {
            if value.is_empty() {
                continue;
            }
            let (r, c) = ((r + 1) as u32, c as u16);
            match (&ledger.columns[c as usize].kind, value.parse::<f64>()) {
                (FieldKind::Number { .. }, Ok(n)) => sheet.write_number(r, c, n)?,
                _ => sheet.write_string(r, c, value)?,
            };
        }
    }
    let notes = book.add_worksheet();
    notes.set_name("填写说明")?;
    notes.write_string_with_format(0, 0, "列", &header)?;
    notes.write_string_with_format(0, 1, "填写要求", &header)?;
    notes.set_column_width(0, 24)?;
    notes.set_column_width(1, 60)?;
    for (i, column) in ledger.columns.iter().enumerate() {
        notes.write_string((i + 1) as u32, 0, title(column))?;
        notes.write_string((i + 1) as u32, 1, help_text(column))?;
    }
    Ok(book.save_to_buffer()?)
}

/// 模板下载: the ledger's columns as a header row, lists for choice columns, and a sheet of
/// instructions.
pub fn template(ledger: &Ledger) -> Result<Vec<u8>, WriteError> {
    write(ledger, &[])
}

/// 导出: the rows under the same header, so an export can be edited and imported again.
pub fn export(ledger: &Ledger, rows: &[Row]) -> Result<Vec<u8>, WriteError> {
    write(ledger, rows)
}

/// A cell as the text a person typed: whole numbers without `.0`, dates as `YYYY-MM-DD`.
fn cell_text(cell: &Data, column: &Field) -> Result<String, String> {
    Ok(match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.trim().to_string(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => if *b { "是" } else { "否" }.to_string(),
        Data::DateTime(dt) => {
            let (y, m, d, ..) = dt.to_ymd_hms_milli();
            if matches!(column.kind, FieldKind::Date) || dt.is_datetime() {
                format!("{y:04}-{m:02}-{d:02}")
            } else {
                dt.as_f64().to_string()
            }
        }
        Data::DateTimeIso(s) => s.get(..10).unwrap_or(s).to_string(),
        Data::DurationIso(s) => s.clone(),
        Data::Error(e) => return Err(format!("单元格有错误（{e}）")),
    })
}

/// Strips the marks a person may add to a title (`*`, spaces) before comparing it.
fn normalise_title(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && *c != '*' && *c != '＊')
        .collect::<String>()
        .replace('(', "（")
        .replace(')', "）")
}

/// 台账导入: reads the ledger's sheet (by its title, else the first), checks the header and every
/// cell, and returns all rows — or every problem and no rows.
pub fn import(ledger: &Ledger, bytes: &[u8]) -> Result<Vec<Row>, ImportError> {
    let mut book: Xlsx<_> =
        open_workbook_from_rs(Cursor::new(bytes)).map_err(|_| ImportError::NotXlsx)?;
    let names = book.sheet_names();
    let wanted = sheet_name(ledger);
    let name = names
        .iter()
        .find(|n| **n == wanted)
        .or_else(|| names.first())
        .cloned()
        .ok_or(ImportError::NoSheet)?;
    let range = book
        .worksheet_range(&name)
        .map_err(|_| ImportError::NotXlsx)?;
    let (first_row, first_col) = range.start().unwrap_or((0, 0));
    let mut rows = range.rows();
    let problem = |row: u32, column: String, message: String| CellProblem {
        sheet: name.clone(),
        row,
        column,
        message,
    };

    // The header must name the ledger's columns, in order.
    let header: Vec<String> = rows
        .next()
        .map(|r| r.iter().map(|c| normalise_title(&c.to_string())).collect())
        .unwrap_or_default();
    let header_row = first_row + 1;
    let mut problems = vec![];
    for (i, column) in ledger.columns.iter().enumerate() {
        let at = i.checked_sub(first_col as usize).map(|j| header.get(j));
        let found = at.flatten().cloned().unwrap_or_default();
        if found != normalise_title(&title(column)) && found != normalise_title(&column.label) {
            problems.push(problem(
                header_row,
                format!("{}列", column_letter(i)),
                format!("表头应为「{}」，请使用下载的模板", title(column)),
            ));
        }
    }
    if !problems.is_empty() {
        return Err(ImportError::Cells(problems));
    }

    let mut out = Vec::new();
    for (offset, cells) in rows.enumerate() {
        let excel_row = header_row + 1 + offset as u32;
        if cells.iter().all(|c| matches!(c, Data::Empty))
            || cells.iter().all(|c| c.to_string().trim().is_empty())
        {
            continue;
        }
        let mut row = Vec::with_capacity(ledger.columns.len());
        for (i, column) in ledger.columns.iter().enumerate() {
            let locate = || format!("{}列「{}」", column_letter(i), title(column));
            let cell = cells.get(i).unwrap_or(&Data::Empty);
            let text = match cell_text(cell, column) {
                Ok(t) => t,
                Err(e) => {
                    problems.push(problem(excel_row, locate(), e));
                    row.push(String::new());
                    continue;
                }
            };
            match check(column, &Value::One(text)) {
                Ok(Value::One(v)) if v.is_empty() && column.required => {
                    problems.push(problem(excel_row, locate(), "必填，不能为空".into()));
                    row.push(v);
                }
                Ok(Value::One(v)) => row.push(v),
                Ok(Value::Many(v)) => row.push(v.join("、")),
                Err(e) => {
                    problems.push(problem(excel_row, locate(), e));
                    row.push(String::new());
                }
            }
        }
        out.push(row);
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(ImportError::Cells(problems))
    }
}
