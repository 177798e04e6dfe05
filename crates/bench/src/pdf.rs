//! Figure 3: annual-report renders per second (five pages, three ledgers, a different report
//! each time so typst's memoisation cannot replay one) on one thread, beside WeasyPrint
//! rendering the same reports from HTML in a warm process. The HTML has the typst template's
//! layout (A4 with the official margins, the running header, the page numbers, label/value
//! tables, ledgers with a repeated header row) and the same font files through `@font-face`.
use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use tongban_documents::kinds::{Field, FormDocument};
use tongban_documents::{Renderer, Template, samples};

use crate::peers::{self, median};
use crate::table::{Goal, Row};

pub struct Sizes {
    pub ours: usize,
    pub weasyprint: usize,
}

/// Rounds of ours and WeasyPrint's alternate, as the crypto figure's do, so a noisy minute
/// falls on both; each side's figure is the median of its rounds.
pub fn run(sizes: &Sizes) -> anyhow::Result<Vec<Row>> {
    const ROUNDS: usize = 3;
    let renderer = Renderer::new();
    let first = renderer.render(Template::Form, &samples::annual_report(0), None)?;
    let (mut ours, mut theirs) = (vec![], vec![]);
    let mut version = String::new();
    let mut seed = 1;
    for _ in 0..ROUNDS {
        let started = Instant::now();
        for _ in 0..sizes.ours {
            renderer.render(Template::Form, &samples::annual_report(seed), None)?;
            seed += 1;
        }
        ours.push(sizes.ours as f64 / started.elapsed().as_secs_f64());

        let dir = tempfile::tempdir()?;
        // The first report warms WeasyPrint up (fonts, styles); the rest are timed, as ours were.
        for i in 0..=sizes.weasyprint {
            std::fs::write(
                dir.path().join(format!("report-{i:03}.html")),
                html(&samples::annual_report(seed + i), &fonts_dir()),
            )?;
        }
        seed += sizes.weasyprint + 1;
        let out = peers::output_within(
            peers::python()
                .arg(peers::script("peers/weasyprint_render.py"))
                .arg(dir.path()),
            Duration::from_secs(600),
        )?;
        let answer: serde_json::Value = serde_json::from_str(out.trim())
            .with_context(|| format!("weasyprint_render.py said: {out}"))?;
        theirs.push(
            answer["renders"].as_f64().context("renders")?
                / answer["seconds"].as_f64().context("seconds")?,
        );
        version = format!(
            "{} ({} pages each)",
            answer["version"].as_str().unwrap_or("?"),
            answer["pages"]
        );
    }
    let (ours, theirs) = (median(ours), median(theirs));
    println!(
        "  tongban: {ours:.2} renders/s ({} pages each)",
        first.pages
    );
    println!("  WeasyPrint {version}: {theirs:.2} renders/s");
    Ok(vec![Row {
        figure: format!("annual report PDF ({} pages), 1 thread", first.pages),
        ours,
        peer: theirs,
        peer_name: "WeasyPrint".into(),
        unit: "renders/s",
        goal: Goal::AtLeast(20.0),
    }])
}

