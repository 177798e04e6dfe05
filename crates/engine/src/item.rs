//! A checked item: its spec read from TOML, every reference resolved, every pattern compiled.
//! A spec with a mistake does not load, and the error lists every mistake at once.
use std::collections::BTreeSet;

use regex::Regex;
use tongban_domain::catalogue::ItemKind;

use crate::condition::Condition;
use crate::rules::{LedgerRule, Rule, RuleRegistry};
use crate::spec::{
    ApplicantKind, FieldKindSpec, FieldSpec, GuideEntry, IndexSpec, ItemSpec, KindSpec, LedgerSpec,
    MaterialSpec, ModuleSpec, NoticeSpec, SigningParty,
};
use crate::values::FormData;

#[derive(Debug, thiserror::Error)]
#[error("item spec {item}: {}", .problems.join("; "))]
pub struct SpecError {
    pub item: String,
    pub problems: Vec<String>,
}

/// What a field accepts.
#[derive(Debug, Clone)]
pub enum FieldKind {
    Text {
        max_length: usize,
        pattern: Option<(Regex, String)>,
    },
    Textarea {
        max_length: usize,
    },
    Number {
        unit: Option<String>,
        min: Option<f64>,
        max: Option<f64>,
        decimals: Option<u32>,
    },
    Date,
    Year {
        min: i32,
        max: i32,
    },
    Choice {
        options: Vec<String>,
        select: bool,
    },
    Multi {
        options: Vec<String>,
    },
    Address {
        max_length: usize,
    },
    CreditCode,
    Phone,
    File,
}

#[derive(Debug, Clone)]
pub struct Field {
    pub id: String,
    pub label: String,
    pub kind: FieldKind,
    pub required: bool,
    pub show_if: Option<Condition>,
    pub help: Option<String>,
    pub placeholder: Option<String>,
    pub prefill: Option<String>,
    pub per_case: bool,
    pub default: Option<String>,
    /// The known value listing this application's extra choices.
    pub options_prefill: Option<String>,
}

impl Field {
    /// The choices offered for `data`: the application's own (from `options_prefill`) first,
    /// then the spec's.
    pub fn options_for(&self, data: &FormData) -> Vec<String> {
        let spec = match &self.kind {
            FieldKind::Choice { options, .. } | FieldKind::Multi { options } => options.as_slice(),
            _ => &[],
        };
        let mut out: Vec<String> = data.options.get(&self.id).cloned().unwrap_or_default();
        for o in spec {
            if !out.contains(o) {
                out.push(o.clone());
            }
        }
        out
    }
}

#[derive(Debug, Clone)]
pub struct Ledger {
    pub id: String,
    pub title: String,
    pub show_if: Option<Condition>,
    pub help: Option<String>,
    pub columns: Vec<Field>,
    pub min_rows: usize,
}

#[derive(Debug, Clone)]
pub struct Section {
    pub title: String,
    pub show_if: Option<Condition>,
    pub fields: Vec<Field>,
    pub ledgers: Vec<Ledger>,
}

#[derive(Debug, Clone)]
pub struct Step {
    pub id: String,
    pub title: String,
    pub module: Option<String>,
    pub help: Option<String>,
    pub sections: Vec<Section>,
}

#[derive(Debug, Clone)]
pub struct Material {
    pub id: String,
    pub name: String,
    pub required: bool,
    pub multiple: bool,
    pub types: Vec<String>,
    pub max_bytes: u64,
    pub show_if: Option<Condition>,
    pub help: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Item {
    pub id: String,
    pub name: String,
    pub department: String,
    pub kind: ItemKind,
    pub applicants: Vec<ApplicantKind>,
    pub case_prefix: String,
    pub draft_days: u32,
    pub guide: Vec<GuideEntry>,
    pub notice: NoticeSpec,
    pub commitments: Vec<String>,
    pub modules: Vec<ModuleSpec>,
    /// The known value that presets the modules of a new application.
    pub modules_prefill: Option<String>,
    pub steps: Vec<Step>,
    pub materials: Vec<Material>,
    pub rules: Vec<(String, Rule)>,
    /// Rules over the form and its ledgers, run at submission.
    pub ledger_rules: Vec<(String, LedgerRule)>,
    /// Who signs the submitted form, in order (at least the applicant).
    pub signing: Signing,
    /// What officers query submitted cases by (yearly reports).
    pub index: Option<IndexSpec>,
    /// 审批流程: how the bureau handles a submitted case; `None` for filings and reports.
    pub workflow: Option<crate::workflow::Workflow>,
}

/// The signed form of a submitted case and its signers, in signing order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signing {
    pub title: String,
    pub parties: Vec<SigningParty>,
}

