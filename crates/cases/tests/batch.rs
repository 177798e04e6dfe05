//! Batch renders into a zip, on both engines: every document once under a unique name, and a
//! batch interrupted mid-way (a crash, or two workers at once) still ends with every file
//! exactly once and the right count.
use std::collections::BTreeSet;
use std::io::Read;
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use tongban_cases::batch::{self, BatchItem, BatchState, Outcome, Runner};
use tongban_documents::{DocumentKind, Renderer, samples};
use tongban_jobs::Scheduler;
use tongban_store::testing::TestStore;
use tongban_store::{Store, StoreOptions, store_test};

mod common;
use common::file_store;

/// One renderer per test process: loading the fonts is the slow part of making one.
static RENDERER: LazyLock<Arc<Renderer>> = LazyLock::new(|| Arc::new(Renderer::new()));

fn runner(store: &Store, files: &tongban_files::FileStore) -> Runner {
    let mut r = Runner::new(store.clone(), files.clone(), RENDERER.clone());
    r.chunk = 4;
    r
}

/// Letters and licences (the quickest documents to typeset), some under the same name.
fn items(n: usize) -> Vec<BatchItem> {
    (0..n)
        .map(|i| match i % 3 {
            0 => BatchItem::new(
                "受理通知书.pdf",
                DocumentKind::AcceptanceNotice,
                &samples::acceptance_notice(),
            ),
            1 => {
                let mut licence = samples::licence();
                licence.number = format!("沪环辐证〔{:05}〕", i);
                BatchItem::new(
                    format!("辐射安全许可证-{i}"),
                    DocumentKind::Licence,
                    &licence,
                )
            }
            _ => BatchItem::new(
                "补正告知书.PDF",
                DocumentKind::CorrectionNotice,
                &samples::correction_notice(),
            ),
        })
        .collect()
}

/// The zip's entries in order, each with its bytes.
fn entries(zip: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut file = archive.by_index(i).unwrap();
            let mut bytes = Vec::new();
            file.read_to_end(&mut bytes).unwrap();
            (file.name().unwrap().to_string(), bytes)
        })
        .collect()
}

/// Runs the batch to its end with `runner`, one slice after another.
async fn finish(runner: &Runner, id: &str) -> Outcome {
    loop {
        match runner.run(id).await.unwrap() {
            Outcome::More => continue,
            other => return other,
        }
    }
}

/// Checks a finished batch: done counts every item once, and the zip holds `total` distinct
/// PDFs under the names expected.
async fn check_zip(
    store: &Store,
    files: &tongban_files::FileStore,
    id: &str,
    expected_names: &[String],
) -> Vec<(String, Vec<u8>)> {
    let b = batch::get(store, "officer-1", id).await.unwrap().unwrap();
    assert_eq!(b.state, BatchState::Done, "{:?}", b.error);
    assert_eq!(
        (b.done, b.total),
        (expected_names.len() as i64, expected_names.len() as i64)
    );
    let (_, zip) = batch::zip_of(store, files, "officer-1", id).await.unwrap();
    let entries = entries(&zip);
    let names: Vec<String> = entries.iter().map(|(n, _)| n.clone()).collect();
    assert_eq!(names, expected_names, "every file once, in order");
    let distinct: BTreeSet<&String> = names.iter().collect();
    assert_eq!(distinct.len(), names.len(), "no name twice");
    for (name, pdf) in &entries {
        assert!(pdf.starts_with(b"%PDF"), "{name} is a PDF");
    }
    entries
}

fn expected_names(n: usize) -> Vec<String> {
    let (mut notices, mut corrections) = (0, 0);
    (0..n)
        .map(|i| match i % 3 {
            0 => {
                notices += 1;
                if notices == 1 {
                    "受理通知书.pdf".to_string()
                } else {
                    format!("受理通知书（{notices}）.pdf")
                }
            }
            1 => format!("辐射安全许可证-{i}.pdf"),
            _ => {
                corrections += 1;
                if corrections == 1 {
                    "补正告知书.pdf".to_string()
                } else {
                    format!("补正告知书（{corrections}）.pdf")
                }
            }
        })
        .collect()
}

