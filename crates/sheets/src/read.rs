//! Any sheet read as text: for tables a person brings that are not ledgers (an inspection list
//! for 年度报告批量确认, say), whose columns the caller finds by title.
use std::io::Cursor;

use calamine::{DataRef, Reader, Xlsx, open_workbook_from_rs};

use crate::{ImportError, cell_text_as, normalise_title};

/// The first sheet as text: its header (the first row with anything in it) and the rows below.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub sheet: String,
    /// Titles as written, with `*` and spaces dropped and brackets made full-width.
    pub titles: Vec<String>,
    /// Each non-blank row below the header: its number as Excel shows it, and a text per cell
    /// (padded to the header's width).
    pub rows: Vec<(u32, Vec<String>)>,
}

impl Table {
    /// The column whose title is one of `titles`, by position.
    pub fn column(&self, titles: &[&str]) -> Option<usize> {
        self.titles
            .iter()
            .position(|t| titles.iter().any(|w| normalise_title(w) == *t))
    }
}

/// Reads the workbook's first sheet. Cells read as a person typed them: whole numbers without
/// `.0`, dates as `YYYY-MM-DD`.
pub fn read_table(bytes: &[u8]) -> Result<Table, ImportError> {
    let mut book: Xlsx<_> =
        open_workbook_from_rs(Cursor::new(bytes)).map_err(|_| ImportError::NotXlsx)?;
    let sheet = book
        .sheet_names()
        .first()
        .cloned()
        .ok_or(ImportError::NoSheet)?;
    let mut lines: Vec<(u32, Vec<String>)> = Vec::new();
    if let Ok(mut cells) = book.worksheet_cells_reader(&sheet) {
        while let Some(cell) = cells.next_cell().map_err(|_| ImportError::NotXlsx)? {
            let (row, col) = cell.get_position();
            let text = text(cell.get_value());
            if text.is_empty() {
                continue;
            }
            if lines.last().is_none_or(|(r, _)| *r != row + 1) {
                lines.push((row + 1, Vec::new()));
            }
            let line = &mut lines.last_mut().expect("pushed").1;
            let col = col as usize;
            if line.len() <= col {
                line.resize(col + 1, String::new());
            }
            line[col] = text;
        }
    }
    let mut lines = lines.into_iter();
    let titles: Vec<String> = lines
        .next()
        .map(|(_, t)| t.iter().map(|t| normalise_title(t)).collect())
        .unwrap_or_default();
    let width = titles.len();
    let rows = lines
        .map(|(n, mut cells)| {
            if cells.len() < width {
                cells.resize(width, String::new());
            }
            (n, cells)
        })
        .collect();
    Ok(Table {
        sheet,
        titles,
        rows,
    })
}

/// A cell as its text; a date cell as `YYYY-MM-DD`, an error cell as nothing.
fn text(cell: &DataRef<'_>) -> String {
    cell_text_as(cell, true).unwrap_or_default()
}
