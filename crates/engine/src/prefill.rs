//! Prefill: a new application starts from the item's defaults, then whatever the prefill sources
//! know (`enterprise.name`, `enterprise.credit_code` … from the enterprise profile; an external
//! source adds its own `source.key` entries), and — for 再来一单 — the applicant's last case.
use std::collections::BTreeMap;

use crate::item::Item;
use crate::values::{FormData, Value};

/// Values known about the applicant, keyed `source.key`.
pub type Known = BTreeMap<String, String>;

/// A new application: the modules the known `modules_prefill` value names (else the default
/// ones), each field's `default`, then each field's `prefill`.
pub fn new_application(item: &Item, known: &Known) -> FormData {
    let mut data = FormData {
        modules: preset_modules(item, known).unwrap_or_else(|| item.default_modules()),
        ..FormData::default()
    };
    for (_, _, field) in item.fields() {
        if let Some(listed) = field.options_prefill.as_ref().and_then(|k| known.get(k)) {
            let options: Vec<String> = listed
                .lines()
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .map(str::to_string)
                .collect();
            if !options.is_empty() {
                data.options.insert(field.id.clone(), options);
            }
        }
        let value = field
            .prefill
            .as_ref()
            .and_then(|key| known.get(key))
            .or(field.default.as_ref());
        if let Some(v) = value {
            data.values.insert(field.id.clone(), Value::One(v.clone()));
        }
    }
    data
}

/// The modules named by the item's `modules_prefill` value, if it names any of them.
fn preset_modules(item: &Item, known: &Known) -> Option<std::collections::BTreeSet<String>> {
    let listed = known.get(item.modules_prefill.as_ref()?)?;
    let on: std::collections::BTreeSet<String> = listed
        .split([',', '，', '、'])
        .map(str::trim)
        .filter(|id| item.modules.iter().any(|m| m.id == *id))
        .map(str::to_string)
        .collect();
    (!on.is_empty()).then_some(on)
}

/// 再来一单: the previous case's modules and values, except fields marked `per_case`, which
/// start as in a new application.
pub fn again(item: &Item, previous: &FormData, known: &Known) -> FormData {
    let fresh = new_application(item, known);
    // The choices are today's (the licence may have changed since), not the last case's.
    let mut data = FormData {
        modules: previous.modules.clone(),
        options: fresh.options.clone(),
        ..FormData::default()
    };
    for (_, _, field) in item.fields() {
        let source = if field.per_case { &fresh } else { previous };
        if let Some(v) = source.values.get(&field.id) {
            data.values.insert(field.id.clone(), v.clone());
        }
    }
    data
}

/// What a [`PrefillSource`] answers, eventually.
pub type Lookup<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<Known, String>> + Send + 'a>>;

/// A source of prefill values outside Tongban (the city's enterprise registry, the ministry's
/// radiation system …): given what is known about the applicant so far, it adds its own
/// `source.key` values. A source that cannot answer adds nothing; prefill is a convenience and
/// never blocks an application.
pub trait PrefillSource: Send + Sync {
    /// For the log: which source this is.
    fn name(&self) -> &str;
    fn lookup<'a>(&'a self, known: &'a Known) -> Lookup<'a>;
}
