//! The application form as a page: views of an item's step built from the spec and the values,
//! and the posted form read back into values. Nothing here knows any particular item.
use std::collections::BTreeMap;

use tongban_cases::ledgers::{self, LedgerPage};
use tongban_engine::validate::shown;
use tongban_engine::{Field, FieldKind, FormData, Item, Problem, Step, Value};

/// One field as the template draws it.
pub struct FieldView {
    pub id: String,
    pub name: String,
    pub label: String,
    pub required: bool,
    /// `text`, `textarea`, `number`, `date`, `year`, `radio`, `select`, `checkbox`, `file`.
    pub widget: &'static str,
    pub value: String,
    pub chosen: Vec<String>,
    pub options: Vec<String>,
    pub unit: Option<String>,
    pub help: Option<String>,
    pub placeholder: Option<String>,
    pub max_length: Option<usize>,
    pub error: Option<String>,
    /// The `show_if` as JSON for the page's live toggling; the server decides on submit.
    pub show_if: Option<String>,
    pub shown: bool,
    /// The officer's 补正 note, on the correction page, for a field marked to be corrected.
    pub note: Option<String>,
}

impl FieldView {
    /// The value as read-only text (the correction page's unmarked fields).
    pub fn display(&self) -> String {
        let text = match self.widget {
            "file" => return "见申请材料".into(),
            "checkbox" => self.chosen.join("、"),
            _ => self.value.clone(),
        };
        match (text.trim().is_empty(), &self.unit) {
            (true, _) => "—".into(),
            (false, Some(unit)) => format!("{text} {unit}"),
            (false, None) => text,
        }
    }
}

pub struct SectionView {
    pub title: String,
    pub show_if: Option<String>,
    pub shown: bool,
    pub fields: Vec<FieldView>,
    pub ledgers: Vec<LedgerView>,
}

pub struct LedgerView {
    pub id: String,
    pub title: String,
    pub help: Option<String>,
    pub columns: Vec<String>,
    pub show_if: Option<String>,
    pub shown: bool,
    /// Rows of the page shown: (row number, position in the ledger, values).
    pub rows: Vec<(i64, i64, Vec<String>)>,
    pub total: i64,
    pub page: i64,
    pub pages: i64,
    /// Problems with the last import or typed row.
    pub errors: Vec<String>,
}

pub struct StepLink {
    pub title: String,
    pub current: bool,
}

pub struct ModuleView {
    pub id: String,
    pub name: String,
    pub on: bool,
}

/// Everything the form page shows for one step.
pub struct FormView {
    pub steps: Vec<StepLink>,
    pub modules: Vec<ModuleView>,
    pub sections: Vec<SectionView>,
    pub help: Option<String>,
    pub step_id: String,
    pub previous: Option<String>,
    pub next: Option<String>,
    /// Values of every field, for conditions that read another step's answers.
    pub values_json: String,
}

fn condition_json(c: &Option<tongban_engine::condition::Condition>) -> Option<String> {
    c.as_ref()
        .map(|c| serde_json::to_string(c).expect("conditions serialise"))
}

/// The input name of field `id`.
pub fn input_name(id: &str) -> String {
    format!("f.{id}")
}

fn field_view(field: &Field, data: &FormData, shown: bool, error: Option<String>) -> FieldView {
    let (widget, options, unit, max_length) = match &field.kind {
        FieldKind::Text { max_length, .. } => ("text", vec![], None, Some(*max_length)),
        FieldKind::Address { max_length } => ("text", vec![], None, Some(*max_length)),
        FieldKind::Textarea { max_length } => ("textarea", vec![], None, Some(*max_length)),
        FieldKind::Number { unit, .. } => ("number", vec![], unit.clone(), None),
        FieldKind::Date => ("date", vec![], None, None),
        FieldKind::Year { min, max } => (
            "year",
            (*min..=*max).map(|y| y.to_string()).collect(),
            None,
            None,
        ),
        FieldKind::Choice { select, .. } => (
            if *select { "select" } else { "radio" },
            field.options_for(data),
            None,
            None,
        ),
        FieldKind::Multi { .. } => ("checkbox", field.options_for(data), None, None),
        FieldKind::CreditCode => ("text", vec![], None, Some(18)),
        FieldKind::Phone => ("text", vec![], None, Some(20)),
        FieldKind::File => ("file", vec![], None, None),
    };
    FieldView {
        id: field.id.clone(),
        name: input_name(&field.id),
        label: field.label.clone(),
        required: field.required,
        widget,
        value: match data.values.get(&field.id) {
            Some(Value::One(v)) => v.clone(),
            _ => String::new(),
        },
        chosen: data.many(&field.id),
        options,
        unit,
        help: field.help.clone(),
        placeholder: field.placeholder.clone(),
        max_length,
        error,
        show_if: condition_json(&field.show_if),
        shown,
        note: None,
    }
}

