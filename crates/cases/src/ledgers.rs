//! Ledgers (台账) of a draft: imported from xlsx all or nothing, typed in row by row, paged,
//! exported; each change an event of the case.
use tongban_crypto::sm3;
use tongban_engine::case::EventBody;
use tongban_engine::validate::{check, shown};
use tongban_engine::{FormData, Item, Ledger, Problem, Value};
use tongban_sheets::ImportError;
use tongban_store::Store;
use tongban_store::ledgers as repo;

use crate::{Applicant, CaseError, append_in, open};

/// Rows a ledger page shows.
pub const PAGE_SIZE: i64 = 20;

fn ledger<'a>(item: &'a Item, id: &str) -> Result<&'a Ledger, CaseError> {
    item.ledger(id).ok_or(CaseError::NotFound)
}

fn invalid(ledger: &Ledger, messages: Vec<String>) -> CaseError {
    CaseError::Invalid(
        messages
            .into_iter()
            .map(|message| Problem {
                field: format!("ledger:{}", ledger.id),
                message,
            })
            .collect(),
    )
}

fn json(row: &[String]) -> String {
    serde_json::to_string(row).expect("rows serialise")
}

/// 台账导入: replaces the ledger's rows with the file's, or, if any cell is wrong, changes
/// nothing and names every wrong cell. Returns how many rows were imported.
pub async fn import(
    store: &Store,
    item: &Item,
    applicant: &Applicant,
    id: &str,
    ledger_id: &str,
    bytes: &[u8],
) -> Result<usize, CaseError> {
    let ledger = ledger(item, ledger_id)?;
    // Whose the draft is, before the file is read.
    open(store, applicant, id).await?;
    let rows = tongban_sheets::import(ledger, bytes).map_err(|e| match e {
        ImportError::Cells(list) => invalid(ledger, list.iter().map(|p| p.to_string()).collect()),
        e => invalid(ledger, vec![format!("{}：{e}", ledger.title)]),
    })?;
    let encoded: Vec<String> = rows.iter().map(|r| json(r)).collect();
    let mut tx = store.begin().await?;
    append_in(&mut tx, item, applicant, id, |_, _| {
        Ok(EventBody::LedgerImported {
            ledger: ledger.id.clone(),
            rows: rows.len(),
            digest: sm3(bytes).to_hex(),
        })
    })
    .await?;
    repo::replace(&mut tx, id, &ledger.id, &encoded).await?;
    tx.commit().await?;
    Ok(rows.len())
}

/// Adds one row typed into the form; every cell is checked as an import checks it.
pub async fn add_row(
    store: &Store,
    item: &Item,
    applicant: &Applicant,
    id: &str,
    ledger_id: &str,
    values: &[String],
) -> Result<(), CaseError> {
    let ledger = ledger(item, ledger_id)?;
    open(store, applicant, id).await?;
    let mut row = Vec::with_capacity(ledger.columns.len());
    let mut problems = vec![];
    for (i, column) in ledger.columns.iter().enumerate() {
        let typed = values.get(i).cloned().unwrap_or_default();
        match check(column, &Value::One(typed)) {
            Ok(Value::One(v)) if v.is_empty() && column.required => {
                problems.push(format!("{}·{}：请填写", ledger.title, column.label))
            }
            Ok(Value::One(v)) => row.push(v),
            Ok(Value::Many(v)) => row.push(v.join("、")),
            Err(e) => problems.push(format!("{}·{}：{e}", ledger.title, column.label)),
        }
    }
    if !problems.is_empty() {
        return Err(invalid(ledger, problems));
    }
    let mut tx = store.begin().await?;
    let row_no = repo::append(&mut tx, id, &ledger.id, &json(&row)).await?;
    append_in(&mut tx, item, applicant, id, |_, _| {
        Ok(EventBody::LedgerRowAdded {
            ledger: ledger.id.clone(),
            row: row_no,
        })
    })
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn delete_row(
    store: &Store,
    item: &Item,
    applicant: &Applicant,
    id: &str,
    ledger_id: &str,
    row_no: i64,
) -> Result<(), CaseError> {
    let ledger = ledger(item, ledger_id)?;
    open(store, applicant, id).await?;
    let mut tx = store.begin().await?;
    if !repo::delete(&mut tx, id, &ledger.id, row_no).await? {
        return Err(CaseError::NotFound);
    }
    append_in(&mut tx, item, applicant, id, |_, _| {
        Ok(EventBody::LedgerRowRemoved {
            ledger: ledger.id.clone(),
            row: row_no,
        })
    })
    .await?;
    tx.commit().await?;
    Ok(())
}

/// One page of a ledger's rows.
pub struct LedgerPage {
    /// (row number, values in column order)
    pub rows: Vec<(i64, Vec<String>)>,
    pub total: i64,
    pub page: i64,
}

pub(crate) fn decode(data: &str) -> Result<Vec<String>, CaseError> {
    serde_json::from_str(data)
        .map_err(|e| tongban_store::StoreError::InvalidRow(format!("ledger row: {e}")).into())
}

pub async fn page(
    store: &Store,
    applicant: &Applicant,
    id: &str,
    ledger_id: &str,
    page: i64,
) -> Result<LedgerPage, CaseError> {
    open(store, applicant, id).await?;
    let page = page.max(1);
    let (rows, total) = repo::page(store, id, ledger_id, (page - 1) * PAGE_SIZE, PAGE_SIZE).await?;
    Ok(LedgerPage {
        rows: rows
            .into_iter()
            .map(|(n, d)| Ok((n, decode(&d)?)))
            .collect::<Result<_, CaseError>>()?,
        total,
        page,
    })
}

/// 导出: every row, as an xlsx that imports back.
pub async fn export(
    store: &Store,
    item: &Item,
    applicant: &Applicant,
    id: &str,
    ledger_id: &str,
) -> Result<Vec<u8>, CaseError> {
    let ledger = ledger(item, ledger_id)?;
    open(store, applicant, id).await?;
    let (rows, _) = repo::page(store, id, ledger_id, 0, i64::MAX).await?;
    let rows = rows
        .iter()
        .map(|(_, d)| decode(d))
        .collect::<Result<Vec<_>, _>>()?;
    tongban_sheets::export(ledger, &rows)
        .map_err(|e| tongban_store::StoreError::InvalidRow(e.to_string()).into())
}

/// Shown ledgers with fewer rows than they require.
pub async fn short(
    store: &Store,
    item: &Item,
    id: &str,
    data: &FormData,
) -> Result<Vec<Problem>, CaseError> {
    let mut problems = vec![];
    // Most items have no ledger with a minimum: they need not work out what is shown.
    if item.ledgers().all(|(_, _, l)| l.min_rows == 0) {
        return Ok(problems);
    }
    let visible = shown(item, data);
    for (_, _, l) in item.ledgers() {
        if l.min_rows == 0 || !visible.ledgers.contains(&l.id) {
            continue;
        }
        let (_, total) = repo::page(store, id, &l.id, 0, 1).await?;
        if (total as usize) < l.min_rows {
            problems.push(Problem {
                field: format!("ledger:{}", l.id),
                message: format!("{}：至少填写{}行", l.title, l.min_rows),
            });
        }
    }
    Ok(problems)
}
