//! 固废链 with four parties on loopback, each its own process and store: Shanghai's server
//! and the witnesses of Jiangsu, Zhejiang and Anhui (`tongban witness`). 1 000 entries across
//! the four contracts, submitted through the SDK, become final with 3 of the 4 signatures, and
//! an answer verifies against the four keys alone. A Jiangsu application subscribed to the
//! storage/disposal process receives every entry it may see, in order, with no gap, although
//! its endpoint fails the first three deliveries and Shanghai's server is killed and started
//! again in between.
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use tongban_crypto::{Sm2KeyPair, Sm2PublicKey};
use tongban_ledger_sdk::{Client, Trust};

mod common;
use common::{announced_url, tongban};

/// A child process killed when dropped.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `tongban serve` in `dir` on `port`; its base URL.
fn serve(dir: &Path, port: u16) -> (Process, String) {
    let mut child = tongban(dir)
        .env("TONGBAN_LISTEN", format!("127.0.0.1:{port}"))
        .arg("serve")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if let Some(url) = announced_url(&line) {
                let _ = tx.send(url);
            }
        }
    });
    let base = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the server announces its address");
    (Process(child), base)
}

/// `tongban ledger add-app`: the app id and secret it prints.
fn add_app(dir: &Path, name: &str, province: &str, grants: &[&str]) -> (String, String) {
    let mut cmd = tongban(dir);
    cmd.args(["ledger", "add-app", "--name", name, "--province", province]);
    for g in grants {
        cmd.args(["--grant", g]);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap_or_else(|| panic!("{name} in {text}"))
            .trim()
            .to_string()
    };
    (field("app id:"), field("secret:"))
}

/// The subscriber's endpoint: refuses the first three deliveries, then checks each one's
/// signature and keeps its entries.
#[derive(Clone, Default)]
struct Hook {
    secret: std::sync::Arc<std::sync::Mutex<String>>,
    calls: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    received: std::sync::Arc<std::sync::Mutex<Vec<tongban_ledger_sdk::PushedEntry>>>,
}

