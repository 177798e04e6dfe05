//! Configuration: built-in defaults, then a TOML file, then `TONGBAN_*` environment variables
//! (nested keys with `__`, e.g. `TONGBAN_FILES__KIND=s3`). See docs/configuration.md.
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use tongban_files::FilesConfig;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where the embedded database and local files live.
    pub data_dir: PathBuf,
    /// `sqlite://PATH` or `postgres://…`; empty means SQLite at `data_dir/tongban.db`.
    pub database_url: String,
    /// Address the server listens on.
    pub listen: SocketAddr,
    /// The address people reach this server at, printed in licence QR codes
    /// (e.g. `https://tongban.sthj.sh.gov.cn`); empty means `http://` + `listen`.
    pub public_url: String,
    /// File storage; absent means the directory `data_dir/files`.
    pub files: Option<FilesSection>,
    /// `text` (readable) or `json` (one object a line, for log collectors).
    pub log_format: String,
    /// Seed demo enterprises and officers on first start when the store is empty.
    pub seed_demo: bool,
    /// Mark cookies Secure: set when users reach Tongban over HTTPS.
    pub secure_cookies: bool,
    /// Hours an officer stays logged in.
    pub session_hours: u64,
    /// Seconds one request may take, and so the longest a shutdown waits for one.
    pub request_timeout_secs: u64,
    /// Connections to the database for reads, and as many again for writes (one on SQLite).
    pub max_connections: u32,
    /// Where the CA and field-encryption keys live; empty means `data_dir/keys`.
    pub keys_dir: PathBuf,
    /// Login and registration attempts allowed per client address and endpoint each minute.
    pub login_attempts_per_minute: i64,
    /// Seconds between housekeeping runs: expired sessions, sign-ons, rate counters and drafts.
    pub housekeeping_secs: u64,
    /// Seconds a job's claim lasts unless its worker renews it (every third of it): how long the
    /// jobs of a crashed instance wait before they run again.
    pub job_lease_secs: u64,
    /// `[city_login]`: the city platform's unified login (OpenID Connect); absent means off.
    pub city_login: Option<tongban_identity::city_login::CityLoginConfig>,
    /// `[licence_registry]`: the ministry's radiation-safety licence registry, prefilling the
    /// radiation items' licence fields — `url` (its HTTP interface) or `file` (an export);
    /// absent means none (with `seed_demo`, the demo enterprises' licences built into the binary).
    pub licence_registry: Option<LicenceRegistrySection>,
    /// `[city_platform]`: the city platform's case library (办件库) and licence repository
    /// (电子证照库), which the outbox delivers to; absent means messages are only logged.
    pub city_platform: Option<CityPlatformSection>,
    /// A holiday schedule (`date,holiday|workday,name` lines) replacing the one built in, for
    /// the working-day deadlines; empty means the built-in official schedule.
    pub holidays_file: PathBuf,
    /// `[ledger]`: 固废链, the four-province verifiable log.
    pub ledger: LedgerSection,
}

/// `[ledger]` in the file: the log's name, the provinces' witnesses and the quorum.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LedgerSection {
    /// The log's name in its checkpoints.
    pub origin: String,
    /// Signatures (the log's own included) that make a checkpoint final; absent means 3 of 4
    /// with three witnesses, or all of them with fewer.
    pub quorum: Option<usize>,
    /// `[[ledger.witnesses]]`: `name` and `public_key_file` (an SM2 public key, PEM).
    pub witnesses: Vec<WitnessSection>,
    /// Seconds between the scheduled, incremental hash checks (哈希核验).
    pub audit_secs: u64,
    /// The city's government-blockchain display (市政务区块链展示平台), which is sent the
    /// dashboard's snapshot every `display_secs`; empty means none.
    pub display_url: String,
    pub display_secs: u64,
}

