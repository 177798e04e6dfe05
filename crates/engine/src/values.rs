//! What an applicant has entered: the modules switched on and a value per field. Values are kept
//! as typed text (what the browser sent) so a draft holds exactly what was typed; `validate`
//! decides whether it is acceptable.
use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormData {
    /// Modules (模块定义) switched on.
    #[serde(default)]
    pub modules: BTreeSet<String>,
    #[serde(default)]
    pub values: BTreeMap<String, Value>,
    /// Choices this application offers beyond the spec's, per field (`options_prefill`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub options: BTreeMap<String, Vec<String>>,
}

impl FormData {
    /// The single value of `field`, trimmed; `None` when absent or empty.
    pub fn one(&self, field: &str) -> Option<&str> {
        match self.values.get(field) {
            Some(Value::One(v)) => Some(v.trim()).filter(|v| !v.is_empty()),
            Some(Value::Many(vs)) => vs.first().map(|v| v.trim()).filter(|v| !v.is_empty()),
            None => None,
        }
    }

    /// Every value of `field` (a multi-select), empty ones left out.
    pub fn many(&self, field: &str) -> Vec<String> {
        match self.values.get(field) {
            Some(Value::One(v)) if !v.trim().is_empty() => vec![v.trim().to_string()],
            Some(Value::Many(vs)) => vs
                .iter()
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .collect(),
            _ => vec![],
        }
    }

    pub fn is_filled(&self, field: &str) -> bool {
        !self.many(field).is_empty()
    }

    pub fn set(&mut self, field: &str, value: impl Into<String>) {
        self.values
            .insert(field.to_string(), Value::One(value.into()));
    }

    pub fn set_many(&mut self, field: &str, values: Vec<String>) {
        self.values.insert(field.to_string(), Value::Many(values));
    }
}
