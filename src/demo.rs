//! Demo data: a few realistic enterprises (fictional, with valid unified social credit codes) and
//! officers of the city bureau and two districts. Reseeding resets them to this state and gives
//! the officers a new random password, printed once: no password is ever kept in the repository.
use rand::Rng;
use tongban_domain::certificate::CertificateRole;
use tongban_domain::{
    CreditCode, Enterprise, EnterpriseId, Jurisdiction, Officer, OfficerId, OfficerRole, Timestamp,
};
use tongban_store::{Store, enterprises, officers};

/// (name, first 17 characters of the credit code, legal representative, address, district)
const ENTERPRISES: [(&str, &str, &str, &str, &str); 5] = [
    (
        "上海浦江辐射技术有限公司",
        "91310115MA1FL8XQ3",
        "王珺",
        "上海市浦东新区张江高科技园区蔡伦路88号",
        "310115",
    ),
    (
        "上海闵联环保科技有限公司",
        "91310112MA1GB2Y75",
        "陈喆",
        "上海市闵行区莘庄工业区春东路508号",
        "310112",
    ),
    (
        "上海申瑞医疗器械有限公司",
        "91310104MA1FR6T04",
        "李玥",
        "上海市徐汇区漕河泾开发区宜山路1618号",
        "310104",
    ),
    (
        "上海临港新材料有限公司",
        "91310115MA1H9KD28",
        "赵堃",
        "上海市浦东新区临港新片区环湖西二路888号",
        "310115",
    ),
    (
        "上海申城固废资源利用有限公司",
        "91310112MA1FL0C9X",
        "周立新",
        "上海市闵行区华漕镇纪翟路1288号",
        "310112",
    ),
];

/// The demo enterprises' radiation safety licences, as the ministry's registry would give them
/// (one sells only; 上海浦江辐射技术 holds an expired licence and its renewal). Built into the
/// binary, so the demo's annual report starts prefilled wherever it runs.
pub const LICENCES: &str = include_str!("demo/licences.json");

/// The prefill source over [`LICENCES`], used when no `[licence_registry]` is configured.
pub fn licence_source() -> tongban_licences::FileSource {
    tongban_licences::FileSource::from_json(LICENCES).expect("the demo licences are valid")
}

/// (username, display name, jurisdiction, roles)
const OFFICERS: [(&str, &str, &str, &[OfficerRole]); 8] = [
    ("shi.shouli", "市局受理员", "310000", &[OfficerRole::Intake]),
    (
        "shi.shencha",
        "市局审核员",
        "310000",
        &[OfficerRole::Review],
    ),
    (
        "shi.shenpi",
        "市局审批员",
        "310000",
        &[OfficerRole::Approval],
    ),
    (
        "shi.admin",
        "市局系统管理员",
        "310000",
        &[OfficerRole::Admin],
    ),
    ("pd.shouli", "浦东受理员", "310115", &[OfficerRole::Intake]),
    (
        "pd.shencha",
        "浦东审核员",
        "310115",
        &[OfficerRole::Review, OfficerRole::Approval],
    ),
    ("mh.shouli", "闵行受理员", "310112", &[OfficerRole::Intake]),
    (
        "mh.shencha",
        "闵行审核员",
        "310112",
        &[OfficerRole::Review, OfficerRole::Approval],
    ),
];

/// What was seeded, for the printout.
pub struct Seeded {
    pub password: String,
    pub enterprises: Vec<Enterprise>,
    pub officers: Vec<Officer>,
    /// Where the demo enterprises' certificates and keys are.
    pub certs_dir: std::path::PathBuf,
}

fn random_password() -> String {
    // No look-alike characters (0/O, 1/l/I), so it can be read off a terminal and typed.
    const CHARS: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    let body: String = (0..12)
        .map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char)
        .collect();
    format!("Tb-{body}")
}

