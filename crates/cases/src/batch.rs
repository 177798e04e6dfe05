//! Batch renders: many documents into one zip, as a background job (`documents.batch`).
//!
//! [`start`] records the batch, its items (file names made unique) and its job in one
//! transaction. The job ([`Runner`]) renders the items that have no file yet, a chunk at a time:
//! the PDFs are rendered on the blocking pool, put in the content-addressed file store, and then
//! their digests are recorded and `done` bumped in one transaction per chunk. A run works for a
//! slice of time and then queues its continuation, so a graceful shutdown waits for one slice at
//! most and other jobs, and other officers' batches, take turns.
//!
//! Restart: a run killed mid-batch leaves its job claimed until the claim lapses (see
//! `tongban-jobs`), then the job runs again. Items already recorded are skipped; an item rendered
//! but not yet recorded is rendered again to the same bytes (rendering is deterministic), which
//! the file store keeps once. Recording is conditional on the item having no file, and only a
//! recording that changed a row counts, so even two runners at once neither count an item twice
//! nor skip one. When every item has its file the zip is assembled from the recorded files in
//! order (fixed timestamps, so a repeated assembly gives the same zip) and the batch is done.
//!
//! Batches are copies for archiving and export, not issuance: licences and certificates are
//! rendered without their verification QR code, nothing is sealed, and nothing is recorded as an
//! issued document. Issuing goes through [`crate::issuing`].
use std::collections::HashSet;
use std::io::Write;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tongban_crypto::Sm3Digest;
use tongban_documents::{DocumentKind, FormDocument, Letter, Licence, Renderer, samples};
use tongban_domain::Timestamp;
use tongban_files::FileStore;
use tongban_jobs::JobFailure;
use tongban_store::batches::{self, BatchItemRow, BatchRow};
use tongban_store::jobs::{self, NewJob};
use tongban_store::{Store, StoreError};

/// The job kind that runs a batch; its payload is `{"batch": id}`.
pub const JOB_KIND: &str = "documents.batch";

/// Most documents in one batch.
pub const MAX_ITEMS: usize = 2000;

/// One document to render: its file name in the zip, its kind, and the template's data (a
/// [`FormDocument`], [`Letter`] or [`Licence`] as JSON, as the kind's template takes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchItem {
    pub file_name: String,
    pub kind: DocumentKind,
    pub data: serde_json::Value,
    /// A file already in the file store (SM3, hex) to put in the zip as it is: a signed
    /// original is copied, never rendered again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stored: Option<String>,
}

impl BatchItem {
    pub fn new<T: Serialize>(file_name: impl Into<String>, kind: DocumentKind, data: &T) -> Self {
        BatchItem {
            file_name: file_name.into(),
            kind,
            data: serde_json::to_value(data).unwrap_or(serde_json::Value::Null),
            stored: None,
        }
    }

    /// A file already stored (its SM3 digest, hex), copied into the zip.
    pub fn stored(file_name: impl Into<String>, kind: DocumentKind, digest: String) -> Self {
        BatchItem {
            file_name: file_name.into(),
            kind,
            data: serde_json::Value::Null,
            stored: Some(digest),
        }
    }
}

/// What an item row keeps to render from.
#[derive(Debug, Serialize, Deserialize)]
struct Source {
    kind: DocumentKind,
    data: serde_json::Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchState {
    Queued,
    Running,
    Done,
    Failed,
}

impl BatchState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<BatchState> {
        [Self::Queued, Self::Running, Self::Done, Self::Failed]
            .into_iter()
            .find(|state| state.as_str() == s)
    }

    /// As the workbench says it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Queued => "排队中",
            Self::Running => "生成中",
            Self::Done => "已完成",
            Self::Failed => "失败",
        }
    }

    pub fn finished(self) -> bool {
        matches!(self, Self::Done | Self::Failed)
    }
}

/// A batch as its officer sees it.
#[derive(Debug, Clone)]
pub struct Batch {
    pub id: String,
    pub owner: String,
    pub title: String,
    pub total: i64,
    pub done: i64,
    pub state: BatchState,
    /// The zip, once done.
    pub zip: Option<Sm3Digest>,
    pub error: Option<String>,
    pub created_at: Timestamp,
    pub finished_at: Option<Timestamp>,
}