/// Material types we can recognise by content.
pub const MATERIAL_TYPES: [&str; 8] = ["pdf", "jpg", "png", "doc", "docx", "xls", "xlsx", "zip"];

/// Longest text a field takes unless its spec says otherwise.
const DEFAULT_MAX_LENGTH: usize = 200;

struct Checker {
    problems: Vec<String>,
    /// Field ids in document order so far, for `show_if` references.
    seen: BTreeSet<String>,
    modules: BTreeSet<String>,
}

impl Checker {
    /// The signers: `applicant` first and once; an `employer` names a credit-code field.
    fn signing(&mut self, spec: &ItemSpec, steps: &[Step]) -> Signing {
        let default_label = match spec.applicants.first() {
            Some(ApplicantKind::Individual) => "申请人（签名）",
            _ => "申请单位（盖章）",
        };
        let Some(signing) = &spec.signing else {
            return Signing {
                title: spec.name.clone(),
                parties: vec![SigningParty {
                    role: "applicant".into(),
                    label: default_label.into(),
                    credit_code_field: None,
                }],
            };
        };
        if signing.parties.first().map(|p| p.role.as_str()) != Some("applicant") {
            self.problems
                .push("signing: the first party is the applicant".into());
        }
        let mut roles = BTreeSet::new();
        for party in &signing.parties {
            if !roles.insert(party.role.clone()) {
                self.problems
                    .push(format!("signing: role `{}` twice", party.role));
            }
            match (party.role.as_str(), &party.credit_code_field) {
                ("applicant", None) => {}
                ("employer", Some(field)) => {
                    let kind = steps
                        .iter()
                        .flat_map(|s| &s.sections)
                        .flat_map(|s| &s.fields)
                        .find(|f| &f.id == field)
                        .map(|f| &f.kind);
                    if !matches!(kind, Some(FieldKind::CreditCode)) {
                        self.problems.push(format!(
                            "signing: `{field}` is not a credit_code field of the form"
                        ));
                    }
                }
                (role, _) => self.problems.push(format!(
                    "signing: `{role}`: roles are `applicant` and `employer` (with credit_code_field)"
                )),
            }
        }
        Signing {
            title: signing.title.clone().unwrap_or_else(|| spec.name.clone()),
            parties: signing.parties.clone(),
        }
    }

    /// The index names fields of the form of the right kinds.
    fn index(&mut self, spec: &ItemSpec, steps: &[Step]) {
        let Some(index) = &spec.index else { return };
        let kind_of = |id: &str| {
            steps
                .iter()
                .flat_map(|s| &s.sections)
                .flat_map(|s| &s.fields)
                .find(|f| f.id == id)
                .map(|f| f.kind.clone())
        };
        let mut want = |id: &str, what: &str, ok: &dyn Fn(&FieldKind) -> bool| match kind_of(id) {
            Some(kind) if ok(&kind) => {}
            Some(_) => self
                .problems
                .push(format!("index: `{id}` is not a {what} field")),
            None => self
                .problems
                .push(format!("index: `{id}` is not a field of the form")),
        };
        want(&index.year, "year", &|k| {
            matches!(k, FieldKind::Year { .. })
        });
        want(&index.credit_code, "credit_code", &|k| {
            matches!(k, FieldKind::CreditCode)
        });
        for id in [&index.title, &index.reference]
            .into_iter()
            .chain(&index.columns)
        {
            want(id, "form", &|_| true);
        }
        for id in &index.figures {
            want(id, "whole-number", &|k| {
                matches!(
                    k,
                    FieldKind::Number {
                        decimals: Some(0),
                        ..
                    }
                )
            });
        }
    }

    fn condition(
        &mut self,
        spec: &Option<crate::spec::ConditionSpec>,
        at: &str,
    ) -> Option<Condition> {
        let spec = spec.as_ref()?;
        match Condition::parse(spec, at) {
            Ok(c) => {
                for f in c.fields() {
                    if !self.seen.contains(f) {
                        self.problems.push(format!(
                            "{at}: show_if refers to `{f}`, which is not a field defined before it"
                        ));
                    }
                }
                for m in c.modules() {
                    if !self.modules.contains(m) {
                        self.problems
                            .push(format!("{at}: show_if refers to unknown module `{m}`"));
                    }
                }
                Some(c)
            }
            Err(e) => {
                self.problems.push(e);
                None
            }
        }
    }

