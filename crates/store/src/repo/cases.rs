//! Cases and their events. The events are appended; the case row is their projection, written in
//! the same transaction. Data and payloads arrive as JSON text from the case service.
use tongban_domain::Timestamp;

use crate::engine::Pools;
use crate::{Store, StoreError, Tx};

/// A case row (the projection).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CaseRow {
    pub id: String,
    pub number: Option<String>,
    pub item_id: String,
    pub applicant_kind: String,
    pub applicant_id: String,
    pub state: String,
    pub step: Option<String>,
    pub data: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub submitted_at: Option<i64>,
    pub expires_at: Option<i64>,
    pub last_seq: i64,
    pub last_digest: String,
    /// The district whose bureau handles the case.
    pub district_code: Option<String>,
    /// The 审查 level while in review.
    pub level: Option<String>,
    /// YYYY-MM-DD: the current stage's statutory deadline, while its clock runs.
    pub deadline: Option<String>,
    /// JSON of the open 补正 request.
    pub correction: Option<String>,
    /// For a sub-case, its parent case and what it examines.
    pub parent_id: Option<String>,
    pub title: Option<String>,
}

const COLUMNS: &str = "id, number, item_id, applicant_kind, applicant_id, state, step, data, \
    created_at, updated_at, submitted_at, expires_at, last_seq, last_digest, district_code, level, \
    deadline, correction, parent_id, title";

/// How many columns `COLUMNS` names.
const COLUMN_COUNT: usize = 20;

impl CaseRow {
    /// The row from a direct read whose first columns are `COLUMNS`.
    fn direct(r: &rusqlite::Row<'_>) -> rusqlite::Result<CaseRow> {
        Ok(CaseRow {
            id: r.get(0)?,
            number: r.get(1)?,
            item_id: r.get(2)?,
            applicant_kind: r.get(3)?,
            applicant_id: r.get(4)?,
            state: r.get(5)?,
            step: r.get(6)?,
            data: r.get(7)?,
            created_at: r.get(8)?,
            updated_at: r.get(9)?,
            submitted_at: r.get(10)?,
            expires_at: r.get(11)?,
            last_seq: r.get(12)?,
            last_digest: r.get(13)?,
            district_code: r.get(14)?,
            level: r.get(15)?,
            deadline: r.get(16)?,
            correction: r.get(17)?,
            parent_id: r.get(18)?,
            title: r.get(19)?,
        })
    }
}

/// An event row.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EventRow {
    pub case_id: String,
    pub seq: i64,
    pub at: i64,
    pub actor: String,
    pub kind: String,
    pub payload: String,
    pub prev_digest: String,
    pub digest: String,
}

pub async fn insert(tx: &mut Tx, c: &CaseRow) -> Result<(), StoreError> {
    let sql = format!(
        "INSERT INTO cases ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, \
         $15, $16, $17, $18, $19, $20)"
    );
    on_tx!(tx, |conn| {
        sqlx::query(&sql)
            .bind(&c.id)
            .bind(&c.number)
            .bind(&c.item_id)
            .bind(&c.applicant_kind)
            .bind(&c.applicant_id)
            .bind(&c.state)
            .bind(&c.step)
            .bind(&c.data)
            .bind(c.created_at)
            .bind(c.updated_at)
            .bind(c.submitted_at)
            .bind(c.expires_at)
            .bind(c.last_seq)
            .bind(&c.last_digest)
            .bind(&c.district_code)
            .bind(&c.level)
            .bind(&c.deadline)
            .bind(&c.correction)
            .bind(&c.parent_id)
            .bind(&c.title)
            .execute(conn)
            .await?
            .rows_affected()
    });
    Ok(())
}