/// The view of `step` of `item` for `data`, with `problems` beside their fields.
pub fn view(
    item: &Item,
    data: &FormData,
    step: &Step,
    problems: &[Problem],
    ledger_pages: &BTreeMap<String, LedgerPage>,
) -> FormView {
    let visible = shown(item, data);
    let errors: BTreeMap<&str, &str> = problems
        .iter()
        .map(|p| (p.field.as_str(), p.message.as_str()))
        .collect();
    let active: Vec<&Step> = item.active_steps(data).collect();
    let at = active.iter().position(|s| s.id == step.id);
    let sections = step
        .sections
        .iter()
        .map(|section| {
            let fields: Vec<FieldView> = section
                .fields
                .iter()
                .map(|f| {
                    let error = errors
                        .get(f.id.as_str())
                        .map(|m| m.trim_start_matches(&format!("{}：", f.label)).to_string());
                    field_view(f, data, visible.fields.contains(&f.id), error)
                })
                .collect();
            let ledgers = section
                .ledgers
                .iter()
                .map(|l| {
                    let page = ledger_pages.get(&l.id);
                    let (total, number) = page.map_or((0, 1), |p| (p.total, p.page));
                    let first = (number - 1) * ledgers::PAGE_SIZE;
                    LedgerView {
                        id: l.id.clone(),
                        title: l.title.clone(),
                        help: l.help.clone(),
                        columns: l.columns.iter().map(tongban_sheets::title).collect(),
                        show_if: condition_json(&l.show_if),
                        shown: visible.ledgers.contains(&l.id),
                        rows: page.map_or_else(Vec::new, |p| {
                            p.rows
                                .iter()
                                .enumerate()
                                .map(|(i, (n, r))| (*n, first + i as i64 + 1, r.clone()))
                                .collect()
                        }),
                        total,
                        page: number,
                        pages: ((total + ledgers::PAGE_SIZE - 1) / ledgers::PAGE_SIZE).max(1),
                        errors: problems
                            .iter()
                            .filter(|p| p.field == format!("ledger:{}", l.id))
                            .map(|p| p.message.clone())
                            .collect(),
                    }
                })
                .collect();
            SectionView {
                title: section.title.clone(),
                show_if: condition_json(&section.show_if),
                shown: fields.iter().any(|f| f.shown)
                    || section.fields.is_empty()
                    || section
                        .show_if
                        .as_ref()
                        .is_none_or(|c| c.holds(&visible.effective)),
                fields,
                ledgers,
            }
        })
        .collect();
    FormView {
        steps: active
            .iter()
            .map(|s| StepLink {
                title: s.title.clone(),
                current: s.id == step.id,
            })
            .collect(),
        modules: item
            .modules
            .iter()
            .map(|m| ModuleView {
                id: m.id.clone(),
                name: m.name.clone(),
                on: data.modules.contains(&m.id),
            })
            .collect(),
        sections,
        help: step.help.clone(),
        step_id: step.id.clone(),
        previous: at
            .and_then(|i| i.checked_sub(1))
            .map(|i| active[i].id.clone()),
        next: at.and_then(|i| active.get(i + 1)).map(|s| s.id.clone()),
        values_json: serde_json::to_string(&data.values).expect("values serialise"),
    }
}

/// What the browser posted for one step of the form.
pub struct Posted {
    pub step: String,
    pub action: String,
    pub modules: Option<Vec<String>>,
    pub values: BTreeMap<String, Vec<String>>,
}

pub fn read(pairs: Vec<(String, String)>) -> Posted {
    let mut posted = Posted {
        step: String::new(),
        action: String::new(),
        modules: None,
        values: BTreeMap::new(),
    };
    for (k, v) in pairs {
        match k.as_str() {
            "_step" => posted.step = v,
            "_action" => posted.action = v,
            "_modules" => {
                posted.modules.get_or_insert_with(Vec::new);
            }
            "_module" => posted.modules.get_or_insert_with(Vec::new).push(v),
            _ => {
                if let Some(id) = k.strip_prefix("f.") {
                    posted.values.entry(id.to_string()).or_default().push(v);
                }
            }
        }
    }
    posted
}

/// `stored` with the posted step's answers put in: a field of that step that was not posted (an
/// unticked checkbox group, an unanswered radio) is now empty; other steps keep their answers.
pub fn merge(item: &Item, stored: &FormData, posted: &Posted) -> FormData {
    let mut data = stored.clone();
    if let Some(modules) = &posted.modules {
        data.modules = modules
            .iter()
            .filter(|m| item.modules.iter().any(|x| &&x.id == m))
            .cloned()
            .collect();
    }
    if let Some(step) = item.step(&posted.step) {
        for field in step.sections.iter().flat_map(|s| &s.fields) {
            if let Some(value) = posted_value(field, posted) {
                data.values.insert(field.id.clone(), value);
            }
        }
    }
    data
}

/// What was posted for `field` (empty when it was not sent); `None` for a file field, which
/// the form never carries.
fn posted_value(field: &Field, posted: &Posted) -> Option<Value> {
    if matches!(field.kind, FieldKind::File) {
        return None;
    }
    let given = posted.values.get(&field.id).cloned().unwrap_or_default();
    Some(match field.kind {
        FieldKind::Multi { .. } => Value::Many(given),
        _ => Value::One(given.into_iter().next().unwrap_or_default()),
    })
}

/// The posted values of `fields` only (the 补正 page sends the marked fields and nothing else),
/// read by the same rule as a step: a field that was not sent is empty.
pub fn posted_fields<'a>(
    item: &Item,
    posted: &Posted,
    fields: impl IntoIterator<Item = &'a str>,
) -> FormData {
    let mut data = FormData::default();
    for id in fields {
        if let Some(field) = item.field(id)
            && let Some(value) = posted_value(field, posted)
        {
            data.values.insert(field.id.clone(), value);
        }
    }
    data
}