    fn field(&mut self, spec: &FieldSpec, at: &str, in_ledger: bool) -> Field {
        let at = format!("{at} field `{}`", spec.id);
        if !valid_id(&spec.id) {
            self.problems
                .push(format!("{at}: ids are lower case letters, digits and `_`"));
        }
        if spec.label.trim().is_empty() {
            self.problems.push(format!("{at}: needs a label"));
        }
        let show_if = self.condition(&spec.show_if, &at);
        if in_ledger && show_if.is_some() {
            self.problems
                .push(format!("{at}: ledger columns cannot have show_if"));
        }
        let max_length = spec.max_length.unwrap_or(DEFAULT_MAX_LENGTH);
        let options = || {
            if spec.options.is_empty() {
                None
            } else {
                Some(spec.options.clone())
            }
        };
        let kind = match spec.kind {
            FieldKindSpec::Text => FieldKind::Text {
                max_length,
                pattern: spec.pattern.as_ref().and_then(|p| {
                    match Regex::new(&format!("^(?:{p})$")) {
                        Ok(re) => Some((
                            re,
                            spec.pattern_message
                                .clone()
                                .unwrap_or_else(|| "格式不正确".into()),
                        )),
                        Err(e) => {
                            self.problems.push(format!("{at}: pattern: {e}"));
                            None
                        }
                    }
                }),
            },
            FieldKindSpec::Textarea => FieldKind::Textarea {
                max_length: spec.max_length.unwrap_or(2000),
            },
            FieldKindSpec::Number => FieldKind::Number {
                unit: spec.unit.clone(),
                min: spec.min,
                max: spec.max,
                decimals: spec.decimals,
            },
            FieldKindSpec::Date => FieldKind::Date,
            FieldKindSpec::Year => FieldKind::Year {
                min: spec.min.map_or(2000, |v| v as i32),
                max: spec.max.map_or(2100, |v| v as i32),
            },
            FieldKindSpec::Choice => match options() {
                Some(options) => FieldKind::Choice {
                    options,
                    select: match spec.widget.as_deref() {
                        None | Some("radio") => false,
                        Some("select") => true,
                        Some(other) => {
                            self.problems
                                .push(format!("{at}: widget `{other}` is radio or select"));
                            false
                        }
                    },
                },
                None => {
                    self.problems.push(format!("{at}: a choice needs options"));
                    FieldKind::Choice {
                        options: vec![],
                        select: false,
                    }
                }
            },
            FieldKindSpec::Multi => match options() {
                Some(options) => FieldKind::Multi { options },
                None => {
                    self.problems.push(format!("{at}: a multi needs options"));
                    FieldKind::Multi { options: vec![] }
                }
            },
            FieldKindSpec::Address => FieldKind::Address { max_length },
            FieldKindSpec::CreditCode => FieldKind::CreditCode,
            FieldKindSpec::Phone => FieldKind::Phone,
            FieldKindSpec::File => FieldKind::File,
        };
        if spec.options_prefill.is_some()
            && (in_ledger || !matches!(kind, FieldKind::Choice { .. } | FieldKind::Multi { .. }))
        {
            self.problems.push(format!(
                "{at}: options_prefill is for choice and multi fields of the form"
            ));
        }
        if in_ledger && matches!(kind, FieldKind::File | FieldKind::Multi { .. }) {
            self.problems.push(format!(
                "{at}: ledger columns cannot be files or multi-selects"
            ));
        }
        if !self.seen.insert(spec.id.clone()) {
            self.problems.push(format!("{at}: the id is used twice"));
        }
        Field {
            id: spec.id.clone(),
            label: spec.label.trim().to_string(),
            kind,
            required: spec.required,
            show_if,
            help: spec.help.clone(),
            placeholder: spec.placeholder.clone(),
            prefill: spec.prefill.clone(),
            per_case: spec.per_case,
            default: spec.default.clone(),
            options_prefill: spec.options_prefill.clone(),
        }
    }

