//! The workflow of a submitted case (受理 → 审查 → 决定 → 办结), as data per item and checked here:
//! which actions a case admits where it stands, which officer role takes each, and the statutory
//! clock in working days, which stops while the applicant corrects (补正). No HTTP, no SQL: the
//! cases crate applies these rules and records the events.
use chrono::NaiveDate;
use tongban_domain::OfficerRole;
use tongban_domain::calendar::WorkCalendar;

use crate::case::{CaseState, Event, EventBody};
use crate::spec::{LicenceSpec, WorkflowSpec};

/// One 审查 level: who acts there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Level {
    pub id: String,
    pub name: String,
    pub role: OfficerRole,
}

/// An item's workflow, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workflow {
    pub acceptance_days: u32,
    pub time_limit_days: u32,
    pub due_soon_days: u32,
    pub correction_days: u32,
    pub levels: Vec<Level>,
    pub letter_prefix: String,
    pub licence: Option<LicenceSpec>,
    pub sms_field: Option<String>,
}

/// What an officer (or the applicant, for `Resubmit`) does to a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    /// 受理
    Accept,
    /// 不予受理
    NotAccept,
    /// 补正告知
    RequestCorrection,
    /// 提交补正
    Resubmit,
    /// 审查通过, on to the next level
    Pass,
    /// 准予 / 不予许可, at the last level
    Decide,
    /// 拆分子件
    Split,
    /// 发证
    IssueLicence,
    /// 归档
    Archive,
}

impl Act {
    pub fn label(self) -> &'static str {
        match self {
            Self::Accept => "受理",
            Self::NotAccept => "不予受理",
            Self::RequestCorrection => "补正告知",
            Self::Resubmit => "提交补正",
            Self::Pass => "审查通过",
            Self::Decide => "作出决定",
            Self::Split => "拆分子件",
            Self::IssueLicence => "发证",
            Self::Archive => "归档",
        }
    }
}

/// Why an action is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkflowError {
    #[error("该办件当前状态为「{state}」，不能{act}")]
    NotNow {
        state: &'static str,
        act: &'static str,
    },
    #[error("该办件的子件尚未全部办结，不能{act}")]
    ChildrenPending { act: &'static str },
    #[error("您没有在「{stage}」环节{act}的权限")]
    NotYourRole { stage: String, act: &'static str },
    #[error("该事项不发电子证照")]
    NoLicence,
}

/// Where a case stands, as far as the workflow is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position<'a> {
    pub state: CaseState,
    pub level: Option<&'a str>,
    /// Sub-cases not yet decided.
    pub children_pending: bool,
    /// A sub-case (its own decision goes to the parent; it is not split again and gets no licence).
    pub is_child: bool,
}

