//! An item spec as written in its TOML file. `Item::load` (in `item.rs`) reads one and checks it
//! as a whole; nothing here is trusted until then.
use serde::Deserialize;

/// One service item (事项).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemSpec {
    /// Stable id, used in URLs and stored with every case: lower case, digits and `-`.
    pub id: String,
    pub name: String,
    /// 办理机构
    pub department: String,
    pub kind: KindSpec,
    /// Who may apply: `enterprise` (法人) and/or `individual` (个人).
    #[serde(default = "default_applicants")]
    pub applicants: Vec<ApplicantKind>,
    /// Letters that start this item's case numbers, e.g. `FS` → `FS20261123000001`.
    pub case_prefix: String,
    /// Days a draft (暂存) is kept; seed 004 keeps them 15 days.
    #[serde(default = "default_draft_days")]
    pub draft_days: u32,
    /// 办事指南: what the service is, who applies, what it costs, how long it takes.
    #[serde(default)]
    pub guide: Vec<GuideEntry>,
    pub notice: NoticeSpec,
    /// 自我承诺: statements the applicant must accept before filling in.
    #[serde(default)]
    pub commitments: Vec<String>,
    /// 模块定义: parts of the form the applicant may switch on or off.
    #[serde(default)]
    pub modules: Vec<ModuleSpec>,
    /// A known value listing the module ids to switch on in a new application (comma or 、
    /// separated), e.g. `licence.modules` from the licence the applicant holds; absent or
    /// naming none of the modules, each module's `default` holds.
    #[serde(default)]
    pub modules_prefill: Option<String>,
    pub steps: Vec<StepSpec>,
    #[serde(default)]
    pub materials: Vec<MaterialSpec>,
    /// Cross-field rules, by the name they are registered under (see `rules.rs`).
    #[serde(default)]
    pub rules: Vec<String>,
    /// Rules over the form and its ledgers' rows, run at submission (see `rules.rs`).
    #[serde(default)]
    pub ledger_rules: Vec<String>,
    /// 签章: who signs the submitted form, in order. Absent: the applicant alone.
    #[serde(default)]
    pub signing: Option<SigningSpec>,
    /// 报告索引: for yearly reports, the fields officers search, list and count submitted cases
    /// by (kept beside the case when it is submitted).
    #[serde(default)]
    pub index: Option<IndexSpec>,
    /// 审批流程: for items the bureau decides on (licences), the stages a submitted case goes
    /// through and their time limits. Absent: submission completes the service (filings, reports).
    #[serde(default)]
    pub workflow: Option<WorkflowSpec>,
}

/// The workflow of a submitted case: 受理, 审查 at each level in order, the decision, and the
/// licence a granted case gets.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkflowSpec {
    /// 受理时限: working days from submission (or resubmission after a 补正 at acceptance).
    pub acceptance_days: u32,
    /// 办结时限: working days from acceptance; 补正 days are not counted.
    pub time_limit_days: u32,
    /// A case is 即将超期 when this many working days or fewer are left.
    #[serde(default = "default_due_soon")]
    pub due_soon_days: u32,
    /// 补正期限 printed on the correction notice, in working days.
    #[serde(default = "default_correction_days")]
    pub correction_days: u32,
    /// 审查 levels in order (承办 → 审核 → 审批); the last one decides.
    pub levels: Vec<LevelSpec>,
    /// The phone field of the form that progress text messages go to.
    #[serde(default)]
    pub sms_field: Option<String>,
    /// Prefix of the decision letter's number (文号), e.g. 沪环土函 → 沪环土函〔2026〕3号.
    pub letter_prefix: String,
    /// The electronic licence a granted case gets.
    #[serde(default)]
    pub licence: Option<LicenceSpec>,
}

fn default_due_soon() -> u32 {
    3
}

fn default_correction_days() -> u32 {
    30
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LevelSpec {
    pub id: String,
    /// e.g. 承办, 审核, 审批.
    pub name: String,
    /// The officer role that acts at this level: `review` or `approval` (or `intake`).
    pub role: String,
}

/// The licence (电子证照) issued when a case is granted.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LicenceSpec {
    pub title: String,
    /// Prefix of the licence number, e.g. 沪环固跨 → 沪环固跨〔2026〕12号.
    pub number_prefix: String,
    /// The field naming the holder (the unit's name).
    pub holder_field: String,
    /// Form fields printed on the licence, in order.
    pub fields: Vec<String>,
    /// A date field that ends the licence's validity (e.g. the end of the transfer period);
    /// absent: valid until revoked.
    #[serde(default)]
    pub valid_until_field: Option<String>,
}

/// Which form fields an officer's query, list, export and statistics read, by field id.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexSpec {
    /// The report's year (a `year` field).
    pub year: String,
    /// The unit's name, searched by keyword.
    pub title: String,
    /// The unit's unified social credit code (a `credit_code` field).
    pub credit_code: String,
    /// The document the report is filed under (e.g. the licence number), searched exactly.
    pub reference: String,
    /// Further fields shown in the lists and exports, in order.
    #[serde(default)]
    pub columns: Vec<String>,
    /// Integer fields summed by the year's statistics.
    #[serde(default)]
    pub figures: Vec<String>,
}

