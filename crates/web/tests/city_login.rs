//! Sign-on through the city platform's unified login, against a real OpenID Connect provider:
//! `peers/city-login` (panva/oidc-provider under Node.js, installed by `.ci/run`). The browser
//! leaves Tongban for the platform's login page, signs in there, and comes back; every hop is
//! a real HTTP exchange except Tongban's own, which runs in-process.
use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use serde_json::json;
use tongban_identity::city_login::{CityLogin, CityLoginConfig};
use tongban_identity::testing::CityPeer;
use tongban_store::store_test;
use tongban_store::testing::TestStore;

mod common;
use common::*;

const CALLBACK: &str = "http://tongban.test/login/city/callback";
const SECRET: &str = "peer-client-secret";

fn id_number(first17: &str) -> String {
    tongban_domain::id_number::IdNumber::complete(first17)
        .unwrap()
        .as_str()
        .to_string()
}

/// The platform's accounts: a person whose phone is verified and whose identity number is
/// released, one with an unverified phone, and one whose identity number we register locally.
fn accounts() -> serde_json::Value {
    json!({
        "wangfang": { "password": "platform-pw", "claims": {
            "name": "王芳", "phone_number": "13812345678", "phone_number_verified": true,
            "id_card": id_number("31011519850612002") } },
        "zhaolei": { "password": "platform-pw", "claims": {
            "name": "赵磊", "phone_number": "13600000000", "phone_number_verified": false } },
        "liming": { "password": "platform-pw", "claims": {
            "name": "李明", "phone_number": "13988887777", "phone_number_verified": true,
            "id_card": id_number("31010419900307123") } },
    })
}

async fn start_peer() -> Option<CityPeer> {
    CityPeer::start(CALLBACK, SECRET, &accounts()).await
}

/// The platform peer, and Tongban configured to sign on through it (the peer and the files'
/// directory live as long as the test holds them).
async fn platform_app(db: &TestStore) -> Option<(CityPeer, tempfile::TempDir, Router)> {
    let peer = start_peer().await?;
    let dir = tempfile::tempdir().unwrap();
    let app = app_with(db, dir.path(), config(&peer.issuer, SECRET));
    Some((peer, dir, app))
}

fn config(issuer: &str, secret: &str) -> CityLoginConfig {
    CityLoginConfig {
        issuer: issuer.to_string(),
        client_id: "tongban".into(),
        client_secret: secret.into(),
        redirect_url: CALLBACK.into(),
        scopes: ["openid", "profile", "phone", "idcard"]
            .map(String::from)
            .to_vec(),
        id_number_claim: Some("id_card".into()),
        display_name: "一网通办统一身份认证".into(),
    }
}

fn app_with(db: &TestStore, dir: &std::path::Path, login: CityLoginConfig) -> Router {
    let mut state = state(db, dir);
    state.city_login = Some(Arc::new(CityLogin::new(login)));
    tongban_web::app(state)
}

/// The person's browser at the platform: keeps the platform's cookies, follows its redirects,
/// and fills in its login form. Returns where the platform finally sends the browser back to
/// Tongban (the callback path and query).
struct PlatformBrowser(reqwest::Client);

impl PlatformBrowser {
    fn new() -> Self {
        Self(
            reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        )
    }

    /// Follows the platform's redirects from `url` until it either shows a page or sends the
    /// browser back to Tongban.
    async fn follow(&self, mut url: String) -> Result<String, (u16, String)> {
        loop {
            if let Some(back) = url.strip_prefix("http://tongban.test") {
                return Ok(back.to_string());
            }
            let response = self.0.get(&url).send().await.unwrap();
            match response.headers().get("location") {
                Some(next) if response.status().is_redirection() => {
                    url = absolute(&url, next.to_str().unwrap());
                }
                _ => {
                    let status = response.status().as_u16();
                    return Err((status, format!("{url}\n{}", response.text().await.unwrap())));
                }
            }
        }
    }