/// Writes the new projection of case `c.id` and appends its event `e`, but only if its last
/// event is still `prev_seq`: two saves racing on one case cannot both append the same event
/// number. False, with nothing written, if another event came first. One statement, so the
/// writer spends one round trip (one hand-off on SQLite) on both.
pub async fn advance(
    tx: &mut Tx,
    c: &CaseRow,
    prev_seq: i64,
    e: &EventRow,
) -> Result<bool, StoreError> {
    debug_assert_eq!(c.id, e.case_id);
    let sql = crate::dialect::insert_if_updated(
        tx.engine(),
        "UPDATE cases SET number = $2, state = $3, step = $4, data = $5, updated_at = $6, \
         submitted_at = $7, expires_at = $8, last_seq = $9, last_digest = $10, \
         district_code = $12, level = $13, deadline = $14, correction = $15 \
         WHERE id = $1 AND last_seq = $11",
        "case_events (case_id, seq, at, actor, kind, payload, prev_digest, digest)",
        "$1, $16, $17, $18, $19, $20, $21, $22",
    );
    let n = on_tx!(tx, |conn| {
        sqlx::query(&sql)
            .bind(&c.id)
            .bind(&c.number)
            .bind(&c.state)
            .bind(&c.step)
            .bind(&c.data)
            .bind(c.updated_at)
            .bind(c.submitted_at)
            .bind(c.expires_at)
            .bind(c.last_seq)
            .bind(&c.last_digest)
            .bind(prev_seq)
            .bind(&c.district_code)
            .bind(&c.level)
            .bind(&c.deadline)
            .bind(&c.correction)
            .bind(e.seq)
            .bind(e.at)
            .bind(&e.actor)
            .bind(&e.kind)
            .bind(&e.payload)
            .bind(&e.prev_digest)
            .bind(&e.digest)
            .execute(conn)
            .await?
            .rows_affected()
    });
    Ok(n > 0)
}

pub async fn append_event(tx: &mut Tx, e: &EventRow) -> Result<(), StoreError> {
    on_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO case_events (case_id, seq, at, actor, kind, payload, prev_digest, digest) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&e.case_id)
        .bind(e.seq)
        .bind(e.at)
        .bind(&e.actor)
        .bind(&e.kind)
        .bind(&e.payload)
        .bind(&e.prev_digest)
        .bind(&e.digest)
        .execute(conn)
        .await?
        .rows_affected()
    });
    Ok(())
}

/// Case `id`: read on every submission and every case page (see `keyed`).
pub async fn by_id(store: &Store, id: &str) -> Result<Option<CaseRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM cases WHERE id = $1");
    crate::keyed::one(store, &sql, id, CaseRow::direct).await
}

/// Case `id` read inside `tx`: what a write decides on, without a second connection while the
/// transaction holds one.
pub async fn by_id_in(tx: &mut Tx, id: &str) -> Result<Option<CaseRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM cases WHERE id = $1");
    Ok(on_tx!(tx, |c| sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(c)
        .await?))
}

pub async fn events(store: &Store, case_id: &str) -> Result<Vec<EventRow>, StoreError> {
    Ok(on_reader!(store, |e| sqlx::query_as(
        "SELECT case_id, seq, at, actor, kind, payload, prev_digest, digest FROM case_events \
         WHERE case_id = $1 ORDER BY seq"
    )
    .bind(case_id)
    .fetch_all(e)
    .await?))
}

/// Which of an applicant's cases to list.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    pub item_id: Option<String>,
    pub state: Option<String>,
    /// Cases created in this (Beijing) year: `[start, end)` in milliseconds.
    pub created_between: Option<(i64, i64)>,
    /// Only cases of these items (what a secondary certificate was granted); `None`: all.
    pub only_items: Option<Vec<String>>,
    /// For a list that shows no form data (我的办件): the rows come with `data` = `{}`, so the
    /// forms are neither read nor decoded.
    pub without_data: bool,
}

#[derive(sqlx::FromRow)]
struct Counted {
    #[sqlx(flatten)]
    row: CaseRow,
    total: i64,
}

