//! 年度报告管理 on the workbench: the officer's query of an indexed item's submitted reports
//! (unit keyword, year, licence number, district, status) with paging, the result as xlsx, the
//! result's reports zipped as a batch, one report's PDF and confirmation, 年度报告批量确认 from
//! an inspection table with a preview, and the year's statistics. Every case id is looked up
//! within the officer's jurisdiction (`reports::Scope`): another district's report is a 404.
use askama::Template;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use tongban_cases::reports::{
    self, Filter, Inspection, Preview, Report, ReportError, ReportStatus, Scope, Statistics,
};
use tongban_domain::{Jurisdiction, Officer, jurisdiction};
use tongban_engine::Item;

use crate::applications::{attachment, xlsx_download};
use crate::csrf::CsrfToken;
use crate::portal::render;
use crate::session::CurrentOfficer;
use crate::{AppState, WebError};

/// An inspection table is a small workbook.
const MAX_TABLE_BYTES: usize = 10 * 1024 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/workbench/reports", get(first_item))
        .route("/workbench/reports/{item}", get(list))
        .route("/workbench/reports/{item}/export", get(export))
        .route("/workbench/reports/{item}/zip", post(zip))
        .route("/workbench/reports/{item}/statistics", get(statistics))
        .route(
            "/workbench/reports/{item}/confirmations",
            get(confirm_page)
                .post(confirm_upload)
                .layer(DefaultBodyLimit::max(MAX_TABLE_BYTES + 64 * 1024)),
        )
        .route(
            "/workbench/reports/{item}/confirmations/apply",
            post(confirm_apply),
        )
        .route("/workbench/reports/{item}/{case}", get(detail))
        .route("/workbench/reports/{item}/{case}/pdf", get(pdf))
        .route(
            "/workbench/reports/{item}/{case}/confirm",
            post(confirm_one),
        )
}

impl From<ReportError> for WebError {
    fn from(e: ReportError) -> Self {
        match e {
            ReportError::NotIndexed | ReportError::NotFound => WebError::NotFound,
            ReportError::Store(e) => e.into(),
            ReportError::Case(e) => e.into(),
            ReportError::Batch(e) => e.into(),
            e @ ReportError::Write(_) => WebError::Internal(e.to_string()),
            e @ ReportError::AlreadyConfirmed(_) => WebError::Conflict(e.to_string()),
            e => WebError::Invalid(e.to_string()),
        }
    }
}

/// A page shown again with a message for the officer is answered 422, as forms are.
fn status_of(error: &Option<String>) -> axum::http::StatusCode {
    match error {
        Some(_) => axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        None => axum::http::StatusCode::OK,
    }
}

/// The indexed item `id`, or 404.
fn indexed<'a>(state: &'a AppState, id: &str) -> Result<&'a Item, WebError> {
    state
        .items
        .get(id)
        .filter(|i| i.index.is_some())
        .ok_or(WebError::NotFound)
}

async fn first_item(
    State(state): State<AppState>,
    CurrentOfficer(_): CurrentOfficer,
) -> Result<Response, WebError> {
    let item = state
        .items
        .iter()
        .find(|i| i.index.is_some())
        .ok_or(WebError::NotFound)?;
    Ok(Redirect::to(&format!("/workbench/reports/{}", item.id)).into_response())
}

/// The query as the page's form sends it.
#[derive(Debug, Default, Deserialize)]
struct QueryForm {
    #[serde(default)]
    year: String,
    #[serde(default)]
    keyword: String,
    #[serde(default)]
    licence: String,
    #[serde(default)]
    district: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    page: String,
}

impl QueryForm {
    fn filter(&self) -> Result<Filter, WebError> {
        let year = match self.year.trim() {
            "" => None,
            y => Some(
                y.parse::<i64>()
                    .ok()
                    .filter(|y| (2000..=2100).contains(y))
                    .ok_or_else(|| WebError::Invalid("「年度」应为四位年份，如 2025".into()))?,
            ),
        };
        let status = match self.status.trim() {
            "" => None,
            s => Some(
                ReportStatus::parse(s).ok_or_else(|| WebError::Invalid("「状态」无效".into()))?,
            ),
        };
        let district = self.district.trim();
        if !district.is_empty() && Jurisdiction::by_code(district).is_none() {
            return Err(WebError::Invalid("「所属区」无效".into()));
        }
        Ok(Filter {
            year,
            keyword: self.keyword.trim().chars().take(50).collect(),
            reference: self.licence.trim().chars().take(50).collect(),
            district: district.to_string(),
            status,
        })
    }

