//! The real `tongban` binary, started as a user would, talked to over loopback.
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tongban_store::{Store, StoreOptions, enterprises};

mod common;
use common::{BIN, announced_url, tongban};

struct Server {
    child: Child,
    base: String,
    stdout: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Starts `tongban serve` and waits for the line that gives its address.
    fn start(mut cmd: Command) -> Server {
        let mut child = cmd
            .arg("serve")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if let Some(url) = announced_url(&line) {
                    let _ = tx.send(url);
                }
                sink.lock().unwrap().push(line);
            }
        });
        let base = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("server announces its address");
        Server {
            child,
            base,
            stdout: lines,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn terminate(&mut self) -> std::process::ExitStatus {
        kill(Pid::from_raw(self.child.id() as i32), Signal::SIGTERM).unwrap();
        self.wait(Duration::from_secs(30))
            .expect("server exits after SIGTERM")
    }

    fn wait(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

/// Opens the login page as a browser would and returns the CSRF token its cookie carries.
async fn csrf_token(server: &Server) -> String {
    let page = reqwest::get(server.url("/workbench/login")).await.unwrap();
    let cookie = page.headers()["set-cookie"].to_str().unwrap().to_string();
    let token = cookie
        .split(';')
        .next()
        .unwrap()
        .strip_prefix("tongban_csrf=")
        .unwrap()
        .to_string();
    assert!(
        page.text().await.unwrap().contains(&token),
        "the form carries the token"
    );
    token
}

/// Logs in on a certificate login page as a person would: takes the CSRF cookie and the challenge
/// from `page`, has `tongban cert sign` (with `signer`, e.g. `["--credit-code", C]`) sign the
/// challenge with `key`, and posts `pem` and the signature to `action`. Returns the cookies to
/// send afterwards.
async fn certificate_login(
    server: &Server,
    dir: &Path,
    page: &str,
    action: &str,
    pem: &str,
    key: &Path,
    signer: &[&str],
) -> String {
    let page = reqwest::get(server.url(page)).await.unwrap();
    let cookie = page.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let token = cookie.strip_prefix("tongban_csrf=").unwrap().to_string();
    let body = page.text().await.unwrap();
    let challenge = body
        .split("name=\"challenge\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let signed = tongban(dir)
        .args(["cert", "sign", "--challenge", &challenge, "--key"])
        .arg(key)
        .args(signer)
        .output()
        .unwrap();
    assert!(
        signed.status.success(),
        "{}",
        String::from_utf8_lossy(&signed.stderr)
    );
    let signature = String::from_utf8(signed.stdout).unwrap().trim().to_string();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let login = client
        .post(server.url(action))
        .header("cookie", &cookie)
        .form(&[
            ("certificate", pem),
            ("challenge", challenge.as_str()),
            ("signature", signature.as_str()),
            ("_csrf", token.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 303, "{}", login.text().await.unwrap());
    let session = login.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    format!("{cookie}; {session}")
}

/// The page at `path` fetched with `cookies`.
async fn page_with(server: &Server, path: &str, cookies: &str) -> String {
    reqwest::Client::new()
        .get(server.url(path))
        .header("cookie", cookies)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn serves_the_portal_on_the_embedded_default_and_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(tongban(dir.path()));

    let home = reqwest::get(server.url("/")).await.unwrap();
    assert_eq!(home.status(), 200);
    let body = home.text().await.unwrap();
    assert!(body.contains("上海市生态环境局") && body.contains("一网通办"));

    let ready = reqwest::get(server.url("/readyz")).await.unwrap();
    assert_eq!(ready.status(), 200);
    let json: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(json["store"], "SQLite");

    assert!(
        dir.path().join("data/tongban.db").is_file(),
        "the data directory holds the SQLite database"
    );
    let printed = server.stdout.lock().unwrap().join("\n");
    assert!(
        printed.contains("/workbench/login") && printed.contains("shi.shouli"),
        "{printed}"
    );
    assert!(
        printed.contains("91310115MA1FL8XQ34"),
        "demo enterprises are listed: {printed}"
    );

    assert!(server.terminate().success());
}

/// Logs in demo officer `username` with the password the server printed on first start;
/// returns the `cookie` header (CSRF and session) and the CSRF token for forms.
async fn demo_officer(server: &Server, username: &str) -> (String, String) {
    let printed = server.stdout.lock().unwrap().join("\n");
    let password = printed
        .split("密码均为 ")
        .nth(1)
        .unwrap()
        .split('，')
        .next()
        .unwrap()
        .to_string();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let token = csrf_token(server).await;
    let csrf = format!("tongban_csrf={token}");
    let login = client
        .post(server.url("/workbench/login"))
        .header("cookie", &csrf)
        .form(&[
            ("username", username),
            ("password", password.as_str()),
            ("_csrf", token.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 303);
    let session = login.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    (format!("{csrf}; {session}"), token)
}

/// The demo password printed on first start lets an officer into the workbench.
#[tokio::test]
async fn the_printed_demo_login_works() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(tongban(dir.path()));
    let (cookies, _) = demo_officer(&server, "mh.shencha").await;
    let body = page_with(&server, "/workbench", &cookies).await;
    assert!(
        body.contains("闵行区生态环境局") && body.contains("审核、审批"),
        "{body}"
    );
    // The demo filed last year's annual reports; 闵行's officer sees 闵行's one.
    let reports = page_with(
        &server,
        "/workbench/reports/radiation-annual-report",
        &cookies,
    )
    .await;
    assert!(
        reports.contains("共 1 份") && reports.contains("上海申城固废资源利用有限公司"),
        "{reports}"
    );
    let (city, _) = demo_officer(&server, "shi.shencha").await;
    let all = page_with(&server, "/workbench/reports/radiation-annual-report", &city).await;
    assert!(all.contains("共 4 份"), "{all}");
    assert!(server.terminate().success());
}

#[tokio::test]
async fn serves_the_same_on_postgresql() {
    let Some(db) = tongban_store::testing::postgres("serves_the_same_on_postgresql").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = tongban(dir.path());
    cmd.env("TONGBAN_DATABASE_URL", &db.url);
    let mut server = Server::start(cmd);
    let ready: serde_json::Value = reqwest::get(server.url("/readyz"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["store"], "PostgreSQL");
    let home = reqwest::get(server.url("/"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(home.contains("上海市生态环境局"));
    assert!(
        !dir.path().join("data/tongban.db").exists(),
        "no SQLite file when PostgreSQL is configured"
    );
    assert!(server.terminate().success());
}

/// SIGTERM while a request is being received: the request completes, then the process exits 0.
#[tokio::test]
async fn sigterm_finishes_in_flight_requests_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(tongban(dir.path()));
    let addr = server.base.trim_start_matches("http://").to_string();

    let token = csrf_token(&server).await;
    let body = format!("username=pd.shouli&password=wrong-password&_csrf={token}");
    let (first, rest) = body.split_at(20);
    let mut conn = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /workbench/login HTTP/1.1\r\nHost: {addr}\r\nCookie: tongban_csrf={token}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    conn.write_all(first.as_bytes()).await.unwrap();
    conn.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    kill(Pid::from_raw(server.child.id() as i32), Signal::SIGTERM).unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "the server waits for the request in flight"
    );
    // New connections are no longer accepted while it drains.
    assert!(reqwest::get(server.url("/healthz")).await.is_err());

    conn.write_all(rest.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), conn.read_to_end(&mut response))
        .await
        .unwrap()
        .unwrap();
    let response = String::from_utf8_lossy(&response);
    assert!(response.starts_with("HTTP/1.1 401"), "{response}");
    assert!(response.contains("用户名或密码错误"));

    let status = server
        .wait(Duration::from_secs(30))
        .expect("exits once the request is done");
    assert!(status.success(), "{status:?}");
}

#[test]
fn demo_reseeds_without_duplicating() {
    let dir = tempfile::tempdir().unwrap();
    let run = |cmd: &mut Command| {
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let first = run(tongban(dir.path()).arg("demo"));
    let second = run(tongban(dir.path()).arg("demo"));
    let password = |s: &str| {
        s.split("密码均为 ")
            .nth(1)
            .unwrap()
            .split('，')
            .next()
            .unwrap()
            .to_string()
    };
    assert_ne!(
        password(&first),
        password(&second),
        "each reseed makes a new password"
    );

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let url = format!("sqlite://{}", dir.path().join("data/tongban.db").display());
        let store = Store::open(&url, StoreOptions::default()).await.unwrap();
        assert_eq!(enterprises::count(&store).await.unwrap(), 5);
        // One primary certificate each, reused across reseeds.
        for e in enterprises::list(&store).await.unwrap() {
            let certs = tongban_store::certificates::of_enterprise(&store, &e.id)
                .await
                .unwrap();
            assert_eq!(certs.len(), 1, "{}", e.name);
            assert_eq!(
                certs[0].role,
                tongban_domain::certificate::CertificateRole::Primary
            );
        }
        assert_eq!(
            tongban_store::officers::list(&store).await.unwrap().len(),
            8
        );
        // The demo's annual reports were filed once, not again on the reseed.
        let (_, reports) = tongban_store::case_index::query(
            &store,
            &tongban_store::case_index::IndexQuery {
                item_id: "radiation-annual-report".into(),
                ..Default::default()
            },
            0,
            100,
        )
        .await
        .unwrap();
        assert_eq!(reports, 4);
    });
}

#[test]
fn migrate_reports_what_it_applied() {
    let dir = tempfile::tempdir().unwrap();
    let status = tongban(dir.path())
        .args(["migrate", "--status"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&status.stdout).contains("未执行"));
    let applied = tongban(dir.path()).arg("migrate").output().unwrap();
    let text = String::from_utf8_lossy(&applied.stdout);
    assert!(applied.status.success());
    let all = tongban_store::migrations::MIGRATIONS;
    assert!(
        text.contains(&format!("已执行 {} 个迁移", all.len())),
        "{text}"
    );
    for m in all {
        assert!(text.contains(m.name), "{text}");
    }
    let again = tongban(dir.path()).arg("migrate").output().unwrap();
    assert!(String::from_utf8_lossy(&again.stdout).contains("已执行 0 个迁移"));
}

#[test]
fn a_file_put_twice_is_stored_once_and_corruption_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let upload = dir.path().join("营业执照.jpg");
    std::fs::write(&upload, b"\xff\xd8\xff\xe0 scanned licence").unwrap();
    let put = |expect: &str| {
        let out = tongban(dir.path())
            .args(["files", "put"])
            .arg(&upload)
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(out.status.success() && text.contains(expect), "{text}");
        text.split_whitespace().next().unwrap().to_string()
    };
    let digest = put("已保存");
    assert_eq!(put("未重复保存"), digest);
    let object = dir
        .path()
        .join("data/files/sm3")
        .join(&digest[..2])
        .join(&digest);
    assert!(object.is_file());
    assert_eq!(
        std::fs::read_dir(dir.path().join("data/files/sm3"))
            .unwrap()
            .count(),
        1
    );

    let ok = tongban(dir.path())
        .args(["files", "check"])
        .output()
        .unwrap();
    assert!(ok.status.success() && String::from_utf8_lossy(&ok.stdout).contains("全部完好"));

    std::fs::write(&object, b"\xff\xd8\xff\xe0 tampered licence").unwrap();
    let bad = tongban(dir.path())
        .args(["files", "check"])
        .output()
        .unwrap();
    assert!(!bad.status.success(), "a corrupted store fails the check");
    assert!(String::from_utf8_lossy(&bad.stdout).contains(&format!("已损坏：{digest}")));
}

#[test]
fn help_lists_the_commands() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    for cmd in ["serve", "migrate", "demo", "files"] {
        assert!(text.contains(cmd), "{text}");
    }
}

#[test]
fn a_bad_configuration_is_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tongban.toml"), "log_format = \"xml\"\n").unwrap();
    let out = tongban(dir.path()).arg("migrate").output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("log_format 只能是 text 或 json"));
    std::fs::write(dir.path().join("tongban.toml"), "log_format = \"json\"\n").unwrap();
    // Variables that share the prefix but are not settings do not trip the unknown-key check.
    let out = tongban(dir.path())
        .arg("migrate")
        .env("TONGBAN_LOG", "warn")
        .env("TONGBAN_TEST_POSTGRES_URL", "postgres://elsewhere/x")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(dir.path().join("tongban.toml"), "listen_port = 1\n").unwrap();
    let out = tongban(dir.path()).arg("migrate").output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("listen_port"));
}