/// Inserts or resets the demo data in one transaction. Each demo enterprise gets a primary
/// certificate in `certs_dir` (kept across reseeds while it still verifies against `ca`).
pub async fn seed(
    store: &Store,
    ca: &tongban_crypto::cert::Ca,
    certs_dir: &std::path::Path,
) -> anyhow::Result<Seeded> {
    let password = random_password();
    let hash = tongban_identity::hash_password(&password);
    let now = Timestamp::now();
    let mut tx = store.begin().await?;
    let mut seeded_enterprises = Vec::new();
    for (name, code17, legal, address, district) in ENTERPRISES {
        let mut e = Enterprise {
            id: EnterpriseId::new(),
            name: name.into(),
            credit_code: CreditCode::complete(code17).expect("demo codes use the code alphabet"),
            legal_representative: legal.into(),
            registered_address: address.into(),
            district: Jurisdiction::by_code(district).expect("demo districts exist"),
            created_at: now,
        };
        e.id = enterprises::upsert_by_credit_code(&mut tx, &e).await?;
        let (serial, pem, not_after) = demo_certificate(ca, &e, certs_dir)?;
        tongban_store::certificates::record_seen(&mut tx, &serial, &e.id, &pem, not_after).await?;
        if let Some(old) = tongban_store::certificates::primary_of(&mut tx, &e.id).await?
            && old != serial
        {
            tongban_store::certificates::revoke(&mut tx, &e.id, &old).await?;
        }
        tongban_store::certificates::set_role(
            &mut tx,
            &e.id,
            &serial,
            CertificateRole::Primary,
            &[],
            legal,
        )
        .await?;
        seeded_enterprises.push(e);
    }
    let mut seeded_officers = Vec::new();
    for (username, display, jurisdiction, roles) in OFFICERS {
        let mut o = Officer {
            id: OfficerId::new(),
            username: username.into(),
            display_name: display.into(),
            jurisdiction: Jurisdiction::by_code(jurisdiction).expect("demo jurisdictions exist"),
            roles: roles.to_vec(),
            created_at: now,
        };
        o.id = officers::upsert_by_username(&mut tx, &o, &hash).await?;
        seeded_officers.push(o);
    }
    tx.commit().await?;
    Ok(Seeded {
        password,
        enterprises: seeded_enterprises,
        officers: seeded_officers,
        certs_dir: certs_dir.to_path_buf(),
    })
}

/// The demo certificate of `e`: the one in `dir` if it still verifies against `ca`, else a new one.
/// Returns (serial, certificate PEM, expiry).
fn demo_certificate(
    ca: &tongban_crypto::cert::Ca,
    e: &Enterprise,
    dir: &std::path::Path,
) -> anyhow::Result<(String, String, Timestamp)> {
    let cert_path = dir.join(format!("{}.cert.pem", e.credit_code));
    let existing = std::fs::read_to_string(&cert_path).ok();
    let verified = existing.as_deref().and_then(|pem| {
        ca.verify(pem, std::time::SystemTime::now())
            .ok()
            .map(|i| (pem.to_string(), i))
    });
    let (pem, info) = match verified {
        Some(found) => found,
        None => {
            let (_, cert_path) = issue_certificate(ca, &e.credit_code, &e.name, dir)?;
            let pem = std::fs::read_to_string(cert_path)?;
            let info = ca.verify(&pem, std::time::SystemTime::now())?;
            (pem, info)
        }
    };
    let not_after = info
        .not_after
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as i64;
    Ok((info.serial, pem, Timestamp(not_after)))
}

/// Last year's radiation annual report of each demo enterprise that uses sources, unsealed
/// material or devices, filed as the enterprise would (prefilled from its profile and licence,
/// the monitoring report attached, submitted), so 年度报告管理 on the workbench has reports to
/// query, export, zip and confirm. An enterprise that already filed one is left alone, so
/// reseeding files nothing twice. Returns how many were filed.
pub async fn file_reports(
    store: &Store,
    files: &tongban_files::FileStore,
    items: &tongban_engine::Catalogue,
    seeded: &Seeded,
) -> anyhow::Result<usize> {
    let Some(item) = items.get("radiation-annual-report") else {
        return Ok(0);
    };
    let records = licence_source()
        .records()
        .map_err(|e| anyhow::anyhow!("demo licences: {e}"))?;
    let today = tongban_licences::beijing_today();
    let year = Timestamp::now().beijing_year();
    let last_year = (year - 1).to_string();
    let mut filed = 0;
    for e in &seeded.enterprises {
        let mut known = tongban_engine::prefill::Known::new();
        for (k, v) in [
            ("enterprise.name", e.name.as_str()),
            ("enterprise.credit_code", e.credit_code.as_str()),
            (
                "enterprise.registered_address",
                e.registered_address.as_str(),
            ),
            (
                "enterprise.legal_representative",
                e.legal_representative.as_str(),
            ),
            ("calendar.last_year", last_year.as_str()),
        ] {
            known.insert(k.into(), v.into());
        }
        known.extend(tongban_licences::prefill_from(&records, &known, today));
        // A unit that only sells has no workplaces or monitoring to report in this sample.
        if known
            .get("licence.scope")
            .is_none_or(|s| s == tongban_licences::record::SALES_ONLY)
        {
            continue;
        }
        let applicant = tongban_cases::Applicant::Enterprise {
            id: e.id.clone(),
            actor: format!("enterprise:{}/demo", e.credit_code.as_str()),
        };
        if tongban_store::cases::latest_submitted(store, "enterprise", e.id.as_str(), &item.id)
            .await?
            .is_some()
        {
            continue;
        }
        let id = tongban_cases::start(store, item, &applicant, &known).await?;
        let prefilled = tongban_cases::open(store, &applicant, &id)
            .await?
            .projection
            .data;
        let mut data = tongban_items::radiation::example_report();
        data.modules = prefilled.modules.clone();
        data.values.extend(prefilled.values);
        tongban_cases::materials::attach(
            store,
            files,
            item,
            &applicant,
            &id,
            tongban_cases::materials::Target::Material("monitoring_report"),
            "辐射环境监测报告.pdf",
            bytes::Bytes::from_static(b"%PDF-1.7\n% demo monitoring report\n"),
        )
        .await?;
        tongban_cases::submit(store, item, &applicant, &id, &data).await?;
        filed += 1;
    }
    Ok(filed)
}