    /// Signs in at the platform starting from the authorization URL Tongban sent us to.
    async fn sign_in(&self, authorize: &str, login: &str, password: &str) -> String {
        let (status, page) = self.follow(authorize.to_string()).await.unwrap_err();
        assert_eq!(status, 200, "the platform shows its login page: {page}");
        let (url, body) = page.split_once('\n').unwrap();
        assert!(body.contains("一网通办统一身份认证"), "{body}");
        let action = body
            .split("action=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap();
        let response = self
            .0
            .post(absolute(url, action))
            .form(&[("login", login), ("password", password)])
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_redirection(),
            "platform login accepted"
        );
        let next = absolute(url, response.headers()["location"].to_str().unwrap());
        self.follow(next)
            .await
            .expect("the platform sends the browser back")
    }
}

fn absolute(base: &str, location: &str) -> String {
    if location.starts_with("http") {
        return location.to_string();
    }
    let origin: String = base.splitn(4, '/').take(3).collect::<Vec<_>>().join("/");
    format!("{origin}{location}")
}

/// Leaves Tongban for the platform, signs in there as `login`, and returns to the callback.
async fn sign_on(b: &mut Browser, platform: &PlatformBrowser, login: &str) -> Page {
    let leave = b.get("/login/city").await;
    assert_eq!(leave.status, StatusCode::SEE_OTHER, "{}", leave.body);
    let back = platform
        .sign_in(&location(&leave), login, "platform-pw")
        .await;
    assert!(back.starts_with("/login/city/callback?"), "{back}");
    b.get(&back).await
}

store_test!(
    a_platform_person_creates_an_account_once_and_then_signs_straight_in,
    |db: TestStore| async move {
        let Some((peer, _dir, app)) = platform_app(&db).await else {
            return;
        };
        let mut b = Browser::new(&app);
        let login_page = b.get("/login/individual").await;
        assert!(login_page.body.contains("href=\"/login/city\""));
        assert!(login_page.body.contains("一网通办统一身份认证登录"));

        let leave = b.get("/login/city").await;
        let to = location(&leave);
        assert!(to.starts_with(&format!("{}/auth?", peer.issuer)), "{to}");
        for part in [
            "code_challenge_method=S256",
            "nonce=",
            "state=",
            "client_id=tongban",
        ] {
            assert!(
                to.contains(part),
                "authorization request carries {part}: {to}"
            );
        }
        assert!(b.cookies.contains_key("tongban_city_login"));

        let platform = PlatformBrowser::new();
        let back = platform.sign_in(&to, "wangfang", "platform-pw").await;
        let arrived = b.get(&back).await;
        assert_eq!(arrived.status, StatusCode::SEE_OTHER, "{}", arrived.body);
        assert_eq!(location(&arrived), "/login/city/link");
        assert!(
            !b.cookies.contains_key("tongban_session"),
            "not signed in before linking"
        );

        let link = b.get("/login/city/link").await;
        assert_eq!(link.status, StatusCode::OK);
        for text in [
            "首次使用一网通办统一身份认证登录",
            "王芳",
            "138****5678",
            "3101************",
        ] {
            assert!(
                link.body.contains(text),
                "link page shows {text}: {}",
                link.body
            );
        }
        assert!(!link.body.contains("13812345678"), "numbers are masked");

        // Every value came from the platform: nothing to type.
        let created = b.post_form("/login/city/link/new", "").await;
        assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
        assert_eq!(location(&created), "/me");
        assert!(
            !b.cookies.contains_key("tongban_city_login"),
            "sign-on cookie dropped"
        );
        let me = b.get("/me").await;
        assert!(
            me.body.contains("王芳") && me.body.contains("138****5678"),
            "{}",
            me.body
        );

        // The link page cannot be used twice.
        let again = b.post_form("/login/city/link/new", "").await;
        assert_eq!(again.status, StatusCode::BAD_REQUEST);
        assert!(again.body.contains("登录已超时或已完成"));

        // A new browser, same platform person: straight in, no second account.
        let mut other = Browser::new(&app);
        let arrived = sign_on(&mut other, &PlatformBrowser::new(), "wangfang").await;
        assert_eq!(location(&arrived), "/me");
        assert!(other.get("/me").await.body.contains("王芳"));

        // The person cannot log in with a password: the account has none.
        let pw = b
            .post_form(
                "/login/individual",
                "account=13812345678&password=anything1",
            )
            .await;
        assert_eq!(pw.status, StatusCode::UNAUTHORIZED);

        let log = tongban_store::audit::page(&db.store, 0, 100).await.unwrap();
        let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
        assert!(actions.contains(&"account_linked") && actions.contains(&"registered"));
        let via_platform = log
            .iter()
            .filter(|e| e.action == "login")
            .filter(|e| {
                serde_json::from_str::<serde_json::Value>(&e.detail).unwrap()["via"] == "city_login"
            })
            .count();
        assert_eq!(
            via_platform, 2,
            "the audit log says how the person signed in, each time"
        );
    }
);

