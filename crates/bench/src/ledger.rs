//! Figure 6, 固废链 (issue 10): appends per second over HTTP to the release server on SQLite,
//! in signed batch calls from several clients (goal ≥ 10 000/s), beside `ct-merkle`'s
//! in-memory appends; inclusion proofs per second in the library, beside `ct-merkle`'s
//! in-memory tree over the same leaves (goal ≥ 100 000/s); and a full audit (哈希核验) of a log
//! on SQLite, in MB of payload per second, beside SM3 over the same bytes (goal ≥ 0.5×).
use std::time::{Duration, Instant};

use ct_merkle::mem_backed_tree::MemoryBackedTree;
use tongban_crypto::Sm2KeyPair;
use tongban_ledger::contracts::VERSION;
use tongban_ledger::log::{Log, Request};
use tongban_ledger::merkle::{MemoryTree, Sm3, TreeHasher};

use crate::peers::median;
use crate::table::{Goal, Row};

/// Rounds of the audit, each beside a round of SM3.
const ROUNDS: usize = 5;

/// Operations per second of `op(i)` for `secs`, `i` counting up.
fn rate(secs: f64, mut op: impl FnMut(u64)) -> f64 {
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < Duration::from_secs_f64(secs) {
        for _ in 0..64 {
            op(n);
            n += 1;
        }
    }
    n as f64 / start.elapsed().as_secs_f64()
}

pub struct Sizes {
    /// Entries appended over HTTP, in calls of `batch` from `clients` clients at once.
    pub appended: usize,
    pub batch: usize,
    pub clients: usize,
    pub leaves: u64,
    pub audited: usize,
    pub secs: f64,
}

/// The payload of the `i`th application appended over HTTP: about 300 bytes, as a province's
/// system would send.
fn application(i: usize) -> serde_json::Value {
    serde_json::json!({
        "application_no": format!("HTTP{i:08}"),
        "applicant": "上海某某环保科技有限公司",
        "credit_code": "91310000MA1FL0000X",
        "waste": "一般工业固体废物（污泥）",
        "tonnes": 12.5 + (i % 100) as f64,
        "from": "上海市浦东新区",
        "to": "江苏省苏州市",
        "submitted": "2026-12-01",
    })
}

/// Appends per second over HTTP, and `ct-merkle`'s in-memory appends of the same count.
async fn appends_over_http(sizes: &Sizes) -> anyhow::Result<(f64, f64)> {
    let dir = tempfile::tempdir()?;
    let (_server, base) = crate::pages::start_tongban(dir.path())?;
    let out = crate::pages::tongban_command(dir.path())?
        .args([
            "ledger",
            "add-app",
            "--name",
            "性能测试",
            "--province",
            "jiangsu",
        ])
        .args(["--grant", "disposal_application:create,update:all"])
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "add-app: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout)?;
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_string())
            .ok_or_else(|| anyhow::anyhow!("no {name} in {text}"))
    };
    let client =
        tongban_ledger_sdk::Client::new(&base).signing_as(&field("app id:")?, &field("secret:")?);
    let payloads: Vec<serde_json::Value> = (0..sizes.appended).map(application).collect();
    let keys: Vec<String> = (0..sizes.appended).map(|i| format!("HTTP{i:08}")).collect();
    let calls: Vec<std::ops::Range<usize>> = (0..sizes.appended)
        .step_by(sizes.batch)
        .map(|start| start..(start + sizes.batch).min(sizes.appended))
        .collect();
    let (payloads, keys) = (std::sync::Arc::new(payloads), std::sync::Arc::new(keys));
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let calls = std::sync::Arc::new(calls);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..sizes.clients {
        let (client, payloads, keys, next, calls) = (
            client.clone(),
            payloads.clone(),
            keys.clone(),
            next.clone(),
            calls.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut written = 0usize;
            loop {
                let c = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(range) = calls.get(c) else { break };
                // Bounded in time as well as count.
                if started.elapsed() > Duration::from_secs(120) {
                    break;
                }
                let entries: Vec<tongban_ledger_sdk::NewEntry> = range
                    .clone()
                    .map(|i| tongban_ledger_sdk::NewEntry {
                        contract: "disposal_application",
                        key: &keys[i],
                        operation: "create",
                        payload: &payloads[i],
                    })
                    .collect();
                for outcome in client.submit_many(&entries).await? {
                    outcome.map_err(|refused| anyhow::anyhow!("refused: {refused}"))?;
                    written += 1;
                }
            }
            anyhow::Ok(written)
        }));
    }
    let mut written = 0;
    for t in tasks {
        written += t.await??;
    }
    let secs = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        written == sizes.appended,
        "{written} of {} appended",
        sizes.appended
    );
    let ours = written as f64 / secs;

    let leaves: Vec<Vec<u8>> = payloads
        .iter()
        .map(|p| p.to_string().into_bytes())
        .collect();
    let started = Instant::now();
    let mut tree = MemoryBackedTree::<sm3_independent::Sm3, Vec<u8>>::new();
    for leaf in leaves {
        tree.push(leaf);
    }
    let theirs = sizes.appended as f64 / started.elapsed().as_secs_f64();
    println!(
        "  {written} appends over HTTP ({} clients, {} a call) in {secs:.2} s: {ours:.0}/s; ct-merkle in memory {theirs:.0}/s",
        sizes.clients, sizes.batch
    );
    Ok((ours, theirs))
}

