//! Server-side validation generated from the spec. Messages are Chinese and start with the
//! field's label, so a list of them tells the applicant exactly what to fix.
use std::collections::BTreeSet;

use chrono::NaiveDate;
use tongban_domain::CreditCode;
use tongban_domain::id_number::{is_mobile, is_phone};

use crate::item::{Field, FieldKind, Item};
use crate::values::{FormData, Value};

/// Something to fix: the field (or ledger) id and the message naming it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub field: String,
    pub message: String,
}

impl Problem {
    pub fn new(field: &Field, message: impl std::fmt::Display) -> Self {
        Problem {
            field: field.id.clone(),
            message: format!("{}：{message}", field.label),
        }
    }
}

/// Which fields and ledgers are shown for `data`: a field is shown when its step's module is on
/// and its section's and its own `show_if` hold. Conditions only read fields defined before them
/// (checked at load), so one pass in document order, forgetting hidden values as it goes, gives
/// the same answer as the browser's.
pub struct Shown {
    pub fields: BTreeSet<String>,
    pub ledgers: BTreeSet<String>,
    /// `data` without the values of hidden fields.
    pub effective: FormData,
}

pub fn shown(item: &Item, data: &FormData) -> Shown {
    let mut effective = FormData {
        modules: data
            .modules
            .iter()
            .filter(|m| item.modules.iter().any(|x| &x.id == *m))
            .cloned()
            .collect(),
        values: Default::default(),
        options: data.options.clone(),
    };
    let mut fields = BTreeSet::new();
    let mut ledgers = BTreeSet::new();
    for step in &item.steps {
        let step_on = step
            .module
            .as_ref()
            .is_none_or(|m| effective.modules.contains(m));
        for section in &step.sections {
            let section_on =
                step_on && section.show_if.as_ref().is_none_or(|c| c.holds(&effective));
            for field in &section.fields {
                if section_on && field.show_if.as_ref().is_none_or(|c| c.holds(&effective)) {
                    fields.insert(field.id.clone());
                    if let Some(v) = data.values.get(&field.id) {
                        // Conditions see values as stored (normalised where valid).
                        let v = check_in(field, v, data).unwrap_or_else(|_| v.clone());
                        effective.values.insert(field.id.clone(), v);
                    }
                }
            }
            for ledger in &section.ledgers {
                if section_on && ledger.show_if.as_ref().is_none_or(|c| c.holds(&effective)) {
                    ledgers.insert(ledger.id.clone());
                }
            }
        }
    }
    Shown {
        fields,
        ledgers,
        effective,
    }
}

/// Checks one value against its field; returns the value as it should be stored.
pub fn check(field: &Field, value: &Value) -> Result<Value, String> {
    check_in(field, value, &FormData::default())
}

