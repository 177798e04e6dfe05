//! The store suite: every test here runs on SQLite and on PostgreSQL (see `store_test!`).
use std::time::Duration;

use tongban_store::testing::TestStore;

use tongban_domain::{
    CreditCode, Enterprise, EnterpriseId, Jurisdiction, Officer, OfficerId, OfficerRole, Timestamp,
};
use tongban_store::jobs::{self, JobState, NewJob};
use tongban_store::{
    Store, StoreError, StoreOptions, enterprises, migrations, officers, sessions, store_test,
};

fn enterprise(name: &str, code17: &str) -> Enterprise {
    Enterprise {
        id: EnterpriseId::new(),
        name: name.into(),
        credit_code: CreditCode::complete(code17).unwrap(),
        legal_representative: "张玥".into(),
        registered_address: "上海市浦东新区张江路1号".into(),
        district: Jurisdiction::by_code("310115").unwrap(),
        created_at: Timestamp::now(),
    }
}

store_test!(
    enterprises_round_trip_and_reject_a_second_credit_code,
    |db: TestStore| async move {
        let store = db.store.clone();
        let e = enterprise("上海喆玥环保科技有限公司", "91310115MA1K3YJ12");
        let mut tx = store.begin().await.unwrap();
        enterprises::insert(&mut tx, &e).await.unwrap();
        tx.commit().await.unwrap();

        let found = enterprises::by_credit_code(&store, &e.credit_code)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            found, e,
            "names with rarer characters (喆, 玥) come back unchanged"
        );

        let mut twin = enterprise("另一家公司", "91310115MA1K3YJ12");
        twin.id = EnterpriseId::new();
        let mut tx = store.begin().await.unwrap();
        let err = enterprises::insert(&mut tx, &twin).await.unwrap_err();
        assert!(
            matches!(err, StoreError::Conflict("统一社会信用代码")),
            "{err:?}"
        );
        drop(tx);
        assert_eq!(enterprises::count(&store).await.unwrap(), 1);
    }
);

store_test!(
    a_rolled_back_transaction_leaves_nothing,
    |db: TestStore| async move {
        let store = db.store.clone();
        let mut tx = store.begin().await.unwrap();
        enterprises::insert(&mut tx, &enterprise("回滚测试公司", "91310104MA1FL0001"))
            .await
            .unwrap();
        drop(tx);
        assert_eq!(enterprises::count(&store).await.unwrap(), 0);
    }
);

store_test!(
    upsert_keeps_the_id_and_resets_details,
    |db: TestStore| async move {
        let store = db.store.clone();
        let first = enterprise("旧名称有限公司", "91310000132210546");
        let mut tx = store.begin().await.unwrap();
        let id = enterprises::upsert_by_credit_code(&mut tx, &first)
            .await
            .unwrap();
        let mut renamed = enterprise("新名称有限公司", "91310000132210546");
        renamed.id = EnterpriseId::new();
        let again = enterprises::upsert_by_credit_code(&mut tx, &renamed)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(id, again);
        let all = enterprises::list(&store).await.unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].name, "新名称有限公司");
    }
);

store_test!(
    officers_keep_jurisdiction_and_roles,
    |db: TestStore| async move {
        let store = db.store.clone();
        let o = Officer {
            id: OfficerId::new(),
            username: "pd.shouli".into(),
            display_name: "浦东受理员".into(),
            jurisdiction: Jurisdiction::by_code("310115").unwrap(),
            roles: vec![OfficerRole::Intake, OfficerRole::Review],
            created_at: Timestamp::now(),
        };
        let mut tx = store.begin().await.unwrap();
        officers::upsert_by_username(&mut tx, &o, "$argon2id$hash")
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let state = officers::login_state(&store, "pd.shouli")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(state.officer, o);
        assert_eq!(state.password_hash, "$argon2id$hash");
        assert_eq!((state.failed_logins, state.locked_until), (0, None));
        assert_eq!(
            officers::by_id(&store, &o.id)
                .await
                .unwrap()
                .unwrap()
                .display_name,
            "浦东受理员"
        );
        assert!(
            officers::login_state(&store, "nobody")
                .await
                .unwrap()
                .is_none()
        );
    }
);

