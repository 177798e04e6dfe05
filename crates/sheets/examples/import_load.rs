//! Load test for the ledger import alone (no database): a generated 放射源销售台账 of N rows,
//! imported with `tongban_sheets::import`.
//!
//!     cargo run --release -p tongban-sheets --example import_load -- write /tmp/ledger.xlsx 100000
//!     cargo run --release -p tongban-sheets --example import_load -- import /tmp/ledger.xlsx
//!     cargo run --release -p tongban-sheets --example import_load -- each /tmp/ledger.xlsx
//!
//! `each` uses `import_each` and drops each row, to show the import's own memory apart from the
//! rows it returns.
//! Writing and importing are separate runs so the import's peak memory (VmHWM) is its own.
use std::time::Instant;

use rust_xlsxwriter::Workbook;
use tongban_engine::Ledger;

fn ledger() -> Ledger {
    tongban_items::catalogue()
        .unwrap()
        .get("radiation-self-check")
        .unwrap()
        .ledger("source_sales")
        .unwrap()
        .clone()
}

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
    let ledger = ledger();
    let mut book = Workbook::new();
    let s = book.add_worksheet();
    s.set_name(&ledger.title).unwrap();
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

fn import(path: &str, keep: bool) {
    let ledger = ledger();
    let bytes = std::fs::read(path).unwrap();
    let before = peak_rss_mib();
    let t = Instant::now();
    let rows = if keep {
        tongban_sheets::import(&ledger, &bytes).unwrap().len()
    } else {
        tongban_sheets::import_each(&ledger, &bytes, drop).unwrap()
    };
    let took = t.elapsed();
    println!(
        "imported {rows} rows from {:.1} MB in {:.2} s; peak RSS {:.0} MiB (before the import {:.0} MiB)",
        bytes.len() as f64 / 1_048_576.0,
        took.as_secs_f64(),
        peak_rss_mib(),
        before
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("write") => write(
            &args[2],
            args.get(3).map_or(100_000, |n| n.parse().unwrap()),
        ),
        Some("import") => import(&args[2], true),
        Some("each") => import(&args[2], false),
        _ => eprintln!("usage: import_load write FILE [ROWS] | import FILE | each FILE"),
    }
}
