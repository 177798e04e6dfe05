//! The contracts (智能合约): deterministic, versioned state machines over the log's entries.
//! Each request names a contract, its version, a business key and an operation; the contract
//! says, from the states of the keys it touches, whether the request may be written and what
//! the keys' states become. A refused request writes nothing.
use std::collections::HashMap;

/// The contracts of the 固废链 (003 modules 76-88).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Contract {
    /// 一般固体废物跨省转移利用备案申请表存证 (76-78).
    Filing,
    /// 一般固体废物跨省转移利用备案撤销 (79-81).
    FilingRevocation,
    /// 一般固体废物跨省贮存、处置业务处理 (82-85): the application's status, in order.
    DisposalProcess,
    /// 一般固体废物跨省贮存、处置申请表存证 (86-88).
    DisposalApplication,
}

/// The contract version this code runs. An entry records the version it was checked under.
pub const VERSION: u32 = 1;

impl Contract {
    pub const ALL: [Contract; 4] = [
        Contract::Filing,
        Contract::FilingRevocation,
        Contract::DisposalProcess,
        Contract::DisposalApplication,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Contract::Filing => "filing",
            Contract::FilingRevocation => "filing_revocation",
            Contract::DisposalProcess => "disposal_process",
            Contract::DisposalApplication => "disposal_application",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Contract::Filing => "一般固体废物跨省转移利用备案申请表存证",
            Contract::FilingRevocation => "一般固体废物跨省转移利用备案撤销",
            Contract::DisposalProcess => "一般固体废物跨省贮存、处置业务处理",
            Contract::DisposalApplication => "一般固体废物跨省贮存、处置申请表存证",
        }
    }

    pub fn parse(id: &str) -> Option<Contract> {
        Contract::ALL.into_iter().find(|c| c.id() == id)
    }

    pub fn operations(self) -> &'static [&'static str] {
        match self {
            Contract::Filing | Contract::DisposalApplication => &["create", "update"],
            Contract::FilingRevocation => &["create"],
            Contract::DisposalProcess => &["create", "status"],
        }
    }
}

/// Where a key stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyState {
    pub state: String,
    /// The 备案号 the key can also be found by.
    pub reference: Option<String>,
}

/// What a request changes: key `key` of `contract` goes to `state`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyChange {
    pub contract: Contract,
    pub key: String,
    pub state: KeyState,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContractError {
    #[error("未知的合约“{0}”")]
    UnknownContract(String),
    #[error("合约“{name}”没有版本 {version}（当前版本为 {VERSION}）")]
    UnknownVersion { name: &'static str, version: u32 },
    #[error("合约“{name}”没有操作“{operation}”")]
    UnknownOperation {
        name: &'static str,
        operation: String,
    },
    #[error("业务主键“{0}”已存在，不能重复新增")]
    KeyExists(String),
    #[error("业务主键“{0}”不存在")]
    UnknownKey(String),
    #[error("备案“{0}”已撤销，不能再变更")]
    Revoked(String),
    #[error("备案号“{given}”与备案“{key}”的备案号不符")]
    WrongReference { key: String, given: String },
    #[error("状态不能从“{from}”变为“{to}”")]
    OutOfOrder { from: String, to: String },
    #[error("未知的状态“{0}”")]
    UnknownStatus(String),
    #[error("载荷必须是JSON对象：{0}")]
    BadPayload(String),
    #[error("载荷缺少字段“{0}”（应为非空字符串）")]
    MissingField(&'static str),
}

/// The states of the keys a request may read.
pub trait States {
    fn get(&self, contract: Contract, key: &str) -> Option<KeyState>;
}

impl States for HashMap<(Contract, String), KeyState> {
    fn get(&self, contract: Contract, key: &str) -> Option<KeyState> {
        HashMap::get(self, &(contract, key.to_string())).cloned()
    }
}

/// The processing statuses of a storage/disposal application, with their labels and the
/// statuses each may go to.
const STATUSES: [(&str, &str, &[&str]); 7] = [
    (
        "submitted",
        "已提交",
        &["accepted", "correction", "not_accepted"],
    ),
    ("correction", "补正中", &["submitted"]),
    ("accepted", "已受理", &["reviewing", "approved", "refused"]),
    ("reviewing", "审查中", &["approved", "refused"]),
    ("not_accepted", "不予受理", &[]),
    ("approved", "准予许可", &[]),
    ("refused", "不予许可", &[]),
];

/// The label of a processing status, e.g. `accepted` → 已受理.
pub fn status_label(status: &str) -> Option<&'static str> {
    STATUSES
        .iter()
        .find(|(s, _, _)| *s == status)
        .map(|(_, l, _)| *l)
}

fn field<'a>(
    payload: &'a serde_json::Map<String, serde_json::Value>,
    name: &'static str,
) -> Result<&'a str, ContractError> {
    payload
        .get(name)
        .and_then(|v| v.as_str())
        .filter(|s| !s.trim().is_empty())
        .ok_or(ContractError::MissingField(name))
}

