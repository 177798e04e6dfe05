//! The harness's answer: one row a figure, ours beside its peer or limit, and whether the goal
//! holds. Ratios, not absolute times, are what a noisy machine can compare.
use std::fmt::Write;

/// What a figure must reach, as a ratio of ours to the peer (or to the limit).
#[derive(Debug, Clone, Copy)]
pub enum Goal {
    /// Higher is better: ours must be at least this many times the peer.
    AtLeast(f64),
    /// Lower is better: ours must stay under the limit (ratio below 1).
    Under,
}

#[derive(Debug, Clone)]
pub struct Row {
    pub figure: String,
    pub ours: f64,
    /// The peer measured in the same run, or the limit a figure must stay under.
    pub peer: f64,
    pub peer_name: String,
    pub unit: &'static str,
    pub goal: Goal,
}

impl Row {
    pub fn ratio(&self) -> f64 {
        self.ours / self.peer
    }

    pub fn passes(&self) -> bool {
        let r = self.ratio();
        match self.goal {
            Goal::AtLeast(min) => r >= min,
            Goal::Under => r < 1.0,
        }
    }

    fn goal_text(&self) -> String {
        match self.goal {
            Goal::AtLeast(min) => format!(">= {min}x"),
            Goal::Under => "< limit".into(),
        }
    }
}

/// A figure as it reads best: no decimals past three significant digits.
pub fn number(v: f64) -> String {
    if v >= 1000.0 {
        format!("{v:.0}")
    } else if v >= 100.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// The table, as Markdown so it can go into docs/performance.md as printed.
pub fn render(rows: &[Row]) -> String {
    let mut out = String::new();
    out.push_str("| figure | ours | peer / limit | unit | ratio | goal | pass |\n");
    out.push_str("|---|---:|---:|---|---:|---|---|\n");
    for r in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} ({}) | {} | {:.2}x | {} | {} |",
            r.figure,
            number(r.ours),
            number(r.peer),
            r.peer_name,
            r.unit,
            r.ratio(),
            r.goal_text(),
            if r.passes() { "pass" } else { "FAIL" }
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(ours: f64, peer: f64, goal: Goal) -> Row {
        Row {
            figure: "f".into(),
            ours,
            peer,
            peer_name: "p".into(),
            unit: "u",
            goal,
        }
    }

    #[test]
    fn a_rate_passes_at_its_ratio_and_a_latency_under_its_limit() {
        assert!(row(50.0, 100.0, Goal::AtLeast(0.5)).passes());
        assert!(!row(49.0, 100.0, Goal::AtLeast(0.5)).passes());
        assert!(row(49.0, 50.0, Goal::Under).passes());
        assert!(!row(50.0, 50.0, Goal::Under).passes());
        let table = render(&[row(49.0, 100.0, Goal::AtLeast(0.5))]);
        assert!(table.contains("| 0.49x | >= 0.5x | FAIL |"), "{table}");
    }
}
