//! `tongban-bench`: Tongban's figures beside their peers, measured in one run on this machine
//! and printed as one table (figure, ours, peer or limit, ratio, goal, pass). `bench/run`
//! installs the peers and builds what this runs; docs/performance.md explains each figure.
//!
//! `tongban-bench [submit|pages|pdf|xlsx|crypto|ledger]… [--quick] [--no-postgres]`: all six by
//! default. `--quick` makes every loop a fraction as long (to try the harness, not to quote).
//! Traffic goes to loopback only; every loop is bounded in count and time. Exits 1 when a goal
//! is missed.
mod crypto;
mod ledger;
mod pages;
mod pdf;
mod peers;
mod submit;
mod table;
mod xlsx;

use std::time::Instant;

use anyhow::bail;

const FIGURES: [&str; 6] = ["submit", "pages", "pdf", "xlsx", "crypto", "ledger"];

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("xlsx-import") {
        let Some(file) = args.get(1) else {
            bail!("usage: tongban-bench xlsx-import FILE")
        };
        return xlsx::import_child(std::path::Path::new(file)).await;
    }
    let quick = args.iter().any(|a| a == "--quick");
    let postgres = (!args.iter().any(|a| a == "--no-postgres")).then(|| {
        std::env::var("TONGBAN_BENCH_POSTGRES_URL")
            .or_else(|_| std::env::var("TONGBAN_TEST_POSTGRES_URL"))
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
    });
    let mut chosen: Vec<&str> = args
        .iter()
        .filter(|a| !a.starts_with("--"))
        .map(String::as_str)
        .collect();
    if let Some(unknown) = chosen.iter().find(|a| !FIGURES.contains(a)) {
        bail!(
            "unknown figure {unknown}: choose from {}",
            FIGURES.join(", ")
        );
    }
    if chosen.is_empty() {
        chosen = FIGURES.to_vec();
    }

    let started = Instant::now();
    let mut rows = Vec::new();
    for figure in FIGURES.iter().filter(|f| chosen.contains(f)) {
        let t = Instant::now();
        println!("== {figure}");
        let measured = match *figure {
            "submit" => {
                let sizes = if quick {
                    submit::Sizes {
                        throughput: 200,
                        latency: 400,
                        raw_secs: 1,
                    }
                } else {
                    submit::Sizes {
                        throughput: 1500,
                        latency: 1000,
                        raw_secs: 2,
                    }
                };
                submit::run(postgres.as_deref(), &sizes).await?
            }
            "pages" => {
                let sizes = pages::Sizes {
                    rounds: 3,
                    secs: if quick { 2 } else { 5 },
                    connections: 64,
                };
                pages::run(&sizes).await?
            }
            "pdf" => {
                let sizes = if quick {
                    pdf::Sizes {
                        ours: 10,
                        weasyprint: 2,
                    }
                } else {
                    pdf::Sizes {
                        ours: 40,
                        weasyprint: 8,
                    }
                };
                pdf::run(&sizes)?
            }
            "xlsx" => xlsx::run(if quick { 10_000 } else { 100_000 })?,
            "ledger" => {
                ledger::run(&ledger::Sizes {
                    appended: if quick { 20_000 } else { 100_000 },
                    batch: 500,
                    clients: 4,
                    leaves: 100_000,
                    audited: if quick { 5_000 } else { 20_000 },
                    secs: if quick { 0.3 } else { 1.0 },
                })
                .await?
            }
            _ => crypto::run(if quick { 0.3 } else { 1.0 })?,
        };
        println!("   ({:.0} s)", t.elapsed().as_secs_f64());
        rows.extend(measured);
    }
    println!(
        "\nTongban beside its peers, {} ({} cores), {:.0} s in all{}:\n",
        std::env::consts::ARCH,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        started.elapsed().as_secs_f64(),
        if quick {
            ", QUICK run (not for quoting)"
        } else {
            ""
        }
    );
    print!("{}", table::render(&rows));
    let missed = rows.iter().filter(|r| !r.passes()).count();
    if missed > 0 {
        println!("\n{missed} goal(s) missed");
        std::process::exit(1);
    }
    Ok(())
}
