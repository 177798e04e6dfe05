//! The cases of 一般固体废物跨省级行政区域贮存、处置审批 on the 固废链: the application
//! (`disposal_application`) and its processing status (`disposal_process`), keyed by the case
//! number, queued as outbox messages to [`DESTINATION`] in the transaction of the case change
//! they record, so nothing is decided off the ledger. `tongban_ledger::outbox::deliver` hands
//! them to the log. Only this item's cases (not their parallel sub-cases) go on the chain.
//!
//! The workflow's events onto the contract's statuses (each status sent once, when it changes):
//!
//! | case event                                   | `disposal_process` status |
//! |----------------------------------------------|---------------------------|
//! | 提交 (`submitted`)                            | `create` submitted (after `disposal_application create`) |
//! | 补正告知 before 受理                          | correction                |
//! | 提交补正 of that                              | submitted (after `disposal_application update`) |
//! | 不予受理                                      | not_accepted              |
//! | 受理                                          | accepted                  |
//! | 审查通过, 拆分并联审查, 并联审查办结 (first)   | reviewing                 |
//! | 审批 准予 / 不准予                             | approved / refused        |
//!
//! The contract knows no 补正 after 受理: a correction asked in review changes no status, and its
//! resubmission records the amended application (`update`) alone. 发证, 撤销, 到期 and 归档 come
//! after the final status and are not on the chain.
use serde_json::{Value, json};
use tongban_domain::Timestamp;
use tongban_engine::case::{Event, EventBody};
use tongban_engine::{FormData, Item};
use tongban_ledger::apps::PROVINCES;
use tongban_ledger::contracts::{Contract, VERSION, status_label};
pub use tongban_ledger::outbox::DESTINATION;
use tongban_store::cases::{CaseRow, MaterialRow};
use tongban_store::outbox::{self, NewMessage};
use tongban_store::{StoreError, Tx};

/// The item whose cases go on the chain.
pub const ITEM: &str = "solid-waste-cross-storage";

/// Whether changes of the case in `row` go on the chain.
pub fn on_chain(row: &CaseRow) -> bool {
    row.item_id == ITEM && row.parent_id.is_none()
}

/// The `disposal_process` status after `body`, from `before`.
pub fn status_after(before: Option<&'static str>, body: &EventBody) -> Option<&'static str> {
    match (before, body) {
        (_, EventBody::Submitted { .. }) => Some("submitted"),
        (Some("submitted"), EventBody::CorrectionRequested { .. }) => Some("correction"),
        (Some("correction"), EventBody::Resubmitted { .. }) => Some("submitted"),
        (Some("submitted"), EventBody::NotAccepted { .. }) => Some("not_accepted"),
        (Some("submitted"), EventBody::Accepted { .. }) => Some("accepted"),
        (
            Some("accepted"),
            EventBody::Reviewed { .. }
            | EventBody::Split { .. }
            | EventBody::SubCaseDecided { next: Some(_), .. },
        ) => Some("reviewing"),
        (Some("accepted" | "reviewing"), EventBody::Decided { granted, .. }) => {
            Some(if *granted { "approved" } else { "refused" })
        }
        (before, _) => before,
    }
}

/// The status `events` leave a case in (`None` before it was submitted).
pub fn status_of(events: &[Event]) -> Option<&'static str> {
    events
        .iter()
        .fold(None, |status, e| status_after(status, &e.body))
}

/// The provinces whose applications see the case's entries: Shanghai and the receiver's.
fn parties(data: &FormData) -> Vec<&'static str> {
    let mut out = vec!["shanghai"];
    let receiver = data.one("receiver_province").unwrap_or_default();
    if let Some((code, _)) = PROVINCES.iter().find(|(_, name)| *name == receiver) {
        out.push(code);
    }
    out
}

fn data_of(row: &CaseRow) -> FormData {
    serde_json::from_str(&row.data).unwrap_or_default()
}

async fn push(
    tx: &mut Tx,
    row: &CaseRow,
    contract: Contract,
    operation: &str,
    payload: Value,
) -> Result<(), StoreError> {
    outbox::push(tx, &message(row, contract, operation, payload)).await?;
    Ok(())
}

fn message(row: &CaseRow, contract: Contract, operation: &str, payload: Value) -> NewMessage {
    let key = row.number.clone().unwrap_or_default();
    NewMessage {
        destination: DESTINATION.into(),
        case_id: Some(row.id.clone()),
        kind: format!("{}.{operation}", contract.id()),
        payload: json!({
            "contract": contract.id(),
            "version": VERSION,
            "key": key,
            "operation": operation,
            "payload": payload,
        }),
    }
}

/// The application as the chain keeps it: the form and the SM3 of every material.
fn application(
    item: &Item,
    row: &CaseRow,
    data: &FormData,
    attached: &[MaterialRow],
    at: Timestamp,
) -> Value {
    let materials: Vec<Value> = attached
        .iter()
        .map(|m| json!({ "material": m.material_id, "file_name": m.file_name, "sm3": m.digest }))
        .collect();
    json!({
        "application_no": row.number,
        "item": item.id,
        "item_name": item.name,
        "applicant": {
            "name": data.one("unit_name"),
            "credit_code": data.one("credit_code"),
        },
        "receiver": {
            "name": data.one("receiver_name"),
            "province": data.one("receiver_province"),
        },
        "parties": parties(data),
        "form": data.values,
        "materials": materials,
        "at": at.beijing(),
    })
}

