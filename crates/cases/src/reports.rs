//! Yearly reports as the bureau handles them (年度报告管理): for an item that declares an
//! `[index]`, each submitted case is indexed by year, unit, credit code, reference (the licence
//! number) and district, in the transaction that submits it. Officers query the index within
//! their jurisdiction, export the result, zip its reports, confirm reports against an inspection
//! table (年度报告批量确认) or one at a time, and count the year.
//!
//! Jurisdiction: a district officer's [`Scope`] pins every query, confirmation and statistic to
//! the district; a report outside it does not exist for them.
use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use tongban_documents::DocumentKind;
use tongban_domain::audit::{AuditAction, NewAuditEntry};
use tongban_domain::{Jurisdiction, Officer, Timestamp};
use tongban_engine::case::EventBody;
use tongban_engine::spec::IndexSpec;
use tongban_engine::{FormData, Item};
use tongban_sheets::{Cell, Column, export_table};
use tongban_store::case_index::{self, IndexQuery, IndexRow};
use tongban_store::cases as repo;
use tongban_store::{Store, StoreError, Tx, documents};

use crate::batch::{self, BatchItem};
use crate::{CaseError, chain, paper, to_case};

/// Rows on one page of the officers' list.
pub const PAGE_SIZE: i64 = 20;

/// Most rows one export or zip reads.
pub const MAX_EXPORT: i64 = 100_000;

/// Most rows an inspection table may have.
pub const MAX_INSPECTIONS: usize = 5_000;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("该事项没有年度报告管理")]
    NotIndexed,
    #[error("年度报告不存在或不在您的管辖范围内")]
    NotFound,
    #[error("请填写检查编号")]
    NoInspectionNumber,
    #[error("检查编号不能超过50个字符")]
    InspectionNumberTooLong,
    #[error("该年度报告已确认（检查编号 {0}），不能重复确认")]
    AlreadyConfirmed(String),
    #[error("{0}")]
    BadTable(String),
    #[error("查询结果共{0}份报告，超过一次批量导出的上限{max}份，请缩小查询范围", max = batch::MAX_ITEMS)]
    TooManyForZip(i64),
    #[error("查询结果为空，没有可导出的报告")]
    Empty,
    #[error("生成文件失败：{0}")]
    Write(String),
    #[error(transparent)]
    Case(#[from] CaseError),
    #[error(transparent)]
    Batch(#[from] batch::BatchError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Where a submitted report stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum ReportStatus {
    /// 已提交: not yet signed.
    Submitted,
    /// 已盖章: every party signed.
    Sealed,
    /// 已确认: the bureau confirmed it against an inspection.
    Confirmed,
}

impl ReportStatus {
    pub const ALL: [ReportStatus; 3] = [Self::Submitted, Self::Sealed, Self::Confirmed];

    pub fn code(self) -> &'static str {
        match self {
            Self::Submitted => "submitted",
            Self::Sealed => "sealed",
            Self::Confirmed => "confirmed",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Submitted => "已提交",
            Self::Sealed => "已盖章",
            Self::Confirmed => "已确认",
        }
    }
}

/// Which reports an officer may see: all (the city bureau) or one district's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub district: Option<Jurisdiction>,
}

impl Scope {
    pub fn of(officer: &Officer) -> Scope {
        Scope {
            district: (!officer.jurisdiction.is_city()).then_some(officer.jurisdiction),
        }
    }

    pub fn city() -> Scope {
        Scope { district: None }
    }

    fn allows(&self, district_code: &str) -> bool {
        self.district.is_none_or(|d| d.code == district_code)
    }
}

/// What the officer asks for; blank criteria match all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub year: Option<i64>,
    pub keyword: String,
    pub reference: String,
    /// A district code; a district officer's own district wins over it.
    pub district: String,
    pub status: Option<ReportStatus>,
}

