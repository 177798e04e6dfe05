//! Test support: a fresh, migrated store per test on each engine.
//!
//! PostgreSQL comes from `TONGBAN_TEST_POSTGRES_URL` (an administrative URL, default
//! `postgres://postgres@127.0.0.1:5432/postgres`); each test gets its own database, dropped
//! afterwards. Where that server cannot be reached the PostgreSQL half of a test says it was
//! skipped, except in CI (`CI` set), where a skip is a failure.
use std::time::Duration;

use sqlx::Connection;
use sqlx::postgres::PgConnection;

use crate::{Store, StoreOptions};

const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A store for one test; removes its database when dropped.
pub struct TestStore {
    pub store: Store,
    /// The URL the store was opened with, for tests that start the server on it.
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, database: String },
}

/// A migrated SQLite store in a temporary directory.
pub async fn sqlite() -> TestStore {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}", dir.path().join("tongban.db").display());
    let store = Store::open(&url, StoreOptions::default())
        .await
        .expect("open SQLite store");
    TestStore {
        store,
        url,
        cleanup: Cleanup::Sqlite(dir),
    }
}

fn admin_url() -> String {
    std::env::var("TONGBAN_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_string())
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// A fresh, migrated PostgreSQL database, or `None` (after saying so) when no server is reachable
/// outside CI. Panics in CI when the server cannot be reached.
pub async fn postgres(test: &str) -> Option<TestStore> {
    let admin_url = admin_url();
    let connect = tokio::time::timeout(Duration::from_secs(3), PgConnection::connect(&admin_url));
    let mut admin = match connect.await {
        Ok(Ok(conn)) => conn,
        failure => {
            let why = match failure {
                Ok(Err(e)) => e.to_string(),
                _ => "timed out".to_string(),
            };
            if in_ci() {
                panic!("PostgreSQL at {admin_url} is required in CI and cannot be reached: {why}");
            }
            eprintln!(
                "SKIPPED PostgreSQL half of {test}: {admin_url} not reachable ({why}); set TONGBAN_TEST_POSTGRES_URL"
            );
            return None;
        }
    };
    let database = format!("tongban_test_{}", uuid::Uuid::new_v4().simple());
    sqlx::raw_sql(&format!("CREATE DATABASE {database}"))
        .execute(&mut admin)
        .await
        .expect("create test database");
    admin.close().await.ok();
    let url = with_database(&admin_url, &database);
    let store = Store::open(&url, StoreOptions::default())
        .await
        .expect("open PostgreSQL store");
    Some(TestStore {
        store,
        url,
        cleanup: Cleanup::Postgres {
            admin_url,
            database,
        },
    })
}

/// Replaces the database name (the path) of a PostgreSQL URL.
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_end = base[scheme_end..]
        .find('/')
        .map(|i| scheme_end + i)
        .unwrap_or(base.len());
    format!("{}/{database}{query}", &base[..host_end])
}

impl Drop for TestStore {
    fn drop(&mut self) {
        if let Cleanup::Postgres {
            admin_url,
            database,
        } = &self.cleanup
        {
            let (store, admin_url, database) =
                (self.store.clone(), admin_url.clone(), database.clone());
            // Drop runs outside async context; a short-lived runtime on its own thread drops the database.
            let done = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                rt.block_on(async move {
                    store.close().await;
                    if let Ok(mut admin) = PgConnection::connect(&admin_url).await {
                        let _ = sqlx::raw_sql(&format!(
                            "DROP DATABASE IF EXISTS {database} WITH (FORCE)"
                        ))
                        .execute(&mut admin)
                        .await;
                    }
                });
            });
            let _ = done.join();
        }
    }
}

/// Declares a test that runs `$body(db: TestStore)` once on SQLite and once on PostgreSQL, as two
/// tests named `$name::sqlite` and `$name::postgres`.
#[macro_export]
macro_rules! store_test {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                ($body)($crate::testing::sqlite().await).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(db) = $crate::testing::postgres(module_path!()).await {
                    ($body)(db).await;
                }
            }
        }
    };
}
