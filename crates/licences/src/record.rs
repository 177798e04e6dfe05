//! A radiation safety licence (辐射安全许可证) as the registry holds it, and what it tells the
//! radiation items' forms under `licence.*` (the keys listed at the top of
//! `crates/items/specs/radiation-annual-report.toml`).
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use tongban_domain::CreditCode;
use tongban_engine::prefill::Known;

/// `licence.scope` when the licence permits nothing but sales.
pub const SALES_ONLY: &str = "纯销售";
/// `licence.scope` when it permits any production or use.
pub const PRODUCTION_OR_USE: &str = "含生产或使用";

/// The verbs a permitted activity begins with, as licences word them.
const VERBS: [&str; 3] = ["生产", "销售", "使用"];

/// One licence of one unit. JSON field names are these, in snake_case; dates are `YYYY-MM-DD`.
/// Contact fields the registry does not hold may be left out (they are then not prefilled).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicenceRecord {
    /// 统一社会信用代码 of the holder.
    pub credit_code: String,
    /// 单位名称 as on the licence.
    pub unit_name: String,
    /// 许可证号, e.g. `沪环辐证[10571]`.
    pub number: String,
    /// 发证机关, e.g. 上海市生态环境局.
    pub issuer: String,
    /// 发证日期.
    pub issued_on: NaiveDate,
    /// 有效期至 (the licence is valid on this day too).
    pub valid_until: NaiveDate,
    /// 种类和范围: what the licence permits, per module.
    #[serde(default)]
    pub activities: Activities,
    /// 通讯地址.
    #[serde(default)]
    pub mailing_address: String,
    /// 法定代表人联系电话.
    #[serde(default)]
    pub legal_representative_phone: String,
    /// 辐射安全与环境保护管理机构: name, head and the head's phone.
    #[serde(default)]
    pub safety_org_name: String,
    #[serde(default)]
    pub safety_head_name: String,
    #[serde(default)]
    pub safety_head_phone: String,
    /// 辐射安全联系人: name, post, department, phone.
    #[serde(default)]
    pub contact_name: String,
    #[serde(default)]
    pub contact_post: String,
    #[serde(default)]
    pub contact_department: String,
    #[serde(default)]
    pub contact_phone: String,
    /// 许可项目: the projects the licence covers (each one's 环评 and 自主验收 is reported on),
    /// worded as on the licence, e.g. `核医学科乙级非密封放射性物质工作场所`.
    #[serde(default)]
    pub projects: Vec<String>,
}

/// 种类和范围: the permitted activities, one list per module of the radiation items, each
/// activity worded as on the licence and beginning with 生产, 销售 or 使用 — e.g.
/// `使用Ⅳ类、Ⅴ类放射源`, `销售（含建造）Ⅱ类射线装置`, `使用丙级非密封放射性物质工作场所`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Activities {
    /// 放射源 (module `sources`).
    pub sources: Vec<String>,
    /// 非密封放射性物质 (module `unsealed`).
    pub unsealed: Vec<String>,
    /// 射线装置 (module `devices`).
    pub devices: Vec<String>,
}

impl Activities {
    /// (module id, its activities), in the items' module order.
    pub fn by_module(&self) -> [(&'static str, &[String]); 3] {
        [
            ("sources", &self.sources),
            ("unsealed", &self.unsealed),
            ("devices", &self.devices),
        ]
    }

    /// The modules the licence permits anything in.
    pub fn modules(&self) -> Vec<&'static str> {
        self.by_module()
            .into_iter()
            .filter(|(_, activities)| !activities.is_empty())
            .map(|(module, _)| module)
            .collect()
    }

    /// Every permitted activity.
    pub fn all(&self) -> impl Iterator<Item = &str> {
        self.sources
            .iter()
            .chain(&self.unsealed)
            .chain(&self.devices)
            .map(String::as_str)
    }

