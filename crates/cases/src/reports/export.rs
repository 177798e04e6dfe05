//! Reports out of Tongban: one report's PDF, a query as xlsx, a query's reports as a zip batch.
//! Exports and zips are recorded in the audit log.
use tongban_documents::DocumentKind;
use tongban_domain::audit::{AuditAction, NewAuditEntry};
use tongban_domain::{Officer, Timestamp};
use tongban_engine::Item;
use tongban_sheets::{Cell, Column, export_table};
use tongban_store::cases as repo;
use tongban_store::{Store, StoreError, documents};

use super::{Filter, Report, ReportError, Scope, all, get, index_of, label_of, officer_actor};
use crate::batch::{self, BatchItem};
use crate::{paper, to_case};

/// The report as a PDF: the signed original once signed, else the form printed from the case.
pub async fn pdf(
    (store, files, renderer): (
        &Store,
        &tongban_files::FileStore,
        &std::sync::Arc<tongban_documents::Renderer>,
    ),
    item: &Item,
    scope: &Scope,
    case_id: &str,
) -> Result<(Report, Vec<u8>), ReportError> {
    let report = get(store, item, scope, case_id).await?;
    let kind = crate::signing::form_kind(item);
    let signed = documents::of_case(store, case_id)
        .await?
        .into_iter()
        .find(|d| d.kind == kind.as_str());
    let bytes = match signed {
        Some(doc) => crate::signing::read_file(files, &doc.file_digest).await,
        None => {
            let row = repo::by_id(store, case_id)
                .await?
                .ok_or(ReportError::NotFound)?;
            crate::signing::render_form(store, renderer, item, &to_case(row)?)
                .await
                .map(|(pdf, _)| pdf)
        }
    }
    .map_err(|e| ReportError::Write(e.to_string()))?;
    Ok((report, bytes))
}

/// Records in the audit log that `officer` took `count` reports of `item` out (`what`: an
/// xlsx export or a zip), with the query that chose them.
async fn audit_export(
    store: &Store,
    officer: &Officer,
    item: &Item,
    filter: &Filter,
    what: &str,
    count: usize,
) -> Result<(), StoreError> {
    let district = match Scope::of(officer).district {
        Some(d) => d.code.to_string(),
        None => filter.district.clone(),
    };
    let mut tx = store.begin().await?;
    tongban_store::audit::append(
        &mut tx,
        &NewAuditEntry {
            actor: officer_actor(officer),
            action: AuditAction::DataExported,
            object: format!("item:{}", item.id),
            detail: serde_json::json!({
                "what": what,
                "count": count,
                "year": filter.year,
                "keyword": filter.keyword,
                "reference": filter.reference,
                "district": district,
                "status": filter.status.map(|s| s.code()),
            }),
        },
    )
    .await?;
    tx.commit().await
}

/// 查询结果导出: the reports matching `filter` within `officer`'s jurisdiction as an xlsx
/// table; the export is recorded in the audit log.
pub async fn export(
    store: &Store,
    item: &Item,
    officer: &Officer,
    filter: &Filter,
) -> Result<Vec<u8>, ReportError> {
    let index = index_of(item)?;
    let reports = all(store, item, &Scope::of(officer), filter).await?;
    audit_export(store, officer, item, filter, "xlsx", reports.len()).await?;
    let mut columns = vec![
        Column::text("办件编号"),
        Column::integer(label_of(item, &index.year)),
        Column::text(label_of(item, &index.title)),
        Column::text(label_of(item, &index.credit_code)),
        Column::text(label_of(item, &index.reference)),
        Column::text("所属区"),
    ];
    columns.extend(
        index
            .columns
            .iter()
            .map(|f| Column::text(label_of(item, f))),
    );
    columns.extend([
        Column::text("状态"),
        Column::datetime("提交时间"),
        Column::text("检查编号"),
        Column::datetime("确认时间"),
    ]);
    columns.extend(
        index
            .figures
            .iter()
            .map(|f| Column::integer(label_of(item, f))),
    );
    let rows = reports.into_iter().map(|r| {
        let district = r.district_name();
        let mut cells = vec![
            Cell::from(r.number),
            Cell::from(r.year),
            Cell::from(r.title),
            Cell::from(r.credit_code),
            Cell::from(r.reference),
            Cell::from(district),
        ];
        cells.extend(r.columns.into_iter().map(Cell::from));
        cells.extend([
            Cell::from(r.status.label()),
            Cell::from(beijing_time(r.submitted_at)),
            Cell::from(r.inspection_number.unwrap_or_default()),
            r.confirmed_at
                .map(|t| Cell::from(beijing_time(t)))
                .unwrap_or(Cell::Empty),
        ]);
        cells.extend(r.figures.into_iter().map(Cell::from));
        cells
    });
    export_table(&item.name, &columns, rows).map_err(|e| ReportError::Write(e.to_string()))
}

fn beijing_time(t: Timestamp) -> chrono::NaiveDateTime {
    crate::issuing::beijing(t).naive_local()
}

/// 批量导出报告: a batch (a background job) of `officer`'s zipping the reports matching
/// `filter` within their jurisdiction: the signed PDF where the report was signed, else the form
/// printed from the case. Recorded in the audit log.
pub async fn zip(
    store: &Store,
    item: &Item,
    officer: &Officer,
    filter: &Filter,
) -> Result<String, ReportError> {
    let owner = officer.id.as_str();
    let reports = all(store, item, &Scope::of(officer), filter).await?;
    if reports.is_empty() {
        return Err(ReportError::Empty);
    }
    if reports.len() > batch::MAX_ITEMS {
        return Err(ReportError::TooManyForZip(reports.len() as i64));
    }
    let kind = crate::signing::form_kind(item);
    let mut items = Vec::with_capacity(reports.len());
    for r in &reports {
        let name = format!("{}年度-{}-{}.pdf", r.year, r.title, r.number);
        let signed = documents::of_case(store, &r.case_id)
            .await?
            .into_iter()
            .find(|d| d.kind == kind.as_str());
        match signed {
            Some(doc) => items.push(BatchItem::stored(name, kind, doc.file_digest)),
            None => {
                let row = repo::by_id(store, &r.case_id)
                    .await?
                    .ok_or(ReportError::NotFound)?;
                let case = to_case(row)?;
                let rows = paper::ledger_rows(store, item, &case).await?;
                let form = paper::application_form_with(item, &case, &rows);
                items.push(BatchItem::new(name, DocumentKind::ApplicationForm, &form));
            }
        }
    }
    let mut title = format!("{}（{}份）", item.name, reports.len());
    if let Some(year) = filter.year {
        title = format!("{year}年度{title}");
    }
    let id = batch::start(store, owner, &title, items).await?;
    audit_export(store, officer, item, filter, "zip", reports.len()).await?;
    Ok(id)
}