pub async fn run(sizes: &Sizes) -> anyhow::Result<Vec<Row>> {
    let (appends, ct_appends) = appends_over_http(sizes).await?;
    let leaf = |i: u64| format!("tongban-ledger/entry/v1\nseq {i}\n").into_bytes();
    let mut ours = MemoryTree::new();
    let mut theirs = MemoryBackedTree::<sm3_independent::Sm3, Vec<u8>>::new();
    for i in 0..sizes.leaves {
        ours.push::<Sm3>(Sm3::leaf(&leaf(i)));
        theirs.push(leaf(i));
    }
    let n = sizes.leaves;
    // A spread of indexes (a fixed stride), the same for both.
    let at = |k: u64| (k.wrapping_mul(2_654_435_761)) % n;
    let mut sink = 0usize;
    let ours_rate = rate(sizes.secs, |k| {
        sink += ours.inclusion::<Sm3>(at(k), n).map_or(0, |p| p.len());
    });
    let theirs_rate = rate(sizes.secs, |k| {
        sink += theirs.prove_inclusion(at(k) as usize).as_bytes().len();
    });
    println!(
        "  inclusion proofs in {n} leaves: ours {ours_rate:.0}/s, ct-merkle {theirs_rate:.0}/s ({sink} bytes)"
    );

    // A log of `audited` entries of about 1 KiB each, audited whole.
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}", dir.path().join("ledger.db").display());
    let store = tongban_store::Store::open(&url, Default::default()).await?;
    let log = Log::new("shanghai-eeb/solid-waste", Sm2KeyPair::generate());
    let filler = "一般工业固体废物跨省转移利用".repeat(20);
    let requests: Vec<Request> = (0..sizes.audited)
        .map(|i| Request {
            contract: "disposal_application".into(),
            version: VERSION,
            key: format!("SQ{i:06}"),
            operation: "create".into(),
            payload: serde_json::json!({"application_no": format!("SQ{i:06}"), "note": filler})
                .to_string(),
            app_id: "shanghai-eeb".into(),
            app_signature: "00".into(),
            nonce: None,
        })
        .collect();
    for chunk in requests.chunks(1000) {
        log.append(&store, chunk).await?;
    }
    // The audit's own work, the least any audit must do: each payload's SM3 and each entry's
    // leaf text hashed. Its throughput and SM3's are counted over these bytes.
    let stored = tongban_store::chain::entries_from(&store, 0, sizes.audited as i64).await?;
    let leaf_texts: Vec<String> = stored
        .iter()
        .map(|row| {
            let e = tongban_ledger::audit::entry_of(row);
            e.leaf_text_with(&e.payload_sm3())
        })
        .collect();
    let mut bytes: Vec<u8> = Vec::new();
    for (row, leaf) in stored.iter().zip(&leaf_texts) {
        bytes.extend_from_slice(row.payload.as_bytes());
        bytes.extend_from_slice(leaf.as_bytes());
    }
    // Rounds of the audit and of SM3 alternate (the machine is noisy); the medians are kept.
    let (mut audit_rates, mut sm3_rates, mut report) = (Vec::new(), Vec::new(), None);
    for _ in 0..ROUNDS {
        let started = Instant::now();
        let r = tongban_ledger::audit::audit(&store, log.origin(), &log.public_key()).await?;
        let audit_secs = started.elapsed().as_secs_f64();
        anyhow::ensure!(r.is_clean(), "the audit found {:?}", r.findings);
        anyhow::ensure!(r.entries as usize == stored.len());
        audit_rates.push(bytes.len() as f64 / 1e6 / audit_secs);
        report = Some(r);
        let started = Instant::now();
        let mut rounds = 0;
        while started.elapsed() < Duration::from_secs_f64(sizes.secs / ROUNDS as f64) || rounds == 0
        {
            std::hint::black_box(tongban_crypto::sm3(&bytes));
            rounds += 1;
        }
        sm3_rates.push(bytes.len() as f64 * rounds as f64 / 1e6 / started.elapsed().as_secs_f64());
    }
    let report = report.expect("at least one round");
    let (audit_mb, sm3_mb) = (median(audit_rates.clone()), median(sm3_rates));
    // ct-merkle in memory over the same bytes: each payload's SM3, each leaf into the tree.
    let started = Instant::now();
    let mut tree = MemoryBackedTree::<sm3_independent::Sm3, Vec<u8>>::new();
    for (row, leaf) in stored.iter().zip(&leaf_texts) {
        use sm3_independent::Digest as _;
        std::hint::black_box(sm3_independent::Sm3::digest(row.payload.as_bytes()));
        tree.push(leaf.as_bytes().to_vec());
    }
    std::hint::black_box(tree.root());
    let ct_mb = bytes.len() as f64 / 1e6 / started.elapsed().as_secs_f64();
    println!(
        "  audit of {} entries ({:.1} MB of payloads and leaves), {ROUNDS} rounds {audit_rates:.1?}: median {audit_mb:.1} MB/s; SM3 alone {sm3_mb:.1} MB/s; ct-merkle in memory {ct_mb:.1} MB/s",
        report.entries,
        bytes.len() as f64 / 1e6
    );
    store.close().await;
    Ok(vec![
        Row {
            figure: format!("固废链 appends over HTTP, SQLite, {} a call", sizes.batch),
            ours: appends,
            peer: 10_000.0,
            peer_name: format!("goal; ct-merkle in memory {ct_appends:.0}/s"),
            unit: "per s",
            goal: Goal::AtLeast(1.0),
        },
        Row {
            figure: format!("固废链 inclusion proofs, {n} leaves (library)"),
            ours: ours_rate,
            peer: 100_000.0,
            peer_name: format!("goal; ct-merkle {theirs_rate:.0}/s"),
            unit: "per s",
            goal: Goal::AtLeast(1.0),
        },
        Row {
            figure: format!("固废链 full audit, {} entries on SQLite", report.entries),
            ours: audit_mb,
            peer: sm3_mb,
            peer_name: format!("SM3 over the same bytes; ct-merkle in memory {ct_mb:.0} MB/s"),
            unit: "MB/s",
            goal: Goal::AtLeast(0.5),
        },
    ])
}