impl Workflow {
    /// Checks a spec; `field_kind` tells what kind of field an id is (`None`: no such field).
    pub fn check(
        spec: &WorkflowSpec,
        field_kind: &dyn Fn(&str) -> Option<&'static str>,
    ) -> Result<Workflow, Vec<String>> {
        let mut problems = vec![];
        if spec.levels.is_empty() {
            problems.push("workflow: at least one level".into());
        }
        let mut levels = Vec::with_capacity(spec.levels.len());
        for l in &spec.levels {
            if levels.iter().any(|x: &Level| x.id == l.id) {
                problems.push(format!("workflow: level `{}` twice", l.id));
            }
            match OfficerRole::from_code(&l.role) {
                Some(
                    role @ (OfficerRole::Intake | OfficerRole::Review | OfficerRole::Approval),
                ) => levels.push(Level {
                    id: l.id.clone(),
                    name: l.name.clone(),
                    role,
                }),
                _ => problems.push(format!(
                    "workflow: level `{}`: role is `intake`, `review` or `approval`",
                    l.id
                )),
            }
        }
        if spec.acceptance_days == 0 || spec.time_limit_days == 0 {
            problems.push("workflow: time limits are at least one working day".into());
        }
        if let Some(field) = &spec.sms_field
            && field_kind(field) != Some("phone")
        {
            problems.push(format!(
                "workflow: sms_field `{field}` is not a phone field"
            ));
        }
        if let Some(licence) = &spec.licence {
            for id in std::iter::once(&licence.holder_field).chain(&licence.fields) {
                if field_kind(id).is_none() {
                    problems.push(format!(
                        "workflow.licence: `{id}` is not a field of the form"
                    ));
                }
            }
            if let Some(id) = &licence.valid_until_field
                && field_kind(id) != Some("date")
            {
                problems.push(format!("workflow.licence: `{id}` is not a date field"));
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Workflow {
            acceptance_days: spec.acceptance_days,
            time_limit_days: spec.time_limit_days,
            due_soon_days: spec.due_soon_days,
            correction_days: spec.correction_days,
            levels,
            letter_prefix: spec.letter_prefix.clone(),
            licence: spec.licence.clone(),
            sms_field: spec.sms_field.clone(),
        })
    }

    pub fn first_level(&self) -> &Level {
        &self.levels[0]
    }

    pub fn level(&self, id: &str) -> Option<&Level> {
        self.levels.iter().find(|l| l.id == id)
    }

    /// The level after `id`; `None` at the last.
    pub fn next_level(&self, id: &str) -> Option<&Level> {
        let i = self.levels.iter().position(|l| l.id == id)?;
        self.levels.get(i + 1)
    }

    pub fn is_last(&self, id: &str) -> bool {
        self.levels.last().is_some_and(|l| l.id == id)
    }

    /// The stage's name as the workbench shows it: 受理, or the level's name.
    pub fn stage_name(&self, at: &Position) -> String {
        match (at.state, at.level.and_then(|l| self.level(l))) {
            (CaseState::Reviewing, Some(level)) => level.name.clone(),
            (state, _) => state.label().to_string(),
        }
    }

    /// Whether `act` fits where the case stands, and the role that takes it there.
    pub fn role_for(&self, at: &Position, act: Act) -> Result<OfficerRole, WorkflowError> {
        let not_now = || WorkflowError::NotNow {
            state: at.state.label(),
            act: act.label(),
        };
        let level = at.level.and_then(|l| self.level(l));
        match (act, at.state) {
            (Act::Accept | Act::NotAccept, CaseState::Submitted) if !at.is_child => {
                Ok(OfficerRole::Intake)
            }
            (Act::RequestCorrection, CaseState::Submitted) if !at.is_child => {
                Ok(OfficerRole::Intake)
            }
            (Act::RequestCorrection, CaseState::Reviewing) if !at.is_child => {
                level.map(|l| l.role).ok_or_else(not_now)
            }
            (Act::Pass | Act::Decide | Act::Split, CaseState::Reviewing) => {
                let level = level.ok_or_else(not_now)?;
                if at.children_pending {
                    return Err(WorkflowError::ChildrenPending { act: act.label() });
                }
                let last = self.is_last(&level.id);
                match act {
                    Act::Pass if last => Err(not_now()),
                    Act::Decide if !last => Err(not_now()),
                    Act::Split if at.is_child => Err(not_now()),
                    _ => Ok(level.role),
                }
            }
            (Act::IssueLicence, CaseState::Granted) if !at.is_child => {
                if self.licence.is_none() {
                    return Err(WorkflowError::NoLicence);
                }
                Ok(OfficerRole::Approval)
            }
            (Act::Archive, CaseState::Closed | CaseState::NotAccepted) if !at.is_child => {
                Ok(OfficerRole::Intake)
            }
            _ => Err(not_now()),
        }
    }

    /// [`Self::role_for`], held against the officer's roles.
    pub fn may(&self, roles: &[OfficerRole], at: &Position, act: Act) -> Result<(), WorkflowError> {
        let role = self.role_for(at, act)?;
        if roles.contains(&role) {
            Ok(())
        } else {
            Err(WorkflowError::NotYourRole {
                stage: self.stage_name(at),
                act: act.label(),
            })
        }
    }

    /// The statutory deadline of the stage the events leave the case in: the last day of the
    /// acceptance or decision time limit, counted in working days, less nothing for the days it
    /// spent with the applicant in 补正 (each working day after the request up to and including
    /// the day of resubmission is not counted). `None` while the clock is stopped or has ended.
    pub fn deadline(&self, calendar: &WorkCalendar, events: &[Event]) -> Option<NaiveDate> {
        let mut clock: Option<Clock> = None;
        let mut accepted = false;
        for e in events {
            let day = beijing_date(e.at);
            match &e.body {
                EventBody::Submitted { .. } => {
                    clock = Some(Clock::start(day, self.acceptance_days));
                }
                EventBody::SubCaseOpened { due, .. } => {
                    clock = NaiveDate::parse_from_str(due, "%Y-%m-%d")
                        .ok()
                        .map(Clock::fixed);
                    accepted = true;
                }
                EventBody::Accepted { .. } => {
                    accepted = true;
                    clock = Some(Clock::start(day, self.time_limit_days));
                }
                EventBody::CorrectionRequested { .. } => {
                    if let Some(c) = &mut clock {
                        c.paused_since = Some(day);
                    }
                }
                EventBody::Resubmitted { .. } => {
                    if !accepted {
                        // A 补正 before acceptance: the acceptance limit runs again from the day
                        // the complete application arrived.
                        clock = Some(Clock::start(day, self.acceptance_days));
                    } else if let Some(c) = &mut clock
                        && let Some(since) = c.paused_since.take()
                    {
                        c.paused += calendar.working_days_between(since, day) as u32;
                    }
                }
                EventBody::NotAccepted { .. }
                | EventBody::LicenceIssued { .. }
                | EventBody::Decided { granted: false, .. } => clock = None,
                EventBody::Decided { granted: true, .. } if self.licence.is_none() => clock = None,
                _ => {}
            }
        }
        clock.and_then(|c| c.deadline(calendar))
    }

    /// The last day a 补正 requested on `day` may be answered.
    pub fn correction_due(&self, calendar: &WorkCalendar, day: NaiveDate) -> NaiveDate {
        calendar.add_working_days(day, self.correction_days)
    }
}

#[derive(Debug, Clone, Copy)]
struct Clock {
    from: NaiveDate,
    limit: u32,
    paused: u32,
    paused_since: Option<NaiveDate>,
    fixed: Option<NaiveDate>,
}

impl Clock {
    fn start(from: NaiveDate, limit: u32) -> Clock {
        Clock {
            from,
            limit,
            paused: 0,
            paused_since: None,
            fixed: None,
        }
    }