store_test!(
    a_batch_renders_every_document_into_one_zip_under_unique_names,
    |db: TestStore| async move {
        let dir = tempfile::tempdir().unwrap();
        let files = file_store(dir.path());
        let started = Instant::now();
        let id = batch::start(&db.store, "officer-1", "受理文书归档", items(12))
            .await
            .unwrap();
        assert_eq!(
            tongban_store::jobs::count_queued(&db.store).await.unwrap(),
            1,
            "the batch's job is queued with it"
        );
        let queued = batch::get(&db.store, "officer-1", &id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (queued.state, queued.done, queued.total),
            (BatchState::Queued, 0, 12)
        );
        assert!(
            batch::get(&db.store, "officer-2", &id)
                .await
                .unwrap()
                .is_none(),
            "another officer's batch does not exist for them"
        );
        assert!(matches!(
            batch::zip_of(&db.store, &files, "officer-1", &id).await,
            Err(batch::BatchError::NotReady)
        ));

        assert_eq!(finish(&runner(&db.store, &files), &id).await, Outcome::Done);
        let entries = check_zip(&db.store, &files, &id, &expected_names(12)).await;
        // Equal data gives equal bytes; different licence numbers give different files.
        assert_eq!(entries[0].1, entries[3].1);
        assert_ne!(entries[1].1, entries[4].1);
        assert_eq!(
            batch::get(&db.store, "officer-1", &id)
                .await
                .unwrap()
                .unwrap()
                .zip_name(),
            "受理文书归档.zip"
        );
        // A finished batch's job has nothing more to do.
        assert_eq!(
            runner(&db.store, &files).run(&id).await.unwrap(),
            Outcome::Finished
        );
        eprintln!("12 documents in {:?}", started.elapsed());
    }
);