fn state(s: &str, reference: Option<String>) -> KeyState {
    KeyState {
        state: s.to_string(),
        reference,
    }
}

/// Checks a request against its contract; the key changes it makes, its own key first.
pub fn apply(
    contract_id: &str,
    version: u32,
    operation: &str,
    key: &str,
    payload: &str,
    states: &impl States,
) -> Result<Vec<KeyChange>, ContractError> {
    let contract = Contract::parse(contract_id)
        .ok_or_else(|| ContractError::UnknownContract(contract_id.to_string()))?;
    if version != VERSION {
        return Err(ContractError::UnknownVersion {
            name: contract.name(),
            version,
        });
    }
    if !contract.operations().contains(&operation) {
        return Err(ContractError::UnknownOperation {
            name: contract.name(),
            operation: operation.to_string(),
        });
    }
    let payload: serde_json::Value =
        serde_json::from_str(payload).map_err(|e| ContractError::BadPayload(e.to_string()))?;
    let payload = payload
        .as_object()
        .ok_or_else(|| ContractError::BadPayload("不是对象".into()))?;
    let current = states.get(contract, key);
    let change = |s: KeyState| KeyChange {
        contract,
        key: key.to_string(),
        state: s,
    };
    let exists = || {
        current
            .clone()
            .ok_or_else(|| ContractError::UnknownKey(key.into()))
    };
    let new = || match &current {
        Some(_) => Err(ContractError::KeyExists(key.into())),
        None => Ok(()),
    };
    match (contract, operation) {
        (Contract::Filing, "create") => {
            new()?;
            let no = field(payload, "filing_no")?;
            Ok(vec![change(state("filed", Some(no.into())))])
        }
        (Contract::Filing, _) => {
            let now = exists()?;
            if now.state == "revoked" {
                return Err(ContractError::Revoked(key.into()));
            }
            Ok(vec![change(now)])
        }
        (Contract::FilingRevocation, _) => {
            new()?;
            let filing_key = field(payload, "filing_key")?;
            let no = field(payload, "filing_no")?;
            let filing = states
                .get(Contract::Filing, filing_key)
                .ok_or_else(|| ContractError::UnknownKey(filing_key.into()))?;
            if filing.state == "revoked" {
                return Err(ContractError::Revoked(filing_key.into()));
            }
            if filing.reference.as_deref() != Some(no) {
                return Err(ContractError::WrongReference {
                    key: filing_key.into(),
                    given: no.into(),
                });
            }
            Ok(vec![
                change(state("revocation", Some(no.into()))),
                KeyChange {
                    contract: Contract::Filing,
                    key: filing_key.into(),
                    state: state("revoked", filing.reference),
                },
            ])
        }
        (Contract::DisposalProcess, op) => {
            let to = field(payload, "status")?;
            if status_label(to).is_none() {
                return Err(ContractError::UnknownStatus(to.into()));
            }
            let reference = payload
                .get("application_no")
                .and_then(|v| v.as_str())
                .map(str::to_string);
            if op == "create" {
                new()?;
                if to != "submitted" {
                    return Err(ContractError::OutOfOrder {
                        from: "（新增）".into(),
                        to: label(to),
                    });
                }
                return Ok(vec![change(state(to, reference))]);
            }
            let now = exists()?;
            let allowed = STATUSES
                .iter()
                .find(|(s, _, _)| *s == now.state)
                .map(|(_, _, next)| *next)
                .unwrap_or(&[]);
            if !allowed.contains(&to) {
                return Err(ContractError::OutOfOrder {
                    from: label(&now.state),
                    to: label(to),
                });
            }
            Ok(vec![change(state(to, now.reference.or(reference)))])
        }
        (Contract::DisposalApplication, "create") => {
            new()?;
            let reference = payload
                .get("application_no")
                .and_then(|v| v.as_str())
                .map(str::to_string);
            Ok(vec![change(state("recorded", reference))])
        }
        (Contract::DisposalApplication, _) => Ok(vec![change(exists()?)]),
    }
}

fn label(status: &str) -> String {
    status_label(status).unwrap_or(status).to_string()
}
