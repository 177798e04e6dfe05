//! What the case tests share: the demonstration item and applicants, and the bureau's desk with
//! the enterprises that file 一般固体废物跨省级行政区域贮存、处置审批 at it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use tongban_cases::issuing::{self, Bureau};
use tongban_cases::materials::{self, Target};
use tongban_cases::workflow::{self, Desk};
use tongban_cases::{Applicant, start};
use tongban_crypto::{FieldCipher, Sm2KeyPair};
use tongban_documents::Renderer;
use tongban_domain::calendar::WorkCalendar;
use tongban_domain::{
    CreditCode, Enterprise, EnterpriseId, Jurisdiction, Officer, OfficerId, OfficerRole, Timestamp,
};
use tongban_engine::{FormData, Item};
use tongban_store::testing::TestStore;

pub const PUDONG: &str = "310115";

/// The demonstration item, as the binary loads it.
pub fn item() -> Item {
    tongban_items::catalogue()
        .unwrap()
        .get("radiation-self-check")
        .unwrap()
        .clone()
}

/// 一般固体废物跨省级行政区域贮存、处置审批, as the binary loads it.
pub fn solid_waste_item() -> Item {
    tongban_items::catalogue()
        .unwrap()
        .get("solid-waste-cross-storage")
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

/// What the demonstration item is prefilled with for the enterprise of [`enterprise`].
pub fn known() -> BTreeMap<String, String> {
    [
        ("enterprise.name", "上海示范医院"),
        ("enterprise.credit_code", "91310115MA1FL8XQ34"),
        ("enterprise.registered_address", "上海市浦东新区示范路1号"),
        ("enterprise.legal_representative", "张三"),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .into()
}

/// The demonstration item filled in completely, on top of `data`.
pub fn complete(mut d: FormData) -> FormData {
    for (k, v) in [
        ("year", "2026"),
        ("contact_phone", "13912345678"),
        ("licence_no", "沪环辐证[12345]"),
        ("issued_on", "2024-01-01"),
        ("valid_until", "2029-01-01"),
        ("site_matches", "是"),
        ("acceptance_done", "是"),
        ("source_count", "3"),
        ("high_risk", "否"),
        ("device_count", "2"),
        ("uses_accelerator", "否"),
        ("staff_count", "12"),
        ("monitoring_per_year", "2"),
    ] {
        d.set(k, v);
    }
    d.set_many("source_activities", vec!["使用".into()]);
    d
}

/// A file store in `dir`, as the server opens its local one.
pub fn file_store(dir: &std::path::Path) -> tongban_files::FileStore {
    tongban_files::FileStore::open(&tongban_files::FilesConfig::Local {
        dir: dir.to_path_buf(),
    })
    .unwrap()
}

/// Officer `name` of the bureau of `district` with `roles`.
pub fn officer(district: &str, name: &str, roles: &[OfficerRole]) -> Officer {
    Officer {
        id: OfficerId::from_raw(format!("officer-{district}-{name}")),
        username: format!("{name}.{district}"),
        display_name: name.into(),
        jurisdiction: Jurisdiction::by_code(district).unwrap(),
        roles: roles.to_vec(),
        created_at: Timestamp::now(),
    }
}

/// A small PDF whose bytes tell it by `tag`.
pub fn pdf(tag: &str) -> Bytes {
    Bytes::from(format!("%PDF-1.7\n% {tag}\n").into_bytes())
}

/// The field cipher of the tests' configuration.
pub fn cipher() -> FieldCipher {
    FieldCipher::new(
        &[(
            "k1".to_string(),
            "000102030405060708090a0b0c0d0e0f".to_string(),
        )]
        .into(),
        "k1",
        "0f0e0d0c0b0a09080706050403020100",
    )
    .unwrap()
}

/// What the bureau's desk works with besides the store: files in a temporary directory, the
/// bureau with a fresh seal, the field cipher and the official calendar.
pub struct World {
    _dir: tempfile::TempDir,
    pub files: tongban_files::FileStore,
    pub bureau: Arc<Bureau>,
    pub fields: FieldCipher,
    pub calendar: WorkCalendar,
}

impl World {
    pub fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        World {
            files: file_store(dir.path()),
            _dir: dir,
            bureau: Arc::new(Bureau {
                name: issuing::BUREAU.into(),
                seal: Sm2KeyPair::generate(),
                base_url: "http://127.0.0.1:8080".into(),
                renderer: Arc::new(Renderer::new()),
            }),
            fields: cipher(),
            calendar: WorkCalendar::official(),
        }
    }

    pub fn desk<'a>(&'a self, db: &'a TestStore) -> Desk<'a> {
        Desk {
            store: &db.store,
            calendar: &self.calendar,
            fields: &self.fields,
            files: &self.files,
            bureau: &self.bureau,
        }
    }
}

/// An enterprise of `district` files a complete application of [`solid_waste_item`] (the
/// example one, receiver in 江苏省) with its three materials; (applicant, case id, case number).
pub async fn filed(
    db: &TestStore,
    w: &World,
    district: &str,
    n: u32,
) -> (Applicant, String, String) {
    filed_with(db, w, district, n, |_| {}).await
}

/// [`filed`], with the example application changed by `edit`.
pub async fn filed_with(
    db: &TestStore,
    w: &World,
    district: &str,
    n: u32,
    edit: impl FnOnce(&mut FormData),
) -> (Applicant, String, String) {
    let code = CreditCode::complete(&format!("91{district}MA{n:07}")).unwrap();
    let e = Enterprise {
        id: EnterpriseId::from_raw(format!("ent-{district}-{n}")),
        name: format!("上海示范热电{n}有限公司"),
        credit_code: code.clone(),
        legal_representative: "王珺".into(),
        registered_address: "上海市示范路1号".into(),
        district: Jurisdiction::by_code(district).unwrap(),
        created_at: Timestamp::now(),
    };
    let mut tx = db.store.begin().await.unwrap();
    tongban_store::enterprises::insert(&mut tx, &e)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let me = Applicant::Enterprise {
        id: e.id.clone(),
        actor: format!("enterprise:{}/cert:01", code.as_str()),
    };
    let item = solid_waste_item();
    let id = start(&db.store, &item, &me, &Default::default())
        .await
        .unwrap();
    for m in [
        "application_form",
        "transport_contract",
        "receiver_contract",
    ] {
        materials::attach(
            &db.store,
            &w.files,
            &item,
            &me,
            &id,
            Target::Material(m),
            &format!("{m}.pdf"),
            pdf(m),
        )
        .await
        .unwrap();
    }
    let mut data = tongban_items::solid_waste::example_application();
    data.set("unit_name", &e.name);
    data.set("credit_code", code.as_str());
    edit(&mut data);
    let number = workflow::submit(&w.desk(db), &item, &me, &id, &data)
        .await
        .unwrap();
    (me, id, number)
}
