//! `tongban audit verify` against entries edited or deleted directly in the database, on SQLite
//! and PostgreSQL.
use std::process::Command;
use std::time::Duration;

use tongban_domain::{Jurisdiction, Officer, OfficerId, OfficerRole, Timestamp};
use tongban_store::testing::TestStore;
use tongban_store::{officers, store_test};

fn verify(url: &str) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tongban"))
        .current_dir(dir.path())
        .env("TONGBAN_DATABASE_URL", url)
        .args(["audit", "verify"])
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string(),
    )
}

/// Runs one statement behind Tongban's back, as an intruder with database access would.
async fn tamper(url: &str, sql: &str) {
    if url.starts_with("sqlite://") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        sqlx::query(sql).execute(&pool).await.unwrap();
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        sqlx::query(sql).execute(&pool).await.unwrap();
        pool.close().await;
    }
}

async fn some_logins(db: &TestStore) {
    let o = Officer {
        id: OfficerId::new(),
        username: "shi.shouli".into(),
        display_name: "市局受理员".into(),
        jurisdiction: Jurisdiction::CITY,
        roles: vec![OfficerRole::Intake],
        created_at: Timestamp::now(),
    };
    let mut tx = db.store.begin().await.unwrap();
    officers::upsert_by_username(&mut tx, &o, &tongban_identity::hash_password("Right#1"))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let hour = Duration::from_secs(3600);
    for password in ["wrong", "Right#1", "again wrong", "Right#1"] {
        let _ =
            tongban_identity::officer_login(&db.store, "shi.shouli", password, "127.0.0.1", hour)
                .await;
    }
}

store_test!(an_edited_audit_row_is_named, |db: TestStore| async move {
    some_logins(&db).await;
    let (ok, text) = verify(&db.url);
    assert!(ok, "{text}");
    assert!(text.contains("共 4 条记录"), "{text}");

    tamper(&db.url, "UPDATE audit_log SET detail = '{\"username\":\"someone else\",\"client\":\"127.0.0.1\"}' WHERE seq = 2").await;
    let (ok, text) = verify(&db.url);
    assert!(!ok);
    assert!(text.contains("第2条审计记录的内容被修改"), "{text}");
});

store_test!(a_deleted_audit_row_is_named, |db: TestStore| async move {
    some_logins(&db).await;
    tamper(&db.url, "DELETE FROM audit_log WHERE seq = 3").await;
    let (ok, text) = verify(&db.url);
    assert!(!ok);
    assert!(text.contains("应为第3条，实为第4条"), "{text}");
});

store_test!(
    cutting_off_the_newest_rows_is_caught,
    |db: TestStore| async move {
        some_logins(&db).await;
        tamper(&db.url, "DELETE FROM audit_log WHERE seq = 4").await;
        let (ok, text) = verify(&db.url);
        assert!(!ok);
        assert!(text.contains("末尾缺失"), "{text}");
    }
);
