//! Load test for ledger import (issue 4, acceptance 2): a 100 000-row 放射源销售台账 imported
//! into a draft of the demonstration item, through the same code as the web page.
//!
//!     cargo run --release -p tongban-cases --example ledger_import -- write /tmp/ledger.xlsx 100000
//!     cargo run --release -p tongban-cases --example ledger_import -- import /tmp/ledger.xlsx [postgres]
//!
//! Writing and importing are separate runs so the import's peak memory (VmHWM) is its own.
use std::time::Instant;

use rust_xlsxwriter::Workbook;
use tongban_cases::{Applicant, ledgers, start};
use tongban_domain::EnterpriseId;

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn write(path: &str, rows: usize) {
    let item = tongban_items::catalogue().unwrap();
    let ledger = item
        .get("radiation-self-check")
        .unwrap()
        .ledger("source_sales")
        .unwrap();
    let mut book = Workbook::new();
    let s = book.add_worksheet();
    for (c, column) in ledger.columns.iter().enumerate() {
        s.write_string(0, c as u16, tongban_sheets::title(column))
            .unwrap();
    }
    for i in 1..=rows {
        let r = i as u32;
        s.write_string(r, 0, format!("沪环辐审[2026]{i:06}号"))
            .unwrap();
        s.write_string(r, 1, ["Cs-137", "Co-60", "Ir-192", "Am-241"][i % 4])
            .unwrap();
        s.write_string(r, 2, format!("2025-{:02}-{:02}", i % 12 + 1, i % 28 + 1))
            .unwrap();
        s.write_number(r, 3, (3_700_000_000u64 + i as u64) as f64)
            .unwrap();
        s.write_string(r, 4, ["I类", "II类", "III类", "IV类", "V类"][i % 5])
            .unwrap();
        s.write_string(r, 5, format!("上海示范单位{i}")).unwrap();
        s.write_string(r, 6, format!("沪环辐证[{:05}]", i % 100_000))
            .unwrap();
    }
    book.save(path).unwrap();
    let size = std::fs::metadata(path).unwrap().len();
    println!(
        "wrote {rows} rows to {path} ({:.1} MB)",
        size as f64 / 1_048_576.0
    );
}

async fn import(path: &str, postgres: bool) {
    let bytes = std::fs::read(path).unwrap();
    let db = if postgres {
        tongban_store::testing::postgres("ledger_import_load")
            .await
            .expect("PostgreSQL (TONGBAN_TEST_POSTGRES_URL)")
    } else {
        tongban_store::testing::sqlite().await
    };
    let catalogue = tongban_items::catalogue().unwrap();
    let item = catalogue.get("radiation-self-check").unwrap();
    let me = Applicant::Enterprise {
        id: EnterpriseId::from_raw("load"),
        actor: "enterprise:load".into(),
    };
    let id = start(&db.store, item, &me, &Default::default())
        .await
        .unwrap();
    let before = peak_rss_mib();
    let t = Instant::now();
    let rows = ledgers::import(&db.store, item, &me, &id, "source_sales", &bytes)
        .await
        .unwrap();
    let took = t.elapsed();
    println!(
        "imported {rows} rows from {:.1} MB on {} in {:.2} s ({:.0} rows/s); peak RSS {:.0} MiB (before the import {:.0} MiB)",
        bytes.len() as f64 / 1_048_576.0,
        db.store.engine().name(),
        took.as_secs_f64(),
        rows as f64 / took.as_secs_f64(),
        peak_rss_mib(),
        before
    );
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("write") => write(
            &args[2],
            args.get(3).map_or(100_000, |n| n.parse().unwrap()),
        ),
        Some("import") => import(&args[2], args.get(3).is_some_and(|a| a == "postgres")).await,
        _ => eprintln!("usage: ledger_import write FILE [ROWS] | import FILE [postgres]"),
    }
}