/// One page of an applicant's cases, newest first, and how many there are in all.
pub async fn of_applicant(
    store: &Store,
    kind: &str,
    id: &str,
    filter: &CaseFilter,
    offset: i64,
    limit: i64,
) -> Result<(Vec<CaseRow>, i64), StoreError> {
    // Unused filters compare a column with itself, so one query text serves every combination.
    let (from, to) = filter.created_between.unwrap_or((i64::MIN, i64::MAX));
    // Sub-cases are the bureau's: the applicant sees them through their parent.
    let mut condition = "applicant_kind = $1 AND applicant_id = $2 AND parent_id IS NULL \
        AND ($3 = '' OR item_id = $3) AND ($4 = '' OR state = $4) \
        AND created_at >= $5 AND created_at < $6"
        .to_string();
    if let Some(items) = &filter.only_items {
        // Item ids are spec ids (`[a-z0-9-]`, checked at load); anything else matches nothing.
        match identifiers(items) {
            Some(list) => condition.push_str(&format!(" AND item_id IN ({list})")),
            None => condition.push_str(" AND 1 = 0"),
        }
    }
    let item = filter.item_id.clone().unwrap_or_default();
    let state = filter.state.clone().unwrap_or_default();
    // The page and the count in one query (`COUNT(*) OVER ()` counts before the LIMIT): one round
    // trip less on every 我的办件 page. Only a page past the end asks again, for the first row.
    let columns = if filter.without_data {
        COLUMNS.replacen(", data,", ", '{}' AS data,", 1)
    } else {
        COLUMNS.to_string()
    };
    let sql = format!(
        "SELECT {columns}, COUNT(*) OVER () AS total FROM cases WHERE {condition} \
         ORDER BY updated_at DESC, id LIMIT $7 OFFSET $8"
    );
    let page = async |limit: i64, offset: i64| -> Result<Vec<Counted>, StoreError> {
        Ok(match &*store.pools {
            // 我的办件 on every visit: read on this thread (see `direct`).
            Pools::Sqlite { direct, .. } => {
                let (sql, kind, id) = (sql.clone(), kind.to_string(), id.to_string());
                let (item, state) = (item.clone(), state.clone());
                direct
                    .read_here(move |conn| {
                        let mut query = conn.prepare_cached(&sql)?;
                        let params =
                            rusqlite::params![kind, id, item, state, from, to, limit, offset];
                        let rows = query.query_map(params, |r| {
                            Ok(Counted {
                                row: CaseRow::direct(r)?,
                                total: r.get(COLUMN_COUNT)?,
                            })
                        })?;
                        rows.collect()
                    })
                    .await?
            }
            Pools::Postgres { reader, .. } => {
                sqlx::query_as(&sql)
                    .bind(kind)
                    .bind(id)
                    .bind(&item)
                    .bind(&state)
                    .bind(from)
                    .bind(to)
                    .bind(limit)
                    .bind(offset)
                    .fetch_all(reader)
                    .await?
            }
        })
    };
    let counted = page(limit, offset).await?;
    let total = match counted.first() {
        Some(c) => c.total,
        None if offset == 0 => 0,
        None => page(1, 0).await?.first().map_or(0, |c| c.total),
    };
    let rows = counted.into_iter().map(|c| c.row).collect();
    Ok((rows, total))
}

/// The applicant's most recently submitted case of `item_id` (for 再来一单).
pub async fn latest_submitted(
    store: &Store,
    kind: &str,
    id: &str,
    item_id: &str,
) -> Result<Option<CaseRow>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM cases WHERE applicant_kind = $1 AND applicant_id = $2 \
         AND item_id = $3 AND submitted_at IS NOT NULL AND parent_id IS NULL \
         ORDER BY submitted_at DESC LIMIT 1"
    );
    Ok(on_reader!(store, |e| sqlx::query_as(&sql)
        .bind(kind)
        .bind(id)
        .bind(item_id)
        .fetch_optional(e)
        .await?))
}

/// A case number drawn for a submission, where each engine draws it fastest: on PostgreSQL
/// before the submission's transaction, in one of its own that does not wait for its commit to
/// be flushed (so the counter row's lock is held for microseconds, not across the submission
/// and its flush; a crash cannot reuse the number, because the submission's own flushed commit
/// comes later in the WAL); on SQLite, whose one writer serialises everything anyway, inside
/// the submission's transaction, saving a commit and leaving no gap when the submission fails.
pub struct NumberTicket {
    prefix_day: String,
    drawn: Option<i64>,
}

impl NumberTicket {
    pub async fn reserve(store: &Store, prefix_day: &str) -> Result<NumberTicket, StoreError> {
        let drawn = match (
            &*store.pools,
            crate::dialect::unflushed_next_number(store.engine()),
        ) {
            (Pools::Postgres { writer, .. }, Some(sql)) => {
                let (n,): (i64,) = sqlx::query_as(sql)
                    .bind(prefix_day)
                    .fetch_one(writer)
                    .await?;
                Some(n)
            }
            _ => None,
        };
        Ok(NumberTicket {
            prefix_day: prefix_day.to_string(),
            drawn,
        })
    }

    /// The number, drawn in `tx` if it was not drawn already.
    pub async fn take(self, tx: &mut Tx) -> Result<i64, StoreError> {
        match self.drawn {
            Some(n) => Ok(n),
            None => next_number(tx, &self.prefix_day).await,
        }
    }
}

/// The next number in the day's sequence for `prefix_day` (e.g. `FZ20261123`), starting at 1.
pub async fn next_number(tx: &mut Tx, prefix_day: &str) -> Result<i64, StoreError> {
    let (n,): (i64,) = on_tx!(tx, |c| {
        sqlx::query_as(
            "INSERT INTO case_numbers (prefix_day, last) VALUES ($1, 1) \
             ON CONFLICT (prefix_day) DO UPDATE SET last = case_numbers.last + 1 RETURNING last",
        )
        .bind(prefix_day)
        .fetch_one(c)
        .await?
    });
    Ok(n)
}

