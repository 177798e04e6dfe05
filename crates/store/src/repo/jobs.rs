//! Rows of durable timed work. The scheduler in `tongban-jobs` drives them; enqueueing happens in
//! the same transaction as the change that needs the work, so the two commit or vanish together.
use tongban_domain::Timestamp;
use tongban_domain::ids::JobId;

use crate::{Store, StoreError, Tx, dialect};

/// Work to schedule.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub kind: String,
    pub payload: serde_json::Value,
    /// Not before this instant.
    pub run_at: Timestamp,
    /// At most one queued job per key: enqueueing another with the same key replaces its time
    /// and payload (a timer that is reset), it does not add a second one.
    pub dedupe_key: Option<String>,
    pub max_attempts: i32,
}

impl NewJob {
    pub fn new(kind: impl Into<String>, payload: serde_json::Value) -> Self {
        Self {
            kind: kind.into(),
            payload,
            run_at: Timestamp::now(),
            dedupe_key: None,
            max_attempts: 10,
        }
    }
    pub fn at(mut self, run_at: Timestamp) -> Self {
        self.run_at = run_at;
        self
    }
    pub fn dedupe(mut self, key: impl Into<String>) -> Self {
        self.dedupe_key = Some(key.into());
        self
    }
}

/// A job claimed by a worker until `locked_until`.
#[derive(Debug, Clone)]
pub struct ClaimedJob {
    pub id: JobId,
    pub kind: String,
    pub payload: serde_json::Value,
    /// Counting this run.
    pub attempt: i32,
    pub max_attempts: i32,
}

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    Queued,
    Done,
    /// Failed `max_attempts` times; kept for an operator to look at.
    Dead,
}

impl JobState {
    fn code(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Done => "done",
            JobState::Dead => "dead",
        }
    }
}

/// Schedules `job`; returns the id of the queued row (an existing one when the key was taken).
pub async fn enqueue(tx: &mut Tx, job: &NewJob) -> Result<JobId, StoreError> {
    let reset_timer = "ON CONFLICT (dedupe_key) DO UPDATE SET payload = excluded.payload, \
                       run_at = excluded.run_at, updated_at = excluded.updated_at";
    let id = insert(tx, job, reset_timer).await?;
    id.ok_or_else(|| StoreError::InvalidRow("job upsert returned no row".into()))
}

/// Schedules `job` unless a queued job already holds its dedupe key (which then keeps its time).
/// Returns whether a job was added.
pub async fn enqueue_if_absent(tx: &mut Tx, job: &NewJob) -> Result<bool, StoreError> {
    Ok(insert(tx, job, "ON CONFLICT (dedupe_key) DO NOTHING")
        .await?
        .is_some())
}

/// The INSERT of a job row, its placeholders numbered from `$first`, in the order
/// [`bind_job!`] binds them.
pub(crate) fn insert_sql(first: usize, on_conflict: &str) -> String {
    let p = |i: usize| format!("${}", first + i);
    format!(
        "INSERT INTO jobs (id, kind, payload, dedupe_key, state, run_at, attempts, max_attempts, created_at, updated_at) \
         VALUES ({}, {}, {}, {}, 'queued', {}, 0, {}, {}, {}) {on_conflict}",
        p(0),
        p(1),
        p(2),
        p(3),
        p(4),
        p(5),
        p(6),
        p(6)
    )
}

/// Binds a new job's row to `query` for [`insert_sql`]'s placeholders.
macro_rules! bind_job {
    ($query:expr, $job:expr) => {{
        let job: &$crate::jobs::NewJob = $job;
        $query
            .bind(tongban_domain::ids::JobId::new().as_str().to_string())
            .bind(&job.kind)
            .bind(job.payload.to_string())
            .bind(job.dedupe_key.as_deref())
            .bind(job.run_at.millis())
            .bind(job.max_attempts)
            .bind(tongban_domain::Timestamp::now().millis())
    }};
}
pub(crate) use bind_job;

/// Inserts `job` with the given conflict clause; the id of the row written, if one was.
async fn insert(tx: &mut Tx, job: &NewJob, on_conflict: &str) -> Result<Option<JobId>, StoreError> {
    let sql = format!("{} RETURNING id", insert_sql(1, on_conflict));
    let id: Option<String> = on_tx!(tx, |c| {
        bind_job!(sqlx::query_scalar(&sql), job)
            .fetch_optional(c)
            .await?
    });
    Ok(id.map(JobId::from_raw))
}

