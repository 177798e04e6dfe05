//! Figure 4: a 100 000-row 放射源销售台账 imported into a draft through the code behind the
//! 台账导入 button (read row by row, every cell checked, the rows stored in one transaction on
//! SQLite, WAL, synchronous=FULL), beside openpyxl's read-only load of the same file reading
//! every row (`read_only=True, values_only=True`; reading alone, no checks, nothing stored).
//! Ours runs in a child process so its peak resident memory (VmHWM) is the import's own.
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use rust_xlsxwriter::Workbook;
use tongban_cases::{Applicant, ledgers, start};
use tongban_domain::EnterpriseId;
use tongban_store::{Store, StoreOptions};

use crate::peers;
use crate::table::{Goal, Row};

const ITEM: &str = "radiation-self-check";
const LEDGER: &str = "source_sales";
const RSS_LIMIT_MIB: f64 = 200.0;

pub fn run(rows: usize) -> anyhow::Result<Vec<Row>> {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("ledger.xlsx");
    write(&file, rows)?;
    let size = std::fs::metadata(&file)?.len() as f64 / 1_048_576.0;
    println!("  {rows} rows, {size:.1} MB");

    let out = peers::output_within(
        std::process::Command::new(std::env::current_exe()?)
            .arg("xlsx-import")
            .arg(&file),
        Duration::from_secs(300),
    )?;
    let ours: serde_json::Value =
        serde_json::from_str(out.trim()).with_context(|| format!("the import said: {out}"))?;
    let seconds = ours["seconds"].as_f64().context("seconds")?;
    let peak = ours["peak_mib"].as_f64().context("peak")?;
    println!("  tongban: {seconds:.2} s, peak RSS {peak:.0} MiB");

    let out = peers::output_within(
        peers::python()
            .arg(peers::script("peers/openpyxl_read.py"))
            .arg(&file),
        Duration::from_secs(600),
    )?;
    let theirs: serde_json::Value = serde_json::from_str(out.trim())
        .with_context(|| format!("openpyxl_read.py said: {out}"))?;
    let their_seconds = theirs["seconds"].as_f64().context("seconds")?;
    if theirs["rows"].as_u64() != Some(rows as u64) {
        anyhow::bail!("openpyxl read {} rows, not {rows}", theirs["rows"]);
    }
    println!(
        "  openpyxl {}: {their_seconds:.2} s",
        theirs["version"].as_str().unwrap_or("?")
    );
    Ok(vec![
        Row {
            figure: format!("xlsx import, {rows} rows (checked, stored)"),
            ours: rows as f64 / seconds,
            peer: rows as f64 / their_seconds,
            peer_name: "openpyxl read-only".into(),
            unit: "rows/s",
            goal: Goal::AtLeast(5.0),
        },
        Row {
            figure: format!("xlsx import, {rows} rows: peak RSS"),
            ours: peak,
            peer: RSS_LIMIT_MIB,
            peer_name: "limit".into(),
            unit: "MiB",
            goal: Goal::Under,
        },
    ])
}

/// The ledger's own column titles, then `rows` rows that pass its checks.
fn write(path: &Path, rows: usize) -> anyhow::Result<()> {
    let catalogue = tongban_items::catalogue()?;
    let ledger = catalogue
        .get(ITEM)
        .and_then(|i| i.ledger(LEDGER))
        .context("the self-check's source ledger")?;
    let mut book = Workbook::new();
    let s = book.add_worksheet();
    for (c, column) in ledger.columns.iter().enumerate() {
        s.write_string(0, c as u16, tongban_sheets::title(column))?;
    }
    for i in 1..=rows {
        let r = i as u32;
        s.write_string(r, 0, format!("沪环辐审[2026]{i:06}号"))?;
        s.write_string(r, 1, ["Cs-137", "Co-60", "Ir-192", "Am-241"][i % 4])?;
        s.write_string(r, 2, format!("2025-{:02}-{:02}", i % 12 + 1, i % 28 + 1))?;
        s.write_number(r, 3, (3_700_000_000u64 + i as u64) as f64)?;
        s.write_string(r, 4, ["I类", "II类", "III类", "IV类", "V类"][i % 5])?;
        s.write_string(r, 5, format!("上海示范单位{i}"))?;
        s.write_string(r, 6, format!("沪环辐证[{:05}]", i % 100_000))?;
    }
    book.save(path)?;
    Ok(())
}

/// The child's side: imports `file` into a new draft on a fresh SQLite store and prints the
/// time and peak memory as JSON.
pub async fn import_child(file: &Path) -> anyhow::Result<()> {
    let bytes = std::fs::read(file)?;
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}", dir.path().join("import.db").display());
    let store = Store::open(&url, StoreOptions::default()).await?;
    let catalogue = tongban_items::catalogue()?;
    let item = catalogue.get(ITEM).context("the self-check item")?;
    let me = Applicant::Enterprise {
        id: EnterpriseId::from_raw("bench"),
        actor: "enterprise:bench".into(),
    };
    let id = start(&store, item, &me, &Default::default()).await?;
    let started = Instant::now();
    let rows = ledgers::import(&store, item, &me, &id, LEDGER, &bytes).await?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({ "rows": rows, "seconds": seconds, "peak_mib": peers::peak_rss_mib() })
    );
    Ok(())
}
