//! The bureau's online services (事项) as listed on the portal, from the requirement document (003).
//! Each becomes an item of the engine as it is built; until then the portal shows it as coming.
use serde::Serialize;

/// 事项类型
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum ItemKind {
    /// 行政许可
    Licence,
    /// 公共服务
    PublicService,
    /// 备案
    Filing,
}

impl ItemKind {
    pub fn label(self) -> &'static str {
        match self {
            ItemKind::Licence => "行政许可",
            ItemKind::PublicService => "公共服务",
            ItemKind::Filing => "备案",
        }
    }
}

#[derive(Clone, Copy, Debug, Serialize)]
pub struct CatalogueItem {
    /// Stable id used in URLs and by the engine.
    pub id: &'static str,
    pub name: &'static str,
    pub kind: ItemKind,
    /// The group it is listed under on the portal.
    pub group: &'static str,
    /// Whether applications can be made online: set by the portal from the loaded item specs.
    pub online: bool,
}

const fn item(
    id: &'static str,
    name: &'static str,
    kind: ItemKind,
    group: &'static str,
) -> CatalogueItem {
    CatalogueItem {
        id,
        name,
        kind,
        group,
        online: false,
    }
}

use ItemKind::{Filing, Licence, PublicService};

pub const GROUPS: [&str; 5] = [
    "辐射安全",
    "固体废物",
    "环境影响评价与排污许可",
    "机动车与非道路移动机械",
    "便民服务",
];

pub const ITEMS: [CatalogueItem; 19] = [
    item(
        "radiation-self-check",
        "核技术利用单位辐射安全年度自查（示范）",
        PublicService,
        "辐射安全",
    ),
    item(
        "radiation-annual-report",
        "放射性同位素与射线装置的安全和防护状况年度评估报告填报",
        PublicService,
        "辐射安全",
    ),
    item(
        "mobile-radiography-daily",
        "移动探伤当日作业报告",
        PublicService,
        "辐射安全",
    ),
    item(
        "radioactive-waste-report",
        "放射性废物报告（清洁解控、豁免、暂存）",
        PublicService,
        "辐射安全",
    ),
    item(
        "solid-waste-cross-storage",
        "一般固体废物跨省级行政区域贮存、处置审批",
        Licence,
        "固体废物",
    ),
    item(
        "solid-waste-cross-use-filing",
        "一般固体废物跨省转移利用备案",
        Filing,
        "固体废物",
    ),
    item(
        "hazardous-waste-transfer",
        "危险废物跨省级行政区域转移审批",
        Licence,
        "固体废物",
    ),
    item(
        "hazardous-waste-transport-change",
        "危险废物跨省转移运输单位变更",
        Licence,
        "固体废物",
    ),
    item(
        "hazardous-waste-business-licence",
        "危险废物经营许可证核发",
        Licence,
        "固体废物",
    ),
    item(
        "eia-general",
        "一般建设项目环境影响评价审批",
        Licence,
        "环境影响评价与排污许可",
    ),
    item(
        "eia-nuclear",
        "核与辐射类建设项目环境影响评价审批",
        Licence,
        "环境影响评价与排污许可",
    ),
    item(
        "eia-marine",
        "海洋工程建设项目环境影响评价审批",
        Licence,
        "环境影响评价与排污许可",
    ),
    item(
        "discharge-permit",
        "排污许可证核发",
        Licence,
        "环境影响评价与排污许可",
    ),
    item(
        "river-outfall",
        "江河、湖泊新建、改建或者扩大排污口审批",
        Licence,
        "环境影响评价与排污许可",
    ),
    item(
        "integrated-approval",
        "环评、排污、入河、危废许可证综合审批（集成办）",
        Licence,
        "环境影响评价与排污许可",
    ),
    item(
        "non-road-machinery",
        "非道路移动机械环境信息登记",
        Filing,
        "机动车与非道路移动机械",
    ),
    item(
        "carbon-inclusion",
        "碳普惠减排项目申报（免申办）",
        PublicService,
        "便民服务",
    ),
    item(
        "catering-site-risk",
        "餐饮服务项目选址风险提示",
        PublicService,
        "便民服务",
    ),
    item("green-projects", "绿色项目公示", PublicService, "便民服务"),
];

/// The items of `group`, in catalogue order.
pub fn in_group(group: &str) -> impl Iterator<Item = &'static CatalogueItem> + '_ {
    ITEMS.iter().filter(move |i| i.group == group)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_item_has_a_known_group_and_a_unique_id() {
        for i in ITEMS.iter() {
            assert!(GROUPS.contains(&i.group), "{}", i.name);
        }
        let mut ids: Vec<_> = ITEMS.iter().map(|i| i.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), ITEMS.len());
        let listed: usize = GROUPS.iter().map(|g| in_group(g).count()).sum();
        assert_eq!(listed, ITEMS.len());
    }
}
