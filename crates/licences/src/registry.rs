//! The prefill sources: the registry over HTTP, and an export file (or text) of the same
//! document. Both choose one licence and map it the same way ([`crate::prefill_from`]).
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tongban_engine::prefill::{Known, Lookup, PrefillSource};

use crate::record::{Document, LicenceRecord, parse_document};
use crate::{CREDIT_CODE_KEY, beijing_today, prefill_from};

/// The registry over HTTP: `GET {base_url}/api/v1/licences?credit_code=…`.
#[derive(Debug, Clone)]
pub struct RegistrySource {
    base_url: String,
    client: reqwest::Client,
    timeout: Duration,
}

impl RegistrySource {
    /// The longest a look-up may take, connecting included: a slow ministry must never hold
    /// up an application (prefill is a convenience).
    pub const TIMEOUT: Duration = Duration::from_secs(3);

    /// A source asking the registry at `base_url` (`http://` or `https://`), within
    /// [`Self::TIMEOUT`].
    pub fn new(base_url: &str) -> Result<Self, String> {
        Self::with_timeout(base_url, Self::TIMEOUT)
    }

    /// The same with another timeout (tests use a short one).
    pub fn with_timeout(base_url: &str, timeout: Duration) -> Result<Self, String> {
        let base_url = base_url.trim().trim_end_matches('/').to_string();
        let parsed = reqwest::Url::parse(&base_url)
            .map_err(|e| format!("辐射安全许可证系统地址有误（{base_url}）：{e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(format!(
                "辐射安全许可证系统地址应以 http:// 或 https:// 开头：{base_url}"
            ));
        }
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()
            .map_err(|e| format!("无法创建辐射安全许可证系统的客户端：{}", detail(&e)))?;
        Ok(Self {
            base_url,
            client,
            timeout,
        })
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Every licence the registry holds for `credit_code` (none: empty).
    pub async fn licences(&self, credit_code: &str) -> Result<Vec<LicenceRecord>, String> {
        let url = format!("{}/api/v1/licences", self.base_url);
        let failed = |e: reqwest::Error| {
            if e.is_timeout() {
                format!(
                    "辐射安全许可证系统 {} 毫秒内未应答（{}）：{}",
                    self.timeout.as_millis(),
                    self.base_url,
                    detail(&e)
                )
            } else if e.is_connect() {
                format!(
                    "无法连接辐射安全许可证系统（{}）：{}",
                    self.base_url,
                    detail(&e)
                )
            } else {
                format!(
                    "辐射安全许可证系统查询失败（{}）：{}",
                    self.base_url,
                    detail(&e)
                )
            }
        };
        let response = self
            .client
            .get(&url)
            .query(&[("credit_code", credit_code)])
            .header("accept", "application/json")
            .send()
            .await
            .map_err(failed)?;
        let status = response.status();
        let body = response.text().await.map_err(failed)?;
        if !status.is_success() {
            let message = serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v["error"]["message"].as_str().map(str::to_string))
                .unwrap_or_else(|| body.chars().take(200).collect());
            return Err(format!(
                "辐射安全许可证系统返回 {}（{}）：{message}",
                status.as_u16(),
                self.base_url
            ));
        }
        parse_document(&body).map_err(|e| format!("{e}（{}）", self.base_url))
    }
}

impl PrefillSource for RegistrySource {
    fn name(&self) -> &str {
        "licence-registry"
    }

    fn lookup<'a>(&'a self, known: &'a Known) -> Lookup<'a> {
        Box::pin(async move {
            // Without the enterprise's code there is nothing to ask (individuals, say).
            let Some(code) = known.get(CREDIT_CODE_KEY) else {
                return Ok(Known::new());
            };
            let records = self.licences(code).await?;
            Ok(prefill_from(&records, known, beijing_today()))
        })
    }
}

/// The registry's document read from an export file (bureaus that receive a periodic export,
/// and the offline demo) or given as text. A file is read when the source is made, so a
/// missing or malformed file is refused at start-up, and read again when it changes.
#[derive(Debug)]
pub struct FileSource {
    origin: Origin,
}

#[derive(Debug)]
enum Origin {
    Records(Arc<Vec<LicenceRecord>>),
    File {
        path: PathBuf,
        /// The records and the modification time they were read at.
        read: Mutex<(Option<SystemTime>, Arc<Vec<LicenceRecord>>)>,
    },
}

impl FileSource {
    /// Reads and checks `path` now; later look-ups read it again when its modification time
    /// changes (a new export takes effect without a restart).
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, String> {
        let path = path.into();
        let (modified, records) = read_file(&path)?;
        Ok(Self {
            origin: Origin::File {
                path,
                read: Mutex::new((modified, Arc::new(records))),
            },
        })
    }

    /// The document given as JSON text (e.g. embedded in the binary).
    pub fn from_json(text: &str) -> Result<Self, String> {
        Ok(Self::from_records(parse_document(text)?))
    }

    pub fn from_records(records: Vec<LicenceRecord>) -> Self {
        Self {
            origin: Origin::Records(Arc::new(records)),
        }
    }

    /// The records as of now (for a file, re-read if it changed).
    pub fn records(&self) -> Result<Arc<Vec<LicenceRecord>>, String> {
        match &self.origin {
            Origin::Records(records) => Ok(records.clone()),
            Origin::File { path, read } => {
                let modified = std::fs::metadata(path)
                    .and_then(|m| m.modified())
                    .map_err(|e| {
                        format!("无法读取辐射安全许可证数据文件 {}：{e}", path.display())
                    })?;
                let mut read = read.lock().unwrap_or_else(|p| p.into_inner());
                if read.0 != Some(modified) {
                    let (modified, records) = read_file(path)?;
                    *read = (modified, Arc::new(records));
                }
                Ok(read.1.clone())
            }
        }
    }

    /// The document these records make (what a registry would answer for all of them).
    pub fn document(&self) -> Result<Document, String> {
        Ok(Document {
            licences: self.records()?.as_ref().clone(),
        })
    }
}

fn read_file(path: &std::path::Path) -> Result<(Option<SystemTime>, Vec<LicenceRecord>), String> {
    let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok();
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("无法读取辐射安全许可证数据文件 {}：{e}", path.display()))?;
    let records = parse_document(&text).map_err(|e| format!("{e}（{}）", path.display()))?;
    Ok((modified, records))
}

impl PrefillSource for FileSource {
    fn name(&self) -> &str {
        "licence-file"
    }

    fn lookup<'a>(&'a self, known: &'a Known) -> Lookup<'a> {
        Box::pin(async move {
            if !known.contains_key(CREDIT_CODE_KEY) {
                return Ok(Known::new());
            }
            // A local read of a small file; an export of every licence in the city is a few MB.
            let records = self.records()?;
            Ok(prefill_from(&records, known, beijing_today()))
        })
    }
}

/// An error with its causes: reqwest's own message names only the URL.
fn detail(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
