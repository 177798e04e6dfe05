//! Cases as events. Every action on a case is an appended event whose SM3 digest chains to the
//! previous one; the case's state, data and number are a projection of its events, so the
//! progress timeline, the enterprise home page's messages and the audit trail come from one
//! source. The store keeps the projection beside the events for listing; `project` rebuilds it.
use serde::{Deserialize, Serialize};
use tongban_crypto::Sm3Hasher;
use tongban_domain::Timestamp;
use tongban_domain::audit::GENESIS;

use crate::values::FormData;

/// Where a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseState {
    /// 暂存: being filled in; expires unless submitted.
    Draft,
    /// 已提交: with the bureau; for items with a workflow, waiting for 受理.
    Submitted,
    /// 补正中: returned to the applicant to correct what the officer marked.
    Correcting,
    /// 不予受理 (final).
    NotAccepted,
    /// 审查中, at the level in the projection.
    Reviewing,
    /// 准予许可, the licence not yet issued.
    Granted,
    /// 办结: decided (and licensed, when granted).
    Closed,
    /// 归档
    Archived,
}

impl CaseState {
    pub const ALL: [CaseState; 8] = [
        Self::Draft,
        Self::Submitted,
        Self::Correcting,
        Self::NotAccepted,
        Self::Reviewing,
        Self::Granted,
        Self::Closed,
        Self::Archived,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Submitted => "submitted",
            Self::Correcting => "correcting",
            Self::NotAccepted => "not_accepted",
            Self::Reviewing => "reviewing",
            Self::Granted => "granted",
            Self::Closed => "closed",
            Self::Archived => "archived",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Draft => "暂存",
            Self::Submitted => "已提交",
            Self::Correcting => "补正中",
            Self::NotAccepted => "不予受理",
            Self::Reviewing => "审查中",
            Self::Granted => "准予许可",
            Self::Closed => "办结",
            Self::Archived => "已归档",
        }
    }

    /// Submitted and not yet finished with: the bureau still owes a decision.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            Self::Submitted | Self::Correcting | Self::Reviewing | Self::Granted
        )
    }
}

/// What happened, with what it carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventBody {
    /// A new application (with its prefilled values); `from` is the case 再来一单 copied.
    Created {
        data: FormData,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<String>,
    },
    /// 暂存: what is filled in so far, and the page the applicant was on.
    Saved {
        data: FormData,
        step: String,
    },
    /// 提交: the final data and the number the case is known by from now on.
    Submitted {
        data: FormData,
        number: String,
        /// The district whose bureau handles the case (the applicant's).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        district: Option<String>,
    },
    /// A file attached to material `material` (a spec id, or `extra`) under `name`.
    MaterialAttached {
        material: String,
        name: String,
        file_name: String,
        digest: String,
    },
    /// A file taken off again.
    MaterialRemoved {
        material: String,
        file_name: String,
    },
    /// 台账导入: the ledger's rows replaced by `rows` rows from the file with SM3 `digest`.
    LedgerImported {
        ledger: String,
        rows: usize,
        digest: String,
    },
    /// A ledger row typed in, or deleted.
    LedgerRowAdded {
        ledger: String,
        row: i64,
    },
    LedgerRowRemoved {
        ledger: String,
        row: i64,
    },
    /// 签章: a party signed the case's form. `file` is the signed PDF's SM3 (its key in the file
    /// store), `covered` the SM3 its signature covers.
    DocumentSigned {
        role: String,
        name: String,
        method: String,
        file: String,
        covered: String,
    },
    /// The bureau sealed a document of the case (a decision letter, a notice) and issued it.
    DocumentSealed {
        document_kind: String,
        document_id: String,
        number: String,
        title: String,
        file: String,
    },
    /// 年度报告确认: the bureau confirmed the report against an inspection (检查编号).
    ReportConfirmed {
        inspection_number: String,
    },
    /// 受理: the case goes to the first 审查 level.
    Accepted {
        opinion: String,
        level: String,
    },
    /// 不予受理, with the reason.
    NotAccepted {
        reason: String,
    },
    /// 补正告知: what to correct; `due` is the last day to answer (YYYY-MM-DD).
    CorrectionRequested {
        points: Vec<CorrectionPoint>,
        note: String,
        due: String,
    },
    /// 提交补正: the corrected data.
    Resubmitted {
        data: FormData,
    },
    /// 审查通过 at `level`, on to `next`.
    Reviewed {
        level: String,
        opinion: String,
        next: String,
    },
    /// 准予 or 不予许可 at the last level; `closed` when nothing follows (no licence to issue).
    Decided {
        level: String,
        granted: bool,
        opinion: String,
        closed: bool,
    },
    /// 拆分: parallel sub-cases opened.
    Split {
        children: Vec<SubCase>,
    },
    /// The first event of a sub-case: what it examines, of which case, by which bureau, by when.
    SubCaseOpened {
        parent: String,
        title: String,
        data: FormData,
        number: String,
        district: String,
        level: String,
        due: String,
    },
    /// A sub-case was decided; `next` is the level the parent moves to when it was the last.
    SubCaseDecided {
        child: String,
        title: String,
        granted: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        next: Option<String>,
    },
    /// 发证: the electronic licence issued; the case is 办结.
    LicenceIssued {
        document_id: String,
        number: String,
    },
    /// 证照撤销, with the reason.
    LicenceRevoked {
        document_id: String,
        number: String,
        reason: String,
    },
    /// The licence's validity ran out (recorded once, by the system).
    LicenceExpired {
        document_id: String,
        number: String,
    },
    /// 归档
    Archived,
}

