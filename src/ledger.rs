//! `tongban ledger …` (access applications, the audit) and `tongban witness` (a province's
//! witness of a 固废链 log, cosigning over HTTP).
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Subcommand;
use tongban_ledger::apps::{Grant, Scope};
use tongban_ledger::service::Ledger;
use tongban_ledger::witness::{Witness, WitnessError};
use tongban_ledger_sdk::Client;
use tongban_store::Store;

use crate::config::Config;

/// Who acts through these commands, in the audit log: the operator at the server's console.
const OPERATOR: &str = "operator:cli";

#[derive(Subcommand)]
pub enum LedgerCommand {
    /// Register an access application; prints its app id and secret (shown this once).
    AddApp {
        /// What the application is, e.g. 江苏省固体废物管理信息系统.
        #[arg(long)]
        name: String,
        /// Its province: shanghai, jiangsu, zhejiang or anhui.
        #[arg(long)]
        province: String,
        /// `contract:operations:scope`, repeatable: operations comma-separated (or `-` for
        /// none), scope `all`, `own` or `party` (default); every grant may read.
        #[arg(long = "grant")]
        grants: Vec<String>,
    },
    /// List the access applications.
    Apps,
    /// Stop an application: its calls are refused from now on.
    RevokeApp {
        #[arg(long)]
        app: String,
    },
    /// Recompute every entry and the tree from storage and compare with the signed
    /// checkpoints (哈希核验); fails naming each entry or checkpoint that was changed.
    Audit,
}

/// `contract:ops:scope` as a grant.
pub fn parse_grant(text: &str) -> anyhow::Result<Grant> {
    let mut parts = text.split(':');
    let contract = parts.next().unwrap_or_default().trim().to_string();
    let operations = match parts.next().map(str::trim) {
        None | Some("-") | Some("") => Vec::new(),
        Some(ops) => ops.split(',').map(|o| o.trim().to_string()).collect(),
    };
    let scope = match parts.next().map(str::trim) {
        None | Some("party") => Scope::Party,
        Some("all") => Scope::All,
        Some("own") => Scope::Own,
        Some(other) => anyhow::bail!("授权“{text}”的范围“{other}”应为 all、own 或 party"),
    };
    Ok(Grant {
        contract,
        operations,
        read: true,
        scope,
    })
}

async fn ledger_of(config: &Config, store: &Store) -> anyhow::Result<std::sync::Arc<Ledger>> {
    let keys = crate::keys::load_or_create(&config.keys_dir())?;
    let (witnesses, quorum) = config.ledger_witnesses()?;
    Ok(Ledger::start(
        store.clone(),
        tongban_ledger::log::Log::new(config.ledger.origin.clone(), keys.ledger),
        witnesses,
        quorum,
        std::sync::Arc::new(keys.fields),
    ))
}

pub async fn run(config: Config, command: LedgerCommand) -> anyhow::Result<()> {
    let store = crate::open_store(&config).await?;
    let ledger = ledger_of(&config, &store).await?;
    match command {
        LedgerCommand::AddApp {
            name,
            province,
            grants,
        } => {
            let grants = grants
                .iter()
                .map(|g| parse_grant(g))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let app = ledger.register(OPERATOR, &name, &province, grants).await?;
            println!("已登记接入应用“{}”（{}）", app.name, app.province);
            println!("app id: {}", app.id);
            println!("secret: {}", app.secret);
            println!("密钥只显示这一次，请交给对方系统的管理员妥善保存。");
        }
        LedgerCommand::Apps => {
            for a in tongban_store::chain::apps(&store).await? {
                let state = if a.revoked_at.is_some() {
                    "已停用"
                } else {
                    "在用"
                };
                println!(
                    "{}\t{}\t{}\t{state}\t{}",
                    a.app_id, a.province, a.name, a.grants
                );
            }
        }
        LedgerCommand::RevokeApp { app } => {
            if !ledger.revoke(OPERATOR, &app).await? {
                anyhow::bail!("没有在用的接入应用“{app}”");
            }
            println!("接入应用“{app}”已停用");
        }
        LedgerCommand::Audit => {
            let started = std::time::Instant::now();
            let report =
                tongban_ledger::audit::audit(&store, ledger.log.origin(), &ledger.log.public_key())
                    .await?;
            let secs = started.elapsed().as_secs_f64();
            println!(
                "核验了 {} 个条目、{} 个检查点（{:.1} MB 载荷，{secs:.2} 秒）",
                report.entries,
                report.checkpoints,
                report.payload_bytes as f64 / 1e6
            );
            for f in &report.findings {
                println!("{}", f.describe());
            }
            if !report.is_clean() {
                anyhow::bail!("哈希核验发现 {} 处不符", report.findings.len());
            }
            println!("未发现篡改");
        }
    }
    store.close().await;
    Ok(())
}

/// How a witness runs.
pub struct WitnessArgs {
    pub log_url: String,
    pub name: String,
    pub key: PathBuf,
    pub log_key: PathBuf,
    pub origin: String,
    pub every: Duration,
    pub once: bool,
}