/// Applications of 一般固体废物跨省级行政区域贮存、处置审批 from the first two demo enterprises
/// (once), so the workbench's 待受理 queue has work to show; returns how many were filed.
pub async fn file_applications(
    store: &Store,
    files: &tongban_files::FileStore,
    items: &tongban_engine::Catalogue,
    seeded: &Seeded,
) -> anyhow::Result<usize> {
    let Some(item) = items.get("solid-waste-cross-storage") else {
        return Ok(0);
    };
    let mut filed = 0;
    for e in seeded.enterprises.iter().take(2) {
        let applicant = tongban_cases::Applicant::Enterprise {
            id: e.id.clone(),
            actor: format!("enterprise:{}/demo", e.credit_code.as_str()),
        };
        if tongban_store::cases::latest_submitted(store, "enterprise", e.id.as_str(), &item.id)
            .await?
            .is_some()
        {
            continue;
        }
        let id = tongban_cases::start(
            store,
            item,
            &applicant,
            &tongban_engine::prefill::Known::new(),
        )
        .await?;
        for (material, name) in [
            ("application_form", "一般固体废物跨省转移处置申报表.pdf"),
            ("transport_contract", "运输合同（盖章）.pdf"),
            ("receiver_contract", "处置合同（盖章）.pdf"),
        ] {
            tongban_cases::materials::attach(
                store,
                files,
                item,
                &applicant,
                &id,
                tongban_cases::materials::Target::Material(material),
                name,
                bytes::Bytes::from(format!("%PDF-1.7\n% demo {material}\n").into_bytes()),
            )
            .await?;
        }
        let mut data = tongban_items::solid_waste::example_application();
        data.set("unit_name", &e.name);
        data.set("credit_code", e.credit_code.as_str());
        data.set("registered_address", &e.registered_address);
        data.set("legal_person", &e.legal_representative);
        // The demo counts its deadlines with the official schedule (the server's own calendar
        // applies to everything filed through the pages).
        tongban_cases::submit(store, item, &applicant, &id, &data).await?;
        filed += 1;
    }
    Ok(filed)
}

/// The printout that tells a person where to log in.
pub fn describe(seeded: &Seeded, base_url: &str) -> String {
    let mut out = String::new();
    out.push_str("\n演示数据已就绪（demo data ready）\n");
    out.push_str(&format!("  门户首页  {base_url}/\n"));
    out.push_str(&format!("  工作台    {base_url}/workbench/login\n"));
    out.push_str(&format!(
        "  工作人员账号（密码均为 {}，重新执行 `tongban demo` 会生成新密码）：\n",
        seeded.password
    ));
    for o in &seeded.officers {
        let roles: Vec<_> = o.roles.iter().map(|r| r.label()).collect();
        out.push_str(&format!(
            "    {:<12} {}（{}，{}）\n",
            o.username,
            o.display_name,
            o.jurisdiction.bureau,
            roles.join("、")
        ));
    }
    out.push_str("  演示企业（统一社会信用代码）：\n");
    for e in &seeded.enterprises {
        out.push_str(&format!(
            "    {}  {}（{}）\n",
            e.credit_code, e.name, e.district.name
        ));
    }
    let dir = seeded.certs_dir.display();
    // The command as this user can run it: `cargo run` leaves no `tongban` on the PATH.
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "tongban".into());
    out.push_str(&format!(
        "  法人一证通登录 {base_url}/login/enterprise ，演示主证书与私钥在 {dir}/：\n"
    ));
    out.push_str(&format!(
        "    粘贴 <信用代码>.cert.pem 的内容，再用 `{exe} cert sign --key {dir}/<信用代码>.key.pem --challenge <登录码> --credit-code <信用代码>` 签名\n"
    ));
    out
}

