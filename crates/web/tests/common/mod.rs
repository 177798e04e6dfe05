//! What the web tests share: a router on a test store, and a browser that keeps cookies and
//! sends forms with the page's CSRF token.
#![allow(dead_code)]

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use base64::Engine as _;
use std::time::Duration;
use tongban_crypto::Sm2KeyPair;
use tongban_crypto::cert::Holder;
use tongban_domain::{Jurisdiction, Officer, OfficerId, OfficerRole, Timestamp};
use tongban_files::{FileStore, FilesConfig};
use tongban_identity::hash_password;
use tongban_store::officers;
use tongban_store::testing::TestStore;
use tongban_web::{AppState, WebConfig, app};

use tower::ServiceExt;

pub struct Page {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
    pub bytes: Vec<u8>,
}

pub async fn send(router: &Router, req: Request<Body>) -> Page {
    let response = router.clone().oneshot(req).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    Page {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
        bytes: bytes.to_vec(),
    }
}

pub fn get(path: &str) -> Request<Body> {
    Request::get(path).body(Body::empty()).unwrap()
}

/// A request without a body carrying one extra header.
pub fn with_header(
    method: &str,
    path: &str,
    name: header::HeaderName,
    value: &str,
) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .header(name, value)
        .body(Body::empty())
        .unwrap()
}

/// A browser: keeps the cookies it is given and sends forms with the page's CSRF token.
pub struct Browser {
    pub app: Router,
    pub cookies: std::collections::BTreeMap<String, String>,
}

impl Browser {
    pub fn new(app: &Router) -> Self {
        Self {
            app: app.clone(),
            cookies: Default::default(),
        }
    }

    pub fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub async fn send(&mut self, req: Request<Body>) -> Page {
        let mut req = req;
        if !self.cookies.is_empty() {
            req.headers_mut()
                .insert(header::COOKIE, self.cookie_header().parse().unwrap());
        }
        let page = send(&self.app, req).await;
        for set in page.headers.get_all(header::SET_COOKIE) {
            let pair = set.to_str().unwrap().split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_string(), value.to_string());
            }
        }
        page
    }

    pub async fn get(&mut self, path: &str) -> Page {
        self.send(get(path)).await
    }

    /// Posts `body` (url-encoded) with the CSRF token, as a form on one of our pages does.
    pub async fn post_form(&mut self, path: &str, body: &str) -> Page {
        if !self.cookies.contains_key("tongban_csrf") {
            self.get("/").await;
        }
        let token = self.cookies["tongban_csrf"].clone();
        let req = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!("{body}&_csrf={token}")))
            .unwrap();
        self.send(req).await
    }

    pub async fn login(&mut self, username: &str, password: &str) -> Page {
        self.post_form(
            "/workbench/login",
            &format!("username={username}&password={password}"),
        )
        .await
    }
}

/// The state the router runs with: a store, local files, a fresh CA and field keys.
pub fn state(db: &TestStore, files_dir: &std::path::Path) -> AppState {
    let files = FileStore::open(&FilesConfig::Local {
        dir: files_dir.to_path_buf(),
    })
    .unwrap();
    let keys = [("k1".to_string(), tongban_crypto::field::new_key_hex())].into();
    let fields = std::sync::Arc::new(
        tongban_crypto::FieldCipher::new(&keys, "k1", &tongban_crypto::field::new_key_hex())
            .unwrap(),
    );
    AppState {
        ledger: ledger(db, fields.clone()),
        store: db.store.clone(),
        files,
        config: WebConfig::default(),
        ca: std::sync::Arc::new(
            tongban_crypto::cert::Ca::create("通办测试CA", std::time::Duration::from_secs(86400))
                .unwrap(),
        ),
        fields,
        calendar: std::sync::Arc::new(tongban_domain::calendar::WorkCalendar::official()),
        city_login: None,
        items: std::sync::Arc::new(tongban_items::catalogue().unwrap()),
        prefill: vec![],
        bureau: bureau(),
    }
}

/// The 固废链 with a fresh log key and no witnesses (each checkpoint final on its own).
pub fn ledger(
    db: &TestStore,
    fields: std::sync::Arc<tongban_crypto::FieldCipher>,
) -> std::sync::Arc<tongban_ledger::service::Ledger> {
    tongban_ledger::service::Ledger::start(
        db.store.clone(),
        tongban_ledger::log::Log::new(
            "shanghai-eeb/solid-waste",
            tongban_crypto::Sm2KeyPair::generate(),
        ),
        tongban_ledger::witness::Witnesses::default(),
        1,
        fields,
    )
}

