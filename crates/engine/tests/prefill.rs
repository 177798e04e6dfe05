//! Prefill of a new application: module presets from a known value, field defaults, prefill keys.
use tongban_engine::prefill::{Known, new_application};
use tongban_engine::{Item, RuleRegistry};

const SPEC: &str = r#"
id = "preset"
name = "模块预设测试"
department = "上海市生态环境局"
kind = "public_service"
case_prefix = "PS"
modules_prefill = "licence.modules"

[notice]
text = "须知"
countdown_seconds = 0

[[modules]]
id = "sources"
name = "放射源"
[[modules]]
id = "unsealed"
name = "非密封放射性物质"
default = false
[[modules]]
id = "devices"
name = "射线装置"

[[steps]]
id = "basic"
title = "基本信息"
[[steps.sections]]
title = "基本信息"
[[steps.sections.fields]]
id = "year"
label = "年度"
type = "year"
min = 2020
max = 2030
prefill = "calendar.last_year"
"#;

fn item() -> Item {
    Item::load(SPEC, &RuleRegistry::standard()).unwrap()
}

fn known(pairs: &[(&str, &str)]) -> Known {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn the_licence_presets_the_modules_it_names() {
    let data = new_application(
        &item(),
        &known(&[
            ("licence.modules", "unsealed、devices"),
            ("calendar.last_year", "2025"),
        ]),
    );
    assert_eq!(
        data.modules.iter().map(String::as_str).collect::<Vec<_>>(),
        ["devices", "unsealed"]
    );
    assert_eq!(data.one("year"), Some("2025"));
}

#[test]
fn without_a_licence_value_or_with_none_of_the_modules_the_defaults_hold() {
    for k in [known(&[]), known(&[("licence.modules", "x-ray, other")])] {
        let data = new_application(&item(), &k);
        assert_eq!(
            data.modules.iter().map(String::as_str).collect::<Vec<_>>(),
            ["devices", "sources"]
        );
    }
}
