//! Annual-report renders per second: the report of seed 000 (about five pages, three ledgers),
//! with different data each time so typst's memoisation cannot replay a previous render.
//!
//! `cargo bench -p tongban-documents --bench render -- [N]` (default 60). Prints the rate on
//! one thread, then on every core sharing one `Renderer`, and the resident memory after.
use std::time::Instant;

use tongban_documents::{Renderer, Template, samples};

fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(60);
    let renderer = Renderer::new();
    // Warm-up: fonts parsed, templates compiled once.
    let first = renderer
        .render(Template::Form, &samples::annual_report(0), None)
        .unwrap();
    println!(
        "report: {} pages, {} KiB",
        first.pages,
        first.pdf.len() / 1024
    );

    let start = Instant::now();
    for i in 1..=n {
        renderer
            .render(Template::Form, &samples::annual_report(i), None)
            .unwrap();
    }
    let one = start.elapsed().as_secs_f64();
    println!(
        "1 thread: {n} renders in {one:.2} s = {:.1} reports/s ({:.0} ms each)",
        n as f64 / one,
        one * 1000.0 / n as f64
    );

    let threads = std::thread::available_parallelism().map_or(2, |p| p.get());
    let start = Instant::now();
    std::thread::scope(|scope| {
        for t in 0..threads {
            let renderer = &renderer;
            scope.spawn(move || {
                for i in (t..n).step_by(threads) {
                    renderer
                        .render(Template::Form, &samples::annual_report(n + 1 + i), None)
                        .unwrap();
                }
            });
        }
    });
    let all = start.elapsed().as_secs_f64();
    println!(
        "{threads} threads: {n} renders in {all:.2} s = {:.1} reports/s; RSS after {:.0} MiB",
        n as f64 / all,
        rss_mib()
    );
}