    fn page(&self) -> i64 {
        self.page.trim().parse().unwrap_or(1).max(1)
    }

    /// The query string of this query at `page`, for paging links and the export.
    fn link(&self, page: i64) -> String {
        let enc = |s: &str| {
            s.bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                        (b as char).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect::<String>()
        };
        format!(
            "year={}&keyword={}&licence={}&district={}&status={}&page={page}",
            enc(self.year.trim()),
            enc(self.keyword.trim()),
            enc(self.licence.trim()),
            enc(self.district.trim()),
            enc(self.status.trim()),
        )
    }
}

/// A report as a row of the list.
struct Row {
    case_id: String,
    number: String,
    year: i64,
    title: String,
    credit_code: String,
    reference: String,
    district: &'static str,
    columns: Vec<String>,
    status: &'static str,
    submitted_at: String,
    inspection_number: String,
}

impl From<Report> for Row {
    fn from(r: Report) -> Self {
        Row {
            district: r.district_name(),
            status: r.status.label(),
            submitted_at: r.submitted_at.beijing(),
            inspection_number: r.inspection_number.clone().unwrap_or_default(),
            case_id: r.case_id,
            number: r.number,
            year: r.year,
            title: r.title,
            credit_code: r.credit_code,
            reference: r.reference,
            columns: r.columns,
        }
    }
}

