//! The services Tongban offers: each an item spec in `specs/` (built into the binary, so a
//! deployment is one file) plus, where a spec names them, rules registered here.
#![forbid(unsafe_code)]

use tongban_engine::{Catalogue, RuleRegistry, SpecError};

pub mod radiation;
pub mod solid_waste;

/// Every item spec, by file.
const SPECS: &[(&str, &str)] = &[
    (
        "radiation-self-check.toml",
        include_str!("../specs/radiation-self-check.toml"),
    ),
    (
        "radiation-annual-report.toml",
        include_str!("../specs/radiation-annual-report.toml"),
    ),
    (
        "solid-waste-cross-storage.toml",
        include_str!("../specs/solid-waste-cross-storage.toml"),
    ),
];

/// The rules items may name: the engine's standard ones and the services' own.
pub fn rules() -> RuleRegistry {
    let mut rules = RuleRegistry::standard();
    radiation::register(&mut rules);
    solid_waste::register(&mut rules);
    rules
}

/// Loads and checks every item; any mistake in any spec is an error naming the file.
pub fn catalogue() -> Result<Catalogue, SpecError> {
    let rules = rules();
    let mut items = Vec::with_capacity(SPECS.len());
    for (file, text) in SPECS {
        // Reference lists (`{nuclides}`) are put in before the spec is read.
        let text = radiation::expand(text);
        let item = tongban_engine::Item::load(&text, &rules).map_err(|mut e| {
            e.item = format!("{file} ({})", e.item);
            e
        })?;
        items.push(item);
    }
    Catalogue::new(items)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_spec_loads() {
        let catalogue = super::catalogue().unwrap();
        assert!(catalogue.get("radiation-self-check").is_some());
        assert!(catalogue.get("radiation-annual-report").is_some());
        assert!(catalogue.get("solid-waste-cross-storage").is_some());
    }
}