/// The bureau as issuer, with a fresh seal key; one renderer per test process.
pub fn bureau() -> std::sync::Arc<tongban_cases::issuing::Bureau> {
    static RENDERER: std::sync::LazyLock<std::sync::Arc<tongban_documents::Renderer>> =
        std::sync::LazyLock::new(|| std::sync::Arc::new(tongban_documents::Renderer::new()));
    std::sync::Arc::new(tongban_cases::issuing::Bureau {
        name: "上海市生态环境局".into(),
        seal: tongban_crypto::Sm2KeyPair::generate(),
        base_url: "http://tongban.test".into(),
        renderer: RENDERER.clone(),
    })
}

pub fn router(db: &TestStore, files_dir: &std::path::Path) -> Router {
    app(state(db, files_dir))
}

/// A browser logged in as a new intake officer of `jurisdiction` (password fixed for tests).
pub async fn officer_browser(
    db: &TestStore,
    app: &Router,
    username: &str,
    jurisdiction: &str,
    name: &str,
) -> Browser {
    officer_browser_with(
        db,
        app,
        username,
        jurisdiction,
        name,
        &[OfficerRole::Intake],
    )
    .await
}

/// A browser logged in as a new officer of `jurisdiction` with `roles`.
pub async fn officer_browser_with(
    db: &TestStore,
    app: &Router,
    username: &str,
    jurisdiction: &str,
    name: &str,
    roles: &[OfficerRole],
) -> Browser {
    add_officer_in(db, username, "Officer#2026", jurisdiction, name, roles).await;
    let mut b = Browser::new(app);
    assert_eq!(
        b.login(username, "Officer%232026").await.status,
        StatusCode::SEE_OTHER
    );
    b
}

/// An officer of 浦东新区 with the intake role.
pub async fn add_officer(db: &TestStore, username: &str, password: &str) -> Officer {
    add_officer_in(
        db,
        username,
        password,
        "310115",
        "浦东受理员",
        &[OfficerRole::Intake],
    )
    .await
}

pub async fn add_officer_in(
    db: &TestStore,
    username: &str,
    password: &str,
    jurisdiction: &str,
    name: &str,
    roles: &[OfficerRole],
) -> Officer {
    let o = Officer {
        id: OfficerId::new(),
        username: username.into(),
        display_name: name.into(),
        jurisdiction: Jurisdiction::by_code(jurisdiction).unwrap(),
        roles: roles.to_vec(),
        created_at: Timestamp::now(),
    };
    let mut tx = db.store.begin().await.unwrap();
    officers::upsert_by_username(&mut tx, &o, &hash_password(password))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    o
}

// Enterprise helpers: certificates, the 一证通 login, the activation form.

/// A certificate for enterprise `code` from the state's CA, with its key.
pub fn issue(state: &AppState, code: &str, name: &str) -> (Sm2KeyPair, String) {
    let key = Sm2KeyPair::generate();
    let holder = Holder::Enterprise {
        name: name.into(),
        credit_code: code.into(),
    };
    let pem = state
        .ca
        .issue(&holder, &key.public_key(), Duration::from_secs(86400))
        .unwrap();
    (key, pem)
}

pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Opens the login page, signs its challenge with `key` as the 一证通 client does, and posts.
pub async fn cert_login(browser: &mut Browser, key: &Sm2KeyPair, pem: &str, code: &str) -> Page {
    let page = browser.get("/login/enterprise").await;
    let challenge = page
        .body
        .split("name=\"challenge\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let sig = base64::engine::general_purpose::STANDARD.encode(
        tongban_identity::enterprise::sign_login(key, &challenge, code),
    );
    let body = format!(
        "certificate={}&challenge={challenge}&signature={}",
        urlencode(pem),
        urlencode(&sig)
    );
    browser.post_form("/login/enterprise", &body).await
}

pub fn jpeg(size: usize) -> Vec<u8> {
    let mut b = vec![0xFF, 0xD8, 0xFF, 0xE0];
    b.resize(size, 0x42);
    b
}

/// Posts the activation form as multipart, the token in the query string as the page does.
/// Posts a multipart form to `path` (CSRF token in the query, as our upload forms do): text
/// `fields`, then `file` as (field name, file name, content).
pub async fn post_multipart(
    browser: &mut Browser,
    path: &str,
    fields: &[(&str, &str)],
    file: (&str, &str, &[u8]),
) -> Page {
    let boundary = "----tongban-test";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    let (field, file_name, content) = file;
    body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes());
    body.extend(content);
    body.extend(format!("\r\n--{boundary}--\r\n").as_bytes());
    if !browser.cookies.contains_key("tongban_csrf") {
        browser.get("/").await;
    }
    let token = browser.cookies["tongban_csrf"].clone();
    let sep = if path.contains('?') { '&' } else { '?' };
    let req = Request::post(format!("{path}{sep}_csrf={token}"))
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(Body::from(body))
        .unwrap();
    browser.send(req).await
}

