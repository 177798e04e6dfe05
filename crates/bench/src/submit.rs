//! Figure 1: submissions per second through the engine's whole submit path, beside the raw
//! insert-and-commit rate of the same store, and the latency at 200 users: all submitting at
//! once with no pause, and submitting at the rate the throughput goal names (half the raw rate).
//!
//! The submission is 一般固体废物跨省级行政区域贮存、处置审批 as an enterprise files it: the
//! draft's owner checked, every field validated, the item's rules run, the three materials
//! checked, a case number drawn, the working-day deadline counted, the case's event appended
//! (SM3-chained) with its projection, and the city platform's message put in the outbox. Drafts
//! are made beforehand (start, three materials), untimed. The raw peer is one row of the same
//! size inserted and committed per transaction: on one connection with the store's settings on
//! SQLite (WAL, synchronous=FULL), and by `pgbench` with a one-INSERT script on PostgreSQL.
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use tongban_cases::issuing::{BUREAU, Bureau};
use tongban_cases::workflow::{self, Desk};
use tongban_cases::{Applicant, materials, start};
use tongban_crypto::{FieldCipher, Sm2KeyPair};
use tongban_documents::Renderer;
use tongban_domain::calendar::WorkCalendar;
use tongban_domain::{CreditCode, Enterprise, EnterpriseId, Jurisdiction, Timestamp};
use tongban_engine::{FormData, Item};
use tongban_files::{FileStore, FilesConfig};
use tongban_store::{Store, StoreOptions};

use crate::peers::{self, median};
use crate::table::{Goal, Row};

/// Concurrent clients for the throughput figure, and users for the latency figure.
const CLIENTS: usize = 8;
const USERS: usize = 200;
/// The p99 a submission must stay under with `USERS` submitting at once.
const P99_LIMIT_MS: f64 = 50.0;
/// Alternating rounds of ours and the raw peer.
const ROUNDS: usize = 3;
/// The paced latency figure offers this share of the raw rate: the throughput goal.
const PACED_SHARE: f64 = 0.5;

pub struct Sizes {
    /// Submissions timed at `CLIENTS` clients in each round, and at `USERS` users.
    pub throughput: usize,
    pub latency: usize,
    /// Seconds of raw inserts in each round.
    pub raw_secs: u64,
}

/// What a desk is made of, leaked: the harness is one short process, and spawned tasks need
/// `'static` borrows.
#[derive(Clone, Copy)]
struct Parts {
    store: &'static Store,
    calendar: &'static WorkCalendar,
    fields: &'static FieldCipher,
    files: &'static FileStore,
    bureau: &'static Arc<Bureau>,
    item: &'static Item,
}

impl Parts {
    fn desk(&self) -> Desk<'static> {
        Desk {
            store: self.store,
            calendar: self.calendar,
            fields: self.fields,
            files: self.files,
            bureau: self.bureau,
        }
    }
}

struct Draft {
    applicant: Applicant,
    id: String,
    data: FormData,
}

/// Both engines' rows: SQLite in a temporary directory, PostgreSQL in a database made for the run.
pub async fn run(postgres: Option<&str>, sizes: &Sizes) -> anyhow::Result<Vec<Row>> {
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let mut rows = on_engine(&url, "SQLite", dir.path(), sizes).await?;
    match postgres {
        Some(base) => {
            let db = PgDatabase::create(base).await?;
            let result = on_engine(&db.url, "PostgreSQL", dir.path(), sizes).await;
            db.drop().await;
            rows.extend(result?);
        }
        None => println!("  (no PostgreSQL: its rows are left out)"),
    }
    Ok(rows)
}

