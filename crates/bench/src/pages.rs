//! Figure 2: requests per second of a logged-in portal page (我的办件 of a demo enterprise,
//! built from the store on every request: session, CSRF cookie, the case list), served by the
//! release `tongban serve`, beside nginx serving the same bytes as a static file. Both are
//! driven by `wrk` over loopback with the same threads, connections and duration, in rounds
//! that alternate so a noisy minute hurts both alike. Both log only warnings (nginx
//! `access_log off`), and each has the machine's two cores, shared with wrk.
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};
use base64::Engine as _;
use tongban_crypto::Sm2KeyPair;

use crate::peers::{self, median};
use crate::table::{Goal, Row};

const PAGE: &str = "/cases";

pub struct Sizes {
    pub rounds: usize,
    pub secs: u64,
    pub connections: usize,
}

/// A child process that is killed when dropped.
pub(crate) struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub async fn run(sizes: &Sizes) -> anyhow::Result<Vec<Row>> {
    let dir = tempfile::tempdir()?;
    let (_server, base) = start_tongban(dir.path())?;
    let cookie = log_in(&base, &dir.path().join("data/demo-certs")).await?;
    // No redirects followed: a session that did not take would answer with the login page.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let page = client
        .get(format!("{base}{PAGE}"))
        .header("cookie", &cookie)
        .send()
        .await?;
    if page.status() != 200 {
        bail!(
            "{PAGE} answered {} to the logged-in enterprise",
            page.status()
        );
    }
    let body = page.bytes().await?;
    let text = String::from_utf8_lossy(&body);
    if !text.contains("我的办件") {
        bail!("{PAGE} is not the logged-in case list");
    }
    println!("  {PAGE}: {} bytes, logged in", body.len());

    let root = dir.path().join("www");
    std::fs::create_dir_all(&root)?;
    std::fs::write(root.join("cases.html"), &body)?;
    let (_nginx, nginx_port) = start_nginx(dir.path(), &root)?;
    let static_url = format!("http://127.0.0.1:{nginx_port}/cases.html");
    let static_len = reqwest::get(&static_url).await?.bytes().await?.len();
    if static_len != body.len() {
        bail!(
            "nginx serves {static_len} bytes, not the page's {}",
            body.len()
        );
    }

    let (mut ours, mut theirs) = (vec![], vec![]);
    for _ in 0..sizes.rounds {
        ours.push(wrk(&format!("{base}{PAGE}"), &cookie, sizes)?);
        theirs.push(wrk(&static_url, &cookie, sizes)?);
    }
    let (ours, theirs) = (median(ours), median(theirs));
    println!("  requests/s: tongban {ours:.0}, nginx {theirs:.0}");
    Ok(vec![Row {
        figure: format!("logged-in page ({PAGE}), {} connections", sizes.connections),
        ours,
        peer: theirs,
        peer_name: "nginx, same bytes".into(),
        unit: "req/s",
        goal: Goal::AtLeast(0.3),
    }])
}

/// The release server beside this harness, on the embedded default with the demo data.
pub(crate) fn tongban_binary() -> anyhow::Result<PathBuf> {
    if let Ok(p) = std::env::var("TONGBAN_BENCH_SERVER") {
        return Ok(p.into());
    }
    let exe = std::env::current_exe()?;
    let sibling = exe.with_file_name("tongban");
    if !sibling.exists() {
        bail!(
            "{} is missing: build it with `cargo build --release`",
            sibling.display()
        );
    }
    Ok(sibling)
}

/// The release `tongban` in `dir`, with no configuration from the environment.
pub(crate) fn tongban_command(dir: &Path) -> anyhow::Result<Command> {
    let mut cmd = Command::new(tongban_binary()?);
    for (key, _) in std::env::vars() {
        if key.starts_with("TONGBAN_") {
            cmd.env_remove(key);
        }
    }
    cmd.current_dir(dir);
    Ok(cmd)
}

pub(crate) fn start_tongban(dir: &Path) -> anyhow::Result<(Running, String)> {
    let mut child = tongban_command(dir)?
        .env("TONGBAN_LISTEN", "127.0.0.1:0")
        .env("TONGBAN_LOG", "warn")
        .arg("serve")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("start tongban serve")?;
    let out = child.stdout.take().context("server output")?;
    let running = Running(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("已启动：").nth(1) {
                let url = rest
                    .split_whitespace()
                    .next()
                    .unwrap_or("")
                    .trim_end_matches('/');
                let _ = tx.send(url.to_string());
            }
        }
    });
    let base = rx
        .recv_timeout(Duration::from_secs(120))
        .context("tongban serve did not start within 120 s")?;
    Ok((running, base))
}