    /// Whether the licence permits sales and nothing else (纯销售). A licence permitting nothing
    /// is not sales-only.
    pub fn sales_only(&self) -> bool {
        let mut any = false;
        for activity in self.all() {
            if !activity.trim_start().starts_with("销售") {
                return false;
            }
            any = true;
        }
        any
    }

    /// `licence.scope`: 纯销售 or 含生产或使用; `None` when nothing is permitted.
    pub fn scope(&self) -> Option<&'static str> {
        match (self.all().next(), self.sales_only()) {
            (None, _) => None,
            (Some(_), true) => Some(SALES_ONLY),
            (Some(_), false) => Some(PRODUCTION_OR_USE),
        }
    }
}

impl LicenceRecord {
    /// Whether the licence is in force on `day` (from its issue date to its last day).
    pub fn valid_on(&self, day: NaiveDate) -> bool {
        self.issued_on <= day && day <= self.valid_until
    }

    /// The `licence.*` values this licence gives a form. Empty fields are left out, so the
    /// form keeps its own default there; `licence.scope` and `licence.modules` only when the
    /// licence permits something.
    pub fn known(&self) -> Known {
        let mut known = Known::new();
        let mut put = |key: &str, value: &str| {
            let value = value.trim();
            if !value.is_empty() {
                known.insert(format!("licence.{key}"), value.to_string());
            }
        };
        put("number", &self.number);
        put("issuer", &self.issuer);
        put("issued_on", &self.issued_on.format("%Y-%m-%d").to_string());
        put(
            "valid_until",
            &self.valid_until.format("%Y-%m-%d").to_string(),
        );
        put("scope", self.activities.scope().unwrap_or_default());
        put("modules", &self.activities.modules().join(","));
        put("mailing_address", &self.mailing_address);
        put(
            "legal_representative_phone",
            &self.legal_representative_phone,
        );
        put("safety_org_name", &self.safety_org_name);
        put("safety_head_name", &self.safety_head_name);
        put("safety_head_phone", &self.safety_head_phone);
        put("contact_name", &self.contact_name);
        put("contact_post", &self.contact_post);
        put("contact_department", &self.contact_department);
        put("contact_phone", &self.contact_phone);
        // One a line: project names themselves contain 、.
        put("projects", &self.projects.join("\n"));
        known
    }

    /// What makes a record unusable, in Chinese: a credit code that fails GB 32100, no licence
    /// number, dates out of order, an activity that does not say what is permitted.
    pub fn check(&self) -> Result<(), String> {
        let who = format!("许可证“{}”（{}）", self.number, self.unit_name);
        CreditCode::parse(&self.credit_code).map_err(|e| format!("{who}：{e}"))?;
        if self.number.trim().is_empty() {
            return Err(format!("{who}：缺少许可证号"));
        }
        if self.issued_on > self.valid_until {
            return Err(format!("{who}：发证日期晚于有效期至"));
        }
        if let Some(bad) = self
            .activities
            .all()
            .find(|a| !VERBS.iter().any(|v| a.trim_start().starts_with(v)))
        {
            return Err(format!(
                "{who}：种类和范围“{bad}”应以“生产”“销售”或“使用”开头"
            ));
        }
        Ok(())
    }

    /// A complete record for unit tests.
    #[cfg(test)]
    pub(crate) fn example() -> Self {
        Self {
            credit_code: "91310115MA1FL8XQ34".into(),
            unit_name: "上海浦江辐射技术有限公司".into(),
            number: "沪环辐证[10571]".into(),
            issuer: "上海市生态环境局".into(),
            issued_on: "2023-04-20".parse().unwrap(),
            valid_until: "2028-04-19".parse().unwrap(),
            activities: Activities {
                sources: vec!["使用Ⅳ类、Ⅴ类放射源".into()],
                unsealed: vec![],
                devices: vec!["使用Ⅱ类、Ⅲ类射线装置".into()],
            },
            mailing_address: "上海市浦东新区蔡伦路88号".into(),
            legal_representative_phone: "13801710001".into(),
            safety_org_name: "辐射安全防护管理小组".into(),
            safety_head_name: "王珺".into(),
            safety_head_phone: "13801710001".into(),
            contact_name: "刘晓峰".into(),
            contact_post: "辐射安全专员".into(),
            contact_department: "安全环保部".into(),
            contact_phone: "021-50801234".into(),
            projects: vec![
                "Ⅳ类、Ⅴ类放射源使用项目".into(),
                "数字减影血管造影装置（DSA）使用项目".into(),
            ],
        }
    }
}