async fn on_engine(
    url: &str,
    engine: &str,
    dir: &std::path::Path,
    sizes: &Sizes,
) -> anyhow::Result<Vec<Row>> {
    let store = Store::open(url, StoreOptions::default())
        .await
        .with_context(|| format!("open {url}"))?;
    let parts = parts(store, dir, engine)?;
    let payload = serde_json::to_string(&tongban_items::solid_waste::example_application())?;

    // Rounds of ours and the raw peer alternate, as the other figures' do, so a noisy second
    // falls on both; each side's figure is the median of its rounds.
    let mut drafts = prepare(parts, ROUNDS * sizes.throughput + 2 * sizes.latency).await?;
    println!("  {engine}: {} drafts ready", drafts.len());
    let (mut ours, mut raw) = (vec![], vec![]);
    for round in 0..ROUNDS {
        let batch: Vec<Draft> = drafts.drain(..sizes.throughput).collect();
        let (secs, _) = submit_all(parts, batch, CLIENTS).await?;
        ours.push(sizes.throughput as f64 / secs);
        let run = RawRun {
            url,
            payload: &payload,
            clients: CLIENTS,
            secs: sizes.raw_secs,
            first: round == 0,
        };
        raw.push(match parts.store.engine() {
            tongban_store::Engine::Sqlite => raw_sqlite(&run).await?,
            tongban_store::Engine::Postgres => raw_pgbench(&run)?,
        });
    }
    let (ours, raw) = (median(ours), median(raw));
    println!("  {engine}: {ours:.0} submissions/s, raw {raw:.0} commits/s ({CLIENTS} clients)");

    let paced: Vec<Draft> = drafts.drain(..sizes.latency).collect();
    let (secs, times) = submit_all(parts, drafts, USERS).await?;
    let (p50, p99) = (quantile(&times, 0.50), quantile(&times, 0.99));
    println!(
        "  {engine}: {USERS} users, {} submissions in {secs:.1} s, p50 {p50:.1} ms, p99 {p99:.1} ms",
        times.len()
    );
    let rate = PACED_SHARE * raw;
    let (secs, times) = submit_paced(parts, paced, USERS, rate).await?;
    let (paced_p50, paced_p99) = (quantile(&times, 0.50), quantile(&times, 0.99));
    println!(
        "  {engine}: {USERS} users at {rate:.0}/s in all, {} submissions in {secs:.1} s, \
         p50 {paced_p50:.1} ms, p99 {paced_p99:.1} ms",
        times.len()
    );
    parts.store.close().await;
    let figure = |what: &str| format!("{what}, {engine}");
    Ok(vec![
        Row {
            figure: figure(&format!("submissions/s at {CLIENTS} clients")),
            ours,
            peer: raw,
            peer_name: "raw insert+commit".into(),
            unit: "per s",
            goal: Goal::AtLeast(0.5),
        },
        Row {
            figure: figure(&format!("submission p50 at {USERS} users")),
            ours: p50,
            peer: P99_LIMIT_MS,
            peer_name: "limit".into(),
            unit: "ms",
            goal: Goal::Under,
        },
        Row {
            figure: figure(&format!("submission p99 at {USERS} users")),
            ours: p99,
            peer: P99_LIMIT_MS,
            peer_name: "limit".into(),
            unit: "ms",
            goal: Goal::Under,
        },
        Row {
            figure: figure(&format!(
                "submission p99 at {USERS} users, {rate:.0}/s ({PACED_SHARE}x raw)"
            )),
            ours: paced_p99,
            peer: P99_LIMIT_MS,
            peer_name: "limit".into(),
            unit: "ms",
            goal: Goal::Under,
        },
    ])
}

/// The `q` quantile of `times` (not empty).
fn quantile(times: &[f64], q: f64) -> f64 {
    let mut sorted = times.to_vec();
    sorted.sort_by(|a, b| a.total_cmp(b));
    sorted[((sorted.len() as f64 * q) as usize).min(sorted.len() - 1)]
}

fn parts(store: Store, dir: &std::path::Path, engine: &str) -> anyhow::Result<Parts> {
    let files = FileStore::open(&FilesConfig::Local {
        dir: dir.join(format!("files-{engine}")),
    })?;
    let bureau = Arc::new(Bureau {
        name: BUREAU.into(),
        seal: Sm2KeyPair::generate(),
        base_url: "http://127.0.0.1:8080".into(),
        renderer: Arc::new(Renderer::new()),
    });
    // Throw-away field keys: the bench's data is generated and deleted with the run.
    let fields = FieldCipher::new(&[("k1".to_string(), hex_key(1))].into(), "k1", &hex_key(2))?;
    let item = tongban_items::catalogue()?
        .get("solid-waste-cross-storage")
        .context("the solid-waste item")?
        .clone();
    Ok(Parts {
        store: Box::leak(Box::new(store)),
        calendar: Box::leak(Box::new(WorkCalendar::official())),
        fields: Box::leak(Box::new(fields)),
        files: Box::leak(Box::new(files)),
        bureau: Box::leak(Box::new(bureau)),
        item: Box::leak(Box::new(item)),
    })
}

fn hex_key(seed: u8) -> String {
    (0..16u8).map(|i| format!("{:02x}", i ^ seed)).collect()
}

const DISTRICTS: [&str; 10] = [
    "310115", "310112", "310104", "310110", "310101", "310105", "310106", "310107", "310109",
    "310113",
];

