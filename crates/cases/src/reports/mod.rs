//! Yearly reports as the bureau handles them (年度报告管理): for an item that declares an
//! `[index]`, each submitted case is indexed by year, unit, credit code, reference (the licence
//! number) and district, in the transaction that submits it. Officers query the index within
//! their jurisdiction, export the result, zip its reports, confirm reports against an inspection
//! table (年度报告批量确认) or one at a time, and count the year.
//!
//! Jurisdiction: a district officer's [`Scope`] pins every query, confirmation and statistic to
//! the district; a report outside it does not exist for them.
mod confirm;
mod export;
mod statistics;

pub use confirm::{
    Confirmed, Inspection, Preview, Unmatched, confirm_one, confirm_table, preview,
    read_inspections,
};
pub use export::{export, pdf, zip};
pub use statistics::{Statistics, statistics};

use serde::Serialize;
use tongban_domain::{Jurisdiction, Officer, Timestamp};
use tongban_engine::spec::IndexSpec;
use tongban_engine::{FormData, Item};
use tongban_store::case_index::{self, IndexQuery, IndexRow};
use tongban_store::{Store, StoreError, Tx};

use crate::CaseError;
use crate::batch;

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

fn officer_actor(officer: &Officer) -> String {
    format!("officer:{}", officer.id.as_str())
}
