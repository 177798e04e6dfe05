//! Durable timed work. Jobs are rows in the store (see `tongban_store::jobs`): enqueued in the
//! transaction of the change that needs them, claimed with a lease, retried with exponential
//! backoff, and kept as `dead` after their last attempt. A restart loses nothing: a job is only
//! done once its handler returned success, and a claim left by a crashed worker expires.
//!
//! Handlers must be idempotent, because a job whose worker died mid-run runs again.
//!
//! Leases are short and renewed: while a pass runs, its worker extends the claims of the jobs it
//! still holds every third of a lease, so a run may take longer than a lease, and a job whose
//! worker died runs again within one lease. (Reclaiming "the previous process's" claims at
//! start-up instead would be wrong with several instances: a starting instance cannot tell a dead
//! worker's claim from a live sibling's.)
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use tokio::sync::watch;
use tongban_store::jobs::{self, ClaimedJob, JobState, NewJob};
use tongban_store::{Store, StoreError};

/// Why a run failed; the text is kept on the job row for operators.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct JobFailure(pub String);

impl From<StoreError> for JobFailure {
    fn from(e: StoreError) -> Self {
        JobFailure(e.to_string())
    }
}

type Handler =
    Arc<dyn Fn(serde_json::Value) -> BoxFuture<'static, Result<(), JobFailure>> + Send + Sync>;

struct Registered {
    handler: Handler,
    /// Set for recurring work: the next run is scheduled this long after each finished run.
    every: Option<Duration>,
}

/// What one pass over the due jobs did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    pub succeeded: usize,
    pub retried: usize,
    pub dead: usize,
}

#[derive(Clone)]
pub struct Scheduler {
    store: Store,
    handlers: Arc<HashMap<String, Registered>>,
    /// How long a claim lasts, unless renewed, before another worker may take the job: after a
    /// crash, how long the jobs the dead worker held wait. Renewed every third of it.
    pub lease: Duration,
    /// How often the loop looks for due work.
    pub poll: Duration,
    /// Jobs claimed per pass.
    pub batch: i64,
    /// The first retry delay, doubled on each further failure (see [`backoff_from`]): 5 s in
    /// production; tests set a few milliseconds so retries do not wait 5 + 10 + 20 s.
    pub backoff_unit: Duration,
}

/// Registers handlers before the scheduler starts.
pub struct SchedulerBuilder {
    store: Store,
    handlers: HashMap<String, Registered>,
}

impl SchedulerBuilder {
    /// Runs `handler` for jobs of `kind`.
    pub fn on<F, Fut>(mut self, kind: &str, handler: F) -> Self
    where
        F: Fn(serde_json::Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), JobFailure>> + Send + 'static,
    {
        let handler: Handler = Arc::new(move |p| Box::pin(handler(p)));
        self.handlers.insert(
            kind.to_string(),
            Registered {
                handler,
                every: None,
            },
        );
        self
    }

    /// Runs `handler` every `every`, starting at the first start of any instance. One run at a
    /// time across all instances: the recurring job is a single row.
    pub fn every<F, Fut>(mut self, kind: &str, every: Duration, handler: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), JobFailure>> + Send + 'static,
    {
        let handler: Handler = Arc::new(move |_| Box::pin(handler()));
        self.handlers.insert(
            kind.to_string(),
            Registered {
                handler,
                every: Some(every),
            },
        );
        self
    }

    pub fn build(self) -> Scheduler {
        Scheduler {
            store: self.store,
            handlers: Arc::new(self.handlers),
            lease: Duration::from_secs(30),
            poll: Duration::from_secs(1),
            batch: 16,
            backoff_unit: BACKOFF_UNIT,
        }
    }
}

fn recurring_key(kind: &str) -> String {
    format!("recurring:{kind}")
}