/// A report as the officers' list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub case_id: String,
    pub number: String,
    pub year: i64,
    pub title: String,
    pub credit_code: String,
    pub reference: String,
    pub district: String,
    pub status: ReportStatus,
    /// The index's further columns, in order.
    pub columns: Vec<String>,
    /// The index's figures, in order.
    pub figures: Vec<i64>,
    pub submitted_at: Timestamp,
    pub inspection_number: Option<String>,
    pub confirmed_at: Option<Timestamp>,
}

impl Report {
    /// The district's name (临港新片区, 浦东新区 …).
    pub fn district_name(&self) -> &'static str {
        Jurisdiction::by_code(&self.district)
            .map(|j| j.name)
            .unwrap_or("上海市")
    }
}

fn bad(e: impl std::fmt::Display) -> StoreError {
    StoreError::InvalidRow(format!("case index: {e}"))
}

fn to_report(row: IndexRow) -> Result<Report, StoreError> {
    Ok(Report {
        status: ReportStatus::parse(&row.status).ok_or_else(|| bad(&row.status))?,
        columns: serde_json::from_str(&row.columns).map_err(bad)?,
        figures: serde_json::from_str(&row.figures).map_err(bad)?,
        case_id: row.case_id,
        number: row.number,
        year: row.year,
        title: row.title,
        credit_code: row.credit_code,
        reference: row.reference,
        district: row.district_code,
        submitted_at: Timestamp(row.submitted_at),
        inspection_number: row.inspection_number,
        confirmed_at: row.confirmed_at.map(Timestamp),
    })
}

fn index_of(item: &Item) -> Result<&IndexSpec, ReportError> {
    item.index.as_ref().ok_or(ReportError::NotIndexed)
}

/// The index row of a case being submitted, for an item with an index.
pub(crate) fn index_row(
    item: &Item,
    case_id: &str,
    number: &str,
    data: &FormData,
    district_code: &str,
    submitted_at: Timestamp,
) -> Option<IndexRow> {
    let index = item.index.as_ref()?;
    let text = |field: &str| {
        let many = data.many(field);
        if many.is_empty() {
            data.one(field).unwrap_or("").trim().to_string()
        } else {
            many.join("、")
        }
    };
    let columns: Vec<String> = index.columns.iter().map(|f| text(f)).collect();
    let figures: Vec<i64> = index
        .figures
        .iter()
        .map(|f| data.one(f).and_then(|v| v.trim().parse().ok()).unwrap_or(0))
        .collect();
    Some(IndexRow {
        case_id: case_id.to_string(),
        item_id: item.id.clone(),
        number: number.to_string(),
        year: text(&index.year).parse().unwrap_or(0),
        title: text(&index.title),
        credit_code: text(&index.credit_code).to_uppercase(),
        reference: text(&index.reference),
        district_code: district_code.to_string(),
        status: ReportStatus::Submitted.code().into(),
        columns: serde_json::to_string(&columns).expect("strings serialise"),
        figures: serde_json::to_string(&figures).expect("numbers serialise"),
        submitted_at: submitted_at.millis(),
        inspection_number: None,
        confirmed_at: None,
        confirmed_by: None,
    })
}

/// Marks a case's report sealed once its last party signed (in the signing transaction).
pub(crate) async fn sealed(tx: &mut Tx, case_id: &str) -> Result<(), StoreError> {
    case_index::advance(
        tx,
        case_id,
        ReportStatus::Submitted.code(),
        ReportStatus::Sealed.code(),
    )
    .await?;
    Ok(())
}

fn query_of(item: &Item, scope: &Scope, filter: &Filter) -> IndexQuery {
    IndexQuery {
        item_id: item.id.clone(),
        year: filter.year,
        keyword: Some(filter.keyword.clone()),
        reference: Some(filter.reference.clone()),
        district_code: match scope.district {
            Some(d) => Some(d.code.to_string()),
            None => Some(filter.district.clone()),
        },
        status: filter.status.map(|s| s.code().to_string()),
    }
}

/// One page of the officers' list.
#[derive(Debug, Clone)]
pub struct ReportPage {
    pub reports: Vec<Report>,
    pub total: i64,
    pub page: i64,
}