store_test!(
    a_platform_person_links_an_existing_account_with_its_password,
    |db: TestStore| async move {
        let Some((_peer, _dir, app)) = platform_app(&db).await else {
            return;
        };
        let mut local = Browser::new(&app);
        let registered = local
            .post_form(
                "/register/individual",
                &format!(
                    "name=%E6%9D%8E%E6%98%8E&id_number={}&phone=13700001111&password=Huanbao2026&password_again=Huanbao2026",
                    id_number("31010419900307123")
                ),
            )
            .await;
        assert_eq!(registered.status, StatusCode::SEE_OTHER);
        // Another local account, whose identity number is not the platform person's.
        let other = local
            .post_form(
                "/register/individual",
                &format!(
                    "name=%E6%9D%8E%E6%98%8E&id_number={}&phone=13700002222&password=Huanbao2026&password_again=Huanbao2026",
                    id_number("31010419900307456")
                ),
            )
            .await;
        assert_eq!(other.status, StatusCode::SEE_OTHER);

        let mut b = Browser::new(&app);
        let arrived = sign_on(&mut b, &PlatformBrowser::new(), "liming").await;
        assert_eq!(location(&arrived), "/login/city/link");

        let wrong = b
            .post_form(
                "/login/city/link/existing",
                "account=13700001111&password=Wrong2026",
            )
            .await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
        assert!(
            wrong.body.contains("账号或密码错误") && wrong.body.contains("value=\"13700001111\"")
        );

        let not_theirs = b
            .post_form(
                "/login/city/link/existing",
                "account=13700002222&password=Huanbao2026",
            )
            .await;
        assert_eq!(not_theirs.status, StatusCode::CONFLICT);
        assert!(not_theirs.body.contains("与统一身份认证的实名信息不一致"));
        assert!(!b.cookies.contains_key("tongban_session"));

        // Creating a second account for the same person is refused, pointing at linking.
        let duplicate = b.post_form("/login/city/link/new", "").await;
        assert_eq!(duplicate.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(duplicate.body.contains("请在上方“绑定已有账号”"));

        let linked = b
            .post_form(
                "/login/city/link/existing",
                "account=13700001111&password=Huanbao2026",
            )
            .await;
        assert_eq!(linked.status, StatusCode::SEE_OTHER, "{}", linked.body);
        assert_eq!(location(&linked), "/me");
        assert!(b.get("/me").await.body.contains("137****1111"));

        let mut later = Browser::new(&app);
        let arrived = sign_on(&mut later, &PlatformBrowser::new(), "liming").await;
        assert_eq!(location(&arrived), "/me");
        assert!(later.get("/me").await.body.contains("137****1111"));
    }
);

store_test!(
    what_the_platform_does_not_vouch_for_is_typed_and_checked,
    |db: TestStore| async move {
        let Some((_peer, _dir, app)) = platform_app(&db).await else {
            return;
        };
        let mut b = Browser::new(&app);
        sign_on(&mut b, &PlatformBrowser::new(), "zhaolei").await;
        let link = b.get("/login/city/link").await;
        assert!(link.body.contains("赵磊"));
        assert!(
            link.body.contains("name=\"phone\"") && link.body.contains("name=\"id_number\""),
            "an unverified phone and a withheld identity number must be typed"
        );
        assert!(!link.body.contains("136****0000"));

        let bad = b
            .post_form(
                "/login/city/link/new",
                "id_number=310104199003071230&phone=136",
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            bad.body.contains("身份证号码：") && bad.body.contains("手机号码：应为11位手机号码")
        );
        assert!(
            bad.body.contains("value=\"310104199003071230\""),
            "what was typed is kept"
        );

        let ok = b
            .post_form(
                "/login/city/link/new",
                &format!(
                    "id_number={}&phone=13611112222",
                    id_number("31011019800101001")
                ),
            )
            .await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
        let me = b.get("/me").await;
        assert!(me.body.contains("赵磊") && me.body.contains("136****2222"));
    }
);

store_test!(
    forged_replayed_or_foreign_callbacks_sign_no_one_in,
    |db: TestStore| async move {
        let Some((_peer, _dir, app)) = platform_app(&db).await else {
            return;
        };

        // Someone else's callback URL opened in a browser that did not start the sign-on.
        let mut victim = Browser::new(&app);
        let leave = victim.get("/login/city").await;
        let back = PlatformBrowser::new()
            .sign_in(&location(&leave), "wangfang", "platform-pw")
            .await;
        let mut attacker = Browser::new(&app);
        let foreign = attacker.get(&back).await;
        assert_eq!(foreign.status, StatusCode::BAD_REQUEST);
        assert!(foreign.body.contains("登录已超时或已完成"));

        // The right browser with the state altered.
        let forged = victim.get(&back.replace("state=", "state=x")).await;
        assert_eq!(forged.status, StatusCode::BAD_REQUEST);
        assert!(!victim.cookies.contains_key("tongban_session"));

        // A sign-on whose callback was already used cannot be replayed.
        let mut b = Browser::new(&app);
        let leave = b.get("/login/city").await;
        let back = PlatformBrowser::new()
            .sign_in(&location(&leave), "wangfang", "platform-pw")
            .await;
        let cookie = b.cookies["tongban_city_login"].clone();
        assert_eq!(location(&b.get(&back).await), "/login/city/link");
        b.cookies.insert("tongban_city_login".into(), cookie);
        let replay = b.get(&back).await;
        assert_eq!(replay.status, StatusCode::BAD_REQUEST);

        // The person cancelled at the platform.
        let cancelled = b
            .get("/login/city/callback?error=access_denied&state=x")
            .await;
        assert_eq!(cancelled.status, StatusCode::UNAUTHORIZED);
        assert!(
            cancelled.body.contains("统一身份认证未通过")
                && cancelled.body.contains("使用账号密码登录")
        );
        for browser in [&victim, &attacker, &b] {
            assert!(
                !browser.cookies.contains_key("tongban_session"),
                "no one was signed in"
            );
        }
    }
);

store_test!(
    a_misconfigured_or_unreachable_platform_gets_a_clear_page,
    |db: TestStore| async move {
        let Some(peer) = start_peer().await else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        // The platform does not accept our client secret: it refuses the code exchange.
        let app = app_with(&db, dir.path(), config(&peer.issuer, "not-the-secret"));
        let mut b = Browser::new(&app);
        let arrived = sign_on(&mut b, &PlatformBrowser::new(), "wangfang").await;
        assert_eq!(arrived.status, StatusCode::UNAUTHORIZED);
        assert!(arrived.body.contains("统一身份认证未通过，请重新登录"));

        // Nothing listens where the platform should be.
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let gone = format!("http://{}", closed.local_addr().unwrap());
        drop(closed);
        let app = app_with(&db, dir.path(), config(&gone, SECRET));
        let down = Browser::new(&app).get("/login/city").await;
        assert_eq!(down.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(down.body.contains("统一身份认证平台暂时无法访问"));

        // Not configured at all: no button, no route.
        let plain = router(&db, dir.path());
        let mut p = Browser::new(&plain);
        assert!(
            !p.get("/login/individual")
                .await
                .body
                .contains("/login/city")
        );
        assert_eq!(p.get("/login/city").await.status, StatusCode::NOT_FOUND);
    }
);
