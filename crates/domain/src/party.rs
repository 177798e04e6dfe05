//! The parties Tongban serves: enterprises (法人) and bureau officers.
use serde::{Deserialize, Serialize};

use crate::{CreditCode, EnterpriseId, Jurisdiction, OfficerId, Timestamp};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Enterprise {
    pub id: EnterpriseId,
    pub name: String,
    pub credit_code: CreditCode,
    pub legal_representative: String,
    pub registered_address: String,
    /// The district whose bureau is competent for the enterprise's local matters.
    pub district: Jurisdiction,
    pub created_at: Timestamp,
}

/// Officer roles as the bureau names them. A role is held within one jurisdiction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OfficerRole {
    /// 窗口受理
    Intake,
    /// 审核
    Review,
    /// 审批
    Approval,
    /// 技术评估
    TechnicalEvaluation,
    /// 专家
    Expert,
    /// 管理员
    Admin,
}

impl OfficerRole {
    pub const ALL: [OfficerRole; 6] = [
        Self::Intake,
        Self::Review,
        Self::Approval,
        Self::TechnicalEvaluation,
        Self::Expert,
        Self::Admin,
    ];

    /// The code kept in the store.
    pub fn code(self) -> &'static str {
        match self {
            Self::Intake => "intake",
            Self::Review => "review",
            Self::Approval => "approval",
            Self::TechnicalEvaluation => "technical_evaluation",
            Self::Expert => "expert",
            Self::Admin => "admin",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Intake => "窗口受理",
            Self::Review => "审核",
            Self::Approval => "审批",
            Self::TechnicalEvaluation => "技术评估",
            Self::Expert => "专家",
            Self::Admin => "管理员",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Officer {
    pub id: OfficerId,
    pub username: String,
    pub display_name: String,
    pub jurisdiction: Jurisdiction,
    pub roles: Vec<OfficerRole>,
    pub created_at: Timestamp,
}

impl Officer {
    pub fn has_role(&self, role: OfficerRole) -> bool {
        self.roles.contains(&role)
    }

    /// Whether the officer's jurisdiction covers matters of `district`: the city bureau covers
    /// every district; a district bureau only its own.
    pub fn covers(&self, district: &Jurisdiction) -> bool {
        self.jurisdiction.is_city() || self.jurisdiction == *district
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_city_covers_every_district_and_a_district_only_itself() {
        let officer = |code| Officer {
            id: OfficerId::new(),
            username: "u".into(),
            display_name: "d".into(),
            jurisdiction: Jurisdiction::by_code(code).unwrap(),
            roles: vec![OfficerRole::Intake],
            created_at: Timestamp(0),
        };
        let pudong = Jurisdiction::by_code("310115").unwrap();
        let minhang = Jurisdiction::by_code("310112").unwrap();
        assert!(officer("310000").covers(&pudong) && officer("310000").covers(&minhang));
        assert!(officer("310115").covers(&pudong));
        assert!(!officer("310115").covers(&minhang));
        assert!(
            officer("310115").has_role(OfficerRole::Intake)
                && !officer("310115").has_role(OfficerRole::Admin)
        );
    }

    #[test]
    fn role_codes_round_trip() {
        for role in OfficerRole::ALL {
            assert_eq!(OfficerRole::from_code(role.code()), Some(role));
        }
        assert_eq!(OfficerRole::from_code("root"), None);
    }
}