fn status(row: &CaseRow, data: &FormData, to: &str, event: &str, at: Timestamp) -> Value {
    json!({
        "application_no": row.number,
        "status": to,
        "status_label": status_label(to),
        "event": event,
        "parties": parties(data),
        "at": at.beijing(),
    })
}

/// 提交: the messages of the application and its first status, for the submission's
/// transaction to queue with its others. `data` is the form as submitted (the row's data).
pub(crate) fn submitted(
    item: &Item,
    row: &CaseRow,
    data: &FormData,
    attached: &[MaterialRow],
) -> Vec<NewMessage> {
    if !on_chain(row) {
        return Vec::new();
    }
    let at = Timestamp(row.updated_at);
    let app = application(item, row, data, attached, at);
    let first = status(row, data, "submitted", "submitted", at);
    vec![
        message(row, Contract::DisposalApplication, "create", app),
        message(row, Contract::DisposalProcess, "create", first),
    ]
}

/// Event `event` appended to the case now in `row` after `before`: the status it changes, and
/// first, for a resubmission, the amended application (`amended`: the item and the case's
/// materials).
pub(crate) async fn recorded(
    tx: &mut Tx,
    row: &CaseRow,
    before: &[Event],
    event: &Event,
    amended: Option<(&Item, &[MaterialRow])>,
) -> Result<(), StoreError> {
    if !on_chain(row) {
        return Ok(());
    }
    if let (EventBody::Resubmitted { .. }, Some((item, attached))) = (&event.body, amended) {
        let app = application(item, row, &data_of(row), attached, event.at);
        push(tx, row, Contract::DisposalApplication, "update", app).await?;
    }
    let was = status_of(before);
    let now = status_after(was, &event.body);
    match now {
        Some(to) if was.is_some() && now != was => {
            let payload = status(row, &data_of(row), to, event.body.kind(), event.at);
            push(tx, row, Contract::DisposalProcess, "status", payload).await
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use tongban_ledger::contracts::{self, KeyState};

    use super::*;

    fn level(l: &str) -> String {
        l.to_string()
    }

    /// Every path of the workflow sends only what the contract allows, in order.
    #[test]
    fn the_statuses_follow_the_contract() {
        let submitted = EventBody::Submitted {
            data: FormData::default(),
            number: "GF1".into(),
            district: None,
        };
        let correction = EventBody::CorrectionRequested {
            points: vec![],
            note: String::new(),
            due: String::new(),
        };
        let resubmitted = EventBody::Resubmitted {
            data: FormData::default(),
        };
        let accepted = EventBody::Accepted {
            opinion: String::new(),
            level: level("undertake"),
        };
        let reviewed = EventBody::Reviewed {
            level: level("undertake"),
            opinion: String::new(),
            next: level("check"),
        };
        let decided = |granted| EventBody::Decided {
            level: level("approve"),
            granted,
            opinion: String::new(),
            closed: false,
        };
        let paths: Vec<(Vec<EventBody>, Vec<&str>)> = vec![
            (
                vec![
                    submitted.clone(),
                    correction.clone(),
                    resubmitted.clone(),
                    accepted.clone(),
                    reviewed.clone(),
                    reviewed.clone(),
                    decided(true),
                    EventBody::Archived,
                ],
                vec![
                    "submitted",
                    "correction",
                    "submitted",
                    "accepted",
                    "reviewing",
                    "approved",
                ],
            ),
            (
                // 补正 in review: no status; one level only: straight to the decision.
                vec![
                    submitted.clone(),
                    accepted.clone(),
                    correction.clone(),
                    resubmitted.clone(),
                    decided(false),
                ],
                vec!["submitted", "accepted", "refused"],
            ),
            (
                vec![
                    submitted.clone(),
                    EventBody::NotAccepted { reason: "x".into() },
                ],
                vec!["submitted", "not_accepted"],
            ),
        ];
        for (bodies, expected) in paths {
            let mut states: HashMap<(Contract, String), KeyState> = HashMap::new();
            let mut status = None;
            let mut sent = vec![];
            for body in &bodies {
                let next = status_after(status, body);
                if next != status {
                    let to = next.unwrap();
                    let op = if status.is_none() { "create" } else { "status" };
                    let payload = json!({ "status": to, "application_no": "GF1" }).to_string();
                    let changes =
                        contracts::apply("disposal_process", VERSION, op, "GF1", &payload, &states)
                            .unwrap_or_else(|e| panic!("{to} after {status:?}: {e}"));
                    for c in changes {
                        states.insert((c.contract, c.key), c.state);
                    }
                    sent.push(to);
                }
                status = next;
            }
            assert_eq!(sent, expected);
        }
    }
}
