//! Ledgers (台账) as xlsx. The template and the export are written from the ledger's columns; an
//! import reads the sheet, checks every cell against its column exactly as the form checks a
//! field, and either returns every row or every problem — never some rows.
//!
//! Query results of any shape are written by [`export_table`] (module `table`): typed cells under
//! Chinese headers, for the officers' query pages. [`read_table`] reads any sheet as text, for
//! lists people bring (an inspection table) whose columns are found by title.
#![forbid(unsafe_code)]

mod read;
mod table;
pub use read::{Table, read_table};
pub use table::{Cell, Column, ColumnKind, display_width, export_table};

use std::io::Cursor;

use calamine::{Data, DataRef, Reader, Xlsx, XlsxError as ReadError, open_workbook_from_rs};
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
fn cell_text(cell: &DataRef<'_>, column: &Field) -> Result<String, String> {
    cell_text_as(cell, matches!(column.kind, FieldKind::Date))
}

/// [`cell_text`] for a column that holds dates (`dates`) or may hold a date-formatted number.
fn cell_text_as(cell: &DataRef<'_>, dates: bool) -> Result<String, String> {
    Ok(match cell {
        DataRef::Empty => String::new(),
        DataRef::String(s) => s.trim().to_string(),
        DataRef::SharedString(s) => s.trim().to_string(),
        DataRef::Int(i) => i.to_string(),
        DataRef::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        DataRef::Float(f) => f.to_string(),
        DataRef::Bool(b) => if *b { "是" } else { "否" }.to_string(),
        DataRef::DateTime(dt) => {
            let (y, m, d, ..) = dt.to_ymd_hms_milli();
            if dates || dt.is_datetime() {
                format!("{y:04}-{m:02}-{d:02}")
            } else {
                dt.as_f64().to_string()
            }
        }
        DataRef::DateTimeIso(s) => s.get(..10).unwrap_or(s).to_string(),
        DataRef::DurationIso(s) => s.clone(),
        DataRef::Error(e) => return Err(format!("单元格有错误（{e}）")),
    })
}

/// Whether a cell shows nothing: no value, or only spaces.
fn is_blank(cell: &DataRef<'_>) -> bool {
    match cell {
        DataRef::Empty => true,
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => {
            s.trim().is_empty()
        }
        DataRef::SharedString(s) => s.trim().is_empty(),
        _ => false,
    }
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
///
/// The sheet is read cell by cell as it is unzipped, so only the rows returned are held, never
/// the whole sheet as well.
pub fn import(ledger: &Ledger, bytes: &[u8]) -> Result<Vec<Row>, ImportError> {
    let mut rows = Vec::new();
    import_each(ledger, bytes, |row| rows.push(row))?;
    Ok(rows)
}

/// [`import`] without gathering the rows: `each` is called with every good row, in sheet order,
/// as it is read, and the number of rows is returned.
///
/// The file is still all or nothing, but the caller must make it so: once a problem is found
/// `each` is not called again, yet the rest of the sheet is read to name every problem, and the
/// error comes only at the end — so rows already passed to `each` must then be thrown away (for
/// instance by rolling back the transaction they were written in).
pub fn import_each(
    ledger: &Ledger,
    bytes: &[u8],
    each: impl FnMut(Row),
) -> Result<usize, ImportError> {
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
    let mut reading = Reading::new(ledger, name.clone(), each);
    match book.worksheet_cells_reader(&name) {
        Ok(mut cells) => {
            while let Some(cell) = cells.next_cell().map_err(|_| ImportError::NotXlsx)? {
                reading.cell(cell.get_position(), cell.get_value())?;
            }
        }
        // A chart sheet, say: it has no cells, so the header is missing.
        Err(ReadError::NotAWorksheet(_)) => {}
        Err(_) => return Err(ImportError::NotXlsx),
    }
    reading.finish()
}

/// An import part way through the sheet. Cells come row by row (rows in order, a row's cells
/// left to right) with their positions; rows or cells with nothing in them may be missing.
struct Reading<'l, F> {
    ledger: &'l Ledger,
    sheet: String,
    /// The header's row (zero-based): the first with a value in any cell.
    header_row: Option<u32>,
    /// The header's titles so far, a title per column, normalised.
    titles: Vec<String>,
    /// Past the header, gathering data rows.
    in_body: bool,
    /// The data row being gathered (zero-based), a cell's text or problem per column, and
    /// whether every cell seen in it, in any column, was blank.
    line_row: u32,
    texts: Vec<Result<String, String>>,
    line_blank: bool,
    problems: Vec<CellProblem>,
    each: F,
    rows: usize,
}

