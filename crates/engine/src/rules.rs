//! Rules a spec cannot express (cross-field checks, compliance review): Rust functions registered
//! by name, referenced from a spec's `rules = [...]` and checked to exist when it loads.
use std::collections::BTreeMap;

use crate::item::Item;
use crate::validate::Problem;
use crate::values::FormData;

/// A rule sees the item and the shown values, and says what is wrong.
pub type Rule = fn(&Item, &FormData) -> Vec<Problem>;

/// The rows of each shown ledger, by ledger id, each a value per column in column order.
pub type LedgerRows = BTreeMap<String, Vec<Vec<String>>>;

/// A rule over the form and its ledgers' rows (台账与填报数据是否一致), run when the case is
/// submitted, since rows arrive by import and the form's pages never hold them.
pub type LedgerRule = fn(&Item, &FormData, &LedgerRows) -> Vec<Problem>;

#[derive(Default, Clone)]
pub struct RuleRegistry {
    rules: BTreeMap<&'static str, Rule>,
    ledger_rules: BTreeMap<&'static str, LedgerRule>,
}

impl RuleRegistry {
    /// The rules every item may use.
    pub fn standard() -> Self {
        let mut r = Self::default();
        r.register("dates_in_order", dates_in_order);
        r
    }

    pub fn register(&mut self, name: &'static str, rule: Rule) {
        self.rules.insert(name, rule);
    }

    pub fn get(&self, name: &str) -> Option<Rule> {
        self.rules.get(name).copied()
    }

    pub fn register_ledger(&mut self, name: &'static str, rule: LedgerRule) {
        self.ledger_rules.insert(name, rule);
    }

    pub fn get_ledger(&self, name: &str) -> Option<LedgerRule> {
        self.ledger_rules.get(name).copied()
    }
}

/// Every pair of date fields named `*_from` / `*_to` (or `issued_on` / `valid_until`) must not run
/// backwards: an end before its start is a typing mistake an officer would send back.
pub fn dates_in_order(item: &Item, data: &FormData) -> Vec<Problem> {
    let pairs = item.fields().filter_map(|(_, _, start)| {
        let end_id = if let Some(stem) = start.id.strip_suffix("_from") {
            format!("{stem}_to")
        } else if start.id == "issued_on" {
            "valid_until".to_string()
        } else {
            return None;
        };
        item.field(&end_id).map(|end| (start, end))
    });
    pairs
        .filter_map(|(start, end)| {
            let (a, b) = (data.one(&start.id)?, data.one(&end.id)?);
            (b < a).then(|| Problem::new(end, format!("不能早于{}", start.label)))
        })
        .collect()
}