impl Default for LedgerSection {
    fn default() -> Self {
        Self {
            origin: "shanghai-eeb/solid-waste".into(),
            quorum: None,
            witnesses: Vec::new(),
            audit_secs: 3600,
            display_url: String::new(),
            display_secs: 60,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WitnessSection {
    pub name: String,
    pub public_key_file: PathBuf,
}

/// `[city_platform]` in the file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CityPlatformSection {
    /// The platform's base URL (`http://` or `https://`).
    pub url: String,
}

/// `[licence_registry]` in the file: exactly one of `url` and `file`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LicenceRegistrySection {
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub file: Option<PathBuf>,
}

/// Where licences come from, once the section is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LicenceRegistry {
    /// The registry's HTTP interface at this base URL.
    Url(String),
    /// An export of the registry's document.
    File(PathBuf),
}

/// `[files]` in the file: `kind = "local"` with `dir`, or `kind = "s3"` with bucket and keys.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FilesSection {
    pub kind: String,
    #[serde(default)]
    pub dir: Option<PathBuf>,
    #[serde(default)]
    pub bucket: String,
    #[serde(default)]
    pub endpoint: String,
    #[serde(default)]
    pub region: String,
    #[serde(default)]
    pub access_key_id: String,
    #[serde(default)]
    pub secret_access_key: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("data"),
            database_url: String::new(),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: String::new(),
            files: None,
            log_format: "text".into(),
            seed_demo: true,
            secure_cookies: false,
            session_hours: 8,
            request_timeout_secs: 30,
            max_connections: 8,
            keys_dir: PathBuf::new(),
            login_attempts_per_minute: 20,
            housekeeping_secs: 3600,
            job_lease_secs: 30,
            city_login: None,
            licence_registry: None,
            city_platform: None,
            holidays_file: PathBuf::new(),
            ledger: LedgerSection::default(),
        }
    }
}

/// `TONGBAN_*` variables that are not settings: the config file path, the log filter, and the
/// test harness's own (`TONGBAN_TEST_*`), which a developer may well have exported.
fn is_setting(key: &figment::value::UncasedStr) -> bool {
    let key = key.as_str().to_ascii_lowercase();
    !(key == "config" || key == "log" || key.starts_with("test_"))
}