/// `n` drafts of 40 enterprises, each with its three materials, made by four tasks at once.
async fn prepare(parts: Parts, n: usize) -> anyhow::Result<Vec<Draft>> {
    let mut applicants = Vec::new();
    let mut tx = parts.store.begin().await?;
    for i in 0..40 {
        let district = DISTRICTS[i % DISTRICTS.len()];
        let code =
            CreditCode::complete(&format!("91{district}MB{i:07}")).context("bench credit code")?;
        let e = Enterprise {
            id: EnterpriseId::from_raw(format!("bench-{i}")),
            name: format!("上海压测热电{i:05}有限公司"),
            credit_code: code.clone(),
            legal_representative: "王珺".into(),
            registered_address: "上海市示范路1号".into(),
            district: Jurisdiction::by_code(district).context("district")?,
            created_at: Timestamp::now(),
        };
        tongban_store::enterprises::insert(&mut tx, &e).await?;
        applicants.push((e, code));
    }
    tx.commit().await?;
    let applicants = Arc::new(applicants);
    let mut tasks = Vec::new();
    for t in 0..4 {
        let applicants = applicants.clone();
        tasks.push(tokio::spawn(async move {
            let mut made = Vec::new();
            for i in (t..n).step_by(4) {
                let (e, code) = &applicants[i % applicants.len()];
                made.push(draft(parts, e, code, i).await?);
            }
            anyhow::Ok(made)
        }));
    }
    let mut drafts = Vec::with_capacity(n);
    for t in tasks {
        drafts.extend(t.await??);
    }
    Ok(drafts)
}

async fn draft(parts: Parts, e: &Enterprise, code: &CreditCode, i: usize) -> anyhow::Result<Draft> {
    let applicant = Applicant::Enterprise {
        id: e.id.clone(),
        actor: format!("enterprise:{}/bench", code.as_str()),
    };
    let id = start(parts.store, parts.item, &applicant, &Default::default()).await?;
    for m in [
        "application_form",
        "transport_contract",
        "receiver_contract",
    ] {
        materials::attach(
            parts.store,
            parts.files,
            parts.item,
            &applicant,
            &id,
            materials::Target::Material(m),
            &format!("{m}.pdf"),
            bytes::Bytes::from(format!("%PDF-1.7\n% {m} {i}\n").into_bytes()),
        )
        .await?;
    }
    let mut data = tongban_items::solid_waste::example_application();
    data.set("unit_name", &e.name);
    data.set("credit_code", code.as_str());
    Ok(Draft {
        applicant,
        id,
        data,
    })
}

/// Submits every draft with `clients` tasks at once; returns the seconds it took and each
/// submission's latency in milliseconds.
async fn submit_all(
    parts: Parts,
    drafts: Vec<Draft>,
    clients: usize,
) -> anyhow::Result<(f64, Vec<f64>)> {
    let queue = Arc::new(Mutex::new(VecDeque::from(drafts)));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let queue = queue.clone();
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::new();
            loop {
                let next = queue.lock().expect("queue").pop_front();
                let Some(d) = next else { break };
                let t = Instant::now();
                workflow::submit(&parts.desk(), parts.item, &d.applicant, &d.id, &d.data).await?;
                times.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            anyhow::Ok(times)
        }));
    }
    gather(tasks, || started.elapsed()).await
}

/// Submits the drafts at `rate` a second in all, by `users` users taking turns: submission `i` is
/// due `i / rate` seconds after the start, and is the user `i % users`'s. Open loop: a slow
/// answer does not hold back the other users, and each latency counts from when the submission
/// was due, so a submission that had to wait for its user's previous one counts the wait.
/// Returns the seconds it took and each submission's latency in milliseconds.
async fn submit_paced(
    parts: Parts,
    drafts: Vec<Draft>,
    users: usize,
    rate: f64,
) -> anyhow::Result<(f64, Vec<f64>)> {
    let mut queues: Vec<Vec<(usize, Draft)>> = (0..users).map(|_| Vec::new()).collect();
    for (i, d) in drafts.into_iter().enumerate() {
        queues[i % users].push((i, d));
    }
    let started = tokio::time::Instant::now();
    let mut tasks = Vec::new();
    for queue in queues {
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::new();
            for (i, d) in queue {
                let due = started + Duration::from_secs_f64(i as f64 / rate);
                tokio::time::sleep_until(due).await;
                workflow::submit(&parts.desk(), parts.item, &d.applicant, &d.id, &d.data).await?;
                times.push(due.elapsed().as_secs_f64() * 1000.0);
            }
            anyhow::Ok(times)
        }));
    }
    gather(tasks, || started.elapsed()).await
}

