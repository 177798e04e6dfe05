//! 年度报告确认: an inspection table read and matched to the year's reports (the preview), all
//! matched confirmed in one transaction, or one report confirmed with a typed number.
use std::collections::HashMap;

use tongban_domain::audit::{AuditAction, NewAuditEntry};
use tongban_domain::{Officer, Timestamp};
use tongban_engine::Item;
use tongban_engine::case::EventBody;
use tongban_store::case_index;
use tongban_store::cases as repo;
use tongban_store::{Store, Tx};

use super::{
    Filter, MAX_INSPECTIONS, Report, ReportError, ReportStatus, Scope, all, get, officer_actor,
};
use crate::chain;

/// A row of an inspection table: its Excel row number, the 检查编号 and what identifies the
/// unit (credit code and/or licence number).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspection {
    pub row: u32,
    pub number: String,
    pub credit_code: String,
    pub reference: String,
}

impl Inspection {
    /// How the row names the unit, for the preview.
    pub fn unit(&self) -> String {
        match (self.credit_code.is_empty(), self.reference.is_empty()) {
            (false, false) => format!("{} / {}", self.credit_code, self.reference),
            (false, true) => self.credit_code.clone(),
            _ => self.reference.clone(),
        }
    }
}

/// Reads an inspection table: a sheet with a 检查编号 column and a 统一社会信用代码 and/or
/// 许可证号 column (header in the first row with content). A row missing its number, or naming
/// no unit, is refused with the row named; nothing is confirmed from a table with errors.
pub fn read_inspections(bytes: &[u8]) -> Result<Vec<Inspection>, ReportError> {
    let table =
        tongban_sheets::read_table(bytes).map_err(|e| ReportError::BadTable(e.to_string()))?;
    let number = table
        .column(&["检查编号"])
        .ok_or_else(|| ReportError::BadTable("表格第一行须有「检查编号」列".into()))?;
    let code = table.column(&["统一社会信用代码", "社会信用代码", "信用代码"]);
    let licence = table.column(&["许可证号", "辐射安全许可证号", "许可证编号"]);
    if code.is_none() && licence.is_none() {
        return Err(ReportError::BadTable(
            "表格第一行须有「统一社会信用代码」或「许可证号」列".into(),
        ));
    }
    if table.rows.len() > MAX_INSPECTIONS {
        return Err(ReportError::BadTable(format!(
            "一次最多确认{MAX_INSPECTIONS}行，本表有{}行",
            table.rows.len()
        )));
    }
    let mut problems = Vec::new();
    let mut out = Vec::with_capacity(table.rows.len());
    let cell = |cells: &[String], at: Option<usize>| {
        at.and_then(|i| cells.get(i))
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    };
    for (row, cells) in &table.rows {
        let inspection = Inspection {
            row: *row,
            number: cell(cells, Some(number)),
            credit_code: cell(cells, code).to_uppercase(),
            reference: cell(cells, licence),
        };
        if inspection.number.is_empty() {
            problems.push(format!("第{row}行：「检查编号」未填写"));
        } else if inspection.number.chars().count() > 50 {
            problems.push(format!("第{row}行：「检查编号」不能超过50个字符"));
        }
        if inspection.credit_code.is_empty() && inspection.reference.is_empty() {
            problems.push(format!("第{row}行：未填写统一社会信用代码或许可证号"));
        }
        out.push(inspection);
    }
    if !problems.is_empty() {
        let shown: Vec<&str> = problems.iter().take(10).map(String::as_str).collect();
        return Err(ReportError::BadTable(format!(
            "检查表有{}处错误，未确认任何报告：{}{}",
            problems.len(),
            shown.join("；"),
            if problems.len() > 10 { "……" } else { "" }
        )));
    }
    if out.is_empty() {
        return Err(ReportError::BadTable("检查表中没有数据行".into()));
    }
    Ok(out)
}

/// Why a row of the table matched no report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmatched {
    pub inspection: Inspection,
    pub reason: String,
}

/// What confirming a table would do: the rows that name a report of the year, those whose
/// report is confirmed already, and those that match none.
#[derive(Debug, Clone, Default)]
pub struct Preview {
    pub matched: Vec<(Inspection, Report)>,
    pub already: Vec<(Inspection, Report)>,
    pub unmatched: Vec<Unmatched>,
}