    fn fixed(due: NaiveDate) -> Clock {
        Clock {
            fixed: Some(due),
            ..Clock::start(due, 0)
        }
    }

    fn deadline(&self, calendar: &WorkCalendar) -> Option<NaiveDate> {
        if self.paused_since.is_some() {
            return None;
        }
        Some(
            self.fixed
                .unwrap_or_else(|| calendar.add_working_days(self.from, self.limit + self.paused)),
        )
    }
}

/// How a running deadline looks today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Urgency {
    OnTime,
    /// 即将超期: `due_soon_days` working days or fewer left.
    DueSoon,
    /// 已超期
    Overdue,
}

impl Urgency {
    pub fn of(
        deadline: NaiveDate,
        today: NaiveDate,
        calendar: &WorkCalendar,
        due_soon_days: u32,
    ) -> Urgency {
        if today > deadline {
            Urgency::Overdue
        } else if deadline <= calendar.add_working_days(today, due_soon_days) {
            Urgency::DueSoon
        } else {
            Urgency::OnTime
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::OnTime => "正常",
            Self::DueSoon => "即将超期",
            Self::Overdue => "已超期",
        }
    }
}

/// The Beijing calendar day of an instant.
pub fn beijing_date(at: tongban_domain::Timestamp) -> NaiveDate {
    chrono::DateTime::from_timestamp_millis(at.millis() + 8 * 3_600_000)
        .map(|t| t.date_naive())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::CorrectionPoint;
    use crate::spec::LevelSpec;
    use crate::values::FormData;
    use tongban_domain::Timestamp;

    fn workflow() -> Workflow {
        let spec = WorkflowSpec {
            acceptance_days: 5,
            time_limit_days: 20,
            due_soon_days: 3,
            correction_days: 30,
            levels: [
                ("undertake", "承办", "review"),
                ("check", "审核", "review"),
                ("approve", "审批", "approval"),
            ]
            .map(|(id, name, role)| LevelSpec {
                id: id.into(),
                name: name.into(),
                role: role.into(),
            })
            .to_vec(),
            sms_field: None,
            letter_prefix: "沪环土函".into(),
            licence: None,
        };
        Workflow::check(&spec, &|_| None).unwrap()
    }

    /// 09:00 Beijing on `day`.
    fn at(day: &str) -> Timestamp {
        let d = NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap();
        Timestamp(d.and_hms_opt(1, 0, 0).unwrap().and_utc().timestamp_millis())
    }

    fn event(day: &str, body: EventBody) -> Event {
        Event {
            seq: 0,
            at: at(day),
            actor: "officer:x".into(),
            body,
            prev_digest: String::new(),
            digest: String::new(),
        }
    }

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn submitted() -> EventBody {
        EventBody::Submitted {
            data: FormData::default(),
            number: "GF1".into(),
            district: None,
        }
    }

    fn accepted() -> EventBody {
        EventBody::Accepted {
            opinion: String::new(),
            level: "undertake".into(),
        }
    }

    fn correction() -> EventBody {
        EventBody::CorrectionRequested {
            points: vec![CorrectionPoint {
                target: "field:quantity".into(),
                label: "数量".into(),
                note: "请核实".into(),
            }],
            note: String::new(),
            due: String::new(),
        }
    }

    fn resubmitted() -> EventBody {
        EventBody::Resubmitted {
            data: FormData::default(),
        }
    }

    #[test]
    fn the_decision_deadline_skips_the_national_day_holiday_and_stops_during_correction() {
        let cal = WorkCalendar::official();
        let wf = workflow();
        // Accepted on Friday 2026-09-18. Counting 20 working days by hand: Sunday 9/20 is worked
        // (调休) and makes 1, 9/21-24 make 5, 9/25-27 中秋 are holidays, 9/28-30 make 8, 10/1-7
        // 国庆 are holidays, 10/8, 10/9 and Saturday 10/10 (worked) make 11, 10/12-16 make 16 and
        // 10/19-22 make 20: Thursday 2026-10-22.
        let events = vec![
            event("2026-09-17", submitted()),
            event("2026-09-18", accepted()),
        ];
        assert_eq!(wf.deadline(&cal, &events), Some(date("2026-10-22")));

        // A 补正 requested on Tuesday 10/13 and answered on Friday 10/16: Wednesday, Thursday
        // and Friday (3 working days) are not counted, so the limit ends 3 working days
        // later, on Tuesday 2026-10-27.
        let mut corrected = events.clone();
        corrected.push(event("2026-10-13", correction()));
        assert_eq!(wf.deadline(&cal, &corrected), None, "the clock is stopped");
        corrected.push(event("2026-10-16", resubmitted()));
        assert_eq!(wf.deadline(&cal, &corrected), Some(date("2026-10-27")));
    }

    #[test]
    fn a_correction_before_acceptance_restarts_the_acceptance_limit() {
        let cal = WorkCalendar::official();
        let wf = workflow();
        let events = vec![
            event("2026-11-02", submitted()),
            event("2026-11-03", correction()),
            event("2026-11-12", resubmitted()),
        ];
        // Five working days after Thursday 11/12: 11/13, 11/16-19.
        assert_eq!(wf.deadline(&cal, &events), Some(date("2026-11-19")));
        let mut decided = events.clone();
        decided.push(event(
            "2026-11-13",
            EventBody::NotAccepted {
                reason: "不属于受理范围".into(),
            },
        ));
        assert_eq!(
            wf.deadline(&cal, &decided),
            None,
            "a decided case has no deadline"
        );
    }

    #[test]
    fn urgency_counts_working_days() {
        let cal = WorkCalendar::official();
        // From Friday 2026-11-27, three working days reach Wednesday 12/2.
        let today = date("2026-11-27");
        assert_eq!(
            Urgency::of(date("2026-12-02"), today, &cal, 3),
            Urgency::DueSoon
        );
        assert_eq!(
            Urgency::of(date("2026-12-03"), today, &cal, 3),
            Urgency::OnTime
        );
        assert_eq!(
            Urgency::of(date("2026-11-26"), today, &cal, 3),
            Urgency::Overdue
        );
        assert_eq!(Urgency::of(today, today, &cal, 3), Urgency::DueSoon);
    }

    #[test]
    fn each_stage_admits_its_own_actions_and_roles() {
        let wf = workflow();
        let at = |state, level| Position {
            state,
            level,
            children_pending: false,
            is_child: false,
        };
        let submitted = at(CaseState::Submitted, None);
        assert_eq!(
            wf.role_for(&submitted, Act::Accept),
            Ok(OfficerRole::Intake)
        );
        assert!(wf.role_for(&submitted, Act::Pass).is_err());
        let undertake = at(CaseState::Reviewing, Some("undertake"));
        assert_eq!(wf.role_for(&undertake, Act::Pass), Ok(OfficerRole::Review));
        assert!(matches!(
            wf.role_for(&undertake, Act::Decide),
            Err(WorkflowError::NotNow { .. })
        ));
        let approve = at(CaseState::Reviewing, Some("approve"));
        assert_eq!(
            wf.role_for(&approve, Act::Decide),
            Ok(OfficerRole::Approval)
        );
        assert!(wf.role_for(&approve, Act::Pass).is_err());
        assert_eq!(
            wf.may(&[OfficerRole::Review], &approve, Act::Decide)
                .unwrap_err()
                .to_string(),
            "您没有在「审批」环节作出决定的权限"
        );
        let split = Position {
            children_pending: true,
            ..undertake
        };
        assert_eq!(
            wf.role_for(&split, Act::Pass),
            Err(WorkflowError::ChildrenPending {
                act: "审查通过"
            })
        );
        assert_eq!(
            wf.role_for(&at(CaseState::Granted, None), Act::IssueLicence),
            Err(WorkflowError::NoLicence)
        );
        let child = Position {
            is_child: true,
            ..undertake
        };
        assert!(wf.role_for(&child, Act::Split).is_err());
        assert!(wf.role_for(&child, Act::RequestCorrection).is_err());
    }

    #[test]
    fn a_spec_with_unknown_roles_or_fields_is_refused() {
        let mut spec = WorkflowSpec {
            acceptance_days: 5,
            time_limit_days: 20,
            due_soon_days: 3,
            correction_days: 30,
            levels: vec![LevelSpec {
                id: "a".into(),
                name: "审批".into(),
                role: "boss".into(),
            }],
            sms_field: Some("nope".into()),
            letter_prefix: "X".into(),
            licence: None,
        };
        let problems = Workflow::check(&spec, &|_| None).unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:?}");
        spec.levels[0].role = "approval".into();
        spec.sms_field = None;
        assert!(Workflow::check(&spec, &|_| None).is_ok());
    }
}