impl<'l, F: FnMut(Row)> Reading<'l, F> {
    fn new(ledger: &'l Ledger, sheet: String, each: F) -> Self {
        let n = ledger.columns.len();
        Reading {
            ledger,
            sheet,
            header_row: None,
            titles: vec![String::new(); n],
            in_body: false,
            line_row: 0,
            texts: Vec::with_capacity(n),
            line_blank: true,
            problems: vec![],
            each,
            rows: 0,
        }
    }

    fn problem(&mut self, row: u32, column: String, message: String) {
        self.problems.push(CellProblem {
            sheet: self.sheet.clone(),
            row,
            column,
            message,
        });
    }

    fn cell(&mut self, (row, col): (u32, u32), value: &DataRef<'_>) -> Result<(), ImportError> {
        let col = col as usize;
        if self.in_body {
            if row != self.line_row {
                self.end_line();
                self.start_line(row);
            }
        } else {
            match self.header_row {
                None if matches!(value, DataRef::Empty) => return Ok(()),
                None => self.header_row = Some(row),
                Some(header) if header == row => {}
                Some(_) => {
                    self.check_header()?;
                    self.in_body = true;
                    self.start_line(row);
                }
            }
            if !self.in_body {
                if let Some(title) = self.titles.get_mut(col) {
                    *title = normalise_title(&Data::from(value.clone()).to_string());
                }
                return Ok(());
            }
        }
        if let Some(column) = self.ledger.columns.get(col) {
            self.texts[col] = cell_text(value, column);
        }
        if !is_blank(value) {
            self.line_blank = false;
        }
        Ok(())
    }

    /// The header must name the ledger's columns, in order.
    fn check_header(&mut self) -> Result<(), ImportError> {
        let row = self.header_row.map_or(1, |r| r + 1);
        for (i, column) in self.ledger.columns.iter().enumerate() {
            let found = &self.titles[i];
            if *found != normalise_title(&title(column)) && *found != normalise_title(&column.label)
            {
                self.problems.push(CellProblem {
                    sheet: self.sheet.clone(),
                    row,
                    column: format!("{}列", column_letter(i)),
                    message: format!("表头应为「{}」，请使用下载的模板", title(column)),
                });
            }
        }
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(ImportError::Cells(std::mem::take(&mut self.problems)))
        }
    }

    fn start_line(&mut self, row: u32) {
        self.line_row = row;
        self.line_blank = true;
        self.texts.clear();
        self.texts
            .resize_with(self.ledger.columns.len(), || Ok(String::new()));
    }

    /// Checks the gathered row, unless it is blank, and passes it on if nothing is wrong so far.
    fn end_line(&mut self) {
        if self.line_blank {
            return;
        }
        let excel_row = self.line_row + 1;
        let ledger = self.ledger;
        let mut texts = std::mem::take(&mut self.texts);
        let mut row = Vec::with_capacity(ledger.columns.len());
        for (i, (column, text)) in ledger.columns.iter().zip(texts.drain(..)).enumerate() {
            let locate = || format!("{}列「{}」", column_letter(i), title(column));
            let text = match text {
                Ok(t) => t,
                Err(e) => {
                    self.problem(excel_row, locate(), e);
                    row.push(String::new());
                    continue;
                }
            };
            match check(column, &Value::One(text)) {
                Ok(Value::One(v)) if v.is_empty() && column.required => {
                    self.problem(excel_row, locate(), "必填，不能为空".into());
                    row.push(v);
                }
                Ok(Value::One(v)) => row.push(v),
                Ok(Value::Many(v)) => row.push(v.join("、")),
                Err(e) => {
                    self.problem(excel_row, locate(), e);
                    row.push(String::new());
                }
            }
        }
        self.texts = texts;
        if self.problems.is_empty() {
            (self.each)(row);
            self.rows += 1;
        }
    }

    fn finish(mut self) -> Result<usize, ImportError> {
        if self.in_body {
            self.end_line();
        } else {
            self.check_header()?;
        }
        if self.problems.is_empty() {
            Ok(self.rows)
        } else {
            Err(ImportError::Cells(self.problems))
        }
    }
}