/// Deletes draft `id` of the applicant; false if it is not one of their drafts.
pub async fn delete_draft(
    tx: &mut Tx,
    id: &str,
    kind: &str,
    applicant: &str,
) -> Result<bool, StoreError> {
    let n = on_tx!(tx, |c| {
        sqlx::query(
            "DELETE FROM cases WHERE id = $1 AND applicant_kind = $2 AND applicant_id = $3 AND state = 'draft'",
        )
        .bind(id)
        .bind(kind)
        .bind(applicant)
        .execute(c)
        .await?
        .rows_affected()
    });
    Ok(n == 1)
}

/// Deletes drafts whose expiry has passed, with their events; returns how many.
pub async fn purge_expired_drafts(tx: &mut Tx, now: Timestamp) -> Result<u64, StoreError> {
    // Their events go with them (ON DELETE CASCADE; SQLite runs with foreign keys on).
    Ok(on_tx!(tx, |c| {
        sqlx::query("DELETE FROM cases WHERE state = 'draft' AND expires_at <= $1")
            .bind(now.millis())
            .execute(c)
            .await?
            .rows_affected()
    }))
}

/// A file attached to a case.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MaterialRow {
    pub id: String,
    pub case_id: String,
    pub material_id: String,
    pub name: String,
    pub file_name: String,
    pub file_kind: String,
    pub size: i64,
    pub digest: String,
    pub uploaded_at: i64,
}

pub async fn insert_material(tx: &mut Tx, m: &MaterialRow) -> Result<(), StoreError> {
    on_tx!(tx, |c| {
        sqlx::query(
            "INSERT INTO case_materials (id, case_id, material_id, name, file_name, file_kind, size, digest, uploaded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&m.id)
        .bind(&m.case_id)
        .bind(&m.material_id)
        .bind(&m.name)
        .bind(&m.file_name)
        .bind(&m.file_kind)
        .bind(m.size)
        .bind(&m.digest)
        .bind(m.uploaded_at)
        .execute(c)
        .await?
        .rows_affected()
    });
    Ok(())
}

/// The case's files, oldest first.
/// Case `case_id`'s files: read on every submission and every case page (see `keyed`).
pub async fn materials(store: &Store, case_id: &str) -> Result<Vec<MaterialRow>, StoreError> {
    const SQL: &str = "SELECT id, case_id, material_id, name, file_name, file_kind, size, digest, \
        uploaded_at FROM case_materials WHERE case_id = $1 ORDER BY uploaded_at, id";
    crate::keyed::all(store, SQL, case_id, |r| {
        Ok(MaterialRow {
            id: r.get(0)?,
            case_id: r.get(1)?,
            material_id: r.get(2)?,
            name: r.get(3)?,
            file_name: r.get(4)?,
            file_kind: r.get(5)?,
            size: r.get(6)?,
            digest: r.get(7)?,
            uploaded_at: r.get(8)?,
        })
    })
    .await
}

/// Removes file `id` of case `case_id`; false if the case has no such file.
pub async fn remove_material(tx: &mut Tx, case_id: &str, id: &str) -> Result<bool, StoreError> {
    let n = on_tx!(tx, |c| {
        sqlx::query("DELETE FROM case_materials WHERE case_id = $1 AND id = $2")
            .bind(case_id)
            .bind(id)
            .execute(c)
            .await?
            .rows_affected()
    });
    Ok(n == 1)
}

/// Removes every file of material `material_id` of case `case_id` (before a replacement).
pub async fn remove_material_files(
    tx: &mut Tx,
    case_id: &str,
    material_id: &str,
) -> Result<u64, StoreError> {
    Ok(on_tx!(tx, |c| {
        sqlx::query("DELETE FROM case_materials WHERE case_id = $1 AND material_id = $2")
            .bind(case_id)
            .bind(material_id)
            .execute(c)
            .await?
            .rows_affected()
    }))
}

/// An event of one of an applicant's cases, for their home page's messages.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ApplicantEvent {
    pub case_id: String,
    pub item_id: String,
    pub number: Option<String>,
    pub kind: String,
    pub at: i64,
}