store_test!(
    a_batch_cut_off_mid_way_resumes_with_every_file_exactly_once,
    |db: TestStore| async move {
        let dir = tempfile::tempdir().unwrap();
        let files = file_store(dir.path());
        let id = batch::start(&db.store, "officer-1", "归档", items(10))
            .await
            .unwrap();

        // The first worker records one chunk, renders (and stores) the next item's PDF, then
        // dies before recording it.
        let first = runner(&db.store, &files);
        assert_eq!(first.run_chunks(&id, Some(1)).await.unwrap(), Outcome::More);
        let b = batch::get(&db.store, "officer-1", &id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((b.state, b.done), (BatchState::Running, 4));
        let next = tongban_documents::Template::Letter;
        let stray = RENDERER
            .render(next, &samples::correction_notice(), None)
            .unwrap();
        files.put(stray.pdf.into()).await.unwrap();
        drop(first);
        db.store.close().await;

        // A fresh process: its own connections, the job run by the scheduler as the server
        // does, each run a short slice that queues its continuation.
        let store = Store::open(&db.url, StoreOptions::default()).await.unwrap();
        let mut second = runner(&store, &files);
        second.slice = Duration::ZERO;
        let scheduler = Scheduler::builder(store.clone())
            .on(batch::JOB_KIND, batch::handler(Arc::new(second)))
            .build();
        let deadline = Instant::now() + Duration::from_secs(120);
        while batch::get(&store, "officer-1", &id)
            .await
            .unwrap()
            .unwrap()
            .state
            != BatchState::Done
        {
            assert!(Instant::now() < deadline, "the batch does not finish");
            let pass = scheduler.run_due().await.unwrap();
            assert_eq!((pass.retried, pass.dead), (0, 0));
        }
        check_zip(&store, &files, &id, &expected_names(10)).await;
        assert_eq!(
            tongban_store::jobs::count_queued(&store).await.unwrap(),
            0,
            "no job left behind"
        );
    }
);

store_test!(
    two_workers_on_one_batch_count_each_document_once,
    |db: TestStore| async move {
        // After a lost lease two workers may run the same batch at once.
        let dir = tempfile::tempdir().unwrap();
        let files = file_store(dir.path());
        let id = batch::start(&db.store, "officer-1", "归档", items(8))
            .await
            .unwrap();
        let (a, b) = (runner(&db.store, &files), runner(&db.store, &files));
        let (x, y) = tokio::join!(finish(&a, &id), finish(&b, &id));
        assert!(x == Outcome::Done || y == Outcome::Done, "{x:?} {y:?}");
        check_zip(&db.store, &files, &id, &expected_names(8)).await;
    }
);

store_test!(
    a_document_that_cannot_be_made_fails_the_batch_with_the_reason,
    |db: TestStore| async move {
        let dir = tempfile::tempdir().unwrap();
        let files = file_store(dir.path());
        // Data of the wrong shape is refused at once, naming the file.
        let wrong = vec![BatchItem {
            file_name: "坏数据.pdf".into(),
            kind: DocumentKind::Licence,
            data: serde_json::json!({"title": "缺少字段"}),
            stored: None,
        }];
        let refused = batch::start(&db.store, "officer-1", "归档", wrong)
            .await
            .unwrap_err();
        assert!(
            refused.to_string().contains("第1份文件（坏数据.pdf）"),
            "{refused}"
        );
        assert!(matches!(
            batch::start(&db.store, "officer-1", "归档", vec![]).await,
            Err(batch::BatchError::Empty)
        ));
        assert!(matches!(
            batch::start(
                &db.store,
                "officer-1",
                "归档",
                batch::sample_reports(batch::MAX_ITEMS + 1)
            )
            .await,
            Err(batch::BatchError::TooMany)
        ));

        // A document that cannot be rendered (here its recorded source is damaged): the batch
        // fails with the file named, and stays failed.
        let id = damaged_batch(&db.store).await;
        let outcome = finish(&runner(&db.store, &files), &id).await;
        let b = batch::get(&db.store, "officer-1", &id)
            .await
            .unwrap()
            .unwrap();
        let Outcome::Failed(reason) = outcome else {
            panic!("{outcome:?}");
        };
        assert_eq!(b.state, BatchState::Failed);
        assert!(
            reason.contains("第3份文件（坏文件.pdf）生成失败"),
            "{reason}"
        );
        assert_eq!(b.error.as_deref(), Some(reason.as_str()));
        assert_eq!(
            runner(&db.store, &files).run(&id).await.unwrap(),
            Outcome::Finished
        );
    }
);

/// A batch recorded straight through the repository whose third item's source is damaged.
async fn damaged_batch(store: &Store) -> String {
    use tongban_store::batches::{BatchItemRow, BatchRow, insert};
    let letter = serde_json::json!({
        "kind": "acceptance_notice",
        "data": samples::acceptance_notice(),
    })
    .to_string();
    let items: Vec<BatchItemRow> = (1..=4)
        .map(|seq| BatchItemRow {
            seq,
            name: if seq == 3 {
                "坏文件.pdf".into()
            } else {
                format!("{seq}.pdf")
            },
            source: if seq == 3 {
                "{\"kind\": \"letter\"".into()
            } else {
                letter.clone()
            },
            file_digest: None,
        })
        .collect();
    let row = BatchRow {
        id: "damaged".into(),
        requested_by: "officer-1".into(),
        title: "归档".into(),
        total: 4,
        done: 0,
        state: "queued".into(),
        zip_digest: None,
        created_at: tongban_domain::Timestamp::now().millis(),
        finished_at: None,
        error: None,
    };
    let mut tx = store.begin().await.unwrap();
    insert(&mut tx, &row, &items).await.unwrap();
    tx.commit().await.unwrap();
    row.id
}
