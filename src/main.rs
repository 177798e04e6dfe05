//! `tongban`: the server and its operations commands.
#![forbid(unsafe_code)]

mod config;
mod demo;
mod doc;
mod keys;
mod ledger;
mod outbox;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tokio::sync::watch;
use tongban_files::FileStore;
use tongban_jobs::Scheduler;
use tongban_store::{Store, enterprises, migrations, sessions};

use crate::config::Config;

/// 通办 Tongban — 上海市生态环境局“一网通办”服务系统
#[derive(Parser)]
#[command(name = "tongban", version, about, long_about = None)]
struct Cli {
    /// Configuration file (TOML). Default: ./tongban.toml if it exists.
    #[arg(long, global = true, env = "TONGBAN_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (portal, workbench, health endpoints and background jobs).
    Serve,
    /// Apply pending database migrations (they also run at every start).
    Migrate {
        /// Only list the migrations and whether each is applied.
        #[arg(long)]
        status: bool,
    },
    /// Seed or reset the demo enterprises and officers, and print where to log in.
    Demo,
    /// Operate on stored files.
    Files {
        #[command(subcommand)]
        command: FilesCommand,
    },
    /// Work with the audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Issued documents: verify a PDF's signatures, revoke a licence.
    Doc {
        #[command(subcommand)]
        command: doc::DocCommand,
    },
    /// 固废链: register access applications, audit the log (哈希核验).
    Ledger {
        #[command(subcommand)]
        command: ledger::LedgerCommand,
    },
    /// Run a province's witness of a 固废链 log: cosign each new checkpoint that is consistent
    /// with the last one cosigned; refuse (and keep the evidence of) any other. Its state is in
    /// this configuration's database.
    Witness {
        /// The log's base URL.
        #[arg(long)]
        log_url: String,
        /// This witness's name as the log knows it (jiangsu, zhejiang, anhui).
        #[arg(long)]
        name: String,
        /// This witness's SM2 key (PKCS#8 PEM); made there if missing.
        #[arg(long)]
        key: PathBuf,
        /// The log's public key (PEM, as `/ledger/v1/public-key.pem` serves it).
        #[arg(long)]
        log_key: PathBuf,
        /// The log's name in its checkpoints.
        #[arg(long, default_value = "shanghai-eeb/solid-waste")]
        origin: String,
        /// Seconds between checks.
        #[arg(long, default_value_t = 2)]
        every: u64,
        /// Check once and exit.
        #[arg(long)]
        once: bool,
    },
    /// Enterprise certificates: issue one (the 一证通 counter) or answer a login challenge (the 一证通 client).
    Cert {
        #[command(subcommand)]
        command: CertCommand,
    },
}

#[derive(Subcommand)]
enum CertCommand {
    /// Issue an SM2 certificate for an enterprise; writes DIR/<credit code>.key.pem and .cert.pem.
    Issue {
        /// Unified social credit code.
        #[arg(long)]
        credit_code: String,
        /// Enterprise name as on its business licence.
        #[arg(long)]
        name: String,
        /// Where to write the key and certificate.
        #[arg(long, default_value = ".")]
        out: PathBuf,
    },
    /// Issue an SM2 certificate for an officer account; writes DIR/<username>.key.pem and .cert.pem.
    IssueOfficer {
        /// The officer's username.
        #[arg(long)]
        username: String,
        /// Where to write the key and certificate.
        #[arg(long, default_value = ".")]
        out: PathBuf,
    },
    /// Revoke an officer's certificate (a lost key); sessions opened with it end at once.
    RevokeOfficer {
        /// The certificate's serial number (hex, as `openssl x509 -serial` prints it).
        #[arg(long)]
        serial: String,
    },
    /// Sign a login challenge with a certificate's private key; prints the signature to paste.
    Sign {
        /// The private key file (PKCS#8 PEM).
        #[arg(long)]
        key: PathBuf,
        /// The challenge shown on the login page.
        #[arg(long)]
        challenge: String,
        /// The enterprise's unified social credit code (enterprise login).
        #[arg(
            long,
            conflicts_with = "username",
            required_unless_present = "username"
        )]
        credit_code: Option<String>,
        /// The officer's username (workbench login).
        #[arg(long)]
        username: Option<String>,
    },
    /// Sign a document's digest (shown on the 签章 page) with a certificate's private key;
    /// prints the signature to paste.
    SignDocument {
        /// The private key file (PKCS#8 PEM).
        #[arg(long)]
        key: PathBuf,
        /// The SM3 digest shown on the page (64 hex characters).
        #[arg(long)]
        digest: String,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the SM3 chain over every audit entry; fails naming the first edited or missing row.
    Verify,
}

