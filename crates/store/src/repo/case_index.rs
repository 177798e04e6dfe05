//! The report index (`case_index`): one row per submitted case of an item that declares an
//! index, with what officers search, list, export and count by. Rows are written in the
//! transaction that submits the case and follow its signing and confirmation.
use crate::{Store, StoreError, Tx};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct IndexRow {
    pub case_id: String,
    pub item_id: String,
    pub number: String,
    pub year: i64,
    pub title: String,
    pub credit_code: String,
    pub reference: String,
    pub district_code: String,
    /// `submitted`, `sealed` or `confirmed`.
    pub status: String,
    /// JSON array of strings: the index's further columns.
    pub columns: String,
    /// JSON array of integers: the index's figures.
    pub figures: String,
    pub submitted_at: i64,
    pub inspection_number: Option<String>,
    pub confirmed_at: Option<i64>,
    pub confirmed_by: Option<String>,
}

const COLUMNS: &str = "case_id, item_id, number, year, title, credit_code, reference, \
    district_code, status, columns, figures, submitted_at, inspection_number, confirmed_at, \
    confirmed_by";

/// Which indexed cases of an item to read; an empty or `None` criterion matches all.
#[derive(Debug, Clone, Default)]
pub struct IndexQuery {
    pub item_id: String,
    pub year: Option<i64>,
    /// Part of the unit's name.
    pub keyword: Option<String>,
    /// The reference (licence number), exactly.
    pub reference: Option<String>,
    pub district_code: Option<String>,
    pub status: Option<String>,
}

/// `%`, `_` and the escape character itself taken literally in a LIKE pattern.
pub(crate) fn like_pattern(keyword: &str) -> String {
    let mut out = String::from("%");
    for ch in keyword.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out.push('%');
    out
}

// Unused criteria compare with '' or -1, so one query text serves every combination.
const WHERE: &str = "item_id = $1 AND ($2 < 0 OR year = $2) \
    AND ($3 = '' OR title LIKE $3 ESCAPE '\\') AND ($4 = '' OR reference = $4) \
    AND ($5 = '' OR district_code = $5) AND ($6 = '' OR status = $6)";

struct Binds {
    item: String,
    year: i64,
    keyword: String,
    reference: String,
    district: String,
    status: String,
}

impl From<&IndexQuery> for Binds {
    fn from(q: &IndexQuery) -> Self {
        let text = |v: &Option<String>| v.as_deref().map(str::trim).unwrap_or("").to_string();
        let keyword = text(&q.keyword);
        Binds {
            item: q.item_id.clone(),
            year: q.year.unwrap_or(-1),
            keyword: if keyword.is_empty() {
                keyword
            } else {
                like_pattern(&keyword)
            },
            reference: text(&q.reference),
            district: text(&q.district_code),
            status: text(&q.status),
        }
    }
}

/// Adds (or, for a case submitted again after a correction, replaces) a case's row.
pub async fn upsert(tx: &mut Tx, row: &IndexRow) -> Result<(), StoreError> {
    on_tx!(tx, |c| {
        sqlx::query(&format!(
            "INSERT INTO case_index ({COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
             ON CONFLICT (case_id) DO UPDATE SET number = excluded.number, \
             year = excluded.year, title = excluded.title, credit_code = excluded.credit_code, \
             reference = excluded.reference, district_code = excluded.district_code, \
             status = excluded.status, columns = excluded.columns, figures = excluded.figures, \
             submitted_at = excluded.submitted_at"
        ))
        .bind(&row.case_id)
        .bind(&row.item_id)
        .bind(&row.number)
        .bind(row.year)
        .bind(&row.title)
        .bind(&row.credit_code)
        .bind(&row.reference)
        .bind(&row.district_code)
        .bind(&row.status)
        .bind(&row.columns)
        .bind(&row.figures)
        .bind(row.submitted_at)
        .bind(&row.inspection_number)
        .bind(row.confirmed_at)
        .bind(&row.confirmed_by)
        .execute(c)
        .await?
        .rows_affected()
    });
    Ok(())
}

/// Moves a case's row from status `from` to `to`; false if it has no row in `from`.
pub async fn advance(tx: &mut Tx, case_id: &str, from: &str, to: &str) -> Result<bool, StoreError> {
    let n = on_tx!(tx, |c| {
        sqlx::query("UPDATE case_index SET status = $3 WHERE case_id = $1 AND status = $2")
            .bind(case_id)
            .bind(from)
            .bind(to)
            .execute(c)
            .await?
            .rows_affected()
    });
    Ok(n == 1)
}

/// Records the bureau's confirmation; false if the case has no row or is confirmed already.
pub async fn confirm(
    tx: &mut Tx,
    case_id: &str,
    inspection_number: &str,
    at: i64,
    by: &str,
) -> Result<bool, StoreError> {
    let n = on_tx!(tx, |c| {
        sqlx::query(
            "UPDATE case_index SET status = 'confirmed', inspection_number = $2, \
             confirmed_at = $3, confirmed_by = $4 WHERE case_id = $1 AND status <> 'confirmed'",
        )
        .bind(case_id)
        .bind(inspection_number)
        .bind(at)
        .bind(by)
        .execute(c)
        .await?
        .rows_affected()
    });
    Ok(n == 1)
}

pub async fn by_case(store: &Store, case_id: &str) -> Result<Option<IndexRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM case_index WHERE case_id = $1");
    Ok(on_reader!(store, |e| sqlx::query_as(&sql)
        .bind(case_id)
        .fetch_optional(e)
        .await?))
}

/// One page of the matching rows, newest submission first, and how many match in all.
pub async fn query(
    store: &Store,
    q: &IndexQuery,
    offset: i64,
    limit: i64,
) -> Result<(Vec<IndexRow>, i64), StoreError> {
    let b = Binds::from(q);
    let sql = format!(
        "SELECT {COLUMNS} FROM case_index WHERE {WHERE} \
         ORDER BY submitted_at DESC, case_id LIMIT $7 OFFSET $8"
    );
    let rows: Vec<IndexRow> = on_reader!(store, |e| sqlx::query_as(&sql)
        .bind(&b.item)
        .bind(b.year)
        .bind(&b.keyword)
        .bind(&b.reference)
        .bind(&b.district)
        .bind(&b.status)
        .bind(limit)
        .bind(offset)
        .fetch_all(e)
        .await?);
    let count = format!("SELECT COUNT(*) FROM case_index WHERE {WHERE}");
    let (total,): (i64,) = on_reader!(store, |e| sqlx::query_as(&count)
        .bind(&b.item)
        .bind(b.year)
        .bind(&b.keyword)
        .bind(&b.reference)
        .bind(&b.district)
        .bind(&b.status)
        .fetch_one(e)
        .await?);
    Ok((rows, total))
}