/// One thing an officer asks to be corrected: `field:<id>` or `material:<id>`, its label as
/// the form shows it, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorrectionPoint {
    pub target: String,
    pub label: String,
    pub note: String,
}

impl CorrectionPoint {
    pub fn field(&self) -> Option<&str> {
        self.target.strip_prefix("field:")
    }

    pub fn material(&self) -> Option<&str> {
        self.target.strip_prefix("material:")
    }
}

/// A sub-case as its parent records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubCase {
    pub id: String,
    pub title: String,
    pub district: String,
}

/// The 补正 a case is waiting for, and where it returns when answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenCorrection {
    pub points: Vec<CorrectionPoint>,
    pub note: String,
    pub due: String,
    pub requested_at: i64,
    pub return_state: CaseState,
    pub return_level: Option<String>,
}

impl OpenCorrection {
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.points.iter().filter_map(CorrectionPoint::field)
    }

    pub fn materials(&self) -> impl Iterator<Item = &str> {
        self.points.iter().filter_map(CorrectionPoint::material)
    }

    pub fn note_for(&self, target: &str) -> Option<&str> {
        self.points
            .iter()
            .find(|p| p.target == target)
            .map(|p| p.note.as_str())
    }
}

impl EventBody {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Created { .. } => "created",
            Self::Saved { .. } => "saved",
            Self::Submitted { .. } => "submitted",
            Self::MaterialAttached { .. } => "material_attached",
            Self::MaterialRemoved { .. } => "material_removed",
            Self::LedgerImported { .. } => "ledger_imported",
            Self::LedgerRowAdded { .. } => "ledger_row_added",
            Self::LedgerRowRemoved { .. } => "ledger_row_removed",
            Self::DocumentSigned { .. } => "document_signed",
            Self::DocumentSealed { .. } => "document_sealed",
            Self::ReportConfirmed { .. } => "report_confirmed",
            Self::Accepted { .. } => "accepted",
            Self::NotAccepted { .. } => "not_accepted",
            Self::CorrectionRequested { .. } => "correction_requested",
            Self::Resubmitted { .. } => "resubmitted",
            Self::Reviewed { .. } => "reviewed",
            Self::Decided { .. } => "decided",
            Self::Split { .. } => "split",
            Self::SubCaseOpened { .. } => "sub_case_opened",
            Self::SubCaseDecided { .. } => "sub_case_decided",
            Self::LicenceIssued { .. } => "licence_issued",
            Self::LicenceRevoked { .. } => "licence_revoked",
            Self::LicenceExpired { .. } => "licence_expired",
            Self::Archived => "archived",
        }
    }

    /// How the event reads in the progress timeline and the enterprise's messages.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Created { .. } => "新建申请",
            Self::Saved { .. } => "暂存",
            Self::Submitted { .. } => "提交申请",
            Self::MaterialAttached { .. } => "上传材料",
            Self::MaterialRemoved { .. } => "删除材料",
            Self::LedgerImported { .. } => "导入台账",
            Self::LedgerRowAdded { .. } => "填写台账",
            Self::LedgerRowRemoved { .. } => "删除台账行",
            Self::DocumentSigned { .. } => "签章",
            Self::DocumentSealed { .. } => "出具文书",
            Self::ReportConfirmed { .. } => "年度报告已确认",
            Self::Accepted { .. } => "已受理",
            Self::NotAccepted { .. } => "不予受理",
            Self::CorrectionRequested { .. } => "补正告知",
            Self::Resubmitted { .. } => "提交补正",
            Self::Reviewed { .. } => "审查通过",
            Self::Decided { granted: true, .. } => "准予许可",
            Self::Decided { granted: false, .. } => "不予许可",
            Self::Split { .. } => "拆分并联审查",
            Self::SubCaseOpened { .. } => "并联审查开始",
            Self::SubCaseDecided { .. } => "并联审查办结",
            Self::LicenceIssued { .. } => "电子证照已发放",
            Self::LicenceRevoked { .. } => "电子证照已撤销",
            Self::LicenceExpired { .. } => "电子证照已到期",
            Self::Archived => "归档",
        }
    }
}