/// The newest events of kinds `kinds` (fixed identifiers from the caller, never user input) of
/// the applicant's cases.
pub async fn applicant_events(
    store: &Store,
    kind: &str,
    id: &str,
    kinds: &[&'static str],
    limit: i64,
) -> Result<Vec<ApplicantEvent>, StoreError> {
    debug_assert!(
        kinds
            .iter()
            .all(|k| k.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
    );
    let list = kinds
        .iter()
        .map(|k| format!("'{k}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT e.case_id, c.item_id, c.number, e.kind, e.at FROM case_events e \
         JOIN cases c ON c.id = e.case_id \
         WHERE c.applicant_kind = $1 AND c.applicant_id = $2 AND c.parent_id IS NULL \
         AND e.kind IN ({list}) \
         ORDER BY e.at DESC, e.seq DESC LIMIT $3"
    );
    Ok(on_reader!(store, |e| sqlx::query_as(&sql)
        .bind(kind)
        .bind(id)
        .bind(limit)
        .fetch_all(e)
        .await?))
}

/// Which submitted cases an officer's queue shows. Empty strings and `None` leave a criterion
/// out; the caller pins `district` to the officer's jurisdiction.
#[derive(Debug, Clone, Default)]
pub struct QueueQuery {
    /// Items with a workflow (spec ids, `[a-z0-9-]`).
    pub items: Vec<String>,
    /// Case states (codes from the case service, never user input).
    pub states: Vec<&'static str>,
    pub district: Option<String>,
    pub level: Option<String>,
    /// Running deadlines on or after / on or before these days (YYYY-MM-DD).
    pub deadline_from: Option<String>,
    pub deadline_to: Option<String>,
    /// Matches the case number or any text of the form.
    pub keyword: String,
}

/// `'a', 'b'` for a SQL `IN` list of identifiers (`[a-z0-9_-]`); anything else is left out, and
/// `None` when nothing is left.
fn identifiers(list: &[impl AsRef<str>]) -> Option<String> {
    let ok: Vec<String> = list
        .iter()
        .map(AsRef::as_ref)
        .filter(|i| {
            !i.is_empty()
                && i.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        })
        .map(|i| format!("'{i}'"))
        .collect();
    (!ok.is_empty()).then(|| ok.join(", "))
}

/// One page of the queue, most urgent first (earliest deadline, then oldest submission), and the
/// count of all matches.
pub async fn queue(
    store: &Store,
    q: &QueueQuery,
    offset: i64,
    limit: i64,
) -> Result<(Vec<CaseRow>, i64), StoreError> {
    let (Some(items), Some(states)) = (identifiers(&q.items), identifiers(&q.states)) else {
        return Ok((vec![], 0));
    };
    let condition = format!(
        "item_id IN ({items}) AND state IN ({states}) \
         AND ($1 = '' OR district_code = $1) AND ($2 = '' OR level = $2) \
         AND ($3 = '' OR deadline >= $3) AND ($4 = '' OR deadline <= $4) \
         AND ($5 = '%%' OR number LIKE $5 ESCAPE '\\' OR data LIKE $5 ESCAPE '\\')"
    );
    let district = q.district.clone().unwrap_or_default();
    let level = q.level.clone().unwrap_or_default();
    let from = q.deadline_from.clone().unwrap_or_default();
    let to = q.deadline_to.clone().unwrap_or_default();
    let keyword = super::case_index::like_pattern(q.keyword.trim());
    let sql = format!(
        "SELECT {COLUMNS} FROM cases WHERE {condition} \
         ORDER BY CASE WHEN deadline IS NULL THEN 1 ELSE 0 END, deadline, submitted_at, id \
         LIMIT $6 OFFSET $7"
    );
    let rows: Vec<CaseRow> = on_reader!(store, |e| sqlx::query_as(&sql)
        .bind(&district)
        .bind(&level)
        .bind(&from)
        .bind(&to)
        .bind(&keyword)
        .bind(limit)
        .bind(offset)
        .fetch_all(e)
        .await?);
    let count_sql = format!("SELECT COUNT(*) FROM cases WHERE {condition}");
    let (total,): (i64,) = on_reader!(store, |e| sqlx::query_as(&count_sql)
        .bind(&district)
        .bind(&level)
        .bind(&from)
        .bind(&to)
        .bind(&keyword)
        .fetch_one(e)
        .await?);
    Ok((rows, total))
}

/// The sub-cases of `parent_id`, in the order they were opened.
pub async fn children(store: &Store, parent_id: &str) -> Result<Vec<CaseRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM cases WHERE parent_id = $1 ORDER BY number, id");
    Ok(on_reader!(store, |e| sqlx::query_as(&sql)
        .bind(parent_id)
        .fetch_all(e)
        .await?))
}
