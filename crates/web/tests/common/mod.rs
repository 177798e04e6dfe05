//! What the web tests share: a router on a test store, and a browser that keeps cookies and
//! sends forms with the page's CSRF token.
#![allow(dead_code)]

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
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
    AppState {
        store: db.store.clone(),
        files,
        config: WebConfig::default(),
        ca: std::sync::Arc::new(
            tongban_crypto::cert::Ca::create("通办测试CA", std::time::Duration::from_secs(86400))
                .unwrap(),
        ),
        fields: std::sync::Arc::new(
            tongban_crypto::FieldCipher::new(&keys, "k1", &tongban_crypto::field::new_key_hex())
                .unwrap(),
        ),
        calendar: std::sync::Arc::new(tongban_domain::calendar::WorkCalendar::official()),
    }
}

pub fn router(db: &TestStore, files_dir: &std::path::Path) -> Router {
    app(state(db, files_dir))
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