#[derive(Subcommand)]
enum FilesCommand {
    /// Store a file and print its SM3 digest (stored once however often it is put).
    Put { path: PathBuf },
    /// Read every stored file and report those whose content no longer matches its digest.
    Check,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = Config::load(cli.config.as_deref())?;
    init_logging(&config);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("start the async runtime")?;
    runtime.block_on(async move {
        match cli.command {
            Command::Serve => serve(config).await,
            Command::Migrate { status } => migrate(config, status).await,
            Command::Demo => reseed(config).await,
            Command::Files { command } => files(config, command).await,
            Command::Audit {
                command: AuditCommand::Verify,
            } => audit_verify(config).await,
            Command::Cert { command } => cert(config, command).await,
            Command::Ledger { command } => ledger::run(config, command).await,
            Command::Witness {
                log_url,
                name,
                key,
                log_key,
                origin,
                every,
                once,
            } => {
                let args = ledger::WitnessArgs {
                    log_url,
                    name,
                    key,
                    log_key,
                    origin,
                    every: Duration::from_secs(every.max(1)),
                    once,
                };
                ledger::witness(config, args).await
            }
            Command::Doc { command } => doc::run(config, command).await,
        }
    })
}

fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TONGBAN_LOG")
        .unwrap_or_else(|_| "info,sqlx=warn,tower_http=info".into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    if config.log_format == "json" {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .init();
    } else {
        builder.init();
    }
}