/// A demo enterprise logs in as a user would: the certificate from the demo directory, the
/// challenge from the login page signed with `tongban cert sign`.
#[tokio::test]
async fn a_demo_enterprise_logs_in_with_the_cli_signer() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(tongban(dir.path()));
    let code = "91310115MA1FL8XQ34";
    let certs = dir.path().join("data/demo-certs");
    let pem = std::fs::read_to_string(certs.join(format!("{code}.cert.pem"))).unwrap();
    let key = certs.join(format!("{code}.key.pem"));
    let cookies = certificate_login(
        &server,
        dir.path(),
        "/login/enterprise",
        "/login/enterprise",
        &pem,
        &key,
        &["--credit-code", code],
    )
    .await;
    let home = page_with(&server, "/enterprise", &cookies).await;
    assert!(
        home.contains("上海浦江辐射技术有限公司")
            && home.contains("主证书")
            && home.contains("副证书管理"),
        "{home}"
    );
    assert!(server.terminate().success());
}

/// An officer gets a certificate with `tongban cert issue-officer` and logs in to the workbench
/// with it, signing the page's challenge with `tongban cert sign --username`.
#[tokio::test]
async fn an_officer_logs_in_with_a_certificate_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(tongban(dir.path()));
    let issued = tongban(dir.path())
        .args([
            "cert",
            "issue-officer",
            "--username",
            "pd.shencha",
            "--out",
            "officer-certs",
        ])
        .output()
        .unwrap();
    assert!(
        issued.status.success(),
        "{}",
        String::from_utf8_lossy(&issued.stderr)
    );
    let pem =
        std::fs::read_to_string(dir.path().join("officer-certs/pd.shencha.cert.pem")).unwrap();
    let key = dir.path().join("officer-certs/pd.shencha.key.pem");
    let cookies = certificate_login(
        &server,
        dir.path(),
        "/workbench/login",
        "/workbench/login/certificate",
        &pem,
        &key,
        &["--username", "pd.shencha"],
    )
    .await;
    assert!(
        page_with(&server, "/workbench", &cookies)
            .await
            .contains("浦东审核员")
    );

    // The key is lost: revoke that certificate. Its session ends and it no longer logs in.
    let printed = String::from_utf8(issued.stdout).unwrap();
    let serial = printed
        .split("序列号 ")
        .nth(1)
        .and_then(|s| s.split('）').next())
        .expect("the serial is printed");
    let revoked = tongban(dir.path())
        .args(["cert", "revoke-officer", "--serial", serial])
        .output()
        .unwrap();
    assert!(revoked.status.success());
    assert!(String::from_utf8_lossy(&revoked.stdout).contains("pd.shencha"));
    assert!(
        !page_with(&server, "/workbench", &cookies)
            .await
            .contains("浦东审核员"),
        "the session opened with the revoked certificate has ended"
    );
    let again = tongban(dir.path())
        .args(["cert", "revoke-officer", "--serial", serial])
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("不存在或已吊销"));
    assert!(server.terminate().success());
}

