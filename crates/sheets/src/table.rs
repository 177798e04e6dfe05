//! Query results as xlsx (查询结果导出): any table of typed cells under Chinese headers, for the
//! officers' query pages. The header is bold, frozen and filtered; columns are as wide as their
//! content; dates are real Excel dates and numbers real numbers, so they sort and sum.
//!
//! ```
//! use tongban_sheets::{Cell, Column, ColumnKind, export_table};
//!
//! let columns = [
//!     Column::text("单位名称"),
//!     Column::integer("件数"),
//!     Column::date("受理日期"),
//! ];
//! let date = chrono::NaiveDate::from_ymd_opt(2026, 1, 31).unwrap();
//! let rows = [vec![Cell::from("上海示范医院"), Cell::from(3), Cell::from(date)]];
//! let xlsx = export_table("查询结果", &columns, rows).unwrap();
//! assert!(xlsx.starts_with(b"PK"));
//! ```
use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, Worksheet, XlsxError};

use crate::WriteError;

/// What a column holds; it decides the format of its dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ColumnKind {
    Text,
    Integer,
    Decimal,
    /// Shown `yyyy-mm-dd`.
    Date,
    /// Shown `yyyy-mm-dd hh:mm`.
    DateTime,
}

/// A column of the table: its header as a person reads it, and what it holds.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Column {
    pub title: String,
    pub kind: ColumnKind,
}

impl Column {
    pub fn new(title: impl Into<String>, kind: ColumnKind) -> Self {
        Column {
            title: title.into(),
            kind,
        }
    }

    pub fn text(title: impl Into<String>) -> Self {
        Self::new(title, ColumnKind::Text)
    }

    pub fn integer(title: impl Into<String>) -> Self {
        Self::new(title, ColumnKind::Integer)
    }

    pub fn decimal(title: impl Into<String>) -> Self {
        Self::new(title, ColumnKind::Decimal)
    }

    pub fn date(title: impl Into<String>) -> Self {
        Self::new(title, ColumnKind::Date)
    }

    pub fn datetime(title: impl Into<String>) -> Self {
        Self::new(title, ColumnKind::DateTime)
    }
}

/// One cell of a row. `From` makes one from a string, a number, a chrono date or date-time, or an
/// `Option` of those (`None` is empty).
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Cell {
    #[default]
    Empty,
    /// Written as text even if it looks like a number or a formula.
    Text(String),
    /// A number; beyond 15 digits (where Excel would round it) it is written as text.
    Integer(i64),
    /// A number; NaN and infinities are left empty.
    Decimal(f64),
    /// An Excel date; before 1900 (where Excel has none) it is written as `YYYY-MM-DD` text.
    Date(NaiveDate),
    /// An Excel date and time, to the second.
    DateTime(NaiveDateTime),
}

impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Text(s)
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Text(s.to_string())
    }
}

impl From<&String> for Cell {
    fn from(s: &String) -> Self {
        Cell::Text(s.clone())
    }
}

impl From<i64> for Cell {
    fn from(n: i64) -> Self {
        Cell::Integer(n)
    }
}

impl From<i32> for Cell {
    fn from(n: i32) -> Self {
        Cell::Integer(n.into())
    }
}

impl From<u32> for Cell {
    fn from(n: u32) -> Self {
        Cell::Integer(n.into())
    }
}

impl From<f64> for Cell {
    fn from(n: f64) -> Self {
        Cell::Decimal(n)
    }
}

impl From<NaiveDate> for Cell {
    fn from(d: NaiveDate) -> Self {
        Cell::Date(d)
    }
}

impl From<NaiveDateTime> for Cell {
    fn from(t: NaiveDateTime) -> Self {
        Cell::DateTime(t)
    }
}

impl<T: Into<Cell>> From<Option<T>> for Cell {
    fn from(v: Option<T>) -> Self {
        v.map_or(Cell::Empty, Into::into)
    }
}

/// The widest a column is made, in Excel's character units.
const MAX_WIDTH: f64 = 60.0;
const MIN_WIDTH: f64 = 6.0;
/// The most characters Excel keeps in a cell.
const MAX_TEXT: usize = 32_767;
/// The largest integer Excel shows exactly (15 significant digits).
const MAX_EXACT: u64 = 999_999_999_999_999;