async fn open_store(config: &Config) -> anyhow::Result<Store> {
    if config.is_embedded() {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("创建数据目录 {} 失败", config.data_dir.display()))?;
    }
    let url = config.database_url();
    let store = Store::open(&url, config.store_options())
        .await
        .with_context(|| format!("无法打开数据库（{}）", redact(&url)))?;
    tracing::info!(engine = store.engine().name(), "store ready");
    Ok(store)
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    // Checked before anything is opened: a wrong source is a start-up error, not a later surprise.
    let prefill = prefill_sources(&config)?;
    let store = open_store(&config).await?;
    let files = FileStore::open(&config.files()?).context("文件存储配置有误")?;

    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("无法监听 {}", config.listen))?;
    let addr = listener.local_addr()?;
    let base_url = format!("http://{addr}");

    let items = std::sync::Arc::new(tongban_items::catalogue().context("事项配置有误")?);
    let keys = keys::load_or_create(&config.keys_dir())?;
    if config.seed_demo && config.is_embedded() && enterprises::count(&store).await? == 0 {
        let seeded = demo::seed(&store, &keys.ca, &config.data_dir.join("demo-certs")).await?;
        demo_reports(&store, &files, &items, &seeded).await;
        println!("{}", demo::describe(&seeded, &base_url));
    }

    let keys::Keys {
        ca,
        fields,
        seal,
        ledger: ledger_key,
    } = keys;
    let public_url = if config.public_url.is_empty() {
        base_url.clone()
    } else {
        config.public_url.trim_end_matches('/').to_string()
    };
    let bureau = std::sync::Arc::new(tongban_cases::issuing::Bureau {
        name: tongban_cases::issuing::BUREAU.into(),
        seal,
        base_url: public_url,
        renderer: std::sync::Arc::new(tongban_documents::Renderer::new()),
    });
    let (ca, fields) = (std::sync::Arc::new(ca), std::sync::Arc::new(fields));
    // The outbox to the city platform: over HTTP, signed with the bureau's seal, when configured.
    let platform: std::sync::Arc<dyn tongban_platform::Platform> = match config.city_platform()? {
        Some(url) => {
            let platform = tongban_platform::HttpPlatform::new(&url, Some(bureau.seal.clone()))
                .map_err(|e| anyhow::anyhow!("配置有误：city_platform.url：{e}"))?;
            tracing::info!(url = %platform.base_url(), "city platform: outbox delivered over HTTP");
            std::sync::Arc::new(platform)
        }
        None => std::sync::Arc::new(tongban_platform::LoggingPlatform),
    };
    let calendar = std::sync::Arc::new(config.calendar()?);
    let (witnesses, quorum) = config.ledger_witnesses()?;
    if witnesses.0.is_empty() {
        tracing::warn!("固废链 has no witnesses: its checkpoints are final on its own signature");
    }
    let ledger = tongban_ledger::service::Ledger::start(
        store.clone(),
        tongban_ledger::log::Log::new(config.ledger.origin.clone(), ledger_key),
        witnesses,
        quorum,
        fields.clone(),
    );
    let purge_store = store.clone();
    let housekeeping = Duration::from_secs(config.housekeeping_secs.max(1));
    let mut scheduler = Scheduler::builder(store.clone())
        .every("sessions.purge", housekeeping, move || {
            let store = purge_store.clone();
            async move {
                let now = tongban_domain::Timestamp::now();
                let mut tx = store.begin().await?;
                let sessions = sessions::purge_expired(&mut tx, now).await?;
                let challenges = tongban_store::challenges::purge(&mut tx, now).await?;
                let sign_ons = tongban_store::external_accounts::purge(&mut tx, now).await?;
                tx.commit().await?;
                let hour_ago = tongban_domain::Timestamp(now.millis() - 3_600_000);
                let counters = tongban_store::rate_limits::purge(&store, hour_ago).await?;
                // A nonce needs keeping only while its call's timestamp could still pass.
                let nonces = tongban_store::chain::purge_nonces(
                    &store,
                    now.millis() - 2 * tongban_ledger::apps::CLOCK_SKEW_MS,
                )
                .await?;
                tracing::info!(
                    sessions,
                    challenges,
                    sign_ons,
                    counters,
                    nonces,
                    "expired sessions, login challenges, sign-ons, rate counters and nonces removed"
                );
                Ok(())
            }
        })
        .every("ledger.push", Duration::from_secs(1), {
            let ledger = ledger.clone();
            let deliver = std::sync::Arc::new(ledger::HttpDeliver::new());
            move || {
                let (ledger, deliver) = (ledger.clone(), deliver.clone());
                async move {
                    let pushed = ledger
                        .push_due(deliver.as_ref())
                        .await
                        .map_err(|e| tongban_jobs::JobFailure(format!("固废链推送失败：{e}")))?;
                    if pushed > 0 {
                        tracing::info!(pushed, "固废链 entries pushed to subscribers");
                    }
                    Ok(())
                }
            }
        })
        .every(
            "ledger.audit",
            Duration::from_secs(config.ledger.audit_secs.max(1)),
            {
                let ledger = ledger.clone();
                move || {
                    let ledger = ledger.clone();
                    async move {
                        let report = tongban_ledger::audit::run_incremental(
                            &ledger.store,
                            ledger.log.origin(),
                            &ledger.log.public_key(),
                        )
                        .await
                        .map_err(|e| {
                            tongban_jobs::JobFailure(format!("固废链哈希核验失败：{e}"))
                        })?;
                        tracing::info!(
                            entries = report.entries,
                            checkpoints = report.checkpoints,
                            findings = report.findings.len(),
                            "固废链 hash check"
                        );
                        Ok(())
                    }
                }
            },
        )
        // The dashboard's snapshot to the city's government-blockchain display, when configured.
        .every(
            tongban_platform::display::JOB_KIND,
            Duration::from_secs(config.ledger.display_secs.max(1)),
            ledger::display_job(&config, &ledger, &bureau)?,
        )
        .every("drafts.purge", housekeeping, {
            let store = store.clone();
            move || {
                let store = store.clone();
                async move {
                    let purged =
                        tongban_cases::purge_expired(&store, tongban_domain::Timestamp::now())
                            .await?;
                    tracing::info!(purged, "expired drafts (暂存) deleted");
                    Ok(())
                }
            }
        })
        // Licences past their last day: told to the applicant and the licence repository.
        .every("licences.expire", housekeeping, {
            let (store, calendar, fields) = (store.clone(), calendar.clone(), fields.clone());
            let (files, bureau, items) = (files.clone(), bureau.clone(), items.clone());
            move || {
                let (store, calendar, fields) = (store.clone(), calendar.clone(), fields.clone());
                let (files, bureau, items) = (files.clone(), bureau.clone(), items.clone());
                async move {
                    let desk = tongban_cases::workflow::Desk {
                        store: &store,
                        calendar: &calendar,
                        fields: &fields,
                        files: &files,
                        bureau: &bureau,
                    };
                    let expired = tongban_cases::workflow::expire_licences(&desk, &items)
                        .await
                        .map_err(|e| tongban_jobs::JobFailure(e.to_string()))?;
                    tracing::info!(expired, "expired licences recorded");
                    Ok(())
                }
            }
        })
        // The city's SMS gateway replaces the logging sender when it is configured.
        .on(
            tongban_identity::sms::JOB_KIND,
            tongban_identity::sms::handler(
                fields.clone(),
                std::sync::Arc::new(tongban_identity::sms::LoggingSms),
            ),
        )
        // The outbox: the 固废链's messages to the log in-process, the others to the platform.
        .on(
            tongban_platform::JOB_KIND,
            tongban_platform::deliver_handler(
                store.clone(),
                std::sync::Arc::new(outbox::Destinations {
                    city: platform,
                    ledger: ledger.clone(),
                    seal: bureau.seal.clone(),
                }),
            ),
        )
        .on(
            tongban_cases::batch::JOB_KIND,
            tongban_cases::batch::handler(std::sync::Arc::new(tongban_cases::batch::Runner::new(
                store.clone(),
                files.clone(),
                bureau.renderer.clone(),
            ))),
        )
        .build();
    scheduler.lease = Duration::from_secs(config.job_lease_secs.max(1));
    let (stop_jobs, jobs_stopped) = watch::channel(false);
    let jobs = tokio::spawn(scheduler.run(jobs_stopped));

    let state = tongban_web::AppState {
        ledger,
        store: store.clone(),
        files,
        config: config.web(),
        ca,
        fields,
        calendar,
        city_login: config.city_login.clone().map(|c| {
            tracing::info!(issuer = %c.issuer, "city platform login enabled");
            std::sync::Arc::new(tongban_identity::city_login::CityLogin::new(c))
        }),
        items,
        // The licence registry (or the demo licences); the city's registry joins once its
        // interface is available.
        prefill,
        bureau,
    };
    let shutdown = shutdown_signal().context("cannot listen for SIGTERM")?;
    println!(
        "通办 Tongban 已启动：{base_url}/ （{}）",
        store.engine().name()
    );
    tracing::info!(%addr, engine = store.engine().name(), "listening");
    let app = tongban_web::app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .context("server failed")?;

    tracing::info!("in-flight requests finished; stopping jobs");
    let _ = stop_jobs.send(true);
    let _ = jobs.await;
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// The external prefill sources: the licence registry configured, else (with demo data on) the
/// demo enterprises' licences built into the binary.
fn prefill_sources(
    config: &Config,
) -> anyhow::Result<Vec<std::sync::Arc<dyn tongban_engine::prefill::PrefillSource>>> {
    use crate::config::LicenceRegistry;
    let licences: Option<std::sync::Arc<dyn tongban_engine::prefill::PrefillSource>> =
        match config.licence_registry()? {
            Some(LicenceRegistry::Url(url)) => {
                let source = tongban_licences::RegistrySource::new(&url)
                    .map_err(|e| anyhow::anyhow!("配置有误：licence_registry.url：{e}"))?;
                tracing::info!(url = %source.base_url(), "licence registry: prefill over HTTP");
                Some(std::sync::Arc::new(source))
            }
            Some(LicenceRegistry::File(path)) => {
                let source = tongban_licences::FileSource::open(&path)
                    .map_err(|e| anyhow::anyhow!("配置有误：licence_registry.file：{e}"))?;
                tracing::info!(file = %path.display(), "licence registry: prefill from an export");
                Some(std::sync::Arc::new(source))
            }
            None if config.seed_demo => {
                tracing::info!("licence registry: the demo enterprises' licences");
                Some(std::sync::Arc::new(demo::licence_source()))
            }
            None => None,
        };
    Ok(licences.into_iter().collect())
}

