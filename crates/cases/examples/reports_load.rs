//! Load test of 年度报告管理: N radiation annual reports filed the way an enterprise files them
//! (start, attach the monitoring report, submit — each validated and indexed), then what an
//! officer does with them: the query's first page, a keyword query, the export of all N to
//! xlsx, the year's statistics, and the zip of one district's reports (N/10) as the batch job
//! runs it.
//!
//! `cargo run --release -p tongban-cases --example reports_load -- [N] [postgres://…]`
//! (default 10000, SQLite in a temporary directory). Prints each time.
use std::sync::Arc;
use std::time::Instant;

use tongban_cases::batch::{self, Outcome, Runner};
use tongban_cases::reports::{self, Filter, Scope};
use tongban_cases::{Applicant, materials, start, submit};
use tongban_documents::Renderer;
use tongban_domain::{CreditCode, Enterprise, EnterpriseId, Jurisdiction, Timestamp};
use tongban_files::{FileStore, FilesConfig};
use tongban_store::{Store, StoreOptions};

/// Ten districts, so at 10 000 reports one district's are 1 000: the zip the issue asks for.
const DISTRICTS: [&str; 10] = [
    "310115", "310112", "310104", "310110", "310101", "310105", "310106", "310107", "310109",
    "310113",
];

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let numbers: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let n = numbers.first().copied().unwrap_or(10_000);
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = args
        .iter()
        .find(|a| a.starts_with("postgres://"))
        .cloned()
        .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("tongban.db").display()));
    let store = Store::open(&url, StoreOptions::default())
        .await
        .expect("open store");
    let files = FileStore::open(&FilesConfig::Local {
        dir: dir.path().join("files"),
    })
    .expect("file store");
    let item = tongban_items::catalogue()
        .unwrap()
        .get("radiation-annual-report")
        .unwrap()
        .clone();
    println!("{n} reports on {}", store.engine().name());

    // Filing, four enterprises at a time (the single SQLite writer queues them).
    let started = Instant::now();
    let item = Arc::new(item);
    let mut lanes = Vec::new();
    for lane in 0..4 {
        let (store, files, item) = (store.clone(), files.clone(), item.clone());
        lanes.push(tokio::spawn(async move {
            for i in (lane..n).step_by(4) {
                file_one(&store, &files, &item, i).await;
            }
        }));
    }
    for lane in lanes {
        lane.await.expect("filing lane");
    }
    let filed = started.elapsed().as_secs_f64();
    println!(
        "filed {n} reports in {filed:.1} s ({:.0} submissions/s)",
        n as f64 / filed
    );

    let city = Scope::city();
    let year = Filter {
        year: Some(2025),
        ..Filter::default()
    };
    let t = Instant::now();
    let page = reports::query(&store, &item, &city, &year, 1)
        .await
        .unwrap();
    println!(
        "query (year 2025), first page of {}: {:.1} ms",
        page.total,
        t.elapsed().as_secs_f64() * 1000.0
    );
    let keyword = Filter {
        keyword: "0041".into(),
        district: "310112".into(),
        ..year.clone()
    };
    let t = Instant::now();
    let found = reports::query(&store, &item, &city, &keyword, 1)
        .await
        .unwrap();
    println!(
        "query (keyword, district): {} found in {:.1} ms",
        found.total,
        t.elapsed().as_secs_f64() * 1000.0
    );
    let t = Instant::now();
    let officer = tongban_domain::Officer {
        id: tongban_domain::OfficerId::from_raw("load-test"),
        username: "load.test".into(),
        display_name: "压测".into(),
        jurisdiction: Jurisdiction::CITY,
        roles: vec![tongban_domain::OfficerRole::Review],
        created_at: Timestamp::now(),
    };
    let xlsx = reports::export(&store, &item, &officer, &year)
        .await
        .unwrap();
    println!(
        "export of {} reports to xlsx: {:.2} s, {:.1} MiB",
        page.total,
        t.elapsed().as_secs_f64(),
        xlsx.len() as f64 / (1024.0 * 1024.0)
    );
    let t = Instant::now();
    let stats = reports::statistics(&store, &item, &city, 2025)
        .await
        .unwrap();
    println!(
        "statistics of {} reports: {:.2} s",
        stats.total,
        t.elapsed().as_secs_f64()
    );

    // The zip: one district's reports (a tenth of them).
    let mut zip_filter = year.clone();
    zip_filter.district = "310115".into();
    let in_district = reports::query(&store, &item, &city, &zip_filter, 1)
        .await
        .unwrap()
        .total;
    let t = Instant::now();
    let id = reports::zip(&store, &item, &officer, &zip_filter)
        .await
        .expect("zip started");
    let queued = t.elapsed().as_secs_f64();
    let runner = Runner::new(store.clone(), files.clone(), Arc::new(Renderer::new()));
    loop {
        match runner.run(&id).await.expect("run") {
            Outcome::More => {}
            Outcome::Done => break,
            other => panic!("batch ended with {other:?}"),
        }
    }
    let (b, zip) = batch::zip_of(&store, &files, "load-test", &id)
        .await
        .expect("zip");
    println!(
        "zip of {} reports (of {in_district} in the district): queued in {queued:.1} s, done in {:.1} s, {:.1} MiB",
        b.done,
        t.elapsed().as_secs_f64(),
        zip.len() as f64 / (1024.0 * 1024.0)
    );
}

/// Unit `i` files its 2025 report.
async fn file_one(store: &Store, files: &FileStore, item: &tongban_engine::Item, i: usize) {
    let district = DISTRICTS[i % DISTRICTS.len()];
    let code = CreditCode::complete(&format!("91{district}MA{i:07}")).unwrap();
    let name = format!("上海核技术应用{i:05}有限公司");
    let e = Enterprise {
        id: EnterpriseId::from_raw(format!("ent-{i}")),
        name: name.clone(),
        credit_code: code.clone(),
        legal_representative: "王珺".into(),
        registered_address: "上海市测试路1号".into(),
        district: Jurisdiction::by_code(district).unwrap(),
        created_at: Timestamp::now(),
    };
    let mut tx = store.begin().await.unwrap();
    tongban_store::enterprises::insert(&mut tx, &e)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let me = Applicant::Enterprise {
        id: e.id,
        actor: format!("enterprise:{}/cert:01", code.as_str()),
    };
    let id = start(store, item, &me, &Default::default()).await.unwrap();
    materials::attach(
        store,
        files,
        item,
        &me,
        &id,
        materials::Target::Material("monitoring_report"),
        "监测报告.pdf",
        bytes::Bytes::from(format!("%PDF-1.7 monitoring report {i}")),
    )
    .await
    .unwrap();
    let mut data = tongban_items::radiation::example_report();
    data.set("unit_name", &name);
    data.set("credit_code", code.as_str());
    data.set("licence_no", format!("沪环辐证[{:05}]", i % 100_000));
    submit(store, item, &me, &id, &data).await.unwrap();
}
