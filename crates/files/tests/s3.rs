//! The S3 path of the file store against a real local S3 peer: `moto_server` (PyPI `moto[server]`),
//! started on a free loopback port. Without it the test says it was skipped; in CI it fails.
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tongban_files::{FileError, FileStore, FilesConfig};

struct Moto(Child);

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Sends one plain HTTP request (moto does not check signatures) and returns the status line.
fn raw(port: u16, method: &str, path: &str, body: &[u8]) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out.lines().next().unwrap_or_default().to_string()
}

fn start_moto() -> Option<(Moto, u16)> {
    let port = free_port();
    let child = Command::new("moto_server")
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let child = match child {
        Ok(c) => Moto(c),
        Err(e) => {
            if std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0") {
                panic!("moto_server is required in CI for the S3 test: {e}");
            }
            eprintln!(
                "SKIPPED S3 file-store test: moto_server not found ({e}); pip install 'moto[server]'"
            );
            return None;
        }
    };
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "moto_server did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Some((child, port))
}

#[tokio::test]
async fn s3_stores_identical_uploads_once_and_refuses_corrupted_objects() {
    let Some((_moto, port)) = start_moto() else {
        return;
    };
    assert!(
        raw(port, "PUT", "/tongban", b"").contains("200"),
        "bucket created"
    );
    let files = FileStore::open(&FilesConfig::S3 {
        bucket: "tongban".into(),
        endpoint: format!("http://127.0.0.1:{port}"),
        region: "us-east-1".into(),
        access_key_id: "test".into(),
        secret_access_key: "test".into(),
    })
    .unwrap();

    let report = Bytes::from("2026年度辐射安全和防护状况年度评估报告".as_bytes());
    let first = files.put(report.clone()).await.unwrap();
    let second = files.put(report.clone()).await.unwrap();
    assert!(
        first.written && !second.written,
        "the second identical upload writes nothing"
    );
    assert_eq!(files.get(&first.digest).await.unwrap(), report);
    let other = files.put(Bytes::from_static(b"another")).await.unwrap();
    assert_eq!(files.check().await.unwrap().checked, 2);

    // Someone changes the object behind Tongban's back.
    let hex = first.digest.to_hex();
    let path = format!("sm3/{}/{hex}", &hex[..2]);
    let intruder = object_store::aws::AmazonS3Builder::new()
        .with_bucket_name("tongban")
        .with_endpoint(format!("http://127.0.0.1:{port}"))
        .with_allow_http(true)
        .with_region("us-east-1")
        .with_access_key_id("test")
        .with_secret_access_key("test")
        .build()
        .unwrap();
    object_store::ObjectStore::put(
        &intruder,
        &path.into(),
        Bytes::from("篡改后的内容".as_bytes()).into(),
    )
    .await
    .unwrap();
    assert!(matches!(
        files.get(&first.digest).await,
        Err(FileError::Corrupted { .. })
    ));
    assert!(files.get(&other.digest).await.is_ok());
    assert_eq!(files.check().await.unwrap().corrupted, vec![first.digest]);
}