/// [`check`] with the choices the application `data` offers (see `Field::options_for`).
pub fn check_in(field: &Field, value: &Value, data: &FormData) -> Result<Value, String> {
    let offered = field.options_for(data);
    let text = |v: &Value| match v {
        Value::One(s) => s.trim().to_string(),
        Value::Many(list) => list
            .first()
            .map(|s| s.trim().to_string())
            .unwrap_or_default(),
    };
    let too_long = |s: &str, max: usize| {
        if s.chars().count() > max {
            Err(format!("不能超过{max}个字"))
        } else {
            Ok(())
        }
    };
    match &field.kind {
        FieldKind::Multi { .. } => {
            let options = &offered;
            let chosen: Vec<String> = match value {
                Value::One(s) if s.trim().is_empty() => vec![],
                Value::One(s) => vec![s.trim().to_string()],
                Value::Many(list) => list
                    .iter()
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect(),
            };
            if let Some(bad) = chosen.iter().find(|c| !options.contains(c)) {
                return Err(format!("“{bad}”不是可选项"));
            }
            // Keep the spec's order and drop repeats.
            Ok(Value::Many(
                options
                    .iter()
                    .filter(|o| chosen.contains(o))
                    .cloned()
                    .collect(),
            ))
        }
        kind => {
            let s = text(value);
            if s.is_empty() {
                return Ok(Value::One(s));
            }
            match kind {
                FieldKind::Text {
                    max_length,
                    pattern,
                } => {
                    too_long(&s, *max_length)?;
                    if let Some((re, message)) = pattern
                        && !re.is_match(&s)
                    {
                        return Err(message.clone());
                    }
                }
                FieldKind::Textarea { max_length } | FieldKind::Address { max_length } => {
                    too_long(&s, *max_length)?
                }
                FieldKind::Number {
                    min, max, decimals, ..
                } => {
                    let n: f64 = s
                        .parse()
                        .ok()
                        .filter(|n: &f64| n.is_finite())
                        .filter(|_| !s.contains(['e', 'E', '+']))
                        .ok_or("应为数字")?;
                    if let Some(d) = decimals {
                        let places = s.split_once('.').map_or(0, |(_, f)| f.len());
                        if places > *d as usize {
                            return Err(if *d == 0 {
                                "应为整数".into()
                            } else {
                                format!("最多{d}位小数")
                            });
                        }
                    }
                    if let Some(min) = min
                        && n < *min
                    {
                        return Err(format!("不能小于{min}"));
                    }
                    if let Some(max) = max
                        && n > *max
                    {
                        return Err(format!("不能大于{max}"));
                    }
                    // Whole numbers are stored canonically ("007" → "7"), so conditions on them
                    // (`equals = "0"`) hold however the number was typed.
                    if *decimals == Some(0) {
                        return Ok(Value::One(format!("{}", n as i64)));
                    }
                }
                FieldKind::Date => {
                    NaiveDate::parse_from_str(&s, "%Y-%m-%d")
                        .map_err(|_| "应为日期，格式如 2026-01-31")?;
                }
                FieldKind::Year { min, max } => {
                    let y: i32 = s
                        .parse()
                        .ok()
                        .filter(|_| s.len() == 4)
                        .ok_or("应为四位年份")?;
                    if y < *min || y > *max {
                        return Err(format!("应在{min}年至{max}年之间"));
                    }
                }
                FieldKind::Choice { .. } => {
                    if !offered.contains(&s) {
                        return Err(format!("“{s}”不是可选项"));
                    }
                }
                FieldKind::CreditCode => {
                    CreditCode::parse(&s).map_err(|e| e.to_string())?;
                    return Ok(Value::One(s.to_ascii_uppercase()));
                }
                FieldKind::Phone => {
                    if !is_mobile(&s) && !is_phone(&s) {
                        return Err("应为11位手机号码或带区号的固定电话，如 021-12345678".into());
                    }
                }
                FieldKind::File => {}
                FieldKind::Multi { .. } => unreachable!("handled above"),
            }
            Ok(Value::One(s))
        }
    }
}

fn required_message(field: &Field) -> &'static str {
    match field.kind {
        FieldKind::Choice { .. } | FieldKind::Multi { .. } | FieldKind::Year { .. } => "请选择",
        FieldKind::File => "请上传",
        _ => "请填写",
    }
}

/// Checks the shown fields of `steps` (all active steps when `None`): required ones filled,
/// every value well formed.
pub fn check_fields(item: &Item, data: &FormData, step: Option<&str>) -> Vec<Problem> {
    check_shown_fields(item, data, step, &shown(item, data))
}

/// [`check_fields`] with what `data` shows worked out already.
fn check_shown_fields(
    item: &Item,
    data: &FormData,
    step: Option<&str>,
    shown: &Shown,
) -> Vec<Problem> {
    let mut problems = vec![];
    for (s, _, field) in item.fields() {
        if step.is_some_and(|id| id != s.id) || !shown.fields.contains(&field.id) {
            continue;
        }
        match data.values.get(&field.id) {
            Some(v) => match check_in(field, v, data) {
                Ok(v) if field.required && is_empty(&v) => {
                    problems.push(Problem::new(field, required_message(field)))
                }
                Ok(_) => {}
                Err(e) => problems.push(Problem::new(field, e)),
            },
            None if field.required => problems.push(Problem::new(field, required_message(field))),
            None => {}
        }
    }
    problems
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::One(s) => s.is_empty(),
        Value::Many(list) => list.is_empty(),
    }
}

/// Everything a submission must satisfy that the form alone can say: fields, then the item's
/// named rules (which see only what is shown).
pub fn validate(item: &Item, data: &FormData) -> Vec<Problem> {
    validate_shown(item, data, &shown(item, data))
}

/// [`validate`] with what `data` shows (`shown(item, data)`) worked out already: a submission
/// needs it for its materials and what it stores too, and working it out normalises every
/// value.
pub fn validate_shown(item: &Item, data: &FormData, shown: &Shown) -> Vec<Problem> {
    let mut problems = check_shown_fields(item, data, None, shown);
    if problems.is_empty() {
        for (_, rule) in &item.rules {
            problems.extend(rule(item, &shown.effective));
        }
    }
    problems
}

/// What a draft keeps: known fields and modules only, values normalised where they are valid and
/// kept as typed where they are not (the applicant fixes them later), hidden values dropped.
pub fn clean(item: &Item, data: &FormData) -> FormData {
    shown(item, data).effective
}