impl Batch {
    /// The zip's file name: the title, made safe for a file system.
    pub fn zip_name(&self) -> String {
        format!("{}.zip", safe_name(&self.title, "批量生成"))
    }
}

fn to_batch(row: BatchRow) -> Result<Batch, StoreError> {
    let bad = |what: &str| StoreError::InvalidRow(format!("batch {}: {what}", row.id));
    let state = BatchState::parse(&row.state).ok_or_else(|| bad("state"))?;
    let zip = row
        .zip_digest
        .as_deref()
        .map(|d| d.parse::<Sm3Digest>().map_err(|_| bad("zip digest")))
        .transpose()?;
    Ok(Batch {
        id: row.id,
        owner: row.requested_by,
        title: row.title,
        total: row.total,
        done: row.done,
        state,
        zip,
        error: row.error,
        created_at: Timestamp(row.created_at),
        finished_at: row.finished_at.map(Timestamp),
    })
}

#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error("没有要生成的文件")]
    Empty,
    #[error("一次最多生成{MAX_ITEMS}份文件")]
    TooMany,
    #[error("第{seq}份文件（{name}）的数据有误：{reason}")]
    BadItem {
        seq: usize,
        name: String,
        reason: String,
    },
    #[error("批量任务不存在")]
    NotFound,
    #[error("压缩包尚未生成")]
    NotReady,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("文件存储失败：{0}")]
    Files(String),
    #[error("压缩包生成失败：{0}")]
    Zip(String),
}

/// Characters a file name in a zip must not carry (path separators, what Windows refuses,
/// controls).
fn safe_name(name: &str, fallback: &str) -> String {
    let cleaned: String = name
        .trim()
        .chars()
        .map(|c| match c {
            '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' => '_',
            c if c.is_control() => '_',
            c => c,
        })
        .collect();
    let cleaned = cleaned.trim_start_matches('.').trim();
    let cleaned: String = cleaned.chars().take(100).collect();
    if cleaned.is_empty() {
        fallback.to_string()
    } else {
        cleaned
    }
}

/// Unique `.pdf` file names for `names`, in order: a name seen before (ignoring case, as
/// Windows does when the zip is unpacked) gets `（2）`, `（3）`… before its extension.
pub fn unique_file_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut taken = HashSet::new();
    names
        .into_iter()
        .map(|name| {
            let name = safe_name(name, "文件");
            let stem = match name.len().checked_sub(4) {
                Some(i) if name.is_char_boundary(i) && name[i..].eq_ignore_ascii_case(".pdf") => {
                    name[..i].to_string()
                }
                _ => name,
            };
            let mut candidate = format!("{stem}.pdf");
            let mut n = 2;
            while !taken.insert(candidate.to_lowercase()) {
                candidate = format!("{stem}（{n}）.pdf");
                n += 1;
            }
            candidate
        })
        .collect()
}

/// The data as the kind's template takes it, checked; licences without their QR code.
fn prepare(kind: DocumentKind, data: serde_json::Value) -> Result<serde_json::Value, String> {
    fn typed<T: serde::de::DeserializeOwned + Serialize>(
        data: serde_json::Value,
        adjust: impl FnOnce(&mut T),
    ) -> Result<serde_json::Value, String> {
        let mut value: T = serde_json::from_value(data).map_err(|e| e.to_string())?;
        adjust(&mut value);
        serde_json::to_value(&value).map_err(|e| e.to_string())
    }
    match kind.template() {
        tongban_documents::Template::Form => typed::<FormDocument>(data, |_| {}),
        tongban_documents::Template::Letter => typed::<Letter>(data, |_| {}),
        // A copy for the archive: the QR code belongs to the issued original.
        tongban_documents::Template::Licence => typed::<Licence>(data, |l| l.qr = false),
        other => Err(format!("模板 {other:?} 不能批量生成")),
    }
}