pub async fn submit_activation(browser: &mut Browser, phone: &str, scan: &[u8]) -> Page {
    let fields = [
        ("legal_representative", "王珺"),
        ("registration_number", "310115000123456"),
        ("contact", "李静"),
        ("contact_phone", phone),
        ("media_number", "YZT-2026-000981"),
    ];
    post_multipart(
        browser,
        "/enterprise/activation",
        &fields,
        ("scan", "申请表.jpg", scan),
    )
    .await
}

pub fn activation_id(page: &Page) -> String {
    page.body
        .split("/enterprise/activation/")
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_string()
}

/// A browser logged in with a fresh certificate of enterprise `code`.
pub async fn logged_in(state: &AppState, app: &axum::Router, code: &str) -> Browser {
    let (key, pem) = issue(state, code, &format!("企业{code}"));
    let mut b = Browser::new(app);
    assert_eq!(
        cert_login(&mut b, &key, &pem, code).await.status,
        StatusCode::SEE_OTHER
    );
    b
}

/// An enterprise with a primary certificate (approved by a city officer) and a second,
/// unregistered certificate; returns the primary's browser, the activation id and the second serial.
pub async fn enterprise(
    state: &AppState,
    app: &axum::Router,
    city: &mut Browser,
    code: &str,
) -> (Browser, String, String) {
    let (primary, activation, _, _) = primary(state, app, city, code).await;
    let mut second = logged_in(state, app, code).await;
    let serial = serial_on(&second.get("/enterprise").await);
    (primary, activation, serial)
}

