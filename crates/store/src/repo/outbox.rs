//! The outbox (`outbox`): every message for another system — the city platform's case library
//! and licence repository — written in the transaction of the change it reports, with the
//! `outbox.deliver` job that sends it, so the change, the message and its delivery commit or
//! vanish together. Messages of one destination are delivered in id order; the id (a UUIDv7,
//! so ordered by time) is the message id the receiver deduplicates by.
//!
//! Order: the id is taken inside the writing transaction. On SQLite (one writer) id order is
//! commit order. On PostgreSQL two transactions may commit in the other order than their ids;
//! for one case they cannot, as long as the caller has written the case's row (which locks it)
//! before it pushes, as the cases crate does.
use tongban_domain::Timestamp;

use crate::jobs::{self, NewJob};
use crate::{Store, StoreError, Tx};

/// The kind of the job that delivers a destination's pending messages.
pub const DELIVER_JOB: &str = "outbox.deliver";

/// Tries of one delivery job: with the scheduler's 5 s backoff doubling up to an hour, about
/// two days of an unreachable platform. A job that dies leaves its message pending; the next
/// message of the destination takes it along (its job delivers every earlier pending one).
pub const DELIVER_ATTEMPTS: i32 = 50;

/// A message to queue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMessage {
    /// Where it goes (`case_library`, `licence_repository`).
    pub destination: String,
    pub case_id: Option<String>,
    /// What it reports (e.g. `case.accepted`, `licence.issued`).
    pub kind: String,
    pub payload: serde_json::Value,
}

/// A queued or delivered message.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxRow {
    pub id: String,
    pub destination: String,
    pub case_id: Option<String>,
    pub kind: String,
    pub payload: serde_json::Value,
    pub created_at: Timestamp,
    pub delivered_at: Option<Timestamp>,
    /// Delivery tries so far, the successful one included.
    pub attempts: i64,
    /// Why the last failed try failed.
    pub last_error: Option<String>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    destination: String,
    case_id: Option<String>,
    kind: String,
    payload: String,
    created_at: i64,
    delivered_at: Option<i64>,
    attempts: i64,
    last_error: Option<String>,
}

impl TryFrom<Row> for OutboxRow {
    type Error = StoreError;

    fn try_from(r: Row) -> Result<Self, StoreError> {
        let payload = serde_json::from_str(&r.payload)
            .map_err(|e| StoreError::InvalidRow(format!("outbox {} payload: {e}", r.id)))?;
        Ok(OutboxRow {
            id: r.id,
            destination: r.destination,
            case_id: r.case_id,
            kind: r.kind,
            payload,
            created_at: Timestamp(r.created_at),
            delivered_at: r.delivered_at.map(Timestamp),
            attempts: r.attempts,
            last_error: r.last_error,
        })
    }
}

const COLUMNS: &str =
    "id, destination, case_id, kind, payload, created_at, delivered_at, attempts, last_error";

/// Queues `m` in `tx` with the job that delivers it, in one statement; returns the message id.
pub async fn push(tx: &mut Tx, m: &NewMessage) -> Result<String, StoreError> {
    let ids = push_all(tx, std::slice::from_ref(m)).await?;
    Ok(ids.into_iter().next().expect("one message, one id"))
}