/// The import as it was before it streamed — the whole sheet read into a calamine `Range` —
/// kept to check that the streaming import gives the same rows and the same problems.
#[cfg(test)]
mod reference {
    use super::*;

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

    pub fn import_in_memory(ledger: &Ledger, bytes: &[u8]) -> Result<Vec<Row>, ImportError> {
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
}

#[cfg(test)]
mod tests {
    use rust_xlsxwriter::{ExcelDateTime, Formula};

    use super::*;

    fn ledger() -> Ledger {
        tongban_items::catalogue()
            .unwrap()
            .get("radiation-self-check")
            .unwrap()
            .ledger("source_sales")
            .unwrap()
            .clone()
    }

    /// What an import gives, as text to compare: the rows, or every problem.
    fn outcome(result: Result<Vec<Row>, ImportError>) -> Result<Vec<Row>, Vec<String>> {
        result.map_err(|e| match e {
            ImportError::Cells(list) => list.iter().map(|p| p.to_string()).collect(),
            other => vec![other.to_string()],
        })
    }

    fn same_as_before(ledger: &Ledger, bytes: &[u8]) -> Result<Vec<Row>, Vec<String>> {
        let now = outcome(import(ledger, bytes));
        let before = outcome(reference::import_in_memory(ledger, bytes));
        assert_eq!(now, before);
        now
    }

    type Fill = fn(&mut rust_xlsxwriter::Worksheet, u32);

    /// A workbook of one sheet named as the ledger, the header on `header_row` (zero-based)
    /// unless `None`, then `fill` called for each of `rows` data rows after it.
    fn book(ledger: &Ledger, header_row: Option<u32>, rows: u32, fill: Fill) -> Vec<u8> {
        let mut book = Workbook::new();
        let s = book.add_worksheet();
        s.set_name(&ledger.title).unwrap();
        let h = header_row.unwrap_or(0);
        if header_row.is_some() {
            for (c, column) in ledger.columns.iter().enumerate() {
                s.write_string(h, c as u16, title(column)).unwrap();
            }
        }
        for r in 1..=rows {
            fill(s, h + r);
        }
        book.save_to_buffer().unwrap()
    }

    fn good(s: &mut rust_xlsxwriter::Worksheet, r: u32) {
        let values = [
            "批件",
            "Cs-137",
            "2025-06-01",
            "3700000000",
            "IV类",
            "某单位",
            "沪环辐证[00001]",
        ];
        for (c, v) in values.iter().enumerate() {
            let v = if c == 0 {
                format!("{v}{r}")
            } else {
                v.to_string()
            };
            s.write_string(r, c as u16, v).unwrap();
        }
        s.write_number(r, 3, 3.7e9 + f64::from(r)).unwrap();
    }