/// Every client's latencies, once all are done, with the time the run took until then.
async fn gather(
    tasks: Vec<tokio::task::JoinHandle<anyhow::Result<Vec<f64>>>>,
    started: impl Fn() -> Duration,
) -> anyhow::Result<(f64, Vec<f64>)> {
    let mut times = Vec::new();
    for t in tasks {
        times.extend(t.await??);
    }
    Ok((started().as_secs_f64(), times))
}

/// One round of the raw peer: rows of `payload` inserted and committed one per transaction by
/// `clients` at once for `secs` seconds, into a table made in the `first` round.
struct RawRun<'a> {
    url: &'a str,
    payload: &'a str,
    clients: usize,
    secs: u64,
    first: bool,
}

/// The raw round on SQLite: the clients take turns on one connection with the store's settings
/// (WAL, synchronous=FULL), the most SQLite commits here. Not through the store, whose writer
/// groups commits.
async fn raw_sqlite(run: &RawRun<'_>) -> anyhow::Result<f64> {
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
    use sqlx::{ConnectOptions, Connection};
    let path = run.url.strip_prefix("sqlite://").context("a SQLite URL")?;
    let mut conn = SqliteConnectOptions::new()
        .filename(path)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(Duration::from_secs(5))
        .connect()
        .await?;
    if run.first {
        sqlx::query("CREATE TABLE bench_raw (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)")
            .execute(&mut conn)
            .await?;
    }
    let conn = Arc::new(tokio::sync::Mutex::new(conn));
    let until = Instant::now() + Duration::from_secs(run.secs);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..run.clients {
        let (conn, payload) = (conn.clone(), run.payload.to_string());
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            while Instant::now() < until {
                let mut conn = conn.lock().await;
                let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
                sqlx::query("INSERT INTO bench_raw (payload) VALUES ($1)")
                    .bind(&payload)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                n += 1;
            }
            anyhow::Ok(n)
        }));
    }
    let mut n = 0;
    for t in tasks {
        n += t.await??;
    }
    let rate = n as f64 / started.elapsed().as_secs_f64();
    Arc::try_unwrap(conn)
        .map_err(|_| anyhow::anyhow!("raw connection still shared"))?
        .into_inner()
        .close()
        .await?;
    Ok(rate)
}

/// The raw round on PostgreSQL: `pgbench` with a one-row INSERT as its whole transaction.
fn raw_pgbench(run: &RawRun<'_>) -> anyhow::Result<f64> {
    let dir = tempfile::tempdir()?;
    let script = dir.path().join("insert.sql");
    std::fs::write(
        &script,
        format!(
            "INSERT INTO bench_raw (payload) VALUES ('{}');\n",
            run.payload.replace('\'', "''")
        ),
    )?;
    let psql = |sql: &str| {
        peers::output_within(
            std::process::Command::new("psql").args([
                "-q",
                "-X",
                "-v",
                "ON_ERROR_STOP=1",
                run.url,
                "-c",
                sql,
            ]),
            Duration::from_secs(60),
        )
    };
    if run.first {
        psql("CREATE TABLE bench_raw (id bigserial PRIMARY KEY, payload text NOT NULL)")?;
    }
    psql("CHECKPOINT")?;
    let out = peers::output_within(
        std::process::Command::new("pgbench").args([
            "-n",
            "-M",
            "prepared",
            "-c",
            &run.clients.to_string(),
            "-j",
            "2",
            "-T",
            &run.secs.to_string(),
            "-f",
            &script.display().to_string(),
            run.url,
        ]),
        Duration::from_secs(run.secs + 60),
    )?;
    let tps = out
        .lines()
        .find(|l| l.starts_with("tps = "))
        .and_then(|l| l.split_whitespace().nth(2))
        .and_then(|v| v.parse::<f64>().ok())
        .with_context(|| format!("no tps in pgbench's output: {out}"))?;
    Ok(tps)
}

/// A database of its own for the run on the server at `base`, dropped afterwards.
struct PgDatabase {
    admin: sqlx::PgPool,
    name: String,
    url: String,
}

impl PgDatabase {
    async fn create(base: &str) -> anyhow::Result<PgDatabase> {
        let admin = sqlx::PgPool::connect(base)
            .await
            .with_context(|| format!("PostgreSQL at {base}"))?;
        let name = format!("tongban_bench_{}", std::process::id());
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
            .execute(&admin)
            .await?;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&admin)
            .await?;
        let url = match base.rsplit_once('/') {
            Some((server, _)) => format!("{server}/{name}"),
            None => anyhow::bail!("PostgreSQL URL without a database: {base}"),
        };
        Ok(PgDatabase { admin, name, url })
    }

    async fn drop(self) {
        let _ = sqlx::query(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .execute(&self.admin)
        .await;
    }
}