/// An event as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub seq: i64,
    pub at: Timestamp,
    /// e.g. `enterprise:<credit code>`, `individual:<id>`, `officer:<id>`.
    pub actor: String,
    pub body: EventBody,
    pub prev_digest: String,
    pub digest: String,
}

/// SM3 over the event's fields (length-prefixed) and the previous digest.
pub fn event_digest(
    case_id: &str,
    seq: i64,
    at: Timestamp,
    actor: &str,
    payload: &str,
    prev: &str,
) -> String {
    let mut h = Sm3Hasher::new();
    h.update(b"tongban-case-event-v1");
    h.update(&seq.to_be_bytes());
    h.update(&at.millis().to_be_bytes());
    for field in [case_id, actor, payload, prev] {
        h.update(&(field.len() as u64).to_be_bytes());
        h.update(field.as_bytes());
    }
    h.finish().to_hex()
}

/// The next event after `last` (`None` for the first): numbered, chained and digested.
pub fn next_event(
    case_id: &str,
    last: Option<(i64, &str)>,
    actor: &str,
    body: EventBody,
    at: Timestamp,
) -> (Event, String) {
    let (seq, prev) = match last {
        Some((seq, digest)) => (seq + 1, digest.to_string()),
        None => (1, GENESIS.to_string()),
    };
    let payload = serde_json::to_string(&body).expect("events serialise");
    let digest = event_digest(case_id, seq, at, actor, &payload, &prev);
    (
        Event {
            seq,
            at,
            actor: actor.to_string(),
            body,
            prev_digest: prev,
            digest,
        },
        payload,
    )
}

/// A case's events do not chain: the first event number that is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("办件事件第{seq}条被修改或缺失")]
pub struct BrokenChain {
    pub seq: i64,
}

/// Checks the chain of `events` (in order, with the payloads as stored).
pub fn verify(case_id: &str, events: &[(Event, String)]) -> Result<(), BrokenChain> {
    let mut prev = GENESIS.to_string();
    for (i, (e, payload)) in events.iter().enumerate() {
        let expected = i as i64 + 1;
        if e.seq != expected
            || e.prev_digest != prev
            || event_digest(case_id, e.seq, e.at, &e.actor, payload, &prev) != e.digest
        {
            return Err(BrokenChain { seq: expected });
        }
        prev = e.digest.clone();
    }
    Ok(())
}

/// What a case is now, from its events.
#[derive(Debug, Clone, PartialEq)]
pub struct Projection {
    pub state: CaseState,
    pub data: FormData,
    pub step: Option<String>,
    pub number: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub submitted_at: Option<Timestamp>,
    /// The district whose bureau handles the case.
    pub district: Option<String>,
    /// The 审查 level, while `Reviewing`.
    pub level: Option<String>,
    /// The 补正 waited for, while `Correcting`.
    pub correction: Option<OpenCorrection>,
    /// For a sub-case: its parent and what it examines.
    pub parent: Option<String>,
    pub title: Option<String>,
}

/// Folds events into the case's current state; `None` without a `Created` first.
pub fn project(events: &[Event]) -> Option<Projection> {
    let first = events.first()?;
    let mut p = Projection {
        state: CaseState::Draft,
        data: FormData::default(),
        step: None,
        number: None,
        created_at: first.at,
        updated_at: first.at,
        submitted_at: None,
        district: None,
        level: None,
        correction: None,
        parent: None,
        title: None,
    };
    match &first.body {
        EventBody::Created { data, .. } => p.data = data.clone(),
        EventBody::SubCaseOpened {
            parent,
            title,
            data,
            number,
            district,
            level,
            ..
        } => {
            p.data = data.clone();
            p.parent = Some(parent.clone());
            p.title = Some(title.clone());
            p.number = Some(number.clone());
            p.district = Some(district.clone());
            p.level = Some(level.clone());
            p.state = CaseState::Reviewing;
            p.submitted_at = Some(first.at);
        }
        _ => return None,
    }
    for e in &events[1..] {
        if !p.apply(e) {
            return None;
        }
    }
    Some(p)
}