/// Records a batch of `items` for `owner` (an officer's id) and queues its job, in one
/// transaction. Returns the batch id.
pub async fn start(
    store: &Store,
    owner: &str,
    title: &str,
    items: Vec<BatchItem>,
) -> Result<String, BatchError> {
    if items.is_empty() {
        return Err(BatchError::Empty);
    }
    if items.len() > MAX_ITEMS {
        return Err(BatchError::TooMany);
    }
    let names = unique_file_names(items.iter().map(|i| i.file_name.as_str()));
    let mut rows = Vec::with_capacity(items.len());
    let mut stored = 0;
    for (i, (item, name)) in items.into_iter().zip(names).enumerate() {
        if let Some(digest) = item.stored {
            if digest.parse::<Sm3Digest>().is_err() {
                return Err(BatchError::BadItem {
                    seq: i + 1,
                    name: item.file_name,
                    reason: "文件摘要无效".into(),
                });
            }
            rows.push(BatchItemRow {
                seq: i as i64 + 1,
                name,
                source: serde_json::json!({ "kind": item.kind, "data": null }).to_string(),
                file_digest: Some(digest),
            });
            stored += 1;
            continue;
        }
        let data = prepare(item.kind, item.data).map_err(|reason| BatchError::BadItem {
            seq: i + 1,
            name: item.file_name.clone(),
            reason,
        })?;
        let source = serde_json::to_string(&Source {
            kind: item.kind,
            data,
        })
        .map_err(|e| BatchError::Zip(e.to_string()))?;
        rows.push(BatchItemRow {
            seq: i as i64 + 1,
            name,
            source,
            file_digest: None,
        });
    }
    let id = uuid::Uuid::now_v7().to_string();
    let title = match title.trim() {
        "" => "批量生成".to_string(),
        t => t.chars().take(100).collect(),
    };
    let batch = BatchRow {
        id: id.clone(),
        requested_by: owner.to_string(),
        title,
        total: rows.len() as i64,
        done: stored,
        state: BatchState::Queued.as_str().into(),
        zip_digest: None,
        created_at: Timestamp::now().millis(),
        finished_at: None,
        error: None,
    };
    let mut tx = store.begin().await?;
    batches::insert(&mut tx, &batch, &rows).await?;
    jobs::enqueue(&mut tx, &job(&id)).await?;
    tx.commit().await?;
    Ok(id)
}

fn job(batch_id: &str) -> NewJob {
    NewJob::new(JOB_KIND, serde_json::json!({ "batch": batch_id }))
}

/// `owner`'s batch `id`; another officer's batch does not exist for them.
pub async fn get(store: &Store, owner: &str, id: &str) -> Result<Option<Batch>, BatchError> {
    match batches::by_id(store, id).await? {
        Some(row) if row.requested_by == owner => Ok(Some(to_batch(row)?)),
        _ => Ok(None),
    }
}

/// `owner`'s batches, newest first (the last hundred).
pub async fn of_owner(store: &Store, owner: &str) -> Result<Vec<Batch>, BatchError> {
    batches::of_requester(store, owner, 100)
        .await?
        .into_iter()
        .map(|row| to_batch(row).map_err(BatchError::from))
        .collect()
}

/// The zip of `owner`'s finished batch `id`.
pub async fn zip_of(
    store: &Store,
    files: &FileStore,
    owner: &str,
    id: &str,
) -> Result<(Batch, bytes::Bytes), BatchError> {
    let batch = get(store, owner, id).await?.ok_or(BatchError::NotFound)?;
    let digest = batch.zip.ok_or(BatchError::NotReady)?;
    let bytes = files
        .get(&digest)
        .await
        .map_err(|e| BatchError::Files(e.to_string()))?;
    Ok((batch, bytes))
}

/// The demo and benchmark batch: `n` sample annual reports (different data each).
pub fn sample_reports(n: usize) -> Vec<BatchItem> {
    (1..=n)
        .map(|i| {
            BatchItem::new(
                format!("示例年度报告-{i:04}.pdf"),
                DocumentKind::Report,
                &samples::annual_report(i),
            )
        })
        .collect()
}

/// What one run of a batch ended with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every item rendered and the zip stored.
    Done,
    /// An item cannot be rendered; the batch is marked failed with this reason.
    Failed(String),
    /// The run's slice (or chunk limit) is used up; items remain.
    More,
    /// Nothing to do: the batch is finished already, or gone.
    Finished,
}

/// Renders batches. One per process, shared by the job handler.
pub struct Runner {
    pub store: Store,
    pub files: FileStore,
    pub renderer: Arc<Renderer>,
    /// Items recorded per transaction.
    pub chunk: usize,
    /// Documents rendered at once, each on a blocking thread.
    pub parallel: usize,
    /// How long one run works before it queues its continuation and ends.
    pub slice: Duration,
}

