//! Load test of batch renders: N sample annual reports (about six pages each, different data
//! each) into one zip, as the `documents.batch` job does it, on SQLite and a local file store.
//!
//! `cargo run --release -p tongban-cases --example batch_render -- [N]` (default 1000). Prints
//! documents per second, the total time and the zip's size.
use std::sync::Arc;
use std::time::Instant;

use tongban_cases::batch::{self, Outcome, Runner};
use tongban_documents::Renderer;
use tongban_files::{FileStore, FilesConfig};
use tongban_store::{Store, StoreOptions};

#[tokio::main]
async fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1000);
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}", dir.path().join("tongban.db").display());
    let store = Store::open(&url, StoreOptions::default())
        .await
        .expect("open SQLite store");
    let files = FileStore::open(&FilesConfig::Local {
        dir: dir.path().join("files"),
    })
    .expect("file store");
    let renderer = Arc::new(Renderer::new());
    let runner = Runner::new(store.clone(), files.clone(), renderer);
    println!(
        "{n} annual reports, chunks of {}, {} renders at once",
        runner.chunk, runner.parallel
    );

    let started = Instant::now();
    let id = batch::start(&store, "load-test", "年度报告", batch::sample_reports(n))
        .await
        .expect("start");
    let recorded = started.elapsed();
    loop {
        match runner.run(&id).await.expect("run") {
            Outcome::More => {
                let b = batch::get(&store, "load-test", &id).await.unwrap().unwrap();
                println!(
                    "  {:>5} / {} after {:.1} s",
                    b.done,
                    b.total,
                    started.elapsed().as_secs_f64()
                );
            }
            Outcome::Done => break,
            other => panic!("batch ended with {other:?}"),
        }
    }
    let total = started.elapsed().as_secs_f64();
    let (b, zip) = batch::zip_of(&store, &files, "load-test", &id)
        .await
        .expect("zip");
    assert_eq!(b.done as usize, n);
    println!(
        "recorded in {:.2} s; {n} documents into a {:.1} MiB zip in {total:.1} s = {:.1} documents/s",
        recorded.as_secs_f64(),
        zip.len() as f64 / (1024.0 * 1024.0),
        n as f64 / total
    );
}