    #[test]
    fn streaming_gives_what_the_whole_sheet_gave() {
        let l = ledger();
        let fills: Vec<(Option<u32>, u32, Fill)> = vec![
            // Good rows, with gaps: rows left out, a row of spaces, a cell left out.
            (Some(0), 12, |s, r| match r % 4 {
                0 => {}
                1 => {
                    s.write_string(r, 2, "   ").unwrap();
                }
                _ => good(s, r),
            }),
            // A cell missing mid-row, a bad value after it.
            (Some(0), 3, |s, r| {
                good(s, r);
                if r == 2 {
                    s.write_blank(r, 2, &Format::new().set_bold()).unwrap();
                    s.write_number(r, 3, -1.0).unwrap();
                }
            }),
            // Values beyond the ledger's columns make a row count, as they did.
            (Some(0), 4, |s, r| {
                if r % 2 == 0 {
                    good(s, r);
                } else {
                    s.write_string(r, 9, "备注").unwrap();
                }
            }),
            // The header lower down.
            (Some(2), 2, good),
            // Typed cells: a real date, a whole float, a fraction, a boolean, a formula error.
            (Some(0), 5, |s, r| {
                good(s, r);
                let date = ExcelDateTime::from_ymd(2025, 6, r as u8).unwrap();
                let fmt = Format::new().set_num_format("yyyy-mm-dd");
                s.write_datetime_with_format(r, 2, &date, &fmt).unwrap();
                match r {
                    2 => {
                        s.write_number(r, 3, 1.5).unwrap();
                    }
                    3 => {
                        s.write_boolean(r, 5, true).unwrap();
                    }
                    4 => {
                        s.write_formula(r, 6, Formula::new("=1/0").set_result("#DIV/0!"))
                            .unwrap();
                    }
                    _ => {}
                }
            }),
            // No header at all, only data; and nothing at all.
            (None, 3, good),
            (None, 0, good),
        ];
        let results: Vec<_> = fills
            .into_iter()
            .map(|(header, rows, fill)| same_as_before(&l, &book(&l, header, rows, fill)))
            .collect();
        assert_eq!(results[0].as_ref().unwrap().len(), 6);
        assert_eq!(
            results[1].as_ref().unwrap_err(),
            &[
                "工作表「放射源销售台账」第3行C列「出厂日期」：必填，不能为空",
                "工作表「放射源销售台账」第3行D列「出厂活度（Bq）」：不能小于0",
            ]
        );
        assert_eq!(results[2].as_ref().unwrap_err().len(), 14);
        assert_eq!(results[3].as_ref().unwrap()[0][0], "批件3");
        assert_eq!(
            results[4].as_ref().unwrap_err(),
            &["工作表「放射源销售台账」第5行G列「许可证号」：单元格有错误（#DIV/0!）"]
        );
        assert!(results[5].as_ref().unwrap_err()[0].contains("第2行A列：表头应为"));
        assert!(results[6].as_ref().unwrap_err()[0].contains("第1行A列：表头应为"));

        // The header under a row of formatted blanks, its titles with the marks a person adds.
        let mut b = Workbook::new();
        let s = b.add_worksheet();
        s.write_blank(0, 0, &Format::new().set_bold()).unwrap();
        s.write_blank(0, 3, &Format::new().set_bold()).unwrap();
        for (c, column) in l.columns.iter().enumerate() {
            s.write_string(1, c as u16, format!("* {}", title(column)))
                .unwrap();
        }
        good(s, 2);
        assert_eq!(
            same_as_before(&l, &b.save_to_buffer().unwrap()).unwrap()[0][0],
            "批件2"
        );

        // A number in a header cell, the header row starting with a formatted blank.
        let mut b = Workbook::new();
        let s = b.add_worksheet();
        s.write_blank(1, 0, &Format::new().set_bold()).unwrap();
        s.write_string(1, 1, "核素").unwrap();
        s.write_number(1, 2, 12.0).unwrap();
        same_as_before(&l, &b.save_to_buffer().unwrap()).unwrap_err();
    }

    #[test]
    fn a_cell_left_out_keeps_the_next_in_its_column() {
        let mut l = ledger();
        l.columns[2].required = false;
        let bytes = book(&l, Some(0), 2, |s, r| {
            good(s, r);
            if r == 1 {
                s.write_blank(r, 2, &Format::new()).unwrap();
            }
        });
        // A blank with no format is not written at all: C2 is missing from the XML.
        let rows = same_as_before(&l, &bytes).unwrap();
        assert_eq!(rows[0][1], "Cs-137");
        assert_eq!(rows[0][2], "");
        assert_eq!(rows[0][3], "3700000001");
        assert_eq!(rows[1][2], "2025-06-01");
    }
}
