//! `show_if` conditions, checked at load and evaluated against an application's values.
use crate::spec::ConditionSpec;
use crate::values::FormData;

/// Serialised (externally tagged JSON) for the browser's live `show_if`, which mirrors `holds`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub enum Condition {
    Equals(String, String),
    NotEquals(String, String),
    AnyOf(String, Vec<String>),
    Contains(String, String),
    Filled(String, bool),
    Module(String),
    All(Vec<Condition>),
    Any(Vec<Condition>),
    Not(Box<Condition>),
}

impl Condition {
    /// Reads a written condition; says what is wrong in `at`'s terms.
    pub fn parse(spec: &ConditionSpec, at: &str) -> Result<Condition, String> {
        let field = spec.field.clone();
        let tests = [
            spec.equals.is_some(),
            spec.not_equals.is_some(),
            spec.any_of.is_some(),
            spec.contains.is_some(),
            spec.filled.is_some(),
        ]
        .iter()
        .filter(|t| **t)
        .count();
        let forms = [
            field.is_some(),
            spec.module.is_some(),
            spec.all.is_some(),
            spec.any.is_some(),
            spec.not.is_some(),
        ]
        .iter()
        .filter(|t| **t)
        .count();
        if forms != 1 {
            return Err(format!(
                "{at}: show_if must be exactly one of field / module / all / any / not"
            ));
        }
        if let Some(field) = field {
            if tests != 1 {
                return Err(format!(
                    "{at}: show_if on field `{field}` needs exactly one of equals / not_equals / any_of / contains / filled"
                ));
            }
            return Ok(if let Some(v) = &spec.equals {
                Condition::Equals(field, v.clone())
            } else if let Some(v) = &spec.not_equals {
                Condition::NotEquals(field, v.clone())
            } else if let Some(v) = &spec.any_of {
                Condition::AnyOf(field, v.clone())
            } else if let Some(v) = &spec.contains {
                Condition::Contains(field, v.clone())
            } else {
                Condition::Filled(field, spec.filled.unwrap_or(true))
            });
        }
        if tests != 0 {
            return Err(format!("{at}: a test (equals …) needs a field"));
        }
        let many = |list: &Vec<ConditionSpec>| {
            list.iter()
                .map(|c| Condition::parse(c, at))
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(if let Some(m) = &spec.module {
            Condition::Module(m.clone())
        } else if let Some(list) = &spec.all {
            Condition::All(many(list)?)
        } else if let Some(list) = &spec.any {
            Condition::Any(many(list)?)
        } else {
            let inner = spec.not.as_ref().expect("counted above");
            Condition::Not(Box::new(Condition::parse(inner, at)?))
        })
    }

    /// The fields it reads.
    pub fn fields(&self) -> Vec<&str> {
        match self {
            Condition::Equals(f, _)
            | Condition::NotEquals(f, _)
            | Condition::AnyOf(f, _)
            | Condition::Contains(f, _)
            | Condition::Filled(f, _) => vec![f.as_str()],
            Condition::Module(_) => vec![],
            Condition::All(list) | Condition::Any(list) => {
                list.iter().flat_map(|c| c.fields()).collect()
            }
            Condition::Not(c) => c.fields(),
        }
    }

    /// The modules it reads.
    pub fn modules(&self) -> Vec<&str> {
        match self {
            Condition::Module(m) => vec![m.as_str()],
            Condition::All(list) | Condition::Any(list) => {
                list.iter().flat_map(|c| c.modules()).collect()
            }
            Condition::Not(c) => c.modules(),
            _ => vec![],
        }
    }

    pub fn holds(&self, data: &FormData) -> bool {
        match self {
            Condition::Equals(f, v) => data.one(f) == Some(v.as_str()),
            Condition::NotEquals(f, v) => data.one(f) != Some(v.as_str()),
            Condition::AnyOf(f, vs) => data.one(f).is_some_and(|x| vs.iter().any(|v| v == x)),
            Condition::Contains(f, v) => data.many(f).iter().any(|x| x == v),
            Condition::Filled(f, want) => data.is_filled(f) == *want,
            Condition::Module(m) => data.modules.contains(m),
            Condition::All(list) => list.iter().all(|c| c.holds(data)),
            Condition::Any(list) => list.iter().any(|c| c.holds(data)),
            Condition::Not(c) => !c.holds(data),
        }
    }
}