#[tokio::test]
async fn a_person_signs_on_through_the_city_platform_configured_in_tongban_toml() {
    let dir = tempfile::tempdir().unwrap();
    // The platform must know our callback before the server starts: reserve a port for it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let callback = format!("http://127.0.0.1:{port}/login/city/callback");
    let accounts = serde_json::json!({ "wangfang": { "password": "platform-pw", "claims": {
        "name": "王芳", "phone_number": "13812345678", "phone_number_verified": true } } });
    let Some(peer) =
        tongban_identity::testing::CityPeer::start(&callback, "toml-secret", &accounts).await
    else {
        return;
    };
    std::fs::write(
        dir.path().join("tongban.toml"),
        format!(
            "[city_login]\nissuer = \"{}\"\nclient_id = \"tongban\"\nclient_secret = \"toml-secret\"\nredirect_url = \"{callback}\"\n",
            peer.issuer
        ),
    )
    .unwrap();
    let mut cmd = tongban(dir.path());
    cmd.env("TONGBAN_LISTEN", format!("127.0.0.1:{port}"));
    let server = Server::start(cmd);

    // A browser that follows every redirect between Tongban and the platform, keeping cookies.
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let login = browser
        .get(server.url("/login/individual"))
        .send()
        .await
        .unwrap();
    assert!(
        login
            .text()
            .await
            .unwrap()
            .contains("一网通办统一身份认证登录")
    );
    let platform = browser.get(server.url("/login/city")).send().await.unwrap();
    let form_url = platform.url().clone();
    assert!(form_url.as_str().starts_with(&peer.issuer), "{form_url}");
    let form = platform.text().await.unwrap();
    let action = form
        .split("action=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let link = browser
        .post(form_url.join(action).unwrap())
        .form(&[("login", "wangfang"), ("password", "platform-pw")])
        .send()
        .await
        .unwrap();
    assert_eq!(link.url().path(), "/login/city/link", "back at Tongban");
    let page = link.text().await.unwrap();
    assert!(
        page.contains("王芳") && page.contains("138****5678"),
        "{page}"
    );
    let token = page
        .split("name=\"_csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    // This configuration asks for no identity number: the person types it.
    assert!(page.contains("name=\"id_number\""));
    let id_number = tongban_domain::id_number::IdNumber::complete("31011519850612002").unwrap();
    let me = browser
        .post(server.url("/login/city/link/new"))
        .form(&[("_csrf", token), ("id_number", id_number.as_str())])
        .send()
        .await
        .unwrap();
    let status = me.status();
    let url = me.url().clone();
    let body = me.text().await.unwrap();
    assert_eq!(url.path(), "/me", "{status} {body}");
    assert!(body.contains("王芳"));
}

#[tokio::test]
async fn the_scheduler_deletes_expired_drafts_also_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = |dir: &Path| {
        let mut cmd = tongban(dir);
        cmd.env("TONGBAN_HOUSEKEEPING_SECS", "1");
        Server::start(cmd)
    };
    let mut running = server(dir.path());
    let url = format!("sqlite://{}", dir.path().join("data/tongban.db").display());
    let store = Store::open(&url, StoreOptions::default()).await.unwrap();
    let item = tongban_engine::Item::load(
        include_str!("../crates/items/specs/radiation-self-check.toml"),
        &tongban_engine::RuleRegistry::standard(),
    )
    .unwrap();
    let me = tongban_cases::Applicant::Individual { id: "p1".into() };
    let known = Default::default();
    let fresh = tongban_cases::start(&store, &item, &me, &known)
        .await
        .unwrap();
    let stale = tongban_cases::start(&store, &item, &me, &known)
        .await
        .unwrap();
    assert!(running.terminate().success());

    // While the server is down, one draft passes its expiry.
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    sqlx::query("UPDATE cases SET expires_at = $1 WHERE id = $2")
        .bind(tongban_domain::Timestamp::now().millis() - 1)
        .bind(&stale)
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let _restarted = server(dir.path());
    let deadline = Instant::now() + Duration::from_secs(30);
    while tongban_cases::open(&store, &me, &stale).await.is_ok() {
        assert!(
            Instant::now() < deadline,
            "the expired draft is still there"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        tongban_cases::open(&store, &me, &fresh).await.is_ok(),
        "a draft within its fifteen days stays"
    );
}

#[test]
fn doc_verify_accepts_a_sealed_pdf_and_refuses_it_once_altered() {
    use tongban_documents::signature::Signer;
    use tongban_documents::{Renderer, StampKind, Template, samples};

    let dir = tempfile::tempdir().unwrap();
    let unsigned = dir.path().join("unsigned.pdf");
    let renderer = Renderer::new();
    let rendered = renderer
        .render(Template::Licence, &samples::licence(), None)
        .unwrap();
    std::fs::write(&unsigned, &rendered.pdf).unwrap();
    // The first run creates the keys; an unsigned file is refused.
    let out = tongban(dir.path())
        .args(["doc", "verify"])
        .arg(&unsigned)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("没有电子签章"));

    // Sealed with the bureau's key from keys_dir, as the server seals a licence.
    let pem = std::fs::read_to_string(dir.path().join("data/keys/seal.key.pem")).unwrap();
    let seal = tongban_crypto::Sm2KeyPair::from_pkcs8_pem(&pem).unwrap();
    let signer = Signer {
        key: &seal,
        name: "上海市生态环境局".into(),
        role: "issuer".into(),
        method: "电子印章".into(),
        certificate: None,
    };
    let sealed = tongban_documents::sign_in_slot(
        &renderer,
        &rendered.pdf,
        &rendered.slots[0],
        &signer,
        StampKind::Seal,
        "电子印章",
        at_time(),
    )
    .unwrap();
    let file = dir.path().join("licence.pdf");
    std::fs::write(&file, &sealed).unwrap();
    let out = tongban(dir.path())
        .args(["doc", "verify"])
        .arg(&file)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("本局电子印章") && text.contains("文件完整，全部签章有效"),
        "{text}"
    );

    // One byte of the licence changed after sealing.
    let mut altered = sealed.clone();
    let at = rendered.pdf.len() / 2;
    altered[at] ^= 0x01;
    std::fs::write(&file, &altered).unwrap();
    let out = tongban(dir.path())
        .args(["doc", "verify"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success(), "an altered file passes");
    assert!(String::from_utf8_lossy(&out.stderr).contains("签章无效"));

    // Sealed by someone else's key: intact, but not the bureau's.
    let stranger = tongban_crypto::Sm2KeyPair::generate();
    let forged = tongban_documents::sign_in_slot(
        &renderer,
        &rendered.pdf,
        &rendered.slots[0],
        &Signer {
            key: &stranger,
            ..signer
        },
        StampKind::Seal,
        "电子印章",
        at_time(),
    )
    .unwrap();
    std::fs::write(&file, &forged).unwrap();
    let out = tongban(dir.path())
        .args(["doc", "verify"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("身份无法确认"));
}

/// An enterprise signs a prepared form's digest with `tongban cert sign-document` (the
/// 一证通 client's part), the signature is written in, and `tongban doc verify` traces it to the
/// enterprise's certificate; a signature over another digest is refused.
#[tokio::test]
async fn an_enterprise_signs_a_form_digest_with_the_cli_and_doc_verify_names_it() {
    use base64::Engine as _;
    use tongban_documents::signature::SignerInfo;
    use tongban_documents::{Renderer, StampKind, Template, samples};

    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(tongban(dir.path()));
    assert!(server.terminate().success());
    let code = "91310115MA1FL8XQ34";
    let certs = dir.path().join("data/demo-certs");
    let pem = std::fs::read_to_string(certs.join(format!("{code}.cert.pem"))).unwrap();
    let ca_pem = std::fs::read_to_string(dir.path().join("data/keys/ca.cert.pem")).unwrap();
    let ca_key = std::fs::read_to_string(dir.path().join("data/keys/ca.key.pem")).unwrap();
    let ca = tongban_crypto::cert::Ca::from_pem(&ca_pem, &ca_key).unwrap();
    let public_key = ca
        .verify(&pem, std::time::SystemTime::now())
        .unwrap()
        .public_key;

    let renderer = Renderer::new();
    let form = samples::application_form();
    let rendered = renderer.render(Template::Form, &form, None).unwrap();
    let slot = rendered
        .slots
        .iter()
        .find(|s| s.role == form.signatures[0].role)
        .unwrap();
    let prepared = tongban_documents::prepare_in_slot(
        &renderer,
        &rendered.pdf,
        slot,
        &SignerInfo {
            public_key: public_key.clone(),
            name: "上海浦江辐射技术有限公司".into(),
            role: slot.role.clone(),
            method: "数字证书".into(),
            certificate: Some(pem.clone()),
        },
        StampKind::Seal,
        "数字证书签章",
        // Now: the certificate is checked at the time the signature records.
        chrono::Local::now().fixed_offset(),
    )
    .unwrap();
    let sign = |digest: &str| {
        let out = tongban(dir.path())
            .args(["cert", "sign-document", "--digest", digest, "--key"])
            .arg(certs.join(format!("{code}.key.pem")))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        base64::engine::general_purpose::STANDARD
            .decode(String::from_utf8(out.stdout).unwrap().trim())
            .unwrap()
    };
    let other = tongban_crypto::sm3(b"another document").to_hex();
    assert!(
        prepared.clone().finish(&public_key, &sign(&other)).is_err(),
        "a signature over another digest is refused"
    );
    let signed = prepared
        .clone()
        .finish(&public_key, &sign(&prepared.digest().to_hex()))
        .unwrap();
    let file = dir.path().join("form.pdf");
    std::fs::write(&file, &signed).unwrap();
    let out = tongban(dir.path())
        .args(["doc", "verify"])
        .arg(&file)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains(&format!("数字证书（上海浦江辐射技术有限公司，{code}）"))
            && text.contains("文件完整，全部签章有效"),
        "{text}"
    );
}

fn at_time() -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339("2026-11-23T10:00:00+08:00").unwrap()
}