/// Logs in as the first demo enterprise with its 一证通 certificate, as the portal's client
/// does; returns the cookie header of the session.
async fn log_in(base: &str, certs: &Path) -> anyhow::Result<String> {
    let cert = std::fs::read_dir(certs)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".cert.pem"))
        .min()
        .context("no demo certificate")?;
    let code = cert
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_suffix(".cert.pem"))
        .context("certificate name")?
        .to_string();
    let pem = std::fs::read_to_string(&cert)?;
    let key = Sm2KeyPair::from_pkcs8_pem(&std::fs::read_to_string(
        certs.join(format!("{code}.key.pem")),
    )?)?;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let mut cookies = BTreeMap::new();
    let login = client
        .get(format!("{base}/login/enterprise"))
        .send()
        .await?;
    keep_cookies(&mut cookies, &login);
    let html = login.text().await?;
    let challenge = html
        .split("name=\"challenge\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .context("no login challenge on the page")?
        .to_string();
    let signature = base64::engine::general_purpose::STANDARD.encode(
        tongban_identity::enterprise::sign_login(&key, &challenge, &code),
    );
    let csrf = cookies
        .get("tongban_csrf")
        .context("no CSRF cookie")?
        .clone();
    let form = [
        ("certificate", pem.as_str()),
        ("challenge", challenge.as_str()),
        ("signature", signature.as_str()),
        ("_csrf", csrf.as_str()),
    ];
    let answer = client
        .post(format!("{base}/login/enterprise"))
        .header("cookie", cookie_header(&cookies))
        .form(&form)
        .send()
        .await?;
    if answer.status() != 303 {
        bail!("enterprise login answered {}", answer.status());
    }
    keep_cookies(&mut cookies, &answer);
    Ok(cookie_header(&cookies))
}

fn keep_cookies(jar: &mut BTreeMap<String, String>, r: &reqwest::Response) {
    for set in r.headers().get_all("set-cookie") {
        let Ok(set) = set.to_str() else { continue };
        let pair = set.split(';').next().unwrap_or("");
        if let Some((k, v)) = pair.split_once('=') {
            jar.insert(k.to_string(), v.to_string());
        }
    }
}

fn cookie_header(jar: &BTreeMap<String, String>) -> String {
    jar.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// nginx as the LIBRARIES.md set-up measured it: two workers, sendfile, keep-alive, no access log.
fn start_nginx(dir: &Path, root: &Path) -> anyhow::Result<(Running, u16)> {
    let port = peers::free_port()?;
    let prefix = dir.join("nginx");
    std::fs::create_dir_all(prefix.join("logs"))?;
    let conf = prefix.join("nginx.conf");
    std::fs::write(
        &conf,
        format!(
            "daemon off;\nworker_processes 2;\npid {p}/nginx.pid;\nerror_log {p}/logs/error.log warn;\n\
             events {{ worker_connections 1024; }}\n\
             http {{\n  access_log off;\n  sendfile on;\n  keepalive_requests 1000000;\n\
             client_body_temp_path {p}/tmp;\n  proxy_temp_path {p}/tmp;\n  fastcgi_temp_path {p}/tmp;\n\
             uwsgi_temp_path {p}/tmp;\n  scgi_temp_path {p}/tmp;\n\
             types {{ text/html html; }}\n  charset utf-8;\n\
             server {{ listen 127.0.0.1:{port}; root {r}; }}\n}}\n",
            p = prefix.display(),
            r = root.display()
        ),
    )?;
    let nginx = Command::new(nginx_binary())
        .args([
            "-p",
            &prefix.display().to_string(),
            "-c",
            &conf.display().to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("start nginx (has bench/run installed it?)")?;
    let running = Running(nginx);
    peers::wait_for_port(port, Duration::from_secs(10))?;
    Ok((running, port))
}

fn nginx_binary() -> &'static str {
    if Path::new("/usr/sbin/nginx").exists() {
        "/usr/sbin/nginx"
    } else {
        "nginx"
    }
}

/// One wrk round: requests per second, failing on any error or non-2xx answer.
fn wrk(url: &str, cookie: &str, sizes: &Sizes) -> anyhow::Result<f64> {
    let out = peers::output_within(
        Command::new("wrk").args([
            "-t2",
            &format!("-c{}", sizes.connections),
            &format!("-d{}s", sizes.secs),
            "-H",
            &format!("Cookie: {cookie}"),
            url,
        ]),
        Duration::from_secs(sizes.secs + 30),
    )?;
    if out.contains("Non-2xx") || out.contains("Socket errors") {
        bail!("wrk saw failed requests on {url}:\n{out}");
    }
    out.lines()
        .find(|l| l.starts_with("Requests/sec:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<f64>().ok())
        .with_context(|| format!("no Requests/sec in wrk's output:\n{out}"))
}