/// The protocol's document: what the registry answers and what an export file holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    pub licences: Vec<LicenceRecord>,
}

/// Reads a document (`{"licences": […]}`) and checks every record ([`LicenceRecord::check`]);
/// the error, in Chinese, names what is wrong.
pub fn parse_document(text: &str) -> Result<Vec<LicenceRecord>, String> {
    let document: Document =
        serde_json::from_str(text).map_err(|e| format!("辐射安全许可证数据格式有误：{e}"))?;
    for record in &document.licences {
        record
            .check()
            .map_err(|e| format!("辐射安全许可证数据有误：{e}"))?;
    }
    Ok(document.licences)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn activities(sources: &[&str], unsealed: &[&str], devices: &[&str]) -> Activities {
        let v = |l: &[&str]| l.iter().map(|s| s.to_string()).collect();
        Activities {
            sources: v(sources),
            unsealed: v(unsealed),
            devices: v(devices),
        }
    }

    #[test]
    fn scope_is_sales_only_when_every_activity_is_sales() {
        let sales = activities(
            &["销售Ⅱ类、Ⅲ类、Ⅳ类、Ⅴ类放射源"],
            &[],
            &["销售（含建造）Ⅱ类射线装置"],
        );
        assert_eq!(sales.scope(), Some(SALES_ONLY));
        assert_eq!(sales.modules(), ["sources", "devices"]);
        let mixed = activities(
            &["销售Ⅳ类、Ⅴ类放射源"],
            &["使用丙级非密封放射性物质工作场所"],
            &[],
        );
        assert_eq!(mixed.scope(), Some(PRODUCTION_OR_USE));
        assert_eq!(activities(&[], &[], &[]).scope(), None);
    }

    #[test]
    fn known_gives_every_licence_key() {
        let known = LicenceRecord::example().known();
        assert_eq!(known.len(), 16, "{known:?}");
        assert_eq!(
            known["licence.projects"],
            "Ⅳ类、Ⅴ类放射源使用项目\n数字减影血管造影装置（DSA）使用项目"
        );
        assert_eq!(known["licence.modules"], "sources,devices");
        assert_eq!(known["licence.scope"], PRODUCTION_OR_USE);
        assert_eq!(known["licence.issued_on"], "2023-04-20");
    }

    #[test]
    fn empty_fields_are_not_prefilled() {
        let record = LicenceRecord {
            contact_post: " ".into(),
            activities: Activities::default(),
            ..LicenceRecord::example()
        };
        let known = record.known();
        assert!(!known.contains_key("licence.contact_post"));
        assert!(!known.contains_key("licence.scope") && !known.contains_key("licence.modules"));
    }

    #[test]
    fn a_document_with_a_bad_record_is_refused_naming_it() {
        let mut bad = LicenceRecord::example();
        bad.activities.devices.push("Ⅲ类射线装置".into());
        let text = serde_json::to_string(&Document {
            licences: vec![bad],
        })
        .unwrap();
        let e = parse_document(&text).unwrap_err();
        assert!(
            e.contains("沪环辐证[10571]") && e.contains("Ⅲ类射线装置"),
            "{e}"
        );

        let mut bad = LicenceRecord::example();
        bad.credit_code = "91310115MA1FL8XQ30".into();
        let text = serde_json::to_string(&Document {
            licences: vec![bad],
        })
        .unwrap();
        assert!(parse_document(&text).unwrap_err().contains("校验位"));
        assert!(parse_document("{\"licences\": [{}]}").is_err());
    }
}
