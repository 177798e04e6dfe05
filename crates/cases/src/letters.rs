//! The bureau's letters on a case, drafted from the case: the 补正告知书 from the officer's
//! marks, and the reply (复函) on a decision, prefilled for the officer to edit before sealing.
use chrono::NaiveDate;
use tongban_documents::Letter;
use tongban_engine::case::CorrectionPoint;
use tongban_engine::{FieldKind, Item};

use crate::Case;

fn print(d: NaiveDate) -> String {
    d.format("%Y年%m月%d日").to_string()
}

fn today() -> NaiveDate {
    tongban_engine::workflow::beijing_date(tongban_domain::Timestamp::now())
}

/// Who the letter is to: the unit named by the item's licence holder field, else the case's
/// first text field that is filled.
fn addressee(item: &Item, case: &Case) -> String {
    let data = &case.projection.data;
    item.workflow
        .as_ref()
        .and_then(|w| w.licence.as_ref())
        .and_then(|l| data.one(&l.holder_field))
        .or_else(|| data.one("unit_name"))
        .unwrap_or("申请人")
        .to_string()
}

fn submitted_on(case: &Case) -> String {
    case.projection
        .submitted_at
        .map(|t| print(tongban_engine::workflow::beijing_date(t)))
        .unwrap_or_default()
}

/// 补正告知书: what to correct, by when, and the QR code (added when sealed) for the progress.
pub fn correction_notice(
    item: &Item,
    case: &Case,
    points: &[CorrectionPoint],
    note: &str,
    due: NaiveDate,
    number: &str,
    issuer: &str,
) -> Letter {
    let case_number = case.projection.number.clone().unwrap_or_default();
    let mut paragraphs = vec![format!(
        "你单位于{}提交的《{}》申请（办件编号{case_number}），经审查，申请材料不齐全或者不符合法定形式。根据《中华人民共和国行政许可法》第三十二条的规定，请于{}前登录“一网通办”，在“我的办件”中对以下内容进行补正后重新提交：",
        submitted_on(case),
        item.name,
        print(due)
    )];
    if !note.is_empty() {
        paragraphs.push(note.to_string());
    }
    Letter {
        issuer: issuer.to_string(),
        number: number.to_string(),
        title: "补正告知书".into(),
        addressee: addressee(item, case),
        paragraphs,
        items: points
            .iter()
            .map(|p| format!("{}：{}", p.label, p.note))
            .collect(),
        closing: Some(
            "逾期无正当理由不予补正的，视为放弃行政许可申请。补正期间不计入审批时限。".into(),
        ),
        date: print(today()),
        contact: None,
        qr: false,
    }
}

/// A reply letter as the officer edits it: title, paragraphs and numbered points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    pub title: String,
    pub paragraphs: Vec<String>,
    pub items: Vec<String>,
}

/// The reply (复函) on a decision, prefilled from the case: what is approved (the licence's
/// fields) or, when refused, the reason and the applicant's remedies.
pub fn decision_draft(item: &Item, case: &Case, granted: bool, opinion: &str) -> Draft {
    let unit = addressee(item, case);
    let data = &case.projection.data;
    let case_number = case.projection.number.clone().unwrap_or_default();
    let received = format!(
        "你单位《{}》申请（办件编号{case_number}）及相关材料收悉。经审查，现函复如下：",
        item.name
    );
    let remedy = "如不服本决定，可以在收到本复函之日起六十日内依法申请行政复议，或者在六个月内依法提起行政诉讼。".to_string();
    if !granted {
        return Draft {
            title: format!("关于{unit}{}申请不予许可的复函", item.name),
            paragraphs: vec![
                received,
                format!(
                    "你单位的申请不符合法定条件，决定不予许可。理由：{}",
                    opinion.trim()
                ),
                remedy,
            ],
            items: vec![],
        };
    }
    let fields = item
        .workflow
        .as_ref()
        .and_then(|w| w.licence.as_ref())
        .map(|l| l.fields.clone())
        .unwrap_or_default();
    let items = fields
        .iter()
        .filter_map(|id| {
            let (_, _, field) = item.fields().find(|(_, _, f)| &f.id == id)?;
            let value = data.many(id).join("、");
            if value.is_empty() {
                return None;
            }
            let unit = match &field.kind {
                FieldKind::Number { unit: Some(u), .. } => u.as_str(),
                _ => "",
            };
            Some(format!("{}：{value}{unit}", field.label))
        })
        .chain(std::iter::once(
            "转移过程中应严格落实合同约定的污染防治要求，执行转移联单制度，防止扬散、流失、渗漏。"
                .to_string(),
        ))
        .collect();
    Draft {
        title: format!("关于同意{unit}{}的复函", item.name),
        paragraphs: vec![
            received,
            format!("同意你单位的申请。{}", opinion.trim()),
            remedy,
        ],
        items,
    }
}

/// The draft as a letter with its number and date.
pub fn decision_letter(
    item: &Item,
    case: &Case,
    draft: Draft,
    number: &str,
    issuer: &str,
) -> Letter {
    Letter {
        issuer: issuer.to_string(),
        number: number.to_string(),
        title: draft.title,
        addressee: addressee(item, case),
        paragraphs: draft.paragraphs,
        items: draft.items,
        closing: Some("特此函复。".into()),
        date: print(today()),
        contact: None,
        qr: false,
    }
}