impl Config {
    /// Loads the configuration; `file` defaults to `tongban.toml` in the working directory, used
    /// only if it exists.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Config> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(path) if !path.exists() => anyhow::bail!("配置文件不存在：{}", path.display()),
            Some(path) => figment = figment.merge(Toml::file(path)),
            None => figment = figment.merge(Toml::file("tongban.toml")),
        }
        let config: Config = figment
            .merge(Env::prefixed("TONGBAN_").filter(is_setting).split("__"))
            .extract()
            .map_err(|e| anyhow::anyhow!("配置有误：{e}"))?;
        if !matches!(config.log_format.as_str(), "text" | "json") {
            anyhow::bail!("配置有误：log_format 只能是 text 或 json");
        }
        config.licence_registry()?;
        config.calendar()?;
        config.city_platform()?;
        config.ledger_witnesses()?;
        config.ledger_display()?;
        Ok(config)
    }

    /// The ledger's witnesses with their keys, and the quorum, checked.
    pub fn ledger_witnesses(&self) -> anyhow::Result<(tongban_ledger::witness::Witnesses, usize)> {
        let mut witnesses = Vec::new();
        for w in &self.ledger.witnesses {
            let pem = std::fs::read_to_string(&w.public_key_file).map_err(|e| {
                anyhow::anyhow!(
                    "配置有误：ledger.witnesses“{}”的 public_key_file {}：{e}",
                    w.name,
                    w.public_key_file.display()
                )
            })?;
            let key = tongban_crypto::Sm2PublicKey::from_pem(&pem).map_err(|e| {
                anyhow::anyhow!("配置有误：ledger.witnesses“{}”的公钥：{e}", w.name)
            })?;
            witnesses.push((w.name.clone(), key));
        }
        let most = 1 + witnesses.len();
        let quorum = self
            .ledger
            .quorum
            .unwrap_or(tongban_ledger::witness::DEFAULT_QUORUM.min(most));
        if quorum == 0 || quorum > most {
            anyhow::bail!(
                "配置有误：ledger.quorum 应在 1 到 {most}（账本自己的签名加 {} 个见证节点）之间",
                witnesses.len()
            );
        }
        Ok((tongban_ledger::witness::Witnesses(witnesses), quorum))
    }

    /// The city platform's base URL, checked, if configured.
    pub fn city_platform(&self) -> anyhow::Result<Option<String>> {
        self.city_platform
            .as_ref()
            .map(|section| {
                tongban_platform::check_url(&section.url)
                    .map_err(|e| anyhow::anyhow!("配置有误：city_platform.url：{e}"))
            })
            .transpose()
    }

    /// The government-blockchain display's base URL, checked, if configured.
    pub fn ledger_display(&self) -> anyhow::Result<Option<String>> {
        let url = self.ledger.display_url.trim();
        if url.is_empty() {
            return Ok(None);
        }
        tongban_platform::check_url(url)
            .map(Some)
            .map_err(|e| anyhow::anyhow!("配置有误：ledger.display_url：{e}"))
    }

    /// The licence registry configured, if any.
    /// The working-day calendar: the configured schedule, or the official one built in.
    pub fn calendar(&self) -> anyhow::Result<tongban_domain::calendar::WorkCalendar> {
        if self.holidays_file.as_os_str().is_empty() {
            return Ok(tongban_domain::calendar::WorkCalendar::official());
        }
        let text = std::fs::read_to_string(&self.holidays_file).map_err(|e| {
            anyhow::anyhow!(
                "配置有误：holidays_file {}：{e}",
                self.holidays_file.display()
            )
        })?;
        tongban_domain::calendar::WorkCalendar::parse(&text).map_err(|e| {
            anyhow::anyhow!(
                "配置有误：holidays_file {}：{e}",
                self.holidays_file.display()
            )
        })
    }

    pub fn licence_registry(&self) -> anyhow::Result<Option<LicenceRegistry>> {
        let Some(section) = &self.licence_registry else {
            return Ok(None);
        };
        let url = section
            .url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty());
        let file = section.file.as_ref().filter(|f| !f.as_os_str().is_empty());
        match (url, file) {
            (Some(url), None) => Ok(Some(LicenceRegistry::Url(url.to_string()))),
            (None, Some(file)) => Ok(Some(LicenceRegistry::File(file.clone()))),
            (Some(_), Some(_)) => {
                anyhow::bail!("配置有误：[licence_registry] 的 url 与 file 只能设置其中一项")
            }
            (None, None) => anyhow::bail!(
                "配置有误：[licence_registry] 须设置 url（部级系统接口地址）或 file（导出数据文件）"
            ),
        }
    }

    pub fn keys_dir(&self) -> PathBuf {
        if self.keys_dir.as_os_str().is_empty() {
            self.data_dir.join("keys")
        } else {
            self.keys_dir.clone()
        }
    }

    pub fn database_url(&self) -> String {
        if self.database_url.is_empty() {
            format!("sqlite://{}", self.data_dir.join("tongban.db").display())
        } else {
            self.database_url.clone()
        }
    }

    /// Whether the store is the embedded SQLite default.
    pub fn is_embedded(&self) -> bool {
        self.database_url().starts_with("sqlite://")
    }

    pub fn files(&self) -> anyhow::Result<FilesConfig> {
        let Some(section) = &self.files else {
            return Ok(FilesConfig::Local {
                dir: self.data_dir.join("files"),
            });
        };
        match section.kind.as_str() {
            "local" => Ok(FilesConfig::Local {
                dir: section
                    .dir
                    .clone()
                    .unwrap_or_else(|| self.data_dir.join("files")),
            }),
            "s3" => {
                if section.bucket.is_empty() {
                    anyhow::bail!("配置有误：files.kind = \"s3\" 时必须设置 files.bucket");
                }
                Ok(FilesConfig::S3 {
                    bucket: section.bucket.clone(),
                    endpoint: section.endpoint.clone(),
                    region: if section.region.is_empty() {
                        "us-east-1".into()
                    } else {
                        section.region.clone()
                    },
                    access_key_id: section.access_key_id.clone(),
                    secret_access_key: section.secret_access_key.clone(),
                })
            }
            other => anyhow::bail!("配置有误：files.kind 只能是 local 或 s3，而不是 {other:?}"),
        }
    }

    pub fn web(&self) -> tongban_web::WebConfig {
        tongban_web::WebConfig {
            secure_cookies: self.secure_cookies,
            session_lifetime: std::time::Duration::from_secs(self.session_hours * 3600),
            request_timeout: std::time::Duration::from_secs(self.request_timeout_secs),
            login_attempts_per_minute: self.login_attempts_per_minute,
        }
    }

    pub fn store_options(&self) -> tongban_store::StoreOptions {
        tongban_store::StoreOptions {
            max_connections: self.max_connections,
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> anyhow::Result<Config> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tongban.toml");
        std::fs::write(&path, text).unwrap();
        Config::load(Some(&path))
    }

    #[test]
    fn city_platform_takes_a_checked_url_and_nothing_else() {
        assert_eq!(load("").unwrap().city_platform().unwrap(), None);
        let config = load("[city_platform]\nurl = \"https://platform.example.gov.cn/\"\n").unwrap();
        assert_eq!(
            config.city_platform().unwrap().as_deref(),
            Some("https://platform.example.gov.cn")
        );
        let bad = load("[city_platform]\nurl = \"ftp://platform.example.gov.cn\"\n").unwrap_err();
        assert!(bad.to_string().contains("city_platform.url"), "{bad}");
        let typo =
            load("[city_platform]\nurl = \"https://p.example\"\nurll = \"x\"\n").unwrap_err();
        assert!(typo.to_string().contains("urll"), "{typo}");
        assert!(load("[city_platform]\n").is_err(), "url is required");
    }

    #[test]
    fn the_ledger_display_is_off_without_a_url_and_checked_with_one() {
        let config = load("").unwrap();
        assert_eq!(config.ledger_display().unwrap(), None);
        assert_eq!(config.ledger.display_secs, 60);
        let config = load(
            "[ledger]\ndisplay_url = \"https://chain-screen.example.gov.cn/\"\ndisplay_secs = 30\n",
        )
        .unwrap();
        assert_eq!(
            config.ledger_display().unwrap().as_deref(),
            Some("https://chain-screen.example.gov.cn")
        );
        assert_eq!(config.ledger.display_secs, 30);
        let bad = load("[ledger]\ndisplay_url = \"chain-screen\"\n").unwrap_err();
        assert!(bad.to_string().contains("ledger.display_url"), "{bad}");
    }

    #[test]
    fn a_configured_holiday_schedule_replaces_the_official_one() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("holidays.csv");
        // 2027-01-04 (a Monday) declared a holiday by a newer schedule.
        std::fs::write(&file, "date,kind,name\n2027-01-04,holiday,元旦\n").unwrap();
        let config = load(&format!(
            "holidays_file = {:?}\n",
            file.display().to_string()
        ))
        .unwrap();
        let monday = chrono::NaiveDate::from_ymd_opt(2027, 1, 4).unwrap();
        assert!(!config.calendar().unwrap().is_working_day(monday));
        assert!(load("").unwrap().calendar().unwrap().is_working_day(monday));
        std::fs::write(&file, "2027-01-04,feast,x\n").unwrap();
        let bad = load(&format!(
            "holidays_file = {:?}\n",
            file.display().to_string()
        ))
        .unwrap_err();
        assert!(bad.to_string().contains("第1行"), "{bad}");
    }
}