async fn hook(
    axum::extract::State(hook): axum::extract::State<Hook>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> axum::http::StatusCode {
    use std::sync::atomic::Ordering;
    if hook.calls.fetch_add(1, Ordering::SeqCst) < 3 {
        return axum::http::StatusCode::SERVICE_UNAVAILABLE;
    }
    let h = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let secret = hook.secret.lock().unwrap().clone();
    let genuine = tongban_ledger_sdk::push_is_genuine(
        &secret,
        "/hook",
        h("x-tongban-timestamp").parse().unwrap_or(0),
        &h("x-tongban-nonce"),
        &body,
        &h("x-tongban-signature"),
    );
    if !genuine {
        return axum::http::StatusCode::UNAUTHORIZED;
    }
    let page: tongban_ledger_sdk::EntriesPage = serde_json::from_slice(&body).unwrap();
    hook.received.lock().unwrap().extend(page.entries);
    axum::http::StatusCode::OK
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

type Submission = (&'static str, String, &'static str, serde_json::Value);

/// Submits `requests` (contract, key, operation, payload) from eight clients at once.
async fn submit_all(client: &Client, requests: Vec<Submission>) {
    let mut lanes: Vec<Vec<Submission>> = (0..8).map(|_| Vec::new()).collect();
    for (i, r) in requests.into_iter().enumerate() {
        lanes[i % 8].push(r);
    }
    let tasks: Vec<_> = lanes
        .into_iter()
        .map(|lane| {
            let client = client.clone();
            tokio::spawn(async move {
                for (contract, key, operation, payload) in lane {
                    client
                        .submit(contract, &key, operation, &payload)
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_parties_make_a_thousand_entries_final_with_three_signatures() {
    let root = tempfile::tempdir().unwrap();
    let shanghai = root.path().join("shanghai");
    std::fs::create_dir_all(&shanghai).unwrap();
    // The witnesses' keys, made where each witness runs; Shanghai is given their public keys.
    let mut toml = String::from("seed_demo = false\n[ledger]\n");
    let mut keys = Vec::new();
    for name in ["jiangsu", "zhejiang", "anhui"] {
        let dir = root.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let key = Sm2KeyPair::generate();
        std::fs::write(dir.join("witness.key.pem"), key.to_pkcs8_pem()).unwrap();
        let public = shanghai.join(format!("{name}.pub.pem"));
        std::fs::write(&public, key.public_key().to_pem()).unwrap();
        toml.push_str(&format!(
            "[[ledger.witnesses]]\nname = \"{name}\"\npublic_key_file = \"{}\"\n",
            public.display()
        ));
        keys.push((name.to_string(), key.public_key()));
    }
    std::fs::write(shanghai.join("tongban.toml"), toml).unwrap();
    let (app, secret) = add_app(
        &shanghai,
        "上海市生态环境局一网通办",
        "shanghai",
        &[
            "filing:create,update:all",
            "filing_revocation:create:all",
            "disposal_process:create,status:all",
            "disposal_application:create,update:all",
        ],
    );
    let (jiangsu_app, jiangsu_secret) = add_app(
        &shanghai,
        "江苏省固体废物管理信息系统",
        "jiangsu",
        &["disposal_process:-:party"],
    );
    let receiver = Hook::default();
    *receiver.secret.lock().unwrap() = jiangsu_secret.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let callback = format!("http://{}/hook", listener.local_addr().unwrap());
    let hook_app = axum::Router::new()
        .route("/hook", axum::routing::post(hook))
        .with_state(receiver.clone());
    tokio::spawn(async move { axum::serve(listener, hook_app).await.unwrap() });

    let port = free_port();
    let (server, base) = serve(&shanghai, port);
    let log_pem = reqwest::get(format!("{base}/ledger/v1/public-key.pem"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let log_key = Sm2PublicKey::from_pem(&log_pem).unwrap();
    let mut witnesses = Vec::new();
    for (name, _) in &keys {
        let dir = root.path().join(name);
        std::fs::write(dir.join("log.pub.pem"), &log_pem).unwrap();
        let child = tongban(&dir)
            .args(["witness", "--log-url", &base, "--name", name])
            .args([
                "--key",
                "witness.key.pem",
                "--log-key",
                "log.pub.pem",
                "--every",
                "1",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        witnesses.push(Process(child));
    }

    let client = Client::new(&base).signing_as(&app, &secret);
    let jiangsu = Client::new(&base).signing_as(&jiangsu_app, &jiangsu_secret);
    let sub = jiangsu
        .subscribe(&callback, &["disposal_process"])
        .await
        .unwrap();
    // Jiangsu is a party to every other storage/disposal application.
    let parties = |i: usize| {
        if i.is_multiple_of(2) {
            json!(["shanghai", "jiangsu"])
        } else {
            json!(["shanghai", "zhejiang"])
        }
    };
    let mut first = Vec::new();
    for i in 0..250 {
        first.push((
            "filing",
            format!("BA{i:04}"),
            "create",
            json!({"filing_no": format!("沪固备{i:04}"), "parties": ["shanghai", "jiangsu"]}),
        ));
        first.push((
            "disposal_application",
            format!("SQ{i:04}"),
            "create",
            json!({"application_no": format!("SQ{i:04}"), "tonnes": i}),
        ));
        first.push((
            "disposal_process",
            format!("SQ{i:04}"),
            "create",
            json!({"status": "submitted", "parties": parties(i)}),
        ));
    }
    submit_all(&client, first).await;
    // Shanghai's server dies and comes back on the same data.
    drop(server);
    let (_server, base) = serve(&shanghai, port);
    let mut second = Vec::new();
    for i in 0..100 {
        second.push((
            "filing_revocation",
            format!("CX{i:04}"),
            "create",
            json!({"filing_key": format!("BA{i:04}"), "filing_no": format!("沪固备{i:04}")}),
        ));
    }
    for i in 0..150 {
        second.push((
            "disposal_process",
            format!("SQ{i:04}"),
            "status",
            json!({"status": "accepted", "parties": parties(i)}),
        ));
    }
    submit_all(&client, second).await;

    // Final with three signatures, within a few of the witnesses' rounds.
    let trust = Trust {
        log_key,
        witnesses: keys,
        quorum: 3,
    };
    let started = Instant::now();
    let fin = loop {
        match client.final_checkpoint().await {
            Ok(f) if f.size == 1000 => break f,
            _ => {}
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "1 000 entries not final within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let checkpoint = trust.check_checkpoint(&fin).unwrap();
    assert_eq!(checkpoint.size, 1000);
    assert!(fin.cosignatures.len() >= 2, "{:?}", fin.cosignatures);
    // One key's whole history, proven against that checkpoint by the four keys alone.
    let answer = client.key("disposal_process", "SQ0007").await.unwrap();
    assert_eq!(answer.state, "accepted");
    assert_eq!(trust.check_key(&answer).unwrap(), 2);
    let revoked = client.key("filing", "BA0042").await.unwrap();
    assert_eq!(revoked.state, "revoked");
    let by_no = client
        .by_reference("filing_revocation", "沪固备0042")
        .await
        .unwrap();
    assert_eq!(by_no.len(), 1);
    assert_eq!(by_no[0].key, "CX0042");
    // A witness demanding more than the log holds is refused with a reason.
    let err = client.consistency(10, 5000).await.unwrap_err();
    assert!(err.to_string().contains("超过"), "{err}");

    // Every entry Jiangsu may see, once each, in leaf order: 125 applications and 75 updates.
    let started = Instant::now();
    let expected: Vec<(String, String)> = (0..250)
        .filter(|i: &usize| i.is_multiple_of(2))
        .map(|i| (format!("SQ{i:04}"), "create".to_string()))
        .chain(
            (0..150)
                .filter(|i: &usize| i.is_multiple_of(2))
                .map(|i| (format!("SQ{i:04}"), "status".to_string())),
        )
        .collect();
    let received = loop {
        let mut seen = std::collections::BTreeMap::new();
        let mut in_order = true;
        let mut last = None;
        for e in receiver.received.lock().unwrap().iter() {
            // At least once: a delivery may come again; a new entry never comes before an older one.
            if !seen.contains_key(&e.seq) {
                in_order &= last.is_none_or(|l| e.seq > l);
                last = Some(e.seq);
            }
            assert!(e.leaf_holds(), "entry {} arrived altered", e.seq);
            seen.insert(e.seq, (e.key.clone(), e.operation.clone()));
        }
        assert!(in_order, "entries arrived out of order");
        if seen.len() >= expected.len() {
            break seen;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{} of {} entries pushed within 60 s",
            seen.len(),
            expected.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let mut got: Vec<(String, String)> = received.into_values().collect();
    let mut want = expected.clone();
    got.sort();
    want.sort();
    assert_eq!(got, want, "exactly the entries Jiangsu may see");
    assert!(receiver.calls.load(std::sync::atomic::Ordering::SeqCst) > 3);
    let status = Client::new(&base)
        .signing_as(&jiangsu_app, &jiangsu_secret)
        .subscription(&sub.id)
        .await
        .unwrap();
    assert_eq!(status.delivered, 200);
    // The same entries can be pulled, page by page, from any cursor.
    let puller = jiangsu_client(&base, &jiangsu_app, &jiangsu_secret);
    let (mut pulled, mut from) = (Vec::new(), 0);
    loop {
        let page = puller.pull(&sub.id, from, 100).await.unwrap();
        assert!(page.entries.len() <= 100);
        pulled.extend(page.entries.into_iter().map(|e| e.seq));
        if page.next == from {
            break;
        }
        from = page.next;
    }
    let pushed: Vec<u64> = receiver
        .received
        .lock()
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(pulled, pushed);

    // The dashboard's figures (003 module 91).
    let board: serde_json::Value = reqwest::get(format!("{base}/ledger/v1/dashboard"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(board["entries"], 1000);
    assert_eq!(board["executions"], 1000);
    let executions: Vec<(String, i64)> = board["contracts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_string(),
                c["executions"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        executions,
        [
            ("filing".to_string(), 250),
            ("filing_revocation".to_string(), 100),
            ("disposal_process".to_string(), 400),
            ("disposal_application".to_string(), 250),
        ]
    );
    let nodes = board["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 4);
    assert!(
        nodes[1..]
            .iter()
            .all(|n| n["role"] == "witness" && n["height"].as_i64().unwrap() >= 1)
    );
    drop(witnesses);
}

fn jiangsu_client(base: &str, app: &str, secret: &str) -> Client {
    Client::new(base).signing_as(app, secret)
}