/// Checks the log's newest checkpoint; the height cosigned, if a new one was.
async fn witness_once(
    witness: &Witness,
    store: &Store,
    client: &Client,
) -> anyhow::Result<Option<u64>> {
    let answer = client.latest_checkpoint().await?;
    let offered = answer.checkpoint()?;
    let last = witness.last(store).await?;
    if last.as_ref().is_some_and(|(c, _)| c == &offered) {
        return Ok(None);
    }
    let from = last.as_ref().map_or(0, |(c, _)| c.size);
    let proof = if from <= offered.size {
        client.consistency(from, offered.size).await?
    } else {
        Vec::new()
    };
    let cosignature = witness
        .observe(store, &offered, &answer.log_signature()?, &proof)
        .await?;
    client
        .cosign(offered.height, &witness.name, &cosignature)
        .await?;
    Ok(Some(offered.height))
}

pub async fn witness(config: Config, args: WitnessArgs) -> anyhow::Result<()> {
    let store = crate::open_store(&config).await?;
    let key = crate::keys::sm2_key(&args.key, "见证节点密钥")?;
    let log_key = std::fs::read_to_string(&args.log_key)
        .with_context(|| format!("读取账本公钥 {} 失败", args.log_key.display()))?;
    let log_key = tongban_crypto::Sm2PublicKey::from_pem(&log_key)
        .map_err(|e| anyhow::anyhow!("账本公钥 {} 有误：{e}", args.log_key.display()))?;
    let witness = Witness::new(args.name.clone(), key, args.origin.clone(), log_key);
    println!(
        "见证节点“{}”已启动，见证 {}。本节点公钥（交给账本登记）：\n{}",
        args.name,
        args.log_url,
        witness.public_key().to_pem()
    );
    let client = Client::new(&args.log_url);
    loop {
        match witness_once(&witness, &store, &client).await {
            Ok(Some(height)) => tracing::info!(height, "cosigned"),
            Ok(None) => {}
            Err(e) => match e.downcast_ref::<WitnessError>() {
                Some(refused @ WitnessError::Conflict { .. }) => {
                    eprintln!("告警：{refused}");
                }
                _ => tracing::warn!(error = %e, "witness check failed; trying again"),
            },
        }
        if args.once {
            break;
        }
        tokio::time::sleep(args.every).await;
    }
    store.close().await;
    Ok(())
}

/// Pushes to the subscribers' callbacks over HTTP(S), 10 s a delivery.
pub struct HttpDeliver(reqwest::Client);

impl HttpDeliver {
    pub fn new() -> Self {
        Self(
            reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("an HTTP client"),
        )
    }
}

impl tongban_ledger::push::Deliver for HttpDeliver {
    fn post<'a>(
        &'a self,
        url: &'a str,
        headers: Vec<(&'static str, String)>,
        body: String,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send + 'a>> {
        Box::pin(async move {
            let mut req = self
                .0
                .post(url)
                .header("content-type", "application/json")
                .body(body);
            for (name, value) in headers {
                req = req.header(name, value);
            }
            let response = req.send().await.map_err(|e| format!("无法送达：{e}"))?;
            if response.status().is_success() {
                Ok(())
            } else {
                Err(format!("回调地址答复 {}", response.status()))
            }
        })
    }
}

/// A run of a recurring job.
type JobRun = std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<(), tongban_jobs::JobFailure>> + Send>,
>;

/// A recurring job's body, as the scheduler takes it.
type Job = Box<dyn Fn() -> JobRun + Send + Sync>;

/// The `ledger.display` job: the dashboard's snapshot to the city's government-blockchain display
/// (`[ledger] display_url`), signed with the bureau's seal like the city platform's messages.
/// Without a URL it does nothing, but stays registered, so the job row an earlier configuration
/// left still finds its handler.
pub fn display_job(
    config: &Config,
    ledger: &std::sync::Arc<Ledger>,
    bureau: &tongban_cases::issuing::Bureau,
) -> anyhow::Result<Job> {
    let Some(url) = config.ledger_display()? else {
        return Ok(Box::new(|| -> JobRun { Box::pin(async { Ok(()) }) }));
    };
    let screen = tongban_platform::display::HttpDisplay::new(&url, Some(bureau.seal.clone()))
        .map_err(|e| anyhow::anyhow!("配置有误：ledger.display_url：{e}"))?;
    tracing::info!(
        url = %screen.base_url(),
        every_secs = config.ledger.display_secs.max(1),
        "固废链 dashboard sent to the government-blockchain display"
    );
    let ledger = ledger.clone();
    Ok(Box::new(tongban_platform::display::job(
        std::sync::Arc::new(screen),
        move || {
            let ledger = ledger.clone();
            async move {
                ledger
                    .dashboard(0)
                    .await
                    .map(|d| d.snapshot())
                    .map_err(|e| e.to_string())
            }
        },
    )))
}