/// Resolves on SIGTERM or Ctrl-C: the server then stops accepting and finishes what it has.
/// The handlers are registered when this is called, not when first polled: it is called before
/// the server announces itself, so a supervisor's SIGTERM right after the announcement is a
/// graceful stop, never the default kill.
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut terminate = signal(SignalKind::terminate())?;
        let mut interrupt = signal(SignalKind::interrupt())?;
        Ok(async move {
            tokio::select! {
                _ = terminate.recv() => {},
                _ = interrupt.recv() => {},
            }
            tracing::info!("shutdown requested: finishing in-flight requests");
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("shutdown requested: finishing in-flight requests");
        })
    }
}

async fn migrate(config: Config, status_only: bool) -> anyhow::Result<()> {
    if config.is_embedded() {
        std::fs::create_dir_all(&config.data_dir)?;
    }
    let url = config.database_url();
    let store = Store::connect(&url, config.store_options())
        .await
        .with_context(|| format!("无法连接数据库（{}）", redact(&url)))?;
    if !status_only {
        let ran = migrations::apply(&store).await?;
        println!("已执行 {ran} 个迁移。");
    }
    for m in migrations::status(&store).await? {
        match m.applied_at {
            Some(at) => println!("{:>4}  {:<24} 已执行 {at}", m.version, m.name),
            None => println!("{:>4}  {:<24} 未执行", m.version, m.name),
        }
    }
    store.close().await;
    Ok(())
}