impl ReportPage {
    pub fn pages(&self) -> i64 {
        ((self.total + PAGE_SIZE - 1) / PAGE_SIZE).max(1)
    }
}

/// Page `page` (from 1) of the reports matching `filter` within `scope`, newest first.
pub async fn query(
    store: &Store,
    item: &Item,
    scope: &Scope,
    filter: &Filter,
    page: i64,
) -> Result<ReportPage, ReportError> {
    index_of(item)?;
    let page = page.max(1);
    let (rows, total) = case_index::query(
        store,
        &query_of(item, scope, filter),
        (page - 1) * PAGE_SIZE,
        PAGE_SIZE,
    )
    .await?;
    Ok(ReportPage {
        reports: rows.into_iter().map(to_report).collect::<Result<_, _>>()?,
        total,
        page,
    })
}

/// Every report matching `filter` within `scope` (up to [`MAX_EXPORT`]).
pub async fn all(
    store: &Store,
    item: &Item,
    scope: &Scope,
    filter: &Filter,
) -> Result<Vec<Report>, ReportError> {
    index_of(item)?;
    let (rows, _) = case_index::query(store, &query_of(item, scope, filter), 0, MAX_EXPORT).await?;
    Ok(rows.into_iter().map(to_report).collect::<Result<_, _>>()?)
}

/// The report of case `case_id`, if within `scope`.
pub async fn get(
    store: &Store,
    item: &Item,
    scope: &Scope,
    case_id: &str,
) -> Result<Report, ReportError> {
    match case_index::by_case(store, case_id).await? {
        Some(row) if row.item_id == item.id && scope.allows(&row.district_code) => {
            Ok(to_report(row)?)
        }
        _ => Err(ReportError::NotFound),
    }
}

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

/// The inspection number the bureau confirmed case `case_id`'s report with, if it did: for the
/// applicant's own list (the caller has authorised the case).
pub async fn confirmation_of(store: &Store, case_id: &str) -> Result<Option<String>, ReportError> {
    Ok(case_index::by_case(store, case_id)
        .await?
        .and_then(|r| r.inspection_number))
}

fn label_of(item: &Item, field: &str) -> String {
    item.field(field)
        .map(|f| f.label.clone())
        .unwrap_or_else(|| field.to_string())
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

fn officer_actor(officer: &Officer) -> String {
    format!("officer:{}", officer.id.as_str())
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

/// The year's counts: reports by district and status, and each figure summed.
#[derive(Debug, Clone, Default)]
pub struct Statistics {
    pub year: i64,
    /// Per district code: reports per status (in [`ReportStatus::ALL`] order).
    pub by_district: BTreeMap<String, [i64; 3]>,
    /// Each figure of the index: its label and the year's sum.
    pub figures: Vec<(String, i64)>,
    pub total: i64,
}

impl Statistics {
    /// Reports per status over all districts.
    pub fn by_status(&self) -> [i64; 3] {
        let mut out = [0; 3];
        for counts in self.by_district.values() {
            for (o, c) in out.iter_mut().zip(counts) {
                *o += c;
            }
        }
        out
    }
}

/// 年度统计 within `scope`.
pub async fn statistics(
    store: &Store,
    item: &Item,
    scope: &Scope,
    year: i64,
) -> Result<Statistics, ReportError> {
    let index = index_of(item)?;
    let filter = Filter {
        year: Some(year),
        ..Filter::default()
    };
    let reports = all(store, item, scope, &filter).await?;
    let mut stats = Statistics {
        year,
        figures: index
            .figures
            .iter()
            .map(|f| (label_of(item, f), 0))
            .collect(),
        total: reports.len() as i64,
        ..Statistics::default()
    };
    for r in &reports {
        let counts = stats.by_district.entry(r.district.clone()).or_default();
        let at = ReportStatus::ALL
            .iter()
            .position(|s| *s == r.status)
            .expect("every status is listed");
        counts[at] += 1;
        for ((_, sum), v) in stats.figures.iter_mut().zip(&r.figures) {
            *sum += v;
        }
    }
    Ok(stats)
}