    fn ledger(&mut self, spec: &LedgerSpec, at: &str) -> Ledger {
        let at = format!("{at} ledger `{}`", spec.id);
        let show_if = self.condition(&spec.show_if, &at);
        if !valid_id(&spec.id) || !self.seen.insert(spec.id.clone()) {
            self.problems
                .push(format!("{at}: the id must be unique and lower case"));
        }
        if spec.columns.is_empty() {
            self.problems.push(format!("{at}: needs columns"));
        }
        // Column ids are their own namespace: each ledger's row is separate.
        let outer = std::mem::take(&mut self.seen);
        let columns = spec
            .columns
            .iter()
            .map(|c| self.field(c, &at, true))
            .collect();
        self.seen = outer;
        Ledger {
            id: spec.id.clone(),
            title: spec.title.clone(),
            show_if,
            help: spec.help.clone(),
            columns,
            min_rows: spec.min_rows,
        }
    }

    fn material(&mut self, spec: &MaterialSpec) -> Material {
        let at = format!("material `{}`", spec.id);
        for t in &spec.types {
            if !MATERIAL_TYPES.contains(&t.as_str()) {
                self.problems.push(format!(
                    "{at}: type `{t}` is not one of {}",
                    MATERIAL_TYPES.join(", ")
                ));
            }
        }
        if spec.max_bytes == 0 {
            self.problems
                .push(format!("{at}: max_bytes must be positive"));
        }
        Material {
            id: spec.id.clone(),
            name: spec.name.clone(),
            required: spec.required,
            multiple: spec.multiple,
            types: spec.types.clone(),
            max_bytes: spec.max_bytes,
            show_if: self.condition(&spec.show_if, &at),
            help: spec.help.clone(),
        }
    }
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl Item {
    /// Reads and checks an item spec; unknown rule names are errors.
    pub fn load(toml_text: &str, rules: &RuleRegistry) -> Result<Item, SpecError> {
        let spec: ItemSpec = toml::from_str(toml_text).map_err(|e| SpecError {
            item: "?".into(),
            problems: vec![e.to_string()],
        })?;
        let mut c = Checker {
            problems: vec![],
            seen: BTreeSet::new(),
            modules: spec.modules.iter().map(|m| m.id.clone()).collect(),
        };
        if spec.id.is_empty()
            || !spec
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            c.problems
                .push("id: lower case letters, digits and `-`".into());
        }
        if spec.case_prefix.is_empty()
            || spec.case_prefix.len() > 4
            || !spec.case_prefix.bytes().all(|b| b.is_ascii_uppercase())
        {
            c.problems
                .push("case_prefix: one to four capital letters".into());
        }
        if spec.applicants.is_empty() {
            c.problems.push("applicants: at least one".into());
        }
        if spec.modules.len() != c.modules.len() {
            c.problems.push("modules: an id is used twice".into());
        }
        if spec.steps.is_empty() {
            c.problems.push("steps: at least one".into());
        }
        let mut step_ids = BTreeSet::new();
        let steps: Vec<Step> = spec
            .steps
            .iter()
            .map(|s| {
                let at = format!("step `{}`", s.id);
                if !step_ids.insert(s.id.clone()) {
                    c.problems.push(format!("{at}: the id is used twice"));
                }
                // `_…` names pages the engine adds itself (`_materials`).
                if !valid_id(&s.id) || s.id.starts_with('_') {
                    c.problems.push(format!(
                        "{at}: ids are lower case letters, digits and `_`, not starting with `_`"
                    ));
                }
                if let Some(m) = &s.module
                    && !c.modules.contains(m)
                {
                    c.problems.push(format!("{at}: unknown module `{m}`"));
                }
                let sections = s
                    .sections
                    .iter()
                    .map(|sec| {
                        let at = format!("{at} section 「{}」", sec.title);
                        let show_if = c.condition(&sec.show_if, &at);
                        Section {
                            title: sec.title.clone(),
                            show_if,
                            fields: sec.fields.iter().map(|f| c.field(f, &at, false)).collect(),
                            ledgers: sec.ledgers.iter().map(|l| c.ledger(l, &at)).collect(),
                        }
                    })
                    .collect();
                Step {
                    id: s.id.clone(),
                    title: s.title.clone(),
                    module: s.module.clone(),
                    help: s.help.clone(),
                    sections,
                }
            })
            .collect();
        let materials = spec.materials.iter().map(|m| c.material(m)).collect();
        let mut resolved = vec![];
        for name in &spec.rules {
            match rules.get(name) {
                Some(rule) => resolved.push((name.clone(), rule)),
                None => c
                    .problems
                    .push(format!("rules: `{name}` is not registered")),
            }
        }
        let mut ledger_rules = vec![];
        for name in &spec.ledger_rules {
            match rules.get_ledger(name) {
                Some(rule) => ledger_rules.push((name.clone(), rule)),
                None => c
                    .problems
                    .push(format!("ledger_rules: `{name}` is not registered")),
            }
        }
        let signing = c.signing(&spec, &steps);
        c.index(&spec, &steps);
        let workflow = match &spec.workflow {
            None => None,
            Some(w) => {
                let kind_of = |id: &str| {
                    steps
                        .iter()
                        .flat_map(|s| &s.sections)
                        .flat_map(|s| &s.fields)
                        .find(|f| f.id == id)
                        .map(|f| match f.kind {
                            FieldKind::Phone => "phone",
                            FieldKind::Date => "date",
                            _ => "other",
                        })
                };
                match crate::workflow::Workflow::check(w, &kind_of) {
                    Ok(w) => Some(w),
                    Err(problems) => {
                        c.problems.extend(problems);
                        None
                    }
                }
            }
        };
        if !c.problems.is_empty() {
            return Err(SpecError {
                item: spec.id,
                problems: c.problems,
            });
        }
        Ok(Item {
            id: spec.id,
            name: spec.name,
            department: spec.department,
            kind: match spec.kind {
                KindSpec::Licence => ItemKind::Licence,
                KindSpec::PublicService => ItemKind::PublicService,
                KindSpec::Filing => ItemKind::Filing,
            },
            applicants: spec.applicants,
            case_prefix: spec.case_prefix,
            draft_days: spec.draft_days,
            guide: spec.guide,
            notice: spec.notice,
            commitments: spec.commitments,
            modules: spec.modules,
            modules_prefill: spec.modules_prefill,
            steps,
            materials,
            rules: resolved,
            ledger_rules,
            signing,
            index: spec.index,
            workflow,
        })
    }