impl Runner {
    /// A chunk is two rounds of parallel renders: a report takes tens of milliseconds in a
    /// release build, a commit well under one, so small chunks cost nothing measurable and keep
    /// the progress bar moving and what a crash loses small.
    pub fn new(store: Store, files: FileStore, renderer: Arc<Renderer>) -> Runner {
        let parallel = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
        Runner {
            store,
            files,
            renderer,
            chunk: 2 * parallel,
            parallel,
            slice: Duration::from_secs(10),
        }
    }

    /// Works on batch `id` for one slice.
    pub async fn run(&self, id: &str) -> Result<Outcome, BatchError> {
        self.run_chunks(id, None).await
    }

    /// Works on batch `id` for one slice or `max_chunks` chunks, whichever ends first.
    pub async fn run_chunks(
        &self,
        id: &str,
        max_chunks: Option<usize>,
    ) -> Result<Outcome, BatchError> {
        let Some(row) = batches::by_id(&self.store, id).await? else {
            return Ok(Outcome::Finished);
        };
        let batch = to_batch(row)?;
        if batch.state.finished() {
            return Ok(Outcome::Finished);
        }
        if batch.state == BatchState::Queued {
            let mut tx = self.store.begin().await?;
            batches::mark_running(&mut tx, id).await?;
            tx.commit().await?;
        }
        let started = Instant::now();
        let mut chunks = 0;
        loop {
            let pending = batches::pending_items(&self.store, id, self.chunk.max(1) as i64).await?;
            if pending.is_empty() {
                return self.assemble(&batch).await;
            }
            if max_chunks.is_some_and(|m| chunks >= m)
                || (chunks > 0 && started.elapsed() >= self.slice)
            {
                return Ok(Outcome::More);
            }
            let rendered = self.render(&pending).await;
            let mut digests = Vec::with_capacity(pending.len());
            for (item, pdf) in pending.iter().zip(rendered) {
                let pdf = match pdf {
                    Ok(pdf) => pdf,
                    Err(reason) => {
                        let reason =
                            format!("第{}份文件（{}）生成失败：{reason}", item.seq, item.name);
                        let mut tx = self.store.begin().await?;
                        batches::fail(&mut tx, id, &reason, Timestamp::now()).await?;
                        tx.commit().await?;
                        tracing::warn!(batch = id, seq = item.seq, %reason, "batch failed");
                        return Ok(Outcome::Failed(reason));
                    }
                };
                let stored = self
                    .files
                    .put(bytes::Bytes::from(pdf))
                    .await
                    .map_err(|e| BatchError::Files(e.to_string()))?;
                digests.push((item.seq, stored.digest.to_hex()));
            }
            let mut tx = self.store.begin().await?;
            for (seq, digest) in &digests {
                batches::item_done(&mut tx, id, *seq, digest).await?;
            }
            tx.commit().await?;
            chunks += 1;
        }
    }

    /// Renders `items` in order, `parallel` at a time on the blocking pool.
    async fn render(&self, items: &[BatchItemRow]) -> Vec<Result<Vec<u8>, String>> {
        let lanes = self.parallel.clamp(1, items.len().max(1));
        let mut tasks = Vec::with_capacity(lanes);
        for lane in 0..lanes {
            let work: Vec<(usize, String)> = items
                .iter()
                .enumerate()
                .skip(lane)
                .step_by(lanes)
                .map(|(i, item)| (i, item.source.clone()))
                .collect();
            let renderer = self.renderer.clone();
            tasks.push(tokio::task::spawn_blocking(move || {
                work.into_iter()
                    .map(|(i, source)| (i, render_one(&renderer, &source)))
                    .collect::<Vec<_>>()
            }));
        }
        let mut out: Vec<Result<Vec<u8>, String>> = (0..items.len())
            .map(|_| Err("未生成".to_string()))
            .collect();
        for task in tasks {
            match task.await {
                Ok(done) => {
                    for (i, result) in done {
                        out[i] = result;
                    }
                }
                Err(e) => tracing::error!(error = %e, "a render thread failed"),
            }
        }
        out
    }

