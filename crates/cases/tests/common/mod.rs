//! What the case tests share: the demonstration item and applicants.
#![allow(dead_code)]

use tongban_cases::Applicant;
use tongban_domain::EnterpriseId;
use tongban_engine::Item;

/// The demonstration item, as the binary loads it.
pub fn item() -> Item {
    tongban_items::catalogue()
        .unwrap()
        .get("radiation-self-check")
        .unwrap()
        .clone()
}

/// Enterprise number `n`.
pub fn enterprise(n: u8) -> Applicant {
    Applicant::Enterprise {
        id: EnterpriseId::from_raw(format!("ent-{n}")),
        actor: format!("enterprise:9131011500000000{n:02}/cert:0{n}"),
    }
}

/// A file store in `dir`, as the server opens its local one.
pub fn file_store(dir: &std::path::Path) -> tongban_files::FileStore {
    tongban_files::FileStore::open(&tongban_files::FilesConfig::Local {
        dir: dir.to_path_buf(),
    })
    .unwrap()
}