/// A batch render survives the server being killed mid-way: after the restart it carries on
/// and the zip holds every document exactly once.
#[tokio::test]
async fn a_batch_render_killed_mid_way_resumes_after_a_restart_with_every_file_once() {
    // 12 by default; `TONGBAN_TEST_BATCH_DOCS=1000 cargo test --release --test binary
    // a_batch_render` runs it at the scale issue 5 names.
    let total: usize = std::env::var("TONGBAN_TEST_BATCH_DOCS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12);
    let dir = tempfile::tempdir().unwrap();
    // A short job lease, so the restarted server takes the dead one's job over within seconds.
    let server = |dir: &Path| {
        let mut cmd = tongban(dir);
        cmd.env("TONGBAN_JOB_LEASE_SECS", "2");
        Server::start(cmd)
    };
    let mut first = server(dir.path());
    let (cookies, token) = demo_officer(&first, "shi.shouli").await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let started = client
        .post(first.url("/workbench/batches"))
        .header("cookie", &cookies)
        .form(&[
            ("source", "sample_reports"),
            ("count", &total.to_string()),
            ("_csrf", token.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), 303);
    let page = started.headers()["location"].to_str().unwrap().to_string();

    let progress = |server: &Server| {
        let request = client
            .get(server.url(&format!("{page}/progress")))
            .header("cookie", &cookies);
        async move {
            let json: serde_json::Value = request.send().await.unwrap().json().await.unwrap();
            (
                json["done"].as_u64().unwrap() as usize,
                json["state"].as_str().unwrap().to_string(),
            )
        }
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    let done_before = loop {
        let (done, state) = progress(&first).await;
        assert_ne!(
            state, "done",
            "the batch finished before it could be interrupted"
        );
        if done > 0 {
            break done;
        }
        assert!(Instant::now() < deadline, "no progress");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(done_before < total);
    // A crash, not a shutdown: the job is left claimed and half done.
    kill(Pid::from_raw(first.child.id() as i32), Signal::SIGKILL).unwrap();
    first.wait(Duration::from_secs(10)).expect("killed");

    let second = server(dir.path());
    let (done, _) = progress(&second).await;
    assert!(
        done >= done_before,
        "recorded progress survives: {done} < {done_before}"
    );
    let deadline = Instant::now() + Duration::from_secs(90 + total as u64);
    loop {
        let (done, state) = progress(&second).await;
        assert!(done <= total, "counted {done} of {total}");
        if state == "done" {
            assert_eq!(done, total);
            break;
        }
        assert_ne!(state, "failed");
        assert!(
            Instant::now() < deadline,
            "the batch did not resume: {done} / {total}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let detail = page_with(&second, &page, &cookies).await;
    assert!(
        detail.contains(&format!("已生成 {total} / {total} 份")) && detail.contains("已完成"),
        "{detail}"
    );
    let zip = client
        .get(second.url(&format!("{page}/zip")))
        .header("cookie", &cookies)
        .send()
        .await
        .unwrap();
    assert_eq!(zip.status(), 200);
    let bytes = zip.bytes().await.unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let names: std::collections::BTreeSet<String> = (0..archive.len())
        .map(|i| archive.by_index(i).unwrap().name().unwrap().to_string())
        .collect();
    assert_eq!(archive.len(), total, "every document once");
    assert_eq!(names.len(), total, "no name twice");
    let expected: std::collections::BTreeSet<String> = (1..=total)
        .map(|i| format!("示例年度报告-{i:04}.pdf"))
        .collect();
    assert_eq!(names, expected);
}

/// With demo data and no `[licence_registry]`, the demo licences built into the binary prefill
/// the annual report: the renewed licence, not the expired one, and the modules it permits.
#[tokio::test]
async fn the_demo_annual_report_starts_from_the_enterprise_licence() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(tongban(dir.path()));
    let code = "91310115MA1FL8XQ34";
    let certs = dir.path().join("data/demo-certs");
    let pem = std::fs::read_to_string(certs.join(format!("{code}.cert.pem"))).unwrap();
    let cookies = certificate_login(
        &server,
        dir.path(),
        "/login/enterprise",
        "/login/enterprise",
        &pem,
        &certs.join(format!("{code}.key.pem")),
        &["--credit-code", code],
    )
    .await;
    let csrf = cookies
        .split("tongban_csrf=")
        .nth(1)
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let notice = page_with(&server, "/items/radiation-annual-report/apply", &cookies).await;
    let hidden = |name: &str| {
        notice
            .split(&format!("name=\"{name}\" value=\""))
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string()
    };
    let (shown_at, token) = (hidden("shown_at"), hidden("token"));
    // The notice's countdown (5 s) is held by the server too.
    tokio::time::sleep(Duration::from_millis(5200)).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let started = client
        .post(server.url("/items/radiation-annual-report/apply"))
        .header("cookie", &cookies)
        .form(&[
            ("_csrf", csrf.as_str()),
            ("shown_at", shown_at.as_str()),
            ("token", token.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), 303, "{}", started.text().await.unwrap());
    let edit = started.headers()["location"].to_str().unwrap().to_string();
    let form = page_with(&server, &edit, &cookies).await;
    for expected in [
        "value=\"沪环辐证[10571]\"",
        "value=\"2023-06-09\"",
        "value=\"2028-06-08\"",
        "辐射安全与环境保护管理领导小组",
        "value=\"021-50806618\"",
        "value=\"sources\" checked",
        "value=\"devices\" checked",
        "value=\"unsealed\">",
        // The licence's projects are the choices of 未按规定完成自主验收并公示的项目.
        "<option value=\"Ⅴ类放射源（料位计）使用项目\"",
        "<option value=\"其他项目（手动填写）\"",
    ] {
        assert!(form.contains(expected), "{expected} in {form}");
    }
    assert!(!form.contains("沪环辐证[00571]"), "not the expired licence");
    assert!(server.terminate().success());
}