store_test!(sessions_expire, |db: TestStore| async move {
    let store = db.store.clone();
    let o = Officer {
        id: OfficerId::new(),
        username: "city.admin".into(),
        display_name: "市局管理员".into(),
        jurisdiction: Jurisdiction::CITY,
        roles: vec![OfficerRole::Admin],
        created_at: Timestamp::now(),
    };
    let now = Timestamp::now();
    let mut tx = store.begin().await.unwrap();
    officers::upsert_by_username(&mut tx, &o, "h")
        .await
        .unwrap();
    sessions::insert(
        &mut tx,
        "live-key",
        sessions::Owner::Officer(&o.id),
        now.after(Duration::from_secs(3600)),
    )
    .await
    .unwrap();
    sessions::insert(
        &mut tx,
        "old-key",
        sessions::Owner::Officer(&o.id),
        Timestamp(now.millis() - 1),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let live = sessions::live(&store, "live-key", now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(live.officer_id, Some(o.id.clone()));
    assert!(
        sessions::live(&store, "old-key", now)
            .await
            .unwrap()
            .is_none()
    );

    let mut tx = store.begin().await.unwrap();
    assert_eq!(sessions::purge_expired(&mut tx, now).await.unwrap(), 1);
    tx.commit().await.unwrap();
});

store_test!(
    due_jobs_are_claimed_once_and_future_ones_wait,
    |db: TestStore| async move {
        let store = db.store.clone();
        let now = Timestamp::now();
        let mut tx = store.begin().await.unwrap();
        let due = jobs::enqueue(
            &mut tx,
            &NewJob::new("draft.expire", serde_json::json!({"draft": "d1"})),
        )
        .await
        .unwrap();
        jobs::enqueue(
            &mut tx,
            &NewJob::new("draft.expire", serde_json::json!({"draft": "d2"}))
                .at(now.after(Duration::from_secs(3600))),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();

        let lease = Duration::from_secs(60);
        let claimed = jobs::claim(&store, Timestamp::now(), lease, 10)
            .await
            .unwrap();
        assert_eq!(claimed.len(), 1);
        assert_eq!(claimed[0].id, due);
        assert_eq!(claimed[0].payload["draft"], "d1");
        assert_eq!(claimed[0].attempt, 1);
        // Leased: nobody else gets it.
        assert!(
            jobs::claim(&store, Timestamp::now(), lease, 10)
                .await
                .unwrap()
                .is_empty()
        );
        // A crashed worker's lease runs out and the job is claimed again.
        let later = Timestamp::now().after(Duration::from_secs(61));
        let again = jobs::claim(&store, later, lease, 10).await.unwrap();
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].attempt, 2);
        jobs::complete(&store, &due).await.unwrap();
        assert_eq!(
            jobs::by_id(&store, &due).await.unwrap().unwrap().state,
            "done"
        );
        assert_eq!(jobs::count_queued(&store).await.unwrap(), 1);
    }
);

store_test!(
    a_dedupe_key_resets_the_timer_instead_of_adding_one,
    |db: TestStore| async move {
        let store = db.store.clone();
        let t1 = Timestamp::now().after(Duration::from_secs(100));
        let t2 = Timestamp::now().after(Duration::from_secs(200));
        let mut tx = store.begin().await.unwrap();
        let a = jobs::enqueue(
            &mut tx,
            &NewJob::new("draft.expire", serde_json::json!({}))
                .at(t1)
                .dedupe("draft:7"),
        )
        .await
        .unwrap();
        let b = jobs::enqueue(
            &mut tx,
            &NewJob::new("draft.expire", serde_json::json!({}))
                .at(t2)
                .dedupe("draft:7"),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(a, b);
        assert_eq!(jobs::count_queued(&store).await.unwrap(), 1);
        assert_eq!(
            jobs::by_id(&store, &a).await.unwrap().unwrap().run_at,
            t2.millis()
        );
    }
);

store_test!(failing_jobs_back_off_then_die, |db: TestStore| async move {
    let store = db.store.clone();
    let mut tx = store.begin().await.unwrap();
    let mut job = NewJob::new("outbox.deliver", serde_json::json!({}));
    job.max_attempts = 2;
    let id = jobs::enqueue(&mut tx, &job).await.unwrap();
    tx.commit().await.unwrap();
    let lease = Duration::from_secs(60);

    let first = jobs::claim(&store, Timestamp::now(), lease, 1)
        .await
        .unwrap()
        .remove(0);
    let retry_at = Timestamp::now().after(Duration::from_secs(30));
    assert_eq!(
        jobs::fail(&store, &first, "对方系统无响应", retry_at)
            .await
            .unwrap(),
        JobState::Queued
    );
    assert!(
        jobs::claim(&store, Timestamp::now(), lease, 1)
            .await
            .unwrap()
            .is_empty(),
        "backing off"
    );

    let second = jobs::claim(&store, retry_at, lease, 1)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(
        jobs::fail(&store, &second, "对方系统无响应", retry_at)
            .await
            .unwrap(),
        JobState::Dead
    );
    let record = jobs::by_id(&store, &id).await.unwrap().unwrap();
    assert_eq!(record.state, "dead");
    assert_eq!(record.last_error.as_deref(), Some("对方系统无响应"));
});

store_test!(
    migrations_are_recorded_and_idempotent,
    |db: TestStore| async move {
        let store = db.store.clone();
        assert_eq!(
            migrations::apply(&store).await.unwrap(),
            0,
            "already applied on open"
        );
        let status = migrations::status(&store).await.unwrap();
        assert!(status.iter().all(|m| m.applied_at.is_some()));
        assert_eq!(
            store.ping().await.unwrap(),
            migrations::MIGRATIONS.last().unwrap().version
        );
    }
);

store_test!(
    ping_fails_once_the_store_is_closed,
    |db: TestStore| async move {
        let store = db.store.clone();
        store.ping().await.unwrap();
        store.close().await;
        let err = store.ping().await.unwrap_err();
        assert!(err.is_unavailable(), "{err:?}");
    }
);

/// Both engines get the same tables, columns, types and nullability from the one history.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_engines_have_the_same_schema() {
    let lite = tongban_store::testing::sqlite().await;
    let Some(pg) = tongban_store::testing::postgres("both_engines_have_the_same_schema").await
    else {
        return;
    };
    let normalise = |rows: Vec<(String, String, String, bool)>| {
        rows.into_iter()
            .map(|(t, c, ty, nn)| {
                // SQLite reports declared types; PostgreSQL its canonical names.
                let ty = match ty.as_str() {
                    "integer" | "bigint" => "integer".to_string(),
                    other => other.to_string(),
                };
                (t, c, ty, nn)
            })
            .collect::<Vec<_>>()
    };
    let a = normalise(lite.store.schema().await.unwrap());
    let b = normalise(pg.store.schema().await.unwrap());
    assert!(a.len() > 20, "schema listing looks empty: {a:?}");
    assert_eq!(a, b);
}

#[tokio::test]
async fn an_unknown_url_is_refused_clearly() {
    let err = Store::open("mysql://localhost/x", StoreOptions::default())
        .await
        .err()
        .unwrap();
    assert!(matches!(err, StoreError::UnsupportedUrl(_)));
}

store_test!(
    audit_entries_chain_and_commit_with_their_action,
    |db: TestStore| async move {
        use tongban_domain::audit::{AuditAction, ChainVerifier, GENESIS, NewAuditEntry};
        use tongban_store::audit;
        let store = db.store.clone();
        let entry = |n: i64| NewAuditEntry {
            actor: "officer:pd".into(),
            action: AuditAction::Login,
            object: String::new(),
            detail: serde_json::json!({ "n": n, "ip": "127.0.0.1" }),
        };
        assert_eq!(audit::head(&store).await.unwrap(), (0, GENESIS.to_string()));
        for n in 1..=3 {
            let mut tx = store.begin().await.unwrap();
            let r = audit::append(&mut tx, &entry(n)).await.unwrap();
            assert_eq!(r.seq, n);
            tx.commit().await.unwrap();
        }
        // An entry whose transaction rolls back leaves no trace and no gap.
        let mut tx = store.begin().await.unwrap();
        audit::append(&mut tx, &entry(99)).await.unwrap();
        drop(tx);

        let rows = audit::page(&store, 0, 100).await.unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].prev_digest, GENESIS);
        assert_eq!(rows[1].prev_digest, rows[0].digest);
        let head = audit::head(&store).await.unwrap();
        assert_eq!(head, (3, rows[2].digest.clone()));
        let mut v = ChainVerifier::default();
        for r in &rows {
            v.check(r).unwrap();
        }
        assert_eq!(v.finish(head.0, &head.1), Ok(3));
        assert_eq!(
            audit::by_actor(&store, "officer:pd", 2).await.unwrap()[0].seq,
            3
        );
    }
);