fn fonts_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../documents/fonts")
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The report as HTML laid out as `form.typ` lays it out.
pub fn html(d: &FormDocument, fonts: &Path) -> String {
    let font = |file: &str| format!("url('file://{}')", fonts.join(file).display());
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{title}</title><style>\
         @font-face {{ font-family: 'Noto Serif CJK SC'; src: {regular}; font-weight: normal; }}\
         @font-face {{ font-family: 'Noto Serif CJK SC'; src: {bold}; font-weight: bold; }}\
         @font-face {{ font-family: 'Tongban Han Fallback'; src: {fallback}; }}\
         @page {{ size: A4; margin: 37mm 26mm 35mm 28mm;\
           @top-left {{ content: '{left}'; font-size: 9pt; border-bottom: 0.5pt solid black; }}\
           @top-right {{ content: '{right}'; font-size: 9pt; border-bottom: 0.5pt solid black; }}\
           @bottom-center {{ content: '— ' counter(page) ' —'; font-size: 14pt; }} }}\
         body {{ font-family: 'Noto Serif CJK SC', 'Tongban Han Fallback'; font-size: 11pt; line-height: 1.8; text-align: justify; }}\
         h1 {{ text-align: center; font-size: 22pt; margin: 0; }}\
         .subtitle {{ text-align: center; font-size: 14pt; }} .number {{ text-align: right; font-size: 10pt; }}\
         h2 {{ font-size: 13pt; margin: 6pt 0 2pt; }}\
         table {{ border-collapse: collapse; width: 100%; margin-bottom: 4pt; }}\
         td, th {{ border: 0.5pt solid black; padding: 6pt; }}\
         th, td.label {{ background: #eee; font-weight: bold; font-size: 0.9em; }}\
         thead {{ display: table-header-group; }} .ledger {{ font-size: 8pt; }}\
         .caption {{ text-align: center; font-weight: bold; }}\
         .signatures {{ display: flex; gap: 8mm; margin-top: 1.5em; page-break-inside: avoid; }}\
         .slot {{ width: 48mm; height: 30mm; }} .date {{ text-align: right; margin-top: 1em; }}\
         </style></head><body><h1>{title}</h1>",
        title = esc(&d.title),
        regular = font("NotoSerifSC-Regular.otf"),
        bold = font("NotoSerifSC-Bold.otf"),
        fallback = font("TongbanHanFallback-Regular.ttf"),
        left = esc(d.running.as_ref().map_or("", |r| r.0.as_str())),
        right = esc(d.running.as_ref().map_or("", |r| r.1.as_str())),
    );
    if let Some(s) = &d.subtitle {
        let _ = write!(h, "<div class=\"subtitle\">{}</div>", esc(s));
    }
    if let Some(n) = &d.number {
        let _ = write!(h, "<div class=\"number\">编号：{}</div>", esc(n));
    }
    fields(&mut h, &d.holder);
    for s in &d.sections {
        let _ = write!(h, "<h2>{}</h2>", esc(&s.heading));
        fields(&mut h, &s.fields);
        for t in &s.tables {
            if let Some(c) = &t.caption {
                let _ = write!(h, "<div class=\"caption\">{}</div>", esc(c));
            }
            h.push_str("<table class=\"ledger\"><thead><tr>");
            for c in &t.headers {
                let _ = write!(h, "<th>{}</th>", esc(c));
            }
            h.push_str("</tr></thead><tbody>");
            for r in &t.rows {
                h.push_str("<tr>");
                for c in r {
                    let _ = write!(h, "<td>{}</td>", esc(c));
                }
                h.push_str("</tr>");
            }
            h.push_str("</tbody></table>");
        }
    }
    if !d.signatures.is_empty() {
        h.push_str("<div class=\"signatures\">");
        for s in &d.signatures {
            let _ = write!(
                h,
                "<div><b>{}</b>：<div class=\"slot\"></div></div>",
                esc(&s.label)
            );
        }
        h.push_str("</div>");
    }
    if let Some(date) = &d.date {
        let _ = write!(h, "<div class=\"date\">{}</div>", esc(date));
    }
    h.push_str("</body></html>");
    h
}

/// Two label/value pairs a row; a long value (over 14 CJK-character widths) takes a row.
fn fields(h: &mut String, fields: &[Field]) {
    if fields.is_empty() {
        return;
    }
    h.push_str("<table><colgroup><col style=\"width:21%\"><col style=\"width:29%\"><col style=\"width:21%\"><col style=\"width:29%\"></colgroup>");
    let mut half = false;
    for f in fields {
        let width: f64 = f
            .value
            .chars()
            .map(|c| if c.is_ascii() { 0.5 } else { 1.0 })
            .sum();
        let long = width > 14.0;
        if long && half {
            h.push_str("<td></td><td></td></tr>");
            half = false;
        }
        if !half {
            h.push_str("<tr>");
        }
        let _ = write!(h, "<td class=\"label\">{}</td>", esc(&f.label));
        if long {
            let _ = write!(h, "<td colspan=\"3\">{}</td></tr>", esc(&f.value));
        } else {
            let _ = write!(h, "<td>{}</td>", esc(&f.value));
            if half {
                h.push_str("</tr>");
            }
            half = !half;
        }
    }
    if half {
        h.push_str("<td></td><td></td></tr>");
    }
    h.push_str("</table>");
}