/// Claims up to `limit` due jobs until `now + lease`. Several instances may call this at once on
/// PostgreSQL: each row goes to one of them.
pub async fn claim(
    store: &Store,
    now: Timestamp,
    lease: std::time::Duration,
    limit: i64,
) -> Result<Vec<ClaimedJob>, StoreError> {
    let sql = format!(
        "UPDATE jobs SET locked_until = $1, attempts = attempts + 1, updated_at = $2 \
         WHERE id IN (SELECT id FROM jobs WHERE state = 'queued' AND run_at <= $2 \
         AND (locked_until IS NULL OR locked_until <= $2) ORDER BY run_at LIMIT $3{}) \
         RETURNING id, kind, payload, attempts, max_attempts",
        dialect::skip_locked(store.engine())
    );
    let mut tx = store.begin().await?;
    let rows: Vec<(String, String, String, i32, i32)> = on_tx!(&mut tx, |c| {
        sqlx::query_as(&sql)
            .bind(now.after(lease).millis())
            .bind(now.millis())
            .bind(limit)
            .fetch_all(c)
            .await?
    });
    tx.commit().await?;
    rows.into_iter()
        .map(|(id, kind, payload, attempt, max_attempts)| {
            let payload = serde_json::from_str(&payload)
                .map_err(|e| StoreError::InvalidRow(format!("job {id} payload: {e}")))?;
            Ok(ClaimedJob {
                id: JobId::from_raw(id),
                kind,
                payload,
                attempt,
                max_attempts,
            })
        })
        .collect()
}

/// Extends the claims on `jobs` to `until` while their worker is still at it, so a lease can be
/// short (a crashed worker's job runs again soon) and a long run still keeps its job. A claim is
/// only renewed by the run that made it (same attempt): one that expired and was claimed again by
/// another worker stays theirs. Returns how many claims were renewed.
pub async fn renew(
    store: &Store,
    jobs: &[(JobId, i32)],
    until: Timestamp,
) -> Result<u64, StoreError> {
    let mut renewed = 0;
    let mut tx = store.begin().await?;
    for (id, attempt) in jobs {
        renewed += on_tx!(&mut tx, |c| {
            sqlx::query(
                "UPDATE jobs SET locked_until = $2 WHERE id = $1 AND attempts = $3 \
                 AND state = 'queued' AND locked_until IS NOT NULL",
            )
            .bind(id.as_str())
            .bind(until.millis())
            .bind(attempt)
            .execute(c)
            .await?
            .rows_affected()
        });
    }
    tx.commit().await?;
    Ok(renewed)
}

/// Marks a claimed job done. Its dedupe key is released so the same timer can be set again.
pub async fn complete(store: &Store, id: &JobId) -> Result<(), StoreError> {
    finish(store, id, JobState::Done, None).await
}

/// Records a failed run: the job runs again at `retry_at`, or is dead when out of attempts.
pub async fn fail(
    store: &Store,
    job: &ClaimedJob,
    error: &str,
    retry_at: Timestamp,
) -> Result<JobState, StoreError> {
    if job.attempt >= job.max_attempts {
        finish(store, &job.id, JobState::Dead, Some(error)).await?;
        return Ok(JobState::Dead);
    }
    let mut tx = store.begin().await?;
    on_tx!(&mut tx, |c| {
        sqlx::query(
            "UPDATE jobs SET run_at = $2, locked_until = NULL, last_error = $3, updated_at = $4 WHERE id = $1",
        )
        .bind(job.id.as_str())
        .bind(retry_at.millis())
        .bind(error)
        .bind(Timestamp::now().millis())
        .execute(c)
        .await?
        .rows_affected()
    });
    tx.commit().await?;
    Ok(JobState::Queued)
}

async fn finish(
    store: &Store,
    id: &JobId,
    state: JobState,
    error: Option<&str>,
) -> Result<(), StoreError> {
    let mut tx = store.begin().await?;
    on_tx!(&mut tx, |c| {
        sqlx::query(
            "UPDATE jobs SET state = $2, dedupe_key = NULL, locked_until = NULL, \
             last_error = COALESCE($3, last_error), updated_at = $4 WHERE id = $1",
        )
        .bind(id.as_str())
        .bind(state.code())
        .bind(error)
        .bind(Timestamp::now().millis())
        .execute(c)
        .await?
        .rows_affected()
    });
    tx.commit().await
}

/// A job as an operator sees it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JobRecord {
    pub id: String,
    pub kind: String,
    pub state: String,
    pub run_at: i64,
    pub attempts: i32,
    pub last_error: Option<String>,
}

pub async fn by_id(store: &Store, id: &JobId) -> Result<Option<JobRecord>, StoreError> {
    Ok(on_reader!(store, |e| {
        sqlx::query_as(
            "SELECT id, kind, state, run_at, attempts, last_error FROM jobs WHERE id = $1",
        )
        .bind(id.as_str())
        .fetch_optional(e)
        .await?
    }))
}

/// How many jobs are queued, for readiness and tests.
pub async fn count_queued(store: &Store) -> Result<i64, StoreError> {
    Ok(on_reader!(store, |e| {
        sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE state = 'queued'")
            .fetch_one(e)
            .await?
    }))
}