    /// Builds the zip from the recorded files in order and marks the batch done.
    async fn assemble(&self, batch: &Batch) -> Result<Outcome, BatchError> {
        let items = batches::files(&self.store, &batch.id).await?;
        let at = crate::issuing::beijing(batch.created_at);
        let stamp = {
            use chrono::{Datelike, Timelike};
            zip::DateTime::from_date_and_time(
                at.year().clamp(1980, 2107) as u16,
                at.month() as u8,
                at.day() as u8,
                at.hour() as u8,
                at.minute() as u8,
                at.second() as u8,
            )
            .unwrap_or_default()
        };
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .last_modified_time(stamp)
            .unix_permissions(0o644);
        let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        // Read a group of files, then compress it on the blocking pool, so neither the whole
        // batch's PDFs are held at once nor the async workers compress.
        for group in items.chunks(50) {
            let mut contents = Vec::with_capacity(group.len());
            for item in group {
                let digest = item
                    .file_digest
                    .as_deref()
                    .and_then(|d| d.parse::<Sm3Digest>().ok())
                    .ok_or_else(|| BatchError::Zip(format!("第{}份文件尚未生成", item.seq)))?;
                let pdf = self
                    .files
                    .get(&digest)
                    .await
                    .map_err(|e| BatchError::Files(e.to_string()))?;
                contents.push((item.name.clone(), pdf));
            }
            writer = tokio::task::spawn_blocking(move || {
                for (name, pdf) in contents {
                    writer.start_file(name, options)?;
                    writer.write_all(&pdf)?;
                }
                Ok::<_, zip::result::ZipError>(writer)
            })
            .await
            .map_err(|e| BatchError::Zip(e.to_string()))?
            .map_err(|e| BatchError::Zip(e.to_string()))?;
        }
        let zip = tokio::task::spawn_blocking(move || writer.finish())
            .await
            .map_err(|e| BatchError::Zip(e.to_string()))?
            .map_err(|e| BatchError::Zip(e.to_string()))?
            .into_inner();
        let size = zip.len();
        let stored = self
            .files
            .put(bytes::Bytes::from(zip))
            .await
            .map_err(|e| BatchError::Files(e.to_string()))?;
        let mut tx = self.store.begin().await?;
        batches::finish(
            &mut tx,
            &batch.id,
            &stored.digest.to_hex(),
            Timestamp::now(),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(batch = %batch.id, files = items.len(), size, "batch zip ready");
        Ok(Outcome::Done)
    }
}

fn render_one(renderer: &Renderer, source: &str) -> Result<Vec<u8>, String> {
    let source: Source = serde_json::from_str(source).map_err(|e| e.to_string())?;
    renderer
        .render(source.kind.template(), &source.data, None)
        .map(|r| r.pdf)
        .map_err(|e| e.to_string())
}

type JobFuture = Pin<Box<dyn Future<Output = Result<(), JobFailure>> + Send>>;

/// The `documents.batch` job handler. A run that used up its slice queues the next run of the
/// same batch before it ends.
pub fn handler(
    runner: Arc<Runner>,
) -> impl Fn(serde_json::Value) -> JobFuture + Send + Sync + 'static {
    move |payload| {
        let runner = runner.clone();
        Box::pin(async move {
            let id = payload["batch"]
                .as_str()
                .ok_or_else(|| JobFailure("batch job without a batch id".into()))?
                .to_string();
            match runner.run(&id).await {
                Ok(Outcome::More) => {
                    let mut tx = runner.store.begin().await?;
                    jobs::enqueue(&mut tx, &job(&id)).await?;
                    tx.commit().await?;
                    Ok(())
                }
                Ok(_) => Ok(()),
                Err(e) => Err(JobFailure(e.to_string())),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_names_get_a_number_and_every_name_is_a_pdf() {
        let names = unique_file_names([
            "受理通知书.pdf",
            "受理通知书.PDF",
            "受理通知书（2）.pdf",
            "受理通知书",
            "a/b:c",
            "  ",
            "..隐藏",
        ]);
        assert_eq!(
            names,
            [
                "受理通知书.pdf",
                "受理通知书（2）.pdf",
                "受理通知书（2）（2）.pdf",
                "受理通知书（3）.pdf",
                "a_b_c.pdf",
                "文件.pdf",
                "隐藏.pdf",
            ]
        );
    }

    #[test]
    fn licences_in_a_batch_carry_no_qr_code() {
        let mut licence = samples::licence();
        licence.qr = true;
        let data = prepare(
            DocumentKind::Licence,
            serde_json::to_value(&licence).unwrap(),
        )
        .unwrap();
        assert_eq!(data["qr"], false);
        assert!(prepare(DocumentKind::Decision, serde_json::json!({"title": 1})).is_err());
    }
}