/// How wide text looks in Excel's character units: Chinese (and other wide) characters count
/// two, others one; the widest line of several.
pub fn display_width(text: &str) -> usize {
    text.lines()
        .map(|line| line.chars().map(char_width).sum())
        .max()
        .unwrap_or(0)
}

fn char_width(c: char) -> usize {
    let wide = matches!(c as u32,
        0x1100..=0x115F          // Hangul Jamo
        | 0x2E80..=0x303E        // CJK radicals, punctuation (、。「」…)
        | 0x3041..=0x33FF        // kana, CJK compatibility
        | 0x3400..=0x4DBF        // CJK extension A
        | 0x4E00..=0x9FFF        // CJK unified ideographs
        | 0xA000..=0xA4CF        // Yi
        | 0xAC00..=0xD7A3        // Hangul syllables
        | 0xF900..=0xFAFF        // CJK compatibility ideographs
        | 0xFE30..=0xFE4F        // CJK compatibility forms
        | 0xFF00..=0xFF60        // full-width forms (（），：)
        | 0xFFE0..=0xFFE6
        | 0x1F300..=0x1F64F      // emoji
        | 0x20000..=0x3FFFD); // CJK extensions B onwards
    if wide { 2 } else { 1 }
}

/// A sheet name Excel accepts: without `[]:*?/\`, no apostrophe at either end, at most 31
/// UTF-16 units; `Sheet1` if nothing is left.
fn sheet_name(name: &str) -> String {
    let allowed: String = name.chars().filter(|c| !"[]:*?/\\".contains(*c)).collect();
    let mut out = String::new();
    let mut units = 0;
    for c in allowed
        .trim_matches(|c: char| c == '\'' || c.is_whitespace())
        .chars()
    {
        units += c.len_utf16();
        if units > 31 {
            break;
        }
        out.push(c);
    }
    let out = out.trim_end_matches(|c: char| c == '\'' || c.is_whitespace());
    if out.is_empty() {
        "Sheet1".into()
    } else {
        out.to_string()
    }
}

fn excel_date(d: NaiveDate) -> Result<ExcelDateTime, XlsxError> {
    let year = u16::try_from(d.year())
        .map_err(|_| XlsxError::DateTimeRangeError(format!("year {}", d.year())))?;
    ExcelDateTime::from_ymd(year, d.month() as u8, d.day() as u8)
}

fn excel_datetime(t: NaiveDateTime) -> Result<ExcelDateTime, XlsxError> {
    excel_date(t.date())?.and_hms(t.hour() as u16, t.minute() as u8, t.second())
}

/// 查询结果导出: `rows` under `columns` on one sheet named `sheet` (cleaned to a name Excel
/// accepts). A row's cells are in column order; missing cells are empty, cells beyond the
/// columns are ignored. Text longer than Excel's 32 767 characters is cut there.
///
/// The rows are written as they come (in rust_xlsxwriter's constant-memory mode, to a temporary
/// file, when one can be made), so an export of many rows need not be held as cells in memory.
/// More rows than Excel's 1 048 575 is an error.
pub fn export_table<R>(
    sheet: &str,
    columns: &[Column],
    rows: impl IntoIterator<Item = R>,
) -> Result<Vec<u8>, WriteError>
where
    R: IntoIterator<Item = Cell>,
{
    let mut book = Workbook::new();
    if book.add_worksheet_with_constant_memory().is_err() {
        // No temporary file: the same sheet, held in memory.
        book.add_worksheet();
    }
    let ws = book.worksheet_from_index(0)?;
    ws.set_name(sheet_name(sheet))?;
    let formats = Formats {
        header: Format::new().set_bold().set_background_color("#DDEBF7"),
        date: Format::new().set_num_format("yyyy-mm-dd"),
        datetime: Format::new().set_num_format("yyyy-mm-dd hh:mm"),
    };

    // Widths in character units; a header has room for its filter button.
    let mut widths: Vec<usize> = columns
        .iter()
        .map(|c| display_width(&c.title) + 2)
        .collect();
    for (c, column) in columns.iter().enumerate() {
        ws.write_string_with_format(0, col(c)?, &column.title, &formats.header)?;
    }
    let mut last_row = 0;
    for (r, cells) in rows.into_iter().enumerate() {
        let r = u32::try_from(r + 1).map_err(|_| XlsxError::RowColumnLimitError)?;
        for (c, (cell, column)) in cells.into_iter().zip(columns).enumerate() {
            let width = write_cell(ws, r, col(c)?, cell, column.kind, &formats)?;
            widths[c] = widths[c].max(width);
        }
        last_row = r;
    }

    if !columns.is_empty() {
        let last_col = col(columns.len() - 1)?;
        ws.set_freeze_panes(1, 0)?;
        ws.autofilter(0, 0, last_row, last_col)?;
        for (c, width) in widths.iter().enumerate() {
            // One unit of padding either side.
            let width = (*width as f64 + 2.0).clamp(MIN_WIDTH, MAX_WIDTH);
            ws.set_column_width(col(c)?, width)?;
        }
    }
    Ok(book.save_to_buffer()?)
}