/// Issues a certificate for `code` with a fresh key and writes both to `dir`, the key readable by
/// its owner only. Returns (key path, certificate path).
pub fn issue_certificate(
    ca: &tongban_crypto::cert::Ca,
    code: &CreditCode,
    name: &str,
    dir: &std::path::Path,
) -> anyhow::Result<(std::path::PathBuf, std::path::PathBuf)> {
    use tongban_crypto::cert::Holder;
    let holder = Holder::Enterprise {
        name: name.to_string(),
        credit_code: code.to_string(),
    };
    write_key_and_certificate(ca, &holder, code.as_str(), dir)
}

/// A fresh key and a three-year certificate for `holder`, written as DIR/<stem>.key.pem (owner
/// only) and DIR/<stem>.cert.pem.
fn write_key_and_certificate(
    ca: &tongban_crypto::cert::Ca,
    holder: &tongban_crypto::cert::Holder,
    stem: &str,
    dir: &std::path::Path,
) -> anyhow::Result<(std::path::PathBuf, std::path::PathBuf)> {
    let key = tongban_crypto::Sm2KeyPair::generate();
    let pem = ca.issue(
        holder,
        &key.public_key(),
        std::time::Duration::from_secs(3 * 365 * 24 * 3600),
    )?;
    write_key_pair(&key, &pem, stem, dir)
}

/// Writes a private key (readable by its owner only) and its certificate to `dir`.
pub fn write_key_pair(
    key: &tongban_crypto::Sm2KeyPair,
    pem: &str,
    stem: &str,
    dir: &std::path::Path,
) -> anyhow::Result<(std::path::PathBuf, std::path::PathBuf)> {
    std::fs::create_dir_all(dir)?;
    let key_path = dir.join(format!("{stem}.key.pem"));
    let cert_path = dir.join(format!("{stem}.cert.pem"));
    std::fs::write(&key_path, key.to_pkcs8_pem())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o600))?;
    }
    std::fs::write(&cert_path, pem)?;
    Ok((key_path, cert_path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_codes_are_valid_and_distinct() {
        let mut codes: Vec<_> = ENTERPRISES
            .iter()
            .map(|(_, c, ..)| CreditCode::complete(c).unwrap())
            .collect();
        for c in &codes {
            assert!(CreditCode::parse(c.as_str()).is_ok());
        }
        codes.dedup();
        assert_eq!(codes.len(), ENTERPRISES.len());
    }

    #[test]
    fn the_demo_licences_are_the_demo_enterprises_and_each_has_one_in_force() {
        let records = tongban_licences::parse_document(LICENCES).unwrap();
        let today = tongban_licences::beijing_today();
        for (name, code17, ..) in ENTERPRISES {
            let code = CreditCode::complete(code17).unwrap();
            let theirs: Vec<_> = records
                .iter()
                .filter(|r| r.credit_code == code.as_str())
                .collect();
            assert!(!theirs.is_empty(), "{name} has a licence");
            assert!(theirs.iter().all(|r| r.unit_name == name), "{name}");
            let chosen = tongban_licences::choose(&records, code.as_str(), today).unwrap();
            assert!(chosen.valid_on(today), "{name}: {}", chosen.number);
        }
        assert!(records.iter().all(|r| {
            ENTERPRISES
                .iter()
                .any(|(_, c, ..)| CreditCode::complete(c).unwrap().as_str() == r.credit_code)
        }));
        assert!(records.iter().any(|r| r.activities.sales_only()));
        assert!(
            records.iter().any(|r| !r.valid_on(today)),
            "one has expired"
        );
    }

    #[test]
    fn passwords_differ_and_avoid_look_alikes() {
        let (a, b) = (random_password(), random_password());
        assert_ne!(a, b);
        assert!(!a[3..].contains(['0', 'O', '1', 'l', 'I']));
    }
}
