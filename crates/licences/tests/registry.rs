//! The licence sources against the local peer on a free loopback port, and the radiation annual
//! report started from what they give.
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use chrono::{Days, NaiveDate};
use tongban_domain::CreditCode;
use tongban_engine::prefill::{Known, PrefillSource, new_application};
use tongban_licences::{
    Activities, Document, FileSource, LicenceRecord, RegistrySource, beijing_today, peer,
};

fn code(first17: &str) -> String {
    CreditCode::complete(first17).unwrap().as_str().to_string()
}

/// A unit using sources, unsealed material and devices.
fn user() -> String {
    code("91310115MA1FL8XQ3")
}
/// A unit that only sells.
fn seller() -> String {
    code("91310112MA1GB2Y75")
}
/// A unit with an expired licence and its renewal.
fn renewed() -> String {
    code("91310104MA1FR6T04")
}

fn days_from_today(days: i64) -> NaiveDate {
    let today = beijing_today();
    if days >= 0 {
        today + Days::new(days as u64)
    } else {
        today - Days::new(days.unsigned_abs())
    }
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn licence(credit_code: &str, number: &str, issued: i64, until: i64) -> LicenceRecord {
    LicenceRecord {
        credit_code: credit_code.into(),
        unit_name: "上海浦江辐射技术有限公司".into(),
        number: number.into(),
        issuer: "上海市生态环境局".into(),
        issued_on: days_from_today(issued),
        valid_until: days_from_today(until),
        activities: Activities {
            sources: strings(&["使用Ⅱ类、Ⅴ类放射源"]),
            unsealed: strings(&["使用丙级非密封放射性物质工作场所"]),
            devices: strings(&["使用Ⅱ类、Ⅲ类射线装置"]),
        },
        mailing_address: "上海市浦东新区张江高科技园区蔡伦路88号3号楼".into(),
        legal_representative_phone: "13801716288".into(),
        safety_org_name: "辐射安全与环境保护管理领导小组".into(),
        safety_head_name: "王珺".into(),
        safety_head_phone: "13801716289".into(),
        contact_name: "刘晓峰".into(),
        contact_post: "辐射安全主管".into(),
        contact_department: "安全环保部".into(),
        contact_phone: "021-50806618".into(),
        projects: strings(&[
            "Ⅱ类、Ⅴ类放射源使用项目",
            "核医学科丙级非密封放射性物质工作场所",
        ]),
    }
}

fn records() -> Vec<LicenceRecord> {
    vec![
        licence(&user(), "沪环辐证[10571]", -400, 1400),
        LicenceRecord {
            unit_name: "上海闵联环保科技有限公司".into(),
            activities: Activities {
                sources: strings(&["销售Ⅳ类、Ⅴ类放射源"]),
                unsealed: vec![],
                devices: strings(&["销售（含建造）Ⅲ类射线装置"]),
            },
            ..licence(&seller(), "沪环辐证[20336]", -200, 1600)
        },
        // Expired a year ago, issued before the renewal; and the renewal, valid now.
        licence(&renewed(), "沪环辐证[00482]", -2200, -370),
        licence(&renewed(), "沪环辐证[30482]", -380, 1440),
    ]
}

async fn start_peer() -> SocketAddr {
    let (addr, _task) = peer::serve(records(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    addr
}

fn enterprise(credit_code: &str) -> Known {
    Known::from([
        (
            "enterprise.credit_code".to_string(),
            credit_code.to_string(),
        ),
        (
            "enterprise.name".to_string(),
            "上海浦江辐射技术有限公司".to_string(),
        ),
    ])
}

/// A loopback port nothing listens on: connecting is refused at once.
async fn closed_port() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    addr
}

#[tokio::test]
async fn a_known_enterprise_gets_every_licence_key() {
    let addr = start_peer().await;
    let source = RegistrySource::new(&format!("http://{addr}")).unwrap();
    let known = source.lookup(&enterprise(&user())).await.unwrap();
    let expected = [
        ("licence.number", "沪环辐证[10571]".to_string()),
        ("licence.issuer", "上海市生态环境局".into()),
        ("licence.issued_on", days_from_today(-400).to_string()),
        ("licence.valid_until", days_from_today(1400).to_string()),
        ("licence.scope", "含生产或使用".into()),
        ("licence.modules", "sources,unsealed,devices".into()),
        (
            "licence.mailing_address",
            "上海市浦东新区张江高科技园区蔡伦路88号3号楼".into(),
        ),
        ("licence.legal_representative_phone", "13801716288".into()),
        (
            "licence.safety_org_name",
            "辐射安全与环境保护管理领导小组".into(),
        ),
        ("licence.safety_head_name", "王珺".into()),
        ("licence.safety_head_phone", "13801716289".into()),
        ("licence.contact_name", "刘晓峰".into()),
        ("licence.contact_post", "辐射安全主管".into()),
        ("licence.contact_department", "安全环保部".into()),
        ("licence.contact_phone", "021-50806618".into()),
        (
            "licence.projects",
            "Ⅱ类、Ⅴ类放射源使用项目\n核医学科丙级非密封放射性物质工作场所".into(),
        ),
    ];
    let expected: Known = expected
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    assert_eq!(known, expected);
    assert!(
        known["licence.issued_on"].len() == 10 && known["licence.issued_on"].as_bytes()[4] == b'-',
        "dates are YYYY-MM-DD"
    );
}

#[tokio::test]
async fn a_pure_sales_licence_is_sales_only_with_the_modules_it_sells_in() {
    let addr = start_peer().await;
    let source = RegistrySource::new(&format!("http://{addr}")).unwrap();
    let known = source.lookup(&enterprise(&seller())).await.unwrap();
    assert_eq!(known["licence.scope"], "纯销售");
    assert_eq!(known["licence.modules"], "sources,devices");
    assert_eq!(known["licence.number"], "沪环辐证[20336]");
}

#[tokio::test]
async fn of_an_expired_and_a_valid_licence_the_valid_one_is_used() {
    let addr = start_peer().await;
    let source = RegistrySource::new(&format!("http://{addr}")).unwrap();
    // The peer answers with both, as the registry keeps a unit's history.
    let both = source.licences(&renewed()).await.unwrap();
    assert_eq!(both.len(), 2);
    let known = source.lookup(&enterprise(&renewed())).await.unwrap();
    assert_eq!(known["licence.number"], "沪环辐证[30482]");
    assert_eq!(
        known["licence.valid_until"],
        days_from_today(1440).to_string()
    );
}

#[tokio::test]
async fn an_unknown_enterprise_gets_nothing() {
    let addr = start_peer().await;
    let source = RegistrySource::new(&format!("http://{addr}")).unwrap();
    let other = code("91310000MA1K00001");
    assert!(source.licences(&other).await.unwrap().is_empty());
    assert!(source.lookup(&enterprise(&other)).await.unwrap().is_empty());
}

#[tokio::test]
async fn without_a_credit_code_nothing_is_asked() {
    // Any request to a closed port would fail: an empty answer means none was made.
    let source = RegistrySource::new(&format!("http://{}", closed_port().await)).unwrap();
    let individual = Known::from([("individual.name".to_string(), "张三".to_string())]);
    assert_eq!(source.lookup(&individual).await, Ok(Known::new()));
}

#[tokio::test]
async fn a_registry_that_is_down_fails_at_once() {
    let source = RegistrySource::new(&format!("http://{}", closed_port().await)).unwrap();
    let started = Instant::now();
    let e = source.lookup(&enterprise(&user())).await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_millis(1000),
        "{:?}",
        started.elapsed()
    );
    assert!(e.contains("无法连接辐射安全许可证系统"), "{e}");
}

#[tokio::test]
async fn a_registry_that_stalls_fails_after_the_timeout() {
    // Accepts connections, reads nothing, answers nothing.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let _held = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let timeout = Duration::from_millis(300);
    let source = RegistrySource::with_timeout(&format!("http://{addr}"), timeout).unwrap();
    let started = Instant::now();
    let e = source.lookup(&enterprise(&user())).await.unwrap_err();
    let took = started.elapsed();
    assert!(took >= timeout && took < Duration::from_secs(2), "{took:?}");
    assert!(e.contains("300 毫秒内未应答"), "{e}");
}

#[tokio::test]
async fn the_peer_refuses_a_missing_or_invalid_code_with_a_json_error() {
    let addr = start_peer().await;
    for (query, code) in [
        ("", "credit_code_required"),
        ("?credit_code=", "credit_code_required"),
        ("?credit_code=91310115MA1FL8XQ30", "invalid_credit_code"),
        ("?credit_code=123", "invalid_credit_code"),
    ] {
        let response = reqwest::get(format!("http://{addr}/api/v1/licences{query}"))
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{query}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], code, "{query}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("统一社会信用代码")
        );
    }
    let known: Document = reqwest::get(format!(
        "http://{addr}/api/v1/licences?credit_code={}",
        seller().to_lowercase()
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(known.licences.len(), 1, "codes are read case-insensitively");

    // The source reports the registry's refusal with its message.
    let source = RegistrySource::new(&format!("http://{addr}/")).unwrap();
    let e = source.lookup(&enterprise("123")).await.unwrap_err();
    assert!(
        e.contains("400") && e.contains("统一社会信用代码应为18位"),
        "{e}"
    );
}

#[test]
fn a_registry_address_must_be_http() {
    assert!(RegistrySource::new("ftp://registry.example").is_err());
    assert!(RegistrySource::new("not a url").is_err());
    assert_eq!(
        RegistrySource::new("https://registry.example/")
            .unwrap()
            .base_url(),
        "https://registry.example"
    );
}

#[tokio::test]
async fn a_file_source_reads_the_same_document_and_a_new_export() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("licences.json");
    let document = |records: Vec<LicenceRecord>| {
        serde_json::to_string_pretty(&Document { licences: records }).unwrap()
    };
    std::fs::write(&path, document(records())).unwrap();
    let source = FileSource::open(&path).unwrap();
    let known = source.lookup(&enterprise(&renewed())).await.unwrap();
    assert_eq!(known["licence.number"], "沪环辐证[30482]");
    assert_eq!(
        source.lookup(&enterprise(&seller())).await.unwrap()["licence.scope"],
        "纯销售"
    );
    assert!(source.lookup(&Known::new()).await.unwrap().is_empty());

    // A new export replaces the old one without a restart (a later modification time).
    let mut next = records();
    next.retain(|r| r.credit_code != seller());
    std::fs::write(&path, document(next)).unwrap();
    let later = std::time::SystemTime::now() + Duration::from_secs(5);
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(later)
        .unwrap();
    assert!(
        source
            .lookup(&enterprise(&seller()))
            .await
            .unwrap()
            .is_empty()
    );

    // The same document as text; a broken or missing file is refused when opened.
    let text = FileSource::from_json(&document(records())).unwrap();
    assert_eq!(
        text.lookup(&enterprise(&user())).await.unwrap(),
        RegistrySource::new(&format!("http://{}", start_peer().await))
            .unwrap()
            .lookup(&enterprise(&user()))
            .await
            .unwrap()
    );
    std::fs::write(&path, "{\"licences\": [{\"number\": 1}]}").unwrap();
    assert!(FileSource::open(&path).unwrap_err().contains("格式有误"));
    assert!(FileSource::open(dir.path().join("none.json")).is_err());
}