struct Formats {
    header: Format,
    date: Format,
    datetime: Format,
}

fn col(c: usize) -> Result<u16, XlsxError> {
    u16::try_from(c).map_err(|_| XlsxError::RowColumnLimitError)
}

/// Writes one cell and returns how wide it shows, in character units.
fn write_cell(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    cell: Cell,
    kind: ColumnKind,
    formats: &Formats,
) -> Result<usize, XlsxError> {
    // A date in a date-time column shows its (zero) time, a date-time in a date column only its
    // date.
    let with_time = |is_datetime: bool| match kind {
        ColumnKind::Date => false,
        ColumnKind::DateTime => true,
        _ => is_datetime,
    };
    Ok(match cell {
        Cell::Empty => 0,
        Cell::Text(mut s) => {
            if s.is_empty() {
                return Ok(0);
            }
            if let Some((cut, _)) = s.char_indices().nth(MAX_TEXT) {
                s.truncate(cut);
            }
            let width = display_width(&s);
            ws.write_string(row, col, s)?;
            width
        }
        Cell::Integer(n) => {
            let text = n.to_string();
            if n.unsigned_abs() <= MAX_EXACT {
                ws.write_number(row, col, n as f64)?;
            } else {
                ws.write_string(row, col, &text)?;
            }
            text.len()
        }
        Cell::Decimal(x) if x.is_finite() => {
            ws.write_number(row, col, x)?;
            // Excel's General format shows at most about 11 characters.
            x.to_string().len().min(11)
        }
        Cell::Decimal(_) => 0,
        Cell::Date(d) => {
            let time = with_time(false);
            match excel_date(d) {
                Ok(dt) if time => {
                    ws.write_datetime_with_format(row, col, dt, &formats.datetime)?;
                    16
                }
                Ok(dt) => {
                    ws.write_datetime_with_format(row, col, dt, &formats.date)?;
                    10
                }
                Err(_) => {
                    let text = d.format("%Y-%m-%d").to_string();
                    ws.write_string(row, col, &text)?;
                    text.len()
                }
            }
        }
        Cell::DateTime(t) => {
            let time = with_time(true);
            match excel_datetime(t) {
                Ok(dt) if time => {
                    ws.write_datetime_with_format(row, col, dt, &formats.datetime)?;
                    16
                }
                Ok(dt) => {
                    ws.write_datetime_with_format(row, col, dt, &formats.date)?;
                    10
                }
                Err(_) => {
                    let text = t
                        .format(if time { "%Y-%m-%d %H:%M" } else { "%Y-%m-%d" })
                        .to_string();
                    ws.write_string(row, col, &text)?;
                    text.len()
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_counts_two_and_the_widest_line_counts() {
        assert_eq!(display_width("abc"), 3);
        assert_eq!(display_width("上海示范医院"), 12);
        assert_eq!(display_width("沪环辐证[00001]"), 15);
        assert_eq!(display_width("数量（吨）"), 10);
        assert_eq!(display_width("短\n长一些的行"), 10);
        assert_eq!(display_width(""), 0);
    }

    #[test]
    fn sheet_names_are_made_acceptable() {
        assert_eq!(sheet_name("查询结果"), "查询结果");
        assert_eq!(sheet_name("2026/01 [草稿]*"), "202601 草稿");
        assert_eq!(sheet_name("'引号'"), "引号");
        assert_eq!(sheet_name("::"), "Sheet1");
        assert_eq!(sheet_name(&"长".repeat(40)), "长".repeat(31));
    }
}