impl Projection {
    /// Applies one later event; false for an event that can only come first.
    pub fn apply(&mut self, e: &Event) -> bool {
        let p = self;
        p.updated_at = e.at;
        match &e.body {
            EventBody::Created { .. } | EventBody::SubCaseOpened { .. } => return false,
            EventBody::Saved { data, step } => {
                p.data = data.clone();
                p.step = Some(step.clone());
            }
            EventBody::Submitted {
                data,
                number,
                district,
            } => {
                p.data = data.clone();
                p.number = Some(number.clone());
                p.state = CaseState::Submitted;
                p.submitted_at = Some(e.at);
                p.district = district.clone();
            }
            EventBody::Accepted { level, .. } => {
                p.state = CaseState::Reviewing;
                p.level = Some(level.clone());
            }
            EventBody::NotAccepted { .. } => p.state = CaseState::NotAccepted,
            EventBody::CorrectionRequested { points, note, due } => {
                p.correction = Some(OpenCorrection {
                    points: points.clone(),
                    note: note.clone(),
                    due: due.clone(),
                    requested_at: e.at.millis(),
                    return_state: p.state,
                    return_level: p.level.clone(),
                });
                p.state = CaseState::Correcting;
            }
            EventBody::Resubmitted { data } => {
                p.data = data.clone();
                if let Some(c) = p.correction.take() {
                    p.state = c.return_state;
                    p.level = c.return_level;
                }
            }
            EventBody::Reviewed { next, .. } => p.level = Some(next.clone()),
            EventBody::SubCaseDecided {
                next: Some(next), ..
            } => p.level = Some(next.clone()),
            EventBody::Decided {
                granted, closed, ..
            } => {
                p.level = None;
                p.state = if *closed || !granted {
                    CaseState::Closed
                } else {
                    CaseState::Granted
                };
            }
            EventBody::LicenceIssued { .. } => p.state = CaseState::Closed,
            EventBody::Archived => p.state = CaseState::Archived,
            // Files and ledger rows are kept in their own tables; the events are their record.
            EventBody::MaterialAttached { .. }
            | EventBody::MaterialRemoved { .. }
            | EventBody::LedgerImported { .. }
            | EventBody::LedgerRowAdded { .. }
            | EventBody::LedgerRowRemoved { .. }
            | EventBody::DocumentSigned { .. }
            | EventBody::DocumentSealed { .. }
            | EventBody::ReportConfirmed { .. }
            | EventBody::Split { .. }
            | EventBody::SubCaseDecided { next: None, .. }
            | EventBody::LicenceRevoked { .. }
            | EventBody::LicenceExpired { .. } => {}
        }
        true
    }
}

/// A case number: the item's prefix, the Beijing date and a six-digit sequence of that day,
/// e.g. `FZ20261123000001` (seed 004 shows twelve-digit numbers; ours say the item and day).
pub fn case_number(prefix: &str, day: &str, sequence: i64) -> String {
    format!("{prefix}{day}{sequence:06}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(v: &str) -> FormData {
        let mut d = FormData::default();
        d.set("unit_name", v);
        d
    }

    fn chain(bodies: Vec<EventBody>) -> Vec<(Event, String)> {
        let mut out: Vec<(Event, String)> = vec![];
        for (i, body) in bodies.into_iter().enumerate() {
            let last = out.last().map(|(e, _)| (e.seq, e.digest.as_str()));
            let at = Timestamp(1_700_000_000_000 + i as i64 * 1000);
            let next = next_event("c1", last, "enterprise:x", body, at);
            out.push(next);
        }
        out
    }

    #[test]
    fn the_state_is_the_fold_of_the_events() {
        let events = chain(vec![
            EventBody::Created {
                data: data("甲"),
                from: None,
            },
            EventBody::Saved {
                data: data("乙"),
                step: "sources".into(),
            },
            EventBody::Submitted {
                data: data("丙"),
                number: case_number("FZ", "20261123", 7),
                district: None,
            },
        ]);
        let p = project(&events.iter().map(|(e, _)| e.clone()).collect::<Vec<_>>()).unwrap();
        assert_eq!(p.state, CaseState::Submitted);
        assert_eq!(p.data, data("丙"));
        assert_eq!(p.number.as_deref(), Some("FZ20261123000007"));
        assert_eq!(p.step.as_deref(), Some("sources"));
        assert_eq!(p.submitted_at, Some(events[2].0.at));
        assert!(verify("c1", &events).is_ok());
    }

    #[test]
    fn an_edited_or_missing_event_breaks_the_chain_at_that_event() {
        let mut events = chain(vec![
            EventBody::Created {
                data: data("甲"),
                from: None,
            },
            EventBody::Saved {
                data: data("乙"),
                step: "basic".into(),
            },
            EventBody::Saved {
                data: data("丙"),
                step: "basic".into(),
            },
        ]);
        let mut edited = events.clone();
        edited[1].1 = edited[1].1.replace('乙', "丁");
        assert_eq!(verify("c1", &edited), Err(BrokenChain { seq: 2 }));
        assert_eq!(
            verify("c2", &events),
            Err(BrokenChain { seq: 1 }),
            "bound to its case"
        );
        events.remove(1);
        assert_eq!(verify("c1", &events), Err(BrokenChain { seq: 2 }));
    }
}
