//! 年度统计: the year's reports by district and status, and the index's figures summed.
use std::collections::BTreeMap;

use tongban_engine::Item;
use tongban_store::Store;

use super::{Filter, ReportError, ReportStatus, Scope, all, index_of, label_of};

/// The year's counts: reports by district and status, and each figure summed.
#[derive(Debug, Clone, Default)]
pub struct Statistics {
    pub year: i64,
    /// Per district code: reports per status (in [`ReportStatus::ALL`] order).
    pub by_district: BTreeMap<String, [i64; 3]>,
    /// Each figure of the index: its label and the year's sum.
    pub figures: Vec<(String, i64)>,
    pub total: i64,
}

impl Statistics {
    /// Reports per status over all districts.
    pub fn by_status(&self) -> [i64; 3] {
        let mut out = [0; 3];
        for counts in self.by_district.values() {
            for (o, c) in out.iter_mut().zip(counts) {
                *o += c;
            }
        }
        out
    }
}

/// 年度统计 within `scope`.
pub async fn statistics(
    store: &Store,
    item: &Item,
    scope: &Scope,
    year: i64,
) -> Result<Statistics, ReportError> {
    let index = index_of(item)?;
    let filter = Filter {
        year: Some(year),
        ..Filter::default()
    };
    let reports = all(store, item, scope, &filter).await?;
    let mut stats = Statistics {
        year,
        figures: index
            .figures
            .iter()
            .map(|f| (label_of(item, f), 0))
            .collect(),
        total: reports.len() as i64,
        ..Statistics::default()
    };
    for r in &reports {
        let counts = stats.by_district.entry(r.district.clone()).or_default();
        let at = ReportStatus::ALL
            .iter()
            .position(|s| *s == r.status)
            .expect("every status is listed");
        counts[at] += 1;
        for ((_, sum), v) in stats.figures.iter_mut().zip(&r.figures) {
            *sum += v;
        }
    }
    Ok(stats)
}