#[tokio::test]
async fn the_annual_report_starts_from_the_licence() {
    let catalogue = tongban_items::catalogue().unwrap();
    let item = catalogue.get("radiation-annual-report").unwrap();
    let addr = start_peer().await;
    let source = RegistrySource::new(&format!("http://{addr}")).unwrap();

    for (credit_code, number, scope, modules) in [
        (
            user(),
            "沪环辐证[10571]",
            "含生产或使用",
            &["devices", "sources", "unsealed"][..],
        ),
        (
            seller(),
            "沪环辐证[20336]",
            "纯销售",
            &["devices", "sources"][..],
        ),
    ] {
        let mut known = enterprise(&credit_code);
        known.extend(source.lookup(&known).await.unwrap());
        let data = new_application(item, &known);
        assert_eq!(data.one("licence_no"), Some(number));
        assert_eq!(data.one("licence_issuer"), Some("上海市生态环境局"));
        assert_eq!(data.one("licence_scope"), Some(scope));
        assert_eq!(
            data.one("issued_on"),
            Some(known["licence.issued_on"].as_str())
        );
        assert_eq!(
            data.one("valid_until"),
            Some(known["licence.valid_until"].as_str())
        );
        assert_eq!(data.one("contact_phone"), Some("021-50806618"));
        // The licence's projects are the choices of 未按规定完成自主验收并公示的项目.
        assert_eq!(
            data.options["unaccepted_project"],
            [
                "Ⅱ类、Ⅴ类放射源使用项目",
                "核医学科丙级非密封放射性物质工作场所"
            ]
        );
        assert_eq!(
            data.modules.iter().map(String::as_str).collect::<Vec<_>>(),
            modules,
            "{credit_code}"
        );
    }
}