/// Renews the claims in `held` every third of `lease` until aborted.
async fn heartbeat(
    store: Store,
    held: Arc<std::sync::Mutex<Vec<(tongban_domain::ids::JobId, i32)>>>,
    lease: Duration,
) {
    let every = (lease / 3).max(Duration::from_millis(100));
    loop {
        tokio::time::sleep(every).await;
        let jobs = held.lock().map(|h| h.clone()).unwrap_or_default();
        if jobs.is_empty() {
            continue;
        }
        let until = tongban_domain::Timestamp::now().after(lease);
        match jobs::renew(&store, &jobs, until).await {
            Ok(n) if (n as usize) < jobs.len() => {
                tracing::warn!(
                    held = jobs.len(),
                    renewed = n,
                    "a job claim expired before it was renewed"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "cannot renew job claims"),
        }
    }
}

/// The default first retry delay.
pub const BACKOFF_UNIT: Duration = Duration::from_secs(5);

/// The longest a failed job waits before its next attempt.
pub const BACKOFF_CAP: Duration = Duration::from_secs(3600);

/// Delay before the next attempt with the default unit: 5 s, 10 s, 20 s … capped at one hour.
pub fn backoff(attempt: i32) -> Duration {
    backoff_from(BACKOFF_UNIT, attempt)
}

/// Delay before the next attempt after `attempt` failed: `unit`, 2 × `unit`, 4 × `unit` … capped
/// at one hour.
pub fn backoff_from(unit: Duration, attempt: i32) -> Duration {
    let exp = attempt.saturating_sub(1).clamp(0, 20) as u32;
    unit.saturating_mul(1 << exp).min(BACKOFF_CAP)
}

impl Scheduler {
    pub fn builder(store: Store) -> SchedulerBuilder {
        SchedulerBuilder {
            store,
            handlers: HashMap::new(),
        }
    }

    /// Makes sure every recurring job has its row (keeping the time of an existing one).
    pub async fn ensure_recurring(&self) -> Result<(), StoreError> {
        let mut tx = self.store.begin().await?;
        for (kind, reg) in self.handlers.iter() {
            if reg.every.is_some() {
                let job =
                    NewJob::new(kind.clone(), serde_json::Value::Null).dedupe(recurring_key(kind));
                jobs::enqueue_if_absent(&mut tx, &job).await?;
            }
        }
        tx.commit().await
    }

    /// Claims the due jobs and runs them one after another.
    pub async fn run_due(&self) -> Result<Pass, StoreError> {
        let mut pass = Pass::default();
        let claimed = jobs::claim(
            &self.store,
            tongban_domain::Timestamp::now(),
            self.lease,
            self.batch,
        )
        .await?;
        if claimed.is_empty() {
            return Ok(pass);
        }
        let held = Arc::new(std::sync::Mutex::new(
            claimed
                .iter()
                .map(|j| (j.id.clone(), j.attempt))
                .collect::<Vec<_>>(),
        ));
        // A task of its own, so renewing never waits on the handler (which may hold the one
        // SQLite writer) and the handler never waits on renewing.
        let heartbeat = tokio::spawn(heartbeat(self.store.clone(), held.clone(), self.lease));
        let mut outcome = Ok(());
        for job in claimed {
            match self.run_one(&job).await {
                Ok(None) => pass.succeeded += 1,
                Ok(Some(JobState::Dead)) => pass.dead += 1,
                Ok(Some(_)) => pass.retried += 1,
                Err(e) => {
                    outcome = Err(e);
                    break;
                }
            }
            if let Ok(mut held) = held.lock() {
                held.retain(|(id, _)| *id != job.id);
            }
        }
        heartbeat.abort();
        outcome.map(|()| pass)
    }

    async fn run_one(&self, job: &ClaimedJob) -> Result<Option<JobState>, StoreError> {
        let registered = self.handlers.get(&job.kind);
        let outcome = match registered {
            Some(reg) => (reg.handler)(job.payload.clone()).await,
            None => Err(JobFailure(format!(
                "no handler for job kind {:?}",
                job.kind
            ))),
        };
        let state = match &outcome {
            Ok(()) => {
                jobs::complete(&self.store, &job.id).await?;
                tracing::info!(job.id = %job.id, job.kind = %job.kind, attempt = job.attempt, "job done");
                None
            }
            Err(failure) => {
                let retry_at = tongban_domain::Timestamp::now()
                    .after(backoff_from(self.backoff_unit, job.attempt));
                let state = jobs::fail(&self.store, job, &failure.0, retry_at).await?;
                tracing::warn!(job.id = %job.id, job.kind = %job.kind, attempt = job.attempt, error = %failure, ?state, "job failed");
                Some(state)
            }
        };
        // Recurring work is rescheduled once this run has finished, whatever its outcome.
        if let Some(every) = registered.and_then(|r| r.every)
            && (state.is_none() || state == Some(JobState::Dead))
        {
            let mut tx = self.store.begin().await?;
            let next = NewJob::new(job.kind.clone(), serde_json::Value::Null)
                .at(tongban_domain::Timestamp::now().after(every))
                .dedupe(recurring_key(&job.kind));
            jobs::enqueue(&mut tx, &next).await?;
            tx.commit().await?;
        }
        Ok(state)
    }

    /// Runs passes until `shutdown` turns true; a job in progress is finished first.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        if let Err(e) = self.ensure_recurring().await {
            tracing::error!(error = %e, "cannot schedule recurring jobs");
        }
        while !*shutdown.borrow() {
            match self.run_due().await {
                Ok(pass) if pass.succeeded + pass.retried + pass.dead > 0 => continue,
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "job pass failed"),
            }
            tokio::select! {
                _ = tokio::time::sleep(self.poll) => {}
                _ = shutdown.changed() => {}
            }
        }
        tracing::info!("job scheduler stopped");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_from_scales_with_the_unit_and_keeps_the_cap() {
        let ms = Duration::from_millis;
        assert_eq!(backoff_from(ms(100), 0), ms(100));
        assert_eq!(backoff_from(ms(100), 1), ms(100));
        assert_eq!(backoff_from(ms(100), 2), ms(200));
        assert_eq!(backoff_from(ms(100), 4), ms(800));
        assert_eq!(backoff_from(Duration::from_secs(5), 30), BACKOFF_CAP);
        assert_eq!(backoff_from(Duration::MAX, 3), BACKOFF_CAP, "no overflow");
        for attempt in [1, 2, 3, 7, 30] {
            assert_eq!(backoff(attempt), backoff_from(BACKOFF_UNIT, attempt));
        }
    }
}
