//! Content-addressed file storage for attachments and generated documents.
//!
//! Policy: an object's name is the SM3 digest of its bytes (`sm3/ab/abcdef…`). Identical uploads
//! therefore land on one object, stored once; and every read recomputes the digest, so an object
//! changed on disk is reported as [`FileError::Corrupted`] and never handed out. One API serves a
//! local directory (the default) and any S3-compatible service, through `object_store`.
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use futures::TryStreamExt;
use object_store::ObjectStore;
use object_store::path::Path;
use serde::Deserialize;
use tongban_crypto::{Sm3Digest, sm3};

/// Where objects live.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum FilesConfig {
    /// A directory on this machine.
    Local { dir: PathBuf },
    /// An S3-compatible service (one bucket).
    S3 {
        bucket: String,
        /// e.g. `http://127.0.0.1:9000`; empty for AWS itself.
        #[serde(default)]
        endpoint: String,
        #[serde(default = "default_region")]
        region: String,
        access_key_id: String,
        secret_access_key: String,
    },
}

fn default_region() -> String {
    "us-east-1".into()
}

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("file {0} not found")]
    NotFound(Sm3Digest),
    #[error("file {expected} is corrupted: its content now hashes to {actual}")]
    Corrupted {
        expected: Sm3Digest,
        actual: Sm3Digest,
    },
    #[error("file storage is not configured correctly: {0}")]
    Config(String),
    #[error("file storage failed: {0}")]
    Backend(#[from] object_store::Error),
}

/// What [`FileStore::put`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stored {
    pub digest: Sm3Digest,
    pub size: u64,
    /// False when identical content was already stored and nothing was written.
    pub written: bool,
}

/// The result of checking every stored object.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CheckReport {
    pub checked: usize,
    pub corrupted: Vec<Sm3Digest>,
    /// Objects whose names are not digests (left there by something else).
    pub foreign: Vec<String>,
}

#[derive(Clone)]
pub struct FileStore {
    backend: Arc<dyn ObjectStore>,
}

const PREFIX: &str = "sm3";

fn path_of(digest: &Sm3Digest) -> Path {
    let hex = digest.to_hex();
    Path::from(format!("{PREFIX}/{}/{hex}", &hex[..2]))
}

impl FileStore {
    pub fn open(config: &FilesConfig) -> Result<Self, FileError> {
        let backend: Arc<dyn ObjectStore> = match config {
            FilesConfig::Local { dir } => {
                std::fs::create_dir_all(dir).map_err(|e| {
                    FileError::Config(format!("cannot create {}: {e}", dir.display()))
                })?;
                Arc::new(object_store::local::LocalFileSystem::new_with_prefix(dir)?)
            }
            FilesConfig::S3 {
                bucket,
                endpoint,
                region,
                access_key_id,
                secret_access_key,
            } => {
                let mut builder = object_store::aws::AmazonS3Builder::new()
                    .with_bucket_name(bucket)
                    .with_region(region)
                    .with_access_key_id(access_key_id)
                    .with_secret_access_key(secret_access_key);
                if !endpoint.is_empty() {
                    builder = builder
                        .with_endpoint(endpoint)
                        .with_allow_http(endpoint.starts_with("http://"))
                        .with_virtual_hosted_style_request(false);
                }
                Arc::new(builder.build()?)
            }
        };
        Ok(Self { backend })
    }