    /// A new application's modules: those on by default.
    pub fn default_modules(&self) -> BTreeSet<String> {
        self.modules
            .iter()
            .filter(|m| m.default)
            .map(|m| m.id.clone())
            .collect()
    }

    /// The steps shown with `data`'s modules, in order.
    pub fn active_steps<'a>(&'a self, data: &'a FormData) -> impl Iterator<Item = &'a Step> + 'a {
        self.steps
            .iter()
            .filter(|s| s.module.as_ref().is_none_or(|m| data.modules.contains(m)))
    }

    pub fn step(&self, id: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.id == id)
    }

    /// Every form field, in document order, with its step and section.
    pub fn fields(&self) -> impl Iterator<Item = (&Step, &Section, &Field)> {
        self.steps.iter().flat_map(|step| {
            step.sections
                .iter()
                .flat_map(move |sec| sec.fields.iter().map(move |f| (step, sec, f)))
        })
    }

    pub fn field(&self, id: &str) -> Option<&Field> {
        self.fields().map(|(_, _, f)| f).find(|f| f.id == id)
    }

    pub fn ledgers(&self) -> impl Iterator<Item = (&Step, &Section, &Ledger)> {
        self.steps.iter().flat_map(|step| {
            step.sections
                .iter()
                .flat_map(move |sec| sec.ledgers.iter().map(move |l| (step, sec, l)))
        })
    }

    pub fn ledger(&self, id: &str) -> Option<&Ledger> {
        self.ledgers().map(|(_, _, l)| l).find(|l| l.id == id)
    }
}

/// The loaded items, by id.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    items: Vec<Item>,
}

impl Catalogue {
    /// Two items with one id, or one case prefix, are an error.
    pub fn new(items: Vec<Item>) -> Result<Self, SpecError> {
        let mut problems = vec![];
        for (i, a) in items.iter().enumerate() {
            for b in &items[..i] {
                if a.id == b.id {
                    problems.push(format!("two items have the id `{}`", a.id));
                }
                if a.case_prefix == b.case_prefix {
                    problems.push(format!(
                        "`{}` and `{}` share the case prefix {}",
                        b.id, a.id, a.case_prefix
                    ));
                }
            }
        }
        if problems.is_empty() {
            Ok(Self { items })
        } else {
            Err(SpecError {
                item: "catalogue".into(),
                problems,
            })
        }
    }

    pub fn get(&self, id: &str) -> Option<&Item> {
        self.items.iter().find(|i| i.id == id)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Item> {
        self.items.iter()
    }
}