store_test!(
    concurrent_audit_appends_keep_one_chain,
    |db: TestStore| async move {
        use tongban_domain::audit::{AuditAction, ChainVerifier, NewAuditEntry};
        use tongban_store::audit;
        let store = db.store.clone();
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move {
                    for j in 0..5 {
                        let mut tx = store.begin().await.unwrap();
                        let e = NewAuditEntry {
                            actor: format!("officer:{i}"),
                            action: AuditAction::CaseAction,
                            object: format!("case:{j}"),
                            detail: serde_json::json!({}),
                        };
                        audit::append(&mut tx, &e).await.unwrap();
                        tx.commit().await.unwrap();
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        let rows = audit::page(&store, 0, 100).await.unwrap();
        assert_eq!(rows.len(), 40);
        let mut v = ChainVerifier::default();
        for r in &rows {
            v.check(r).unwrap();
        }
        let head = audit::head(&store).await.unwrap();
        assert_eq!(v.finish(head.0, &head.1), Ok(40));
    }
);

store_test!(
    the_fifth_failed_login_locks_and_a_success_clears,
    |db: TestStore| async move {
        let store = db.store.clone();
        let o = Officer {
            id: OfficerId::new(),
            username: "mh.shouli".into(),
            display_name: "闵行受理员".into(),
            jurisdiction: Jurisdiction::by_code("310112").unwrap(),
            roles: vec![OfficerRole::Intake],
            created_at: Timestamp::now(),
        };
        let mut tx = store.begin().await.unwrap();
        officers::upsert_by_username(&mut tx, &o, "h")
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let until = Timestamp::now().after(Duration::from_secs(900));
        for n in 1..=4 {
            let mut tx = store.begin().await.unwrap();
            assert_eq!(
                officers::record_failed_login(&mut tx, &o.id, 5, until)
                    .await
                    .unwrap(),
                None
            );
            tx.commit().await.unwrap();
            assert_eq!(
                officers::login_state(&store, "mh.shouli")
                    .await
                    .unwrap()
                    .unwrap()
                    .failed_logins,
                n
            );
        }
        let mut tx = store.begin().await.unwrap();
        assert_eq!(
            officers::record_failed_login(&mut tx, &o.id, 5, until)
                .await
                .unwrap(),
            Some(until)
        );
        tx.commit().await.unwrap();
        let state = officers::login_state(&store, "mh.shouli")
            .await
            .unwrap()
            .unwrap();
        assert_eq!((state.failed_logins, state.locked_until), (0, Some(until)));

        let mut tx = store.begin().await.unwrap();
        officers::record_login(&mut tx, &o.id).await.unwrap();
        tx.commit().await.unwrap();
        let state = officers::login_state(&store, "mh.shouli")
            .await
            .unwrap()
            .unwrap();
        assert_eq!((state.failed_logins, state.locked_until), (0, None));
    }
);

store_test!(
    rate_limit_windows_count_and_reset,
    |db: TestStore| async move {
        use tongban_store::rate_limits;
        let window = Duration::from_secs(60);
        let t0 = Timestamp(1_795_392_000_000); // on a minute boundary
        for expected in 1..=3 {
            assert_eq!(
                rate_limits::hit(
                    &db.store,
                    "login:10.0.0.1",
                    window,
                    t0.after(Duration::from_secs(expected as u64))
                )
                .await
                .unwrap(),
                expected
            );
        }
        assert_eq!(
            rate_limits::hit(&db.store, "login:10.0.0.2", window, t0)
                .await
                .unwrap(),
            1,
            "per key"
        );
        assert_eq!(
            rate_limits::hit(&db.store, "login:10.0.0.1", window, t0.after(window))
                .await
                .unwrap(),
            1,
            "a new window starts again"
        );
        assert_eq!(
            rate_limits::purge(&db.store, t0.after(window))
                .await
                .unwrap(),
            1,
            "only the old window's counter goes"
        );
    }
);

/// The credit code of test enterprise `i` (17 characters; the check character is computed).
fn code17(i: usize) -> String {
    format!("91310115MA1G{i:05}")
}

store_test!(
    concurrent_writers_keep_their_own_outcome_and_an_acknowledged_one_is_durable,
    |db: TestStore| async move {
        // On SQLite these share commits (see the store's `group` module): one writer's failure
        // or abandonment must not undo another's, and an acknowledged write must be readable at
        // once and after the store is reopened.
        let store = db.store.clone();
        let mut tasks = Vec::new();
        for i in 0..48 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let e = enterprise(&format!("并发写入{i}号公司"), &code17(i));
                let mut tx = store.begin().await.unwrap();
                enterprises::insert(&mut tx, &e).await.unwrap();
                match i % 4 {
                    // Abandoned: dropped after its insert.
                    1 => {
                        drop(tx);
                        (e, false)
                    }
                    // A second row with a taken credit code fails; the caller gives up.
                    2 => {
                        let twin = enterprise("重复代码公司", &code17(i));
                        let err = enterprises::insert(&mut tx, &twin).await.unwrap_err();
                        assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
                        drop(tx);
                        (e, false)
                    }
                    _ => {
                        tx.commit().await.unwrap();
                        let seen = enterprises::by_id(&store, &e.id).await.unwrap();
                        assert!(seen.is_some(), "writer {i}: acknowledged but not readable");
                        (e, true)
                    }
                }
            }));
        }
        let mut outcomes = Vec::new();
        for t in tasks {
            outcomes.push(t.await.unwrap());
        }
        let kept = outcomes.iter().filter(|(_, kept)| *kept).count();
        assert_eq!(kept, 24);
        assert_eq!(enterprises::count(&store).await.unwrap(), 24);

        store.close().await;
        let reopened = Store::open(&db.url, StoreOptions::default()).await.unwrap();
        for (e, kept) in &outcomes {
            let found = enterprises::by_id(&reopened, &e.id).await.unwrap();
            assert_eq!(found.is_some(), *kept, "{} after reopening", e.name);
        }
        reopened.close().await;
    }
);

store_test!(
    an_abandoned_write_does_not_hold_the_database,
    |db: TestStore| async move {
        let store = db.store.clone();
        let mut tx = store.begin().await.unwrap();
        enterprises::insert(&mut tx, &enterprise("弃置写入公司", &code17(1)))
            .await
            .unwrap();
        drop(tx);
        // Another instance on the same database (a second server, `tongban` run by hand) can
        // write straight away, which it could not while SQLite's write lock stayed taken.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let other = Store::open(
            &db.url,
            StoreOptions {
                acquire_timeout: Duration::from_secs(2),
                ..StoreOptions::default()
            },
        )
        .await
        .unwrap();
        let e = enterprise("另一实例公司", &code17(2));
        let mut tx = other.begin().await.unwrap();
        enterprises::insert(&mut tx, &e).await.unwrap();
        let committed = tokio::time::timeout(Duration::from_secs(3), tx.commit()).await;
        assert!(matches!(committed, Ok(Ok(()))), "{committed:?}");
        assert!(enterprises::by_id(&store, &e.id).await.unwrap().is_some());
        assert_eq!(enterprises::count(&store).await.unwrap(), 1);
        other.close().await;
    }
);
