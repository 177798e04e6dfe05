//! A case on paper: the submitted form as the document its parties sign and the bureau files,
//! printed from the item's steps in order with only what the applicant was shown.

use tongban_documents::{Field as Line, FormDocument, Section, SignatureBox, Table};
use tongban_engine::validate::shown;
use tongban_engine::{Field, FieldKind, Item, Value};
use tongban_store::Store;

use crate::{Case, CaseError, beijing_day};

/// Rows of each ledger, by ledger id, in row order.
pub use tongban_engine::rules::LedgerRows;

/// How a value reads on paper: units after numbers, lists joined by 、, 未填写 for blanks.
fn printed(field: &Field, value: Option<&Value>) -> String {
    let text = match value {
        Some(Value::One(v)) => v.trim().to_string(),
        Some(Value::Many(vs)) => vs
            .iter()
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
            .collect::<Vec<_>>()
            .join("、"),
        None => String::new(),
    };
    match (&field.kind, text.is_empty()) {
        (_, true) => "未填写".into(),
        (
            FieldKind::Number {
                unit: Some(unit), ..
            },
            false,
        ) => format!("{text} {unit}"),
        (FieldKind::Year { .. }, false) => format!("{text}年"),
        _ => text,
    }
}

/// The form of `case` without its ledgers (what a list or batch prints quickly).
pub fn application_form(item: &Item, case: &Case) -> FormDocument {
    application_form_with(item, case, &LedgerRows::new())
}

/// The form of `case` with the rows of its ledgers as tables.
pub fn application_form_with(item: &Item, case: &Case, ledgers: &LedgerRows) -> FormDocument {
    let data = &case.projection.data;
    let visible = shown(item, data);
    let mut sections = Vec::new();
    if !item.modules.is_empty() {
        let on: Vec<&str> = item
            .modules
            .iter()
            .filter(|m| data.modules.contains(&m.id))
            .map(|m| m.name.as_str())
            .collect();
        sections.push(Section {
            heading: "模块定义".into(),
            fields: vec![Line::new(
                "填报模块",
                if on.is_empty() {
                    "无".into()
                } else {
                    on.join("、")
                },
            )],
            tables: vec![],
        });
    }
    for step in item.active_steps(data) {
        for section in &step.sections {
            let fields: Vec<Line> = section
                .fields
                .iter()
                .filter(|f| visible.fields.contains(&f.id) && !matches!(f.kind, FieldKind::File))
                .map(|f| Line::new(f.label.clone(), printed(f, data.values.get(&f.id))))
                .collect();
            let tables: Vec<Table> = section
                .ledgers
                .iter()
                .filter(|l| visible.ledgers.contains(&l.id))
                .filter_map(|l| {
                    let rows = ledgers.get(&l.id)?;
                    Some(Table {
                        caption: Some(format!("{}（共{}行）", l.title, rows.len())),
                        headers: l.columns.iter().map(tongban_sheets::title).collect(),
                        rows: rows.clone(),
                    })
                })
                .collect();
            if fields.is_empty() && tables.is_empty() {
                continue;
            }
            let heading = if section.title == step.title || step.sections.len() == 1 {
                section.title.clone()
            } else {
                format!("{} · {}", step.title, section.title)
            };
            sections.push(Section {
                heading,
                fields,
                tables,
            });
        }
    }
    let number = case.projection.number.clone();
    let submitted = case.projection.submitted_at.map(beijing_day);
    let mut holder = vec![Line::new("事项名称", item.name.clone())];
    if let Some(n) = &number {
        holder.push(Line::new("办件编号", n.clone()));
    }
    if let Some(day) = &submitted {
        holder.push(Line::new("提交日期", printed_day(day)));
    }
    FormDocument {
        title: item.signing.title.clone(),
        subtitle: None,
        running: Some((
            item.department.clone(),
            number.clone().unwrap_or_else(|| "暂存".into()),
        )),
        number,
        holder,
        sections,
        signatures: item
            .signing
            .parties
            .iter()
            .map(|p| SignatureBox {
                role: p.role.clone(),
                label: p.label.clone(),
            })
            .collect(),
        date: submitted.map(|d| printed_day(&d)),
    }
}

/// `20261123` → `2026年11月23日`.
fn printed_day(day: &str) -> String {
    match (day.get(0..4), day.get(4..6), day.get(6..8)) {
        (Some(y), Some(m), Some(d)) => format!(
            "{y}年{}月{}日",
            m.trim_start_matches('0'),
            d.trim_start_matches('0')
        ),
        _ => day.to_string(),
    }
}

/// Every row of the case's shown ledgers, read from the store.
pub async fn ledger_rows(store: &Store, item: &Item, case: &Case) -> Result<LedgerRows, CaseError> {
    ledger_rows_of(store, item, &case.id, &case.projection.data).await
}

/// Every row of the ledgers shown with `data`, of case `case_id`.
pub(crate) async fn ledger_rows_of(
    store: &Store,
    item: &Item,
    case_id: &str,
    data: &tongban_engine::FormData,
) -> Result<LedgerRows, CaseError> {
    let visible = shown(item, data);
    let mut out = LedgerRows::new();
    for (_, _, ledger) in item.ledgers() {
        if !visible.ledgers.contains(&ledger.id) {
            continue;
        }
        let (rows, _) =
            tongban_store::ledgers::page(store, case_id, &ledger.id, 0, i64::MAX).await?;
        let rows = rows
            .iter()
            .map(|(_, d)| crate::ledgers::decode(d))
            .collect::<Result<Vec<_>, _>>()?;
        out.insert(ledger.id.clone(), rows);
    }
    Ok(out)
}