    /// Stores `content` under its digest, unless identical content is already there.
    pub async fn put(&self, content: Bytes) -> Result<Stored, FileError> {
        let digest = sm3(&content);
        let size = content.len() as u64;
        let path = path_of(&digest);
        match self.backend.head(&path).await {
            Ok(_) => {
                return Ok(Stored {
                    digest,
                    size,
                    written: false,
                });
            }
            Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        // Two writers of the same content race harmlessly: the bytes are the same by construction.
        self.backend.put(&path, content.into()).await?;
        tracing::debug!(digest = %digest, size, "file stored");
        Ok(Stored {
            digest,
            size,
            written: true,
        })
    }

    /// The content stored under `digest`, checked against it.
    pub async fn get(&self, digest: &Sm3Digest) -> Result<Bytes, FileError> {
        let content = match self.backend.get(&path_of(digest)).await {
            Ok(found) => found.bytes().await?,
            Err(object_store::Error::NotFound { .. }) => return Err(FileError::NotFound(*digest)),
            Err(e) => return Err(e.into()),
        };
        let actual = sm3(&content);
        if actual != *digest {
            tracing::error!(expected = %digest, actual = %actual, "stored file is corrupted");
            return Err(FileError::Corrupted {
                expected: *digest,
                actual,
            });
        }
        Ok(content)
    }

    pub async fn exists(&self, digest: &Sm3Digest) -> Result<bool, FileError> {
        match self.backend.head(&path_of(digest)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Reads every object and reports those whose content no longer matches their name.
    pub async fn check(&self) -> Result<CheckReport, FileError> {
        let mut report = CheckReport::default();
        let prefix = Path::from(PREFIX);
        let mut listing = self.backend.list(Some(&prefix));
        while let Some(meta) = listing.try_next().await? {
            let name = meta.location.filename().unwrap_or_default().to_string();
            let Ok(digest) = name.parse::<Sm3Digest>() else {
                report.foreign.push(meta.location.to_string());
                continue;
            };
            report.checked += 1;
            match self.get(&digest).await {
                Ok(_) => {}
                Err(FileError::Corrupted { .. }) => report.corrupted.push(digest),
                Err(e) => return Err(e),
            }
        }
        report.corrupted.sort();
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(dir: &std::path::Path) -> FileStore {
        FileStore::open(&FilesConfig::Local {
            dir: dir.to_path_buf(),
        })
        .unwrap()
    }

    fn object_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut out = vec![];
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(d).unwrap() {
                let p = entry.unwrap().path();
                if p.is_dir() {
                    stack.push(p)
                } else {
                    out.push(p)
                }
            }
        }
        out
    }

    #[tokio::test]
    async fn the_same_upload_twice_is_stored_once() {
        let dir = tempfile::tempdir().unwrap();
        let files = local(dir.path());
        let scan = Bytes::from_static("营业执照扫描件（盖章）".as_bytes());
        let first = files.put(scan.clone()).await.unwrap();
        let second = files.put(scan.clone()).await.unwrap();
        assert!(first.written);
        assert!(!second.written);
        assert_eq!(first.digest, second.digest);
        assert_eq!(object_files(dir.path()).len(), 1);
        assert_eq!(files.get(&first.digest).await.unwrap(), scan);

        files
            .put(Bytes::from_static(b"another file"))
            .await
            .unwrap();
        assert_eq!(object_files(dir.path()).len(), 2);
    }

    #[tokio::test]
    async fn a_corrupted_object_is_reported_not_served() {
        let dir = tempfile::tempdir().unwrap();
        let files = local(dir.path());
        let stored = files
            .put(Bytes::from_static(b"%PDF-1.7 licence"))
            .await
            .unwrap();
        let good = files
            .put(Bytes::from_static(b"%PDF-1.7 notice"))
            .await
            .unwrap();
        let path = object_files(dir.path())
            .into_iter()
            .find(|p| p.ends_with(stored.digest.to_hex()))
            .unwrap();
        std::fs::write(&path, b"%PDF-1.7 licencf").unwrap();

        match files.get(&stored.digest).await {
            Err(FileError::Corrupted { expected, .. }) => assert_eq!(expected, stored.digest),
            other => panic!("corrupted object was not refused: {other:?}"),
        }
        assert!(files.get(&good.digest).await.is_ok());
        let report = files.check().await.unwrap();
        assert_eq!(report.checked, 2);
        assert_eq!(report.corrupted, vec![stored.digest]);
    }

    #[tokio::test]
    async fn a_missing_object_is_not_found() {
        let dir = tempfile::tempdir().unwrap();
        let files = local(dir.path());
        let digest = sm3(b"never stored");
        assert!(matches!(files.get(&digest).await, Err(FileError::NotFound(d)) if d == digest));
        assert!(!files.exists(&digest).await.unwrap());
    }
}