/// The demo's annual reports and licence applications; a failure is logged, never a reason
/// not to start.
async fn demo_reports(
    store: &tongban_store::Store,
    files: &FileStore,
    items: &tongban_engine::Catalogue,
    seeded: &demo::Seeded,
) {
    match demo::file_reports(store, files, items, seeded).await {
        Ok(n) => tracing::info!(reports = n, "demo annual reports filed"),
        Err(e) => tracing::warn!(error = %e, "demo annual reports not filed"),
    }
    match demo::file_applications(store, files, items, seeded).await {
        Ok(n) => tracing::info!(applications = n, "demo licence applications filed"),
        Err(e) => tracing::warn!(error = %e, "demo licence applications not filed"),
    }
}

async fn reseed(config: Config) -> anyhow::Result<()> {
    let store = open_store(&config).await?;
    let keys = keys::load_or_create(&config.keys_dir())?;
    let seeded = demo::seed(&store, &keys.ca, &config.data_dir.join("demo-certs")).await?;
    let files = FileStore::open(&config.files()?).context("文件存储配置有误")?;
    let items = tongban_items::catalogue().context("事项配置有误")?;
    demo_reports(&store, &files, &items, &seeded).await;
    println!(
        "{}",
        demo::describe(&seeded, &format!("http://{}", config.listen))
    );
    store.close().await;
    Ok(())
}