/// The document the applicant side signs after submitting, and its signers in order.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SigningSpec {
    /// The title printed on the document, e.g. 辐射安全培训申请表.
    pub title: Option<String>,
    pub parties: Vec<SigningParty>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SigningParty {
    /// `applicant`, or `employer` (an enterprise named by a credit-code field of the form).
    pub role: String,
    /// What the box says, e.g. 申请人签名, 工作单位盖章.
    pub label: String,
    /// For `employer`: the field holding the enterprise's unified social credit code.
    #[serde(default)]
    pub credit_code_field: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplicantKind {
    Enterprise,
    Individual,
}

fn default_applicants() -> Vec<ApplicantKind> {
    vec![ApplicantKind::Enterprise]
}

fn default_draft_days() -> u32 {
    15
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KindSpec {
    Licence,
    PublicService,
    Filing,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuideEntry {
    pub title: String,
    pub text: String,
}

/// 办理须知: shown before the form; "continue" is disabled for `countdown_seconds`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoticeSpec {
    pub text: String,
    #[serde(default)]
    pub countdown_seconds: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModuleSpec {
    pub id: String,
    pub name: String,
    /// Switched on in a new application.
    #[serde(default = "yes")]
    pub default: bool,
}

fn yes() -> bool {
    true
}

/// One page of the form (基本信息 ≫ module pages ≫ 其他相关).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepSpec {
    pub id: String,
    pub title: String,
    /// The module this page belongs to; the page is skipped while the module is off.
    #[serde(default)]
    pub module: Option<String>,
    /// Guidance shown at the top of the page.
    #[serde(default)]
    pub help: Option<String>,
    pub sections: Vec<SectionSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SectionSpec {
    pub title: String,
    #[serde(default)]
    pub show_if: Option<ConditionSpec>,
    #[serde(default)]
    pub fields: Vec<FieldSpec>,
    #[serde(default)]
    pub ledgers: Vec<LedgerSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    pub id: String,
    pub label: String,
    #[serde(rename = "type")]
    pub kind: FieldKindSpec,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub show_if: Option<ConditionSpec>,
    #[serde(default)]
    pub help: Option<String>,
    #[serde(default)]
    pub placeholder: Option<String>,
    /// Where a new application takes the value from, e.g. `enterprise.name`.
    #[serde(default)]
    pub prefill: Option<String>,
    /// Not carried over by 再来一单 (e.g. the year a report is for).
    #[serde(default)]
    pub per_case: bool,
    /// Value in a new application when nothing is prefilled.
    #[serde(default)]
    pub default: Option<String>,
    /// Choices of `choice` and `multi` fields.
    #[serde(default)]
    pub options: Vec<String>,
    /// A known value listing more choices for this application (one a line, since names
    /// contain 、 and commas), offered before `options`: e.g. `licence.projects`, the projects on the applicant's
    /// licence. They are kept with the application, so its answers are checked against them.
    #[serde(default)]
    pub options_prefill: Option<String>,
    /// `radio` (default) or `select` for `choice`.
    #[serde(default)]
    pub widget: Option<String>,
    #[serde(default)]
    pub unit: Option<String>,
    #[serde(default)]
    pub min: Option<f64>,
    #[serde(default)]
    pub max: Option<f64>,
    /// Decimal places a number may have (0: whole numbers).
    #[serde(default)]
    pub decimals: Option<u32>,
    #[serde(default)]
    pub max_length: Option<usize>,
    #[serde(default)]
    pub pattern: Option<String>,
    /// What to say when `pattern` does not match.
    #[serde(default)]
    pub pattern_message: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKindSpec {
    Text,
    Textarea,
    Number,
    Date,
    Year,
    Choice,
    Multi,
    Address,
    CreditCode,
    Phone,
    File,
}

/// 台账: a repeating table, edited in pages, imported from and exported to xlsx.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerSpec {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub show_if: Option<ConditionSpec>,
    #[serde(default)]
    pub help: Option<String>,
    pub columns: Vec<FieldSpec>,
    /// Rows required when the ledger is shown.
    #[serde(default)]
    pub min_rows: usize,
}

/// A material (申请材料) to upload.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaterialSpec {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub required: bool,
    /// Several files allowed.
    #[serde(default)]
    pub multiple: bool,
    /// Allowed types, by content: `pdf`, `jpg`, `png`, `doc`, `docx`, `xls`, `xlsx`, `zip`.
    #[serde(default = "default_types")]
    pub types: Vec<String>,
    #[serde(default = "default_max_bytes")]
    pub max_bytes: u64,
    #[serde(default)]
    pub show_if: Option<ConditionSpec>,
    #[serde(default)]
    pub help: Option<String>,
}

fn default_types() -> Vec<String> {
    ["pdf", "jpg", "png", "doc", "docx"]
        .map(String::from)
        .to_vec()
}

/// 10 MB, seed 004.
pub const DEFAULT_MAX_BYTES: u64 = 10 * 1024 * 1024;

fn default_max_bytes() -> u64 {
    DEFAULT_MAX_BYTES
}

/// A condition as written: exactly one of the forms below.
/// `{ field = "f", equals = "是" }`, `{ field = "f", not_equals = "x" }`,
/// `{ field = "f", any_of = ["a", "b"] }`, `{ field = "f", contains = "销售" }` (multi),
/// `{ field = "f", filled = true }`, `{ module = "m" }`, `{ all = [..] }`, `{ any = [..] }`,
/// `{ not = {..} }`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConditionSpec {
    pub field: Option<String>,
    pub equals: Option<String>,
    pub not_equals: Option<String>,
    pub any_of: Option<Vec<String>>,
    pub contains: Option<String>,
    pub filled: Option<bool>,
    pub module: Option<String>,
    pub all: Option<Vec<ConditionSpec>>,
    pub any: Option<Vec<ConditionSpec>>,
    pub not: Option<Box<ConditionSpec>>,
}