/// Queues `messages` in `tx` in their order, each with the job that delivers it, all in one
/// statement (a submission queues several: one hand-off to the writer instead of one each);
/// returns their ids.
pub async fn push_all(tx: &mut Tx, messages: &[NewMessage]) -> Result<Vec<String>, StoreError> {
    if messages.is_empty() {
        return Ok(Vec::new());
    }
    // Six parameters for the message, seven for its job (see `jobs::insert_sql`).
    const WIDTH: usize = 13;
    let ids: Vec<String> = messages
        .iter()
        .map(|_| uuid::Uuid::now_v7().to_string())
        .collect();
    let jobs: Vec<NewJob> = messages
        .iter()
        .zip(&ids)
        .map(|(m, id)| {
            let mut job = NewJob::new(
                DELIVER_JOB,
                serde_json::json!({ "destination": m.destination, "id": id }),
            );
            job.max_attempts = DELIVER_ATTEMPTS;
            job
        })
        .collect();
    // The delivery jobs have no dedupe key, so their INSERTs cannot conflict.
    let inserts: Vec<String> = (0..messages.len())
        .flat_map(|i| {
            let p = |k: usize| format!("${}", i * WIDTH + k);
            [
                format!(
                    "INSERT INTO outbox ({COLUMNS}) VALUES ({}, {}, {}, {}, {}, {}, NULL, 0, NULL)",
                    p(1),
                    p(2),
                    p(3),
                    p(4),
                    p(5),
                    p(6)
                ),
                jobs::insert_sql(i * WIDTH + 7, ""),
            ]
        })
        .collect();
    let inserts: Vec<&str> = inserts.iter().map(String::as_str).collect();
    let sql = crate::dialect::all_inserts(tx.engine(), &inserts);
    let now = Timestamp::now().millis();
    on_tx!(tx, |c| {
        let mut query = sqlx::query(&sql);
        for ((m, id), job) in messages.iter().zip(&ids).zip(&jobs) {
            query = query
                .bind(id)
                .bind(&m.destination)
                .bind(m.case_id.as_deref())
                .bind(&m.kind)
                .bind(m.payload.to_string())
                .bind(now);
            query = jobs::bind_job!(query, job);
        }
        query.execute(c).await?.rows_affected()
    });
    Ok(ids)
}

/// The undelivered messages of `destination` up to and including `up_to_id`, oldest first, at
/// most `limit`.
pub async fn pending(
    store: &Store,
    destination: &str,
    up_to_id: &str,
    limit: i64,
) -> Result<Vec<OutboxRow>, StoreError> {
    let rows: Vec<Row> = on_reader!(store, |e| {
        sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM outbox WHERE destination = $1 AND delivered_at IS NULL \
             AND id <= $2 ORDER BY id LIMIT $3"
        ))
        .bind(destination)
        .bind(up_to_id)
        .bind(limit)
        .fetch_all(e)
        .await?
    });
    rows.into_iter().map(OutboxRow::try_from).collect()
}

/// Records that message `id` was accepted at `at`; false if it was delivered already (or is
/// unknown), which leaves the first delivery's time.
pub async fn mark_delivered(store: &Store, id: &str, at: Timestamp) -> Result<bool, StoreError> {
    let mut tx = store.begin().await?;
    let n = on_tx!(&mut tx, |c| {
        sqlx::query(
            "UPDATE outbox SET delivered_at = $2, attempts = attempts + 1 \
             WHERE id = $1 AND delivered_at IS NULL",
        )
        .bind(id)
        .bind(at.millis())
        .execute(c)
        .await?
        .rows_affected()
    });
    tx.commit().await?;
    Ok(n == 1)
}

/// Records a failed try of message `id`: one more attempt, and why.
pub async fn record_failure(store: &Store, id: &str, error: &str) -> Result<(), StoreError> {
    let mut tx = store.begin().await?;
    on_tx!(&mut tx, |c| {
        sqlx::query("UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE id = $1")
            .bind(id)
            .bind(error)
            .execute(c)
            .await?
            .rows_affected()
    });
    tx.commit().await
}

/// Every message (of `destination`, if given), oldest first: for operators and tests.
pub async fn list(store: &Store, destination: Option<&str>) -> Result<Vec<OutboxRow>, StoreError> {
    let rows: Vec<Row> = on_reader!(store, |e| {
        sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM outbox WHERE ($1 = '' OR destination = $1) ORDER BY id"
        ))
        .bind(destination.unwrap_or(""))
        .fetch_all(e)
        .await?
    });
    rows.into_iter().map(OutboxRow::try_from).collect()
}