async fn cert(config: Config, command: CertCommand) -> anyhow::Result<()> {
    use base64::Engine as _;
    match command {
        CertCommand::Issue {
            credit_code,
            name,
            out,
        } => {
            let code = tongban_domain::CreditCode::parse(&credit_code)?;
            let keys = keys::load_or_create(&config.keys_dir())?;
            let (key_path, cert_path) = demo::issue_certificate(&keys.ca, &code, &name, &out)?;
            println!(
                "已签发证书：{}
私钥：{}（请妥善保管）",
                cert_path.display(),
                key_path.display()
            );
        }
        CertCommand::IssueOfficer { username, out } => {
            let keys = keys::load_or_create(&config.keys_dir())?;
            let store = open_store(&config).await?;
            let found = tongban_store::officers::login_state(&store, &username).await?;
            let officer = found
                .with_context(|| format!("工作人员账号 {username} 不存在"))?
                .officer;
            let issued = tongban_identity::officer_certificate::issue(
                &store,
                &keys.ca,
                &officer,
                "system:cli",
            )
            .await;
            store.close().await;
            let issued = issued?;
            let (key_path, cert_path) =
                demo::write_key_pair(&issued.key, &issued.pem, &officer.username, &out)?;
            println!(
                "已签发证书：{}（序列号 {}）\n私钥：{}（请妥善保管）",
                cert_path.display(),
                issued.serial,
                key_path.display()
            );
        }
        CertCommand::RevokeOfficer { serial } => {
            let store = open_store(&config).await?;
            let revoked =
                tongban_identity::officer_certificate::revoke(&store, &serial, "system:cli").await;
            let officer = match &revoked {
                Ok(id) => {
                    let id = tongban_domain::OfficerId::from_raw(id.clone());
                    tongban_store::officers::by_id(&store, &id).await?
                }
                Err(_) => None,
            };
            store.close().await;
            revoked?;
            let who = officer.map_or_else(String::new, |o| format!("（工作人员 {}）", o.username));
            println!("已吊销证书 {}{who}", serial.trim().to_ascii_uppercase());
        }
        CertCommand::Sign {
            key,
            challenge,
            credit_code,
            username,
        } => {
            let pem = std::fs::read_to_string(&key)
                .with_context(|| format!("无法读取私钥 {}", key.display()))?;
            let key = tongban_crypto::Sm2KeyPair::from_pkcs8_pem(&pem)?;
            let signature = match (credit_code, username) {
                (Some(code), _) => {
                    let code = tongban_domain::CreditCode::parse(&code)?;
                    tongban_identity::enterprise::sign_login(&key, challenge.trim(), code.as_str())
                }
                (None, Some(username)) => {
                    key.sign(&tongban_identity::officer_login::certificate_login_message(
                        challenge.trim(),
                        username.trim(),
                    ))
                }
                (None, None) => anyhow::bail!("请指定 --credit-code 或 --username"),
            };
            println!(
                "{}",
                base64::engine::general_purpose::STANDARD.encode(signature)
            );
        }
        CertCommand::SignDocument { key, digest } => {
            let pem = std::fs::read_to_string(&key)
                .with_context(|| format!("无法读取私钥 {}", key.display()))?;
            let key = tongban_crypto::Sm2KeyPair::from_pkcs8_pem(&pem)?;
            let digest: tongban_crypto::Sm3Digest = digest
                .trim()
                .parse()
                .map_err(|_| anyhow::anyhow!("摘要应为64位十六进制字符"))?;
            println!(
                "{}",
                base64::engine::general_purpose::STANDARD.encode(key.sign(digest.as_bytes()))
            );
        }
    }
    Ok(())
}

async fn audit_verify(config: Config) -> anyhow::Result<()> {
    let store = open_store(&config).await?;
    let outcome = tongban_identity::audit::verify(&store).await;
    store.close().await;
    match outcome {
        Ok(n) => {
            println!("审计日志完好：共 {n} 条记录，摘要链校验通过。");
            Ok(())
        }
        Err(e) => {
            println!("审计日志校验失败：{e}");
            anyhow::bail!("审计日志已被篡改")
        }
    }
}

async fn files(config: Config, command: FilesCommand) -> anyhow::Result<()> {
    let files = FileStore::open(&config.files()?)?;
    match command {
        FilesCommand::Put { path } => {
            let content = tokio::fs::read(&path)
                .await
                .with_context(|| format!("无法读取 {}", path.display()))?;
            let stored = files.put(content.into()).await?;
            let note = if stored.written {
                "已保存"
            } else {
                "相同内容已存在，未重复保存"
            };
            println!("{}  {} 字节  {note}", stored.digest, stored.size);
        }
        FilesCommand::Check => {
            let report = files.check().await?;
            println!("已检查 {} 个文件。", report.checked);
            for d in &report.foreign {
                println!("非本系统对象：{d}");
            }
            if !report.corrupted.is_empty() {
                for d in &report.corrupted {
                    println!("已损坏：{d}");
                }
                anyhow::bail!("{} 个文件已损坏，不会再被提供下载", report.corrupted.len());
            }
            println!("全部完好。");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_are_kept_out_of_messages() {
        assert_eq!(
            redact("postgres://tb:secret@db:5432/tongban"),
            "postgres://tb:***@db:5432/tongban"
        );
        assert_eq!(
            redact("postgres://tb@db/tongban"),
            "postgres://tb@db/tongban"
        );
        assert_eq!(
            redact("sqlite://data/tongban.db"),
            "sqlite://data/tongban.db"
        );
    }
}