/// Matches the table's rows to the year's reports within `scope`: by credit code, else by
/// licence number. A unit with two reports for the year (one replaced by another) matches its
/// latest.
pub async fn preview(
    store: &Store,
    item: &Item,
    scope: &Scope,
    year: i64,
    rows: &[Inspection],
) -> Result<Preview, ReportError> {
    let filter = Filter {
        year: Some(year),
        ..Filter::default()
    };
    let reports = all(store, item, scope, &filter).await?;
    // `all` is newest first: the first report seen for a key is the latest.
    let mut by_code: HashMap<&str, &Report> = HashMap::new();
    let mut by_reference: HashMap<&str, &Report> = HashMap::new();
    for r in &reports {
        by_code.entry(r.credit_code.as_str()).or_insert(r);
        if !r.reference.is_empty() {
            by_reference.entry(r.reference.as_str()).or_insert(r);
        }
    }
    let mut out = Preview::default();
    let mut seen: HashMap<String, u32> = HashMap::new();
    for row in rows {
        let found = by_code
            .get(row.credit_code.as_str())
            .or_else(|| by_reference.get(row.reference.as_str()))
            .copied();
        let Some(report) = found else {
            let bad_code = !row.credit_code.is_empty()
                && tongban_domain::CreditCode::parse(&row.credit_code).is_err();
            let reason = if bad_code && row.reference.is_empty() {
                format!(
                    "统一社会信用代码「{}」有误（应为18位且校验位正确），请核对检查表",
                    row.credit_code
                )
            } else {
                format!("未找到该单位{year}年度已提交的年度报告")
            };
            out.unmatched.push(Unmatched {
                inspection: row.clone(),
                reason,
            });
            continue;
        };
        if let Some(first) = seen.insert(report.case_id.clone(), row.row) {
            out.unmatched.push(Unmatched {
                inspection: row.clone(),
                reason: format!("与第{first}行是同一份报告"),
            });
            seen.insert(report.case_id.clone(), first);
            continue;
        }
        if report.status == ReportStatus::Confirmed {
            out.already.push((row.clone(), report.clone()));
        } else {
            out.matched.push((row.clone(), report.clone()));
        }
    }
    Ok(out)
}

/// How a confirmation ended.
#[derive(Debug, Clone)]
pub struct Confirmed {
    /// Reports confirmed now.
    pub confirmed: usize,
    pub preview: Preview,
}

async fn confirm_in(
    tx: &mut Tx,
    store: &Store,
    case_id: &str,
    inspection_number: &str,
    officer: &Officer,
    now: Timestamp,
) -> Result<bool, ReportError> {
    let actor = officer_actor(officer);
    if !case_index::confirm(tx, case_id, inspection_number, now.millis(), &actor).await? {
        return Ok(false);
    }
    let row = repo::by_id(store, case_id)
        .await?
        .ok_or(ReportError::NotFound)?;
    chain(
        tx,
        row,
        &actor,
        EventBody::ReportConfirmed {
            inspection_number: inspection_number.to_string(),
        },
        now,
    )
    .await?;
    Ok(true)
}

/// 年度报告批量确认: confirms every matched report of the table in one transaction (a case
/// event and its index row each), matching again so what is confirmed is what the table says
/// now. Unmatched rows are listed, not confirmed.
pub async fn confirm_table(
    store: &Store,
    item: &Item,
    officer: &Officer,
    year: i64,
    rows: &[Inspection],
) -> Result<Confirmed, ReportError> {
    let scope = Scope::of(officer);
    let preview = preview(store, item, &scope, year, rows).await?;
    let now = Timestamp::now();
    let mut tx = store.begin().await?;
    let mut confirmed = 0;
    for (inspection, report) in &preview.matched {
        if confirm_in(
            &mut tx,
            store,
            &report.case_id,
            &inspection.number,
            officer,
            now,
        )
        .await?
        {
            confirmed += 1;
        }
    }
    tongban_store::audit::append(
        &mut tx,
        &NewAuditEntry {
            actor: officer_actor(officer),
            action: AuditAction::CaseAction,
            object: format!("item:{}", item.id),
            detail: serde_json::json!({
                "action": "年度报告批量确认",
                "year": year,
                "rows": rows.len(),
                "confirmed": confirmed,
                "unmatched": preview.unmatched.len(),
            }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Confirmed { confirmed, preview })
}

/// Confirms one report with a typed inspection number.
pub async fn confirm_one(
    store: &Store,
    item: &Item,
    officer: &Officer,
    case_id: &str,
    inspection_number: &str,
) -> Result<Report, ReportError> {
    let number = inspection_number.trim();
    if number.is_empty() {
        return Err(ReportError::NoInspectionNumber);
    }
    if number.chars().count() > 50 {
        return Err(ReportError::InspectionNumberTooLong);
    }
    let report = get(store, item, &Scope::of(officer), case_id).await?;
    if let Some(n) = &report.inspection_number {
        return Err(ReportError::AlreadyConfirmed(n.clone()));
    }
    let mut tx = store.begin().await?;
    let done = confirm_in(&mut tx, store, case_id, number, officer, Timestamp::now()).await?;
    if done {
        tongban_store::audit::append(
            &mut tx,
            &NewAuditEntry {
                actor: officer_actor(officer),
                action: AuditAction::CaseAction,
                object: format!("case:{case_id}"),
                detail: serde_json::json!({
                    "action": "年度报告确认",
                    "inspection_number": number,
                }),
            },
        )
        .await?;
    }
    tx.commit().await?;
    if !done {
        let now = get(store, item, &Scope::of(officer), case_id).await?;
        return Err(ReportError::AlreadyConfirmed(
            now.inspection_number.unwrap_or_default(),
        ));
    }
    get(store, item, &Scope::of(officer), case_id).await
}