/// A browser logged in with enterprise `code`'s primary certificate (approved by a city
/// officer); also the activation id, and the certificate's key and PEM.
pub async fn primary(
    state: &AppState,
    app: &axum::Router,
    city: &mut Browser,
    code: &str,
) -> (Browser, String, Sm2KeyPair, String) {
    let (key, pem) = issue(state, code, &format!("企业{code}"));
    let mut primary = Browser::new(app);
    assert_eq!(
        cert_login(&mut primary, &key, &pem, code).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        submit_activation(&mut primary, "13800000000", &jpeg(64))
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let home = primary.get("/enterprise").await;
    let activation = activation_id(&home);
    assert_eq!(
        city.post_form(
            &format!("/workbench/activations/{activation}/decide"),
            "decision=approve"
        )
        .await
        .status,
        StatusCode::SEE_OTHER
    );
    (primary, activation, key, pem)
}

/// The state with the test-only item `test-filing` (tests/fixtures) beside the real ones.
pub fn state_with_test_item(db: &TestStore, files_dir: &std::path::Path) -> AppState {
    with_item(
        state(db, files_dir),
        include_str!("../fixtures/test-filing.toml"),
    )
}

/// `state` with one more item, loaded from its spec.
pub fn with_item(mut state: AppState, spec: &str) -> AppState {
    let test_item = tongban_engine::Item::load(spec, &tongban_items::rules()).unwrap();
    let mut items: Vec<_> = state.items.iter().cloned().collect();
    items.push(test_item);
    state.items = std::sync::Arc::new(tongban_engine::Catalogue::new(items).unwrap());
    state
}

/// Where a redirect sends the browser.
pub fn location(page: &Page) -> String {
    page.headers[header::LOCATION].to_str().unwrap().to_string()
}

/// The case id in a `/cases/{id}/edit` location.
pub fn case_id_of(page: &Page) -> String {
    let to = page.headers[header::LOCATION].to_str().unwrap();
    to.strip_prefix("/cases/")
        .and_then(|s| s.split('/').next())
        .unwrap_or_else(|| panic!("not a case location: {to}"))
        .to_string()
}

/// Fills the notice page as a person does: waits out the countdown, ticks the commitments.
pub async fn through_the_notice(b: &mut Browser) -> Page {
    through_the_notice_of(b, "test-filing").await
}

/// [`through_the_notice`] of `item`.
pub async fn through_the_notice_of(b: &mut Browser, item: &str) -> Page {
    let notice = b.get(&format!("/items/{item}/apply")).await;
    assert_eq!(notice.status, axum::http::StatusCode::OK, "{}", notice.body);
    let hidden = |name: &str| {
        notice
            .body
            .split(&format!("name=\"{name}\" value=\""))
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string()
    };
    let (at, token) = (hidden("shown_at"), hidden("token"));
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    b.post_form(
        &format!("/items/{item}/apply"),
        &format!("shown_at={at}&token={token}&commitment=1"),
    )
    .await
}

/// The serial of the certificate an enterprise home page says is in use.
pub fn serial_on(home: &Page) -> String {
    home.body
        .split("证书序列号</dt><dd><code>")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string()
}

/// The yearly report the officers' report tests file.
pub const REPORT_ITEM: &str = "radiation-annual-report";

/// A submitted 2025 report of unit `n` in `district`, through the applicant's own services;
/// returns (case id, unit name, credit code, licence number).
pub async fn filed_report(
    state: &AppState,
    n: usize,
    district: &str,
) -> (String, String, String, String) {
    let item = state.items.get(REPORT_ITEM).unwrap();
    let e = registered(
        state,
        &format!("ent-{n}"),
        &format!("91{district}MA{n:07}"),
        &format!("上海核技术应用{n:03}有限公司"),
        district,
    )
    .await;
    let (name, code) = (e.name.clone(), e.credit_code.clone());
    let me = applicant_of(&e);
    let id = tongban_cases::start(&state.store, item, &me, &Default::default())
        .await
        .unwrap();
    tongban_cases::materials::attach(
        &state.store,
        &state.files,
        item,
        &me,
        &id,
        tongban_cases::materials::Target::Material("monitoring_report"),
        "监测报告.pdf",
        bytes::Bytes::from_static(b"%PDF-1.7 monitoring report"),
    )
    .await
    .unwrap();
    let licence = format!("沪环辐证[{:05}]", 20000 + n);
    let mut data = tongban_items::radiation::example_report();
    data.set("unit_name", &name);
    data.set("credit_code", code.as_str());
    data.set("licence_no", &licence);
    tongban_cases::submit(&state.store, item, &me, &id, &data)
        .await
        .unwrap();
    (id, name, code.as_str().to_string(), licence)
}

/// An inspection table (检查编号, 统一社会信用代码, 许可证号) as an officer brings one.
pub fn inspection_table(rows: &[(&str, &str, &str)]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    for (c, t) in ["检查编号", "统一社会信用代码", "许可证号"]
        .iter()
        .enumerate()
    {
        ws.write_string(0, c as u16, *t).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in [row.0, row.1, row.2].iter().enumerate() {
            ws.write_string(r as u32 + 1, c as u16, *v).unwrap();
        }
    }
    book.save_to_buffer().unwrap()
}

/// Enterprise `id` of `district` registered directly (its credit code completed from `code17`).
pub async fn registered(
    state: &AppState,
    id: &str,
    code17: &str,
    name: &str,
    district: &str,
) -> tongban_domain::Enterprise {
    let e = tongban_domain::Enterprise {
        id: tongban_domain::EnterpriseId::from_raw(id),
        name: name.to_string(),
        credit_code: tongban_domain::CreditCode::complete(code17).unwrap(),
        legal_representative: "王珺".into(),
        registered_address: "上海市测试路1号".into(),
        district: Jurisdiction::by_code(district).unwrap(),
        created_at: Timestamp::now(),
    };
    let mut tx = state.store.begin().await.unwrap();
    tongban_store::enterprises::insert(&mut tx, &e)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    e
}

/// The enterprise as the applicant of its cases, as its first certificate acts.
pub fn applicant_of(e: &tongban_domain::Enterprise) -> tongban_cases::Applicant {
    tongban_cases::Applicant::Enterprise {
        id: e.id.clone(),
        actor: format!("enterprise:{}/cert:01", e.credit_code.as_str()),
    }
}

/// The licence the officers' workflow tests handle.
pub const LICENCE_ITEM: &str = "solid-waste-cross-storage";

/// A submitted application of 一般固体废物跨省级行政区域贮存、处置审批 by a new unit `n` of
/// `district`, with its three materials; returns (applicant, case id).
pub async fn filed_application(
    state: &AppState,
    n: usize,
    district: &str,
) -> (tongban_cases::Applicant, String) {
    let e = registered(
        state,
        &format!("ent-sw-{n}"),
        &format!("91{district}MB{n:07}"),
        &format!("上海示范热电{n:03}有限公司"),
        district,
    )
    .await;
    file_application(state, &e).await
}

/// Enterprise `e` files the example application with its three materials, as its certificate
/// would; returns (applicant, case id).
pub async fn file_application(
    state: &AppState,
    e: &tongban_domain::Enterprise,
) -> (tongban_cases::Applicant, String) {
    let item = state.items.get(LICENCE_ITEM).unwrap();
    let me = applicant_of(e);
    let id = tongban_cases::start(&state.store, item, &me, &Default::default())
        .await
        .unwrap();
    for m in [
        "application_form",
        "transport_contract",
        "receiver_contract",
    ] {
        tongban_cases::materials::attach(
            &state.store,
            &state.files,
            item,
            &me,
            &id,
            tongban_cases::materials::Target::Material(m),
            &format!("{m}.pdf"),
            bytes::Bytes::from(format!("%PDF-1.7\n% {m}\n").into_bytes()),
        )
        .await
        .unwrap();
    }
    let mut data = tongban_items::solid_waste::example_application();
    data.set("unit_name", &e.name);
    data.set("credit_code", e.credit_code.as_str());
    tongban_cases::workflow::submit(&state.desk(), item, &me, &id, &data)
        .await
        .unwrap();
    (me, id)
}