/// The labels of the index's columns, for the table header.
fn column_labels(item: &Item) -> Vec<String> {
    item.index
        .as_ref()
        .map(|i| {
            i.columns
                .iter()
                .map(|f| item.field(f).map_or(f.clone(), |f| f.label.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// The districts an officer may filter by: theirs alone, or every one for the city bureau.
fn districts(officer: &Officer) -> Vec<(&'static str, &'static str)> {
    jurisdiction::ALL
        .iter()
        .filter(|j| !j.is_city())
        .filter(|j| officer.jurisdiction.is_city() || j.code == officer.jurisdiction.code)
        .map(|j| (j.code, j.name))
        .collect()
}

fn statuses() -> Vec<(&'static str, &'static str)> {
    ReportStatus::ALL
        .iter()
        .map(|s| (s.code(), s.label()))
        .collect()
}

#[derive(Template)]
#[template(path = "workbench_reports.html")]
struct ListPage<'a> {
    officer: &'a Officer,
    csrf: &'a str,
    item: &'a Item,
    q: &'a QueryForm,
    labels: Vec<String>,
    rows: Vec<Row>,
    total: i64,
    page: i64,
    pages: i64,
    prev: String,
    next: String,
    here: String,
    districts: Vec<(&'static str, &'static str)>,
    statuses: Vec<(&'static str, &'static str)>,
    error: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    CurrentOfficer(officer): CurrentOfficer,
    CsrfToken(csrf): CsrfToken,
    Path(item): Path<String>,
    Query(q): Query<QueryForm>,
) -> Result<Response, WebError> {
    let item = indexed(&state, &item)?;
    list_page(&state, &officer, &csrf, item, &q, None).await
}

async fn list_page(
    state: &AppState,
    officer: &Officer,
    csrf: &str,
    item: &Item,
    q: &QueryForm,
    error: Option<String>,
) -> Result<Response, WebError> {
    let (filter, error) = match q.filter() {
        Ok(f) => (f, error),
        Err(WebError::Invalid(m)) => (Filter::default(), Some(m)),
        Err(e) => return Err(e),
    };
    let page = reports::query(&state.store, item, &Scope::of(officer), &filter, q.page()).await?;
    let pages = page.pages();
    let status = status_of(&error);
    let html = render(ListPage {
        officer,
        csrf,
        item,
        q,
        labels: column_labels(item),
        total: page.total,
        page: page.page,
        pages,
        prev: q.link((page.page - 1).max(1)),
        next: q.link((page.page + 1).min(pages)),
        here: q.link(page.page),
        rows: page.reports.into_iter().map(Row::from).collect(),
        districts: districts(officer),
        statuses: statuses(),
        error,
    })?;
    Ok((status, html).into_response())
}

async fn export(
    State(state): State<AppState>,
    CurrentOfficer(officer): CurrentOfficer,
    Path(item): Path<String>,
    Query(q): Query<QueryForm>,
) -> Result<Response, WebError> {
    let item = indexed(&state, &item)?;
    let filter = q.filter()?;
    let bytes = reports::export(&state.store, item, &officer, &filter).await?;
    tracing::info!(officer = %officer.username, item = %item.id, "report query exported");
    Ok(xlsx_download(
        &format!("{}-查询结果.xlsx", item.name),
        bytes,
    ))
}

async fn zip(
    State(state): State<AppState>,
    CurrentOfficer(officer): CurrentOfficer,
    CsrfToken(csrf): CsrfToken,
    Path(item): Path<String>,
    Form(q): Form<QueryForm>,
) -> Result<Response, WebError> {
    let item = indexed(&state, &item)?;
    let filter = q.filter()?;
    match reports::zip(&state.store, item, &officer, &filter).await {
        Ok(id) => {
            tracing::info!(batch = %id, officer = %officer.username, "report zip started");
            Ok(Redirect::to(&format!("/workbench/batches/{id}")).into_response())
        }
        Err(e @ (ReportError::Empty | ReportError::TooManyForZip(_))) => {
            list_page(&state, &officer, &csrf, item, &q, Some(e.to_string())).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "workbench_report.html")]
struct DetailPage<'a> {
    officer: &'a Officer,
    csrf: &'a str,
    item: &'a Item,
    labels: Vec<String>,
    r: Row,
    error: Option<String>,
    confirmed: bool,
}

#[derive(Deserialize)]
struct DetailQuery {
    #[serde(default)]
    confirmed: Option<String>,
}

async fn detail(
    State(state): State<AppState>,
    CurrentOfficer(officer): CurrentOfficer,
    CsrfToken(csrf): CsrfToken,
    Path((item, case)): Path<(String, String)>,
    Query(dq): Query<DetailQuery>,
) -> Result<Response, WebError> {
    let item = indexed(&state, &item)?;
    let report = reports::get(&state.store, item, &Scope::of(&officer), &case).await?;
    detail_page(&officer, &csrf, item, report, None, dq.confirmed.is_some())
}

fn detail_page(
    officer: &Officer,
    csrf: &str,
    item: &Item,
    report: Report,
    error: Option<String>,
    confirmed: bool,
) -> Result<Response, WebError> {
    let status = status_of(&error);
    let html = render(DetailPage {
        officer,
        csrf,
        item,
        labels: column_labels(item),
        r: report.into(),
        error,
        confirmed,
    })?;
    Ok((status, html).into_response())
}

async fn pdf(
    State(state): State<AppState>,
    CurrentOfficer(officer): CurrentOfficer,
    Path((item, case)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let item = indexed(&state, &item)?;
    let (report, bytes) = reports::pdf(
        (&state.store, &state.files, &state.bureau.renderer),
        item,
        &Scope::of(&officer),
        &case,
    )
    .await?;
    let name = format!("{}年度-{}-{}.pdf", report.year, report.title, report.number);
    let disposition =
        HeaderValue::from_str(&attachment(&name)).map_err(|e| WebError::Internal(e.to_string()))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/pdf"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Deserialize)]
struct ConfirmForm {
    #[serde(default)]
    inspection_number: String,
}

async fn confirm_one(
    State(state): State<AppState>,
    CurrentOfficer(officer): CurrentOfficer,
    CsrfToken(csrf): CsrfToken,
    Path((item_id, case)): Path<(String, String)>,
    Form(form): Form<ConfirmForm>,
) -> Result<Response, WebError> {
    let item = indexed(&state, &item_id)?;
    match reports::confirm_one(&state.store, item, &officer, &case, &form.inspection_number).await {
        Ok(_) => {
            tracing::info!(officer = %officer.username, case = %case, "report confirmed");
            Ok(
                Redirect::to(&format!("/workbench/reports/{item_id}/{case}?confirmed=1"))
                    .into_response(),
            )
        }
        Err(
            e @ (ReportError::NoInspectionNumber
            | ReportError::InspectionNumberTooLong
            | ReportError::AlreadyConfirmed(_)),
        ) => {
            let report = reports::get(&state.store, item, &Scope::of(&officer), &case).await?;
            detail_page(&officer, &csrf, item, report, Some(e.to_string()), false)
        }
        Err(e) => Err(e.into()),
    }
}

/// A row of the confirmation preview.
struct PreviewRow {
    row: u32,
    number: String,
    unit: String,
    title: String,
    case_id: String,
    note: String,
}

fn preview_rows(preview: &Preview) -> (Vec<PreviewRow>, Vec<PreviewRow>, Vec<PreviewRow>) {
    let found = |list: &[(Inspection, Report)], note: &str| {
        list.iter()
            .map(|(i, r)| PreviewRow {
                row: i.row,
                number: i.number.clone(),
                unit: i.unit(),
                title: r.title.clone(),
                case_id: r.case_id.clone(),
                note: match &r.inspection_number {
                    Some(n) => format!("{note}（检查编号 {n}）"),
                    None => note.to_string(),
                },
            })
            .collect::<Vec<_>>()
    };
    let unmatched = preview
        .unmatched
        .iter()
        .map(|u| PreviewRow {
            row: u.inspection.row,
            number: u.inspection.number.clone(),
            unit: u.inspection.unit(),
            title: String::new(),
            case_id: String::new(),
            note: u.reason.clone(),
        })
        .collect();
    (
        found(&preview.matched, "待确认"),
        found(&preview.already, "已确认，不再重复确认"),
        unmatched,
    )
}

#[derive(Template)]
#[template(path = "workbench_report_confirm.html")]
struct ConfirmPage<'a> {
    officer: &'a Officer,
    csrf: &'a str,
    item: &'a Item,
    year: String,
    error: Option<String>,
    /// After an upload: the table's key in the file store, and what confirming it would do.
    table: String,
    /// That this officer uploaded that table (see [`table_proof`]).
    proof: String,
    file_name: String,
    matched: Vec<PreviewRow>,
    already: Vec<PreviewRow>,
    unmatched: Vec<PreviewRow>,
    /// After confirming: how many were confirmed.
    done: Option<usize>,
}

fn last_year() -> String {
    (tongban_domain::Timestamp::now().beijing_year() - 1).to_string()
}

#[derive(Deserialize)]
struct YearQuery {
    #[serde(default)]
    year: String,
}

async fn confirm_page(
    State(state): State<AppState>,
    CurrentOfficer(officer): CurrentOfficer,
    CsrfToken(csrf): CsrfToken,
    Path(item): Path<String>,
    Query(q): Query<YearQuery>,
) -> Result<Response, WebError> {
    let item = indexed(&state, &item)?;
    let year = match q.year.trim() {
        "" => last_year(),
        y => y.to_string(),
    };
    Ok(render(ConfirmPage {
        officer: &officer,
        csrf: &csrf,
        item,
        year,
        error: None,
        table: String::new(),
        proof: String::new(),
        file_name: String::new(),
        matched: vec![],
        already: vec![],
        unmatched: vec![],
        done: None,
    })?
    .into_response())
}

fn parse_year(year: &str) -> Result<i64, String> {
    year.trim()
        .parse::<i64>()
        .ok()
        .filter(|y| (2000..=2100).contains(y))
        .ok_or_else(|| "请选择要确认的年度（四位年份）".to_string())
}

/// Uploading the table stores it and shows the preview; nothing is confirmed yet.
async fn confirm_upload(
    State(state): State<AppState>,
    CurrentOfficer(officer): CurrentOfficer,
    CsrfToken(csrf): CsrfToken,
    Path(item): Path<String>,
    mut multipart: Multipart,
) -> Result<Response, WebError> {
    let item = indexed(&state, &item)?;
    let bad = |_| WebError::Invalid("上传未完成，请重新选择文件。".into());
    let (mut year, mut file_name, mut bytes) = (String::new(), String::new(), bytes::Bytes::new());
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        match field.name().unwrap_or_default() {
            "file" => {
                file_name = field.file_name().unwrap_or_default().to_string();
                bytes = field.bytes().await.map_err(bad)?;
            }
            "year" => year = field.text().await.map_err(bad)?,
            _ => {}
        }
    }
    let mut page = ConfirmPage {
        officer: &officer,
        csrf: &csrf,
        item,
        year: year.trim().to_string(),
        error: None,
        table: String::new(),
        proof: String::new(),
        file_name: file_name.clone(),
        matched: vec![],
        already: vec![],
        unmatched: vec![],
        done: None,
    };
    let refuse = |page: ConfirmPage, message: String| {
        let mut page = page;
        page.error = Some(message);
        Ok::<_, WebError>(
            (axum::http::StatusCode::UNPROCESSABLE_ENTITY, render(page)?).into_response(),
        )
    };
    let y = match parse_year(&year) {
        Ok(y) => y,
        Err(m) => return refuse(page, m),
    };
    if bytes.is_empty() {
        return refuse(page, "请选择检查表文件（xlsx）".into());
    }
    let rows = match reports::read_inspections(&bytes) {
        Ok(rows) => rows,
        Err(e) => return refuse(page, e.to_string()),
    };
    let preview = reports::preview(&state.store, item, &Scope::of(&officer), y, &rows).await?;
    let stored = state
        .files
        .put(bytes)
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?;
    page.table = stored.digest.to_hex();
    page.proof = table_proof(&state, &officer, &page.table);
    (page.matched, page.already, page.unmatched) = preview_rows(&preview);
    Ok(render(page)?.into_response())
}

/// Binds a stored table to the officer who uploaded it, so 确认 cannot be pointed at any other
/// object of the file store by its digest.
fn table_proof(state: &AppState, officer: &Officer, digest: &str) -> String {
    state.fields.blind_index(
        "inspection-table",
        &format!("{}:{digest}", officer.id.as_str()),
    )
}

#[derive(Deserialize)]
struct ApplyForm {
    year: String,
    table: String,
    #[serde(default)]
    proof: String,
    #[serde(default)]
    file_name: String,
}

/// 确认: reads the stored table again and confirms what matches now.
async fn confirm_apply(
    State(state): State<AppState>,
    CurrentOfficer(officer): CurrentOfficer,
    CsrfToken(csrf): CsrfToken,
    Path(item): Path<String>,
    Form(form): Form<ApplyForm>,
) -> Result<Response, WebError> {
    let item = indexed(&state, &item)?;
    let year = parse_year(&form.year).map_err(WebError::Invalid)?;
    if form.proof != table_proof(&state, &officer, &form.table) {
        return Err(WebError::Invalid("检查表已失效，请重新上传".into()));
    }
    let digest: tongban_crypto::Sm3Digest = form
        .table
        .parse()
        .map_err(|_| WebError::Invalid("检查表已失效，请重新上传".into()))?;
    let bytes = state
        .files
        .get(&digest)
        .await
        .map_err(|_| WebError::Invalid("检查表已失效，请重新上传".into()))?;
    let rows = reports::read_inspections(&bytes)?;
    let done = reports::confirm_table(&state.store, item, &officer, year, &rows).await?;
    tracing::info!(
        officer = %officer.username,
        confirmed = done.confirmed,
        unmatched = done.preview.unmatched.len(),
        "inspection table confirmed"
    );
    let (matched, already, unmatched) = preview_rows(&done.preview);
    Ok(render(ConfirmPage {
        officer: &officer,
        csrf: &csrf,
        item,
        year: year.to_string(),
        error: None,
        table: String::new(),
        proof: String::new(),
        file_name: form.file_name,
        matched,
        already,
        unmatched,
        done: Some(done.confirmed),
    })?
    .into_response())
}

#[derive(Template)]
#[template(path = "workbench_report_stats.html")]
struct StatsPage<'a> {
    officer: &'a Officer,
    item: &'a Item,
    csrf: &'a str,
    year: String,
    stats: Statistics,
    /// (district name, counts per status, total)
    districts: Vec<(&'static str, [i64; 3], i64)>,
    by_status: [i64; 3],
    labels: [&'static str; 3],
}

async fn statistics(
    State(state): State<AppState>,
    CurrentOfficer(officer): CurrentOfficer,
    CsrfToken(csrf): CsrfToken,
    Path(item): Path<String>,
    Query(q): Query<YearQuery>,
) -> Result<Response, WebError> {
    let item = indexed(&state, &item)?;
    let year = match q.year.trim() {
        "" => last_year(),
        y => y.to_string(),
    };
    let y = parse_year(&year).map_err(WebError::Invalid)?;
    let stats = reports::statistics(&state.store, item, &Scope::of(&officer), y).await?;
    let districts = stats
        .by_district
        .iter()
        .map(|(code, counts)| {
            let name = Jurisdiction::by_code(code).map_or("上海市", |j| j.name);
            (name, *counts, counts.iter().sum())
        })
        .collect();
    Ok(render(StatsPage {
        officer: &officer,
        item,
        csrf: &csrf,
        year,
        by_status: stats.by_status(),
        districts,
        stats,
        labels: ReportStatus::ALL.map(|s| s.label()),
    })?
    .into_response())
}
