//! Who an officer works for: the city bureau, one of the 16 districts (GB/T 2260 codes), or the
//! Lingang Special Area, which has its own environmental administration but no division code.
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct Jurisdiction {
    /// Stable code kept in the store: "310000" for the city, the district code, or "LINGANG".
    pub code: &'static str,
    /// The bureau's name as shown to users.
    pub bureau: &'static str,
    pub name: &'static str,
}

const fn district(code: &'static str, name: &'static str, bureau: &'static str) -> Jurisdiction {
    Jurisdiction { code, bureau, name }
}

/// Every jurisdiction, city first.
pub const ALL: [Jurisdiction; 18] = [
    district("310000", "上海市", "上海市生态环境局"),
    district("310101", "黄浦区", "黄浦区生态环境局"),
    district("310104", "徐汇区", "徐汇区生态环境局"),
    district("310105", "长宁区", "长宁区生态环境局"),
    district("310106", "静安区", "静安区生态环境局"),
    district("310107", "普陀区", "普陀区生态环境局"),
    district("310109", "虹口区", "虹口区生态环境局"),
    district("310110", "杨浦区", "杨浦区生态环境局"),
    district("310112", "闵行区", "闵行区生态环境局"),
    district("310113", "宝山区", "宝山区生态环境局"),
    district("310114", "嘉定区", "嘉定区生态环境局"),
    district("310115", "浦东新区", "浦东新区生态环境局"),
    district("310116", "金山区", "金山区生态环境局"),
    district("310117", "松江区", "松江区生态环境局"),
    district("310118", "青浦区", "青浦区生态环境局"),
    district("310120", "奉贤区", "奉贤区生态环境局"),
    district("310151", "崇明区", "崇明区生态环境局"),
    district("LINGANG", "临港新片区", "临港新片区管委会生态环境处"),
];

impl Jurisdiction {
    pub const CITY: Jurisdiction = ALL[0];

    pub fn by_code(code: &str) -> Option<Jurisdiction> {
        ALL.iter().copied().find(|j| j.code == code)
    }

    pub fn is_city(&self) -> bool {
        self.code == Self::CITY.code
    }
}

impl From<Jurisdiction> for String {
    fn from(j: Jurisdiction) -> String {
        j.code.to_string()
    }
}

impl TryFrom<String> for Jurisdiction {
    type Error = String;
    fn try_from(code: String) -> Result<Self, String> {
        Jurisdiction::by_code(&code).ok_or_else(|| format!("未知的辖区代码：{code}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_districts_by_code_and_knows_the_city() {
        assert_eq!(Jurisdiction::by_code("310115").unwrap().name, "浦东新区");
        assert!(Jurisdiction::by_code("310000").unwrap().is_city());
        assert!(!Jurisdiction::by_code("LINGANG").unwrap().is_city());
        assert!(
            Jurisdiction::by_code("310108").is_none(),
            "闸北区 was merged into 静安区 in 2015"
        );
    }
}
