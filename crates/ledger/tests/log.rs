//! The log on both engines: batches of requests become leaves with a signed checkpoint each;
//! proofs read from the store verify against the checkpoints; refused requests write nothing.
use tongban_crypto::Sm2KeyPair;
use tongban_ledger::contracts::{ContractError, VERSION};
use tongban_ledger::log::{self, Log, Refusal, Request};
use tongban_ledger::merkle::{MemoryTree, Sm3, verify_consistency, verify_inclusion};
use tongban_store::chain;
use tongban_store::store_test;
use tongban_store::testing::TestStore;

fn request(contract: &str, key: &str, operation: &str, payload: &str) -> Request {
    Request {
        contract: contract.into(),
        version: VERSION,
        key: key.into(),
        operation: operation.into(),
        payload: payload.into(),
        app_id: "jiangsu-eeb".into(),
        app_signature: "00ff".into(),
        nonce: None,
    }
}

fn filing(key: &str, no: &str) -> Request {
    request(
        "filing",
        key,
        "create",
        &format!(r#"{{"filing_no":"{no}","waste":"一般工业固体废物"}}"#),
    )
}

fn status(key: &str, op: &str, status: &str) -> Request {
    request(
        "disposal_process",
        key,
        op,
        &format!(r#"{{"status":"{status}","application_no":"{key}"}}"#),
    )
}

store_test!(
    batches_become_leaves_whose_proofs_verify_against_signed_checkpoints,
    |db: TestStore| async move {
        let store = db.store.clone();
        let log = Log::new("shanghai-eeb/solid-waste", Sm2KeyPair::generate());
        let mut mirror = MemoryTree::new();
        let mut checkpoints = Vec::new();
        for batch in 0..4 {
            let requests: Vec<Request> = (0..25)
                .map(|i| filing(&format!("BA-{batch}-{i}"), &format!("沪备{batch:02}{i:03}")))
                .chain([status(&format!("CZ-{batch}"), "create", "submitted")])
                .collect();
            let appended = log.append(&store, &requests).await.unwrap();
            for r in &appended.results {
                let entry = r.as_ref().expect("every request is valid");
                mirror.push::<Sm3>(entry.leaf_hash());
            }
            let signed = appended.checkpoint.expect("a batch ends in a checkpoint");
            assert_eq!(signed.checkpoint.height, batch + 1);
            assert_eq!(signed.checkpoint.size, 26 * (batch + 1));
            assert!(
                signed
                    .checkpoint
                    .verify(&log.public_key(), &signed.signature)
            );
            assert_eq!(
                signed.checkpoint.root,
                mirror.root::<Sm3>(mirror.size()).unwrap()
            );
            checkpoints.push(signed.checkpoint);
        }
        assert_eq!(chain::size(&store).await.unwrap(), 104);
        let last = checkpoints.last().unwrap().clone();
        assert_eq!(log::root(&store, last.size).await.unwrap(), last.root);
        // Every entry's proof, read from the store, against the latest checkpoint.
        let entries = chain::entries_from(&store, 0, 1000).await.unwrap();
        assert_eq!(entries.len(), 104);
        for e in &entries {
            let leaf: [u8; 32] = e.leaf_hash.as_slice().try_into().unwrap();
            let path = log::inclusion_proof(&store, e.seq as u64, last.size)
                .await
                .unwrap();
            assert!(verify_inclusion::<Sm3>(
                e.seq as u64,
                last.size,
                &leaf,
                &path,
                &last.root
            ));
        }
        // Each checkpoint is consistent with every later one.
        for (i, a) in checkpoints.iter().enumerate() {
            for b in &checkpoints[i..] {
                let path = log::consistency_proof(&store, a.size, b.size)
                    .await
                    .unwrap();
                assert!(verify_consistency::<Sm3>(
                    a.size, b.size, &path, &a.root, &b.root
                ));
            }
        }
        // A checkpoint signed by another key does not verify.
        let (stored, other) = (
            chain::latest_checkpoint(&store).await.unwrap().unwrap(),
            Sm2KeyPair::generate(),
        );
        assert!(last.verify(&log.public_key(), &stored.signature));
        assert!(!last.verify(&other.public_key(), &stored.signature));
    }
);

store_test!(
    refused_requests_write_nothing_and_histories_link,
    |db: TestStore| async move {
        let store = db.store.clone();
        let log = Log::new("shanghai-eeb/solid-waste", Sm2KeyPair::generate());
        let first = log
            .append(
                &store,
                &[
                    filing("BA-1", "沪备001"),
                    status("CZ-1", "create", "submitted"),
                ],
            )
            .await
            .unwrap();
        assert!(first.results.iter().all(Result::is_ok));

        // Every one refused: nothing written, no checkpoint.
        let refused = log
            .append(
                &store,
                &[
                    filing("BA-1", "沪备001"),
                    request("filing", "BA-404", "update", "{}"),
                    status("CZ-1", "status", "approved"),
                    status("CZ-2", "status", "accepted"),
                    request(
                        "filing_revocation",
                        "CX-1",
                        "create",
                        r#"{"filing_key":"BA-1","filing_no":"沪备999"}"#,
                    ),
                    request("ledger", "X", "create", "{}"),
                    request("filing", "bad\nkey", "create", r#"{"filing_no":"1"}"#),
                    request("filing", "BA-2", "create", "not json"),
                ],
            )
            .await
            .unwrap();
        assert!(refused.checkpoint.is_none());
        let why: Vec<String> = refused
            .results
            .iter()
            .map(|r| r.as_ref().unwrap_err().to_string())
            .collect();
        assert_eq!(why[0], "业务主键“BA-1”已存在，不能重复新增");
        assert_eq!(why[1], "业务主键“BA-404”不存在");
        assert_eq!(why[2], "状态不能从“已提交”变为“准予许可”");
        assert_eq!(why[3], "业务主键“CZ-2”不存在");
        assert_eq!(why[4], "备案号“沪备999”与备案“BA-1”的备案号不符");
        assert_eq!(why[5], "未知的合约“ledger”");
        assert!(matches!(refused.results[6], Err(Refusal::BadField("key"))));
        assert!(matches!(
            refused.results[7],
            Err(Refusal::Contract(ContractError::BadPayload(_)))
        ));
        assert_eq!(chain::size(&store).await.unwrap(), 2);
        assert_eq!(
            chain::latest_checkpoint(&store)
                .await
                .unwrap()
                .unwrap()
                .height,
            1
        );

        // A revocation, then an update of the revoked filing in the same batch, and the
        // status moving on in order.
        let mixed = log
            .append(
                &store,
                &[
                    status("CZ-1", "status", "accepted"),
                    request(
                        "filing_revocation",
                        "CX-1",
                        "create",
                        r#"{"filing_key":"BA-1","filing_no":"沪备001"}"#,
                    ),
                    request("filing", "BA-1", "update", r#"{"filing_no":"沪备001"}"#),
                    status("CZ-1", "status", "reviewing"),
                    status("CZ-1", "status", "approved"),
                ],
            )
            .await
            .unwrap();
        assert!(mixed.results[0].is_ok() && mixed.results[1].is_ok());
        assert_eq!(
            mixed.results[2].as_ref().unwrap_err().to_string(),
            "备案“BA-1”已撤销，不能再变更"
        );
        assert!(mixed.results[3].is_ok() && mixed.results[4].is_ok());
        assert_eq!(mixed.checkpoint.unwrap().checkpoint.size, 6);

        let filing = chain::key(&store, "filing", "BA-1").await.unwrap().unwrap();
        assert_eq!(filing.state, "revoked");
        assert_eq!(
            filing.entries, 1,
            "the revocation is the revocation's entry"
        );
        let by_no = chain::keys_by_reference(&store, "filing_revocation", "沪备001")
            .await
            .unwrap();
        assert_eq!(by_no.len(), 1);
        assert_eq!(by_no[0].business_key, "CX-1");
        // CZ-1's history: four entries, each linked to the one before.
        let history = chain::entries_of_key(&store, "disposal_process", "CZ-1")
            .await
            .unwrap();
        let seqs: Vec<i64> = history.iter().map(|e| e.seq).collect();
        let prevs: Vec<Option<i64>> = history.iter().map(|e| e.prev_seq).collect();
        assert_eq!(seqs, [1, 2, 4, 5]);
        assert_eq!(prevs, [None, Some(1), Some(2), Some(4)]);
        let key = chain::key(&store, "disposal_process", "CZ-1")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (key.state.as_str(), key.entries, key.last_seq),
            ("approved", 4, 5)
        );
    }
);

/// What someone with the database's password could do, bypassing the application.
async fn edit(db: &TestStore, sql: &str) {
    use sqlx::Connection;
    if db.url.starts_with("sqlite") {
        let mut c = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
        sqlx::query(sql).execute(&mut c).await.unwrap();
    } else {
        let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
        sqlx::query(sql).execute(&mut c).await.unwrap();
    }
}

/// A log of `batches` checkpoints of `per_batch` filings each, which the audit finds clean.
async fn audited_log(store: &tongban_store::Store, batches: usize, per_batch: usize) -> Log {
    let log = Log::new("shanghai-eeb/solid-waste", Sm2KeyPair::generate());
    for batch in 0..batches {
        let requests: Vec<Request> = (0..per_batch)
            .map(|i| filing(&format!("BA-{batch}-{i}"), &format!("沪备{batch}{i:03}")))
            .collect();
        log.append(store, &requests).await.unwrap();
    }
    let clean = tongban_ledger::audit::audit(store, log.origin(), &log.public_key())
        .await
        .unwrap();
    assert!(clean.is_clean(), "{:?}", clean.findings);
    assert_eq!(
        (clean.entries, clean.checkpoints),
        ((batches * per_batch) as u64, batches as u64)
    );
    log
}

store_test!(
    the_audit_names_an_edited_entry_and_a_forged_checkpoint,
    |db: TestStore| async move {
        use tongban_ledger::audit::{self, Finding};
        let store = db.store.clone();
        let log = audited_log(&store, 3, 40).await;

        // One payload changed in place.
        edit(
            &db,
            "UPDATE chain_entries SET payload = '{\"filing_no\":\"沪备0099\",\"waste\":\"危险废物\"}' \
             WHERE seq = 57",
        )
        .await;
        let report = audit::audit(&store, log.origin(), &log.public_key())
            .await
            .unwrap();
        assert_eq!(report.findings[0], Finding::PayloadAltered { seq: 57 });
        assert!(report.findings[0].describe().contains("第 57 条"));
        // A field the leaf covers, changed: the entry shows through the leaf its fields give,
        // and the roots of the checkpoints from it on no longer match; the first one still does.
        edit(
            &db,
            "UPDATE chain_entries SET app_id = 'forged' WHERE seq = 90",
        )
        .await;
        let report = audit::audit(&store, log.origin(), &log.public_key())
            .await
            .unwrap();
        assert!(report.findings.contains(&Finding::EntryAltered { seq: 90 }));
        assert!(report.findings.contains(&Finding::RootMismatch {
            height: 3,
            size: 120
        }));
        assert!(!report.findings.contains(&Finding::RootMismatch {
            height: 1,
            size: 40
        }));
        // A checkpoint's time moved: its signature no longer covers it.
        edit(
            &db,
            "UPDATE chain_checkpoints SET at = at + 1 WHERE height = 1",
        )
        .await;
        let report = audit::audit(&store, log.origin(), &log.public_key())
            .await
            .unwrap();
        assert!(
            report
                .findings
                .contains(&Finding::BadSignature { height: 1 })
        );
    }
);

store_test!(
    an_audit_of_many_pages_reports_in_the_order_of_the_log,
    |db: TestStore| async move {
        use tongban_ledger::audit::{self, Finding};
        let store = db.store.clone();
        // The audit reads several pages of 1 000 at once: 2 600 entries are three pages, the
        // last not full, in 13 checkpoints of 200.
        let log = audited_log(&store, 13, 200).await;

        edit(
            &db,
            "UPDATE chain_entries SET payload = '{\"filing_no\":\"改\"}' WHERE seq = 2100",
        )
        .await;
        edit(
            &db,
            "UPDATE chain_entries SET app_id = 'forged' WHERE seq = 1500",
        )
        .await;
        let report = audit::audit(&store, log.origin(), &log.public_key())
            .await
            .unwrap();
        assert_eq!(report.entries, 2_600);
        let at = |f: &Finding| report.findings.iter().position(|g| g == f);
        let (second_page, third_page) = (
            at(&Finding::EntryAltered { seq: 1500 }).expect("seq 1500 named"),
            at(&Finding::PayloadAltered { seq: 2100 }).expect("seq 2100 named"),
        );
        assert!(second_page < third_page, "{:?}", report.findings);
        // Checkpoints up to 1 400 entries still match; the first one over the edit does not.
        assert_eq!(
            at(&Finding::RootMismatch {
                height: 8,
                size: 1_600
            }),
            Some(second_page + 1)
        );
        assert_eq!(
            at(&Finding::RootMismatch {
                height: 7,
                size: 1_400
            }),
            None
        );
    }
);

/// SQLite keeps what an edit puts in a column whatever its declared type: the audit's direct
/// read refuses such a row and names it, rather than stopping at "invalid column type".
#[tokio::test]
async fn an_edit_that_changes_a_columns_type_is_named_by_its_entry() {
    use tongban_ledger::audit;
    let db = tongban_store::testing::sqlite().await;
    let log = Log::new("shanghai-eeb/solid-waste", Sm2KeyPair::generate());
    let requests: Vec<Request> = (0..20)
        .map(|i| filing(&format!("BA-{i}"), &format!("沪备{i:03}")))
        .collect();
    log.append(&db.store, &requests).await.unwrap();
    edit(
        &db,
        "UPDATE chain_entries SET at = 'yesterday' WHERE seq = 12",
    )
    .await;
    let error = audit::audit(&db.store, log.origin(), &log.public_key())
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("seq 12"), "{error}");
}

store_test!(
    the_scheduled_check_goes_on_from_its_last_run_and_raises_an_alert,
    |db: TestStore| async move {
        use tongban_ledger::audit::{self, Finding};
        let store = db.store.clone();
        let log = Log::new("shanghai-eeb/solid-waste", Sm2KeyPair::generate());
        let batch = |n: usize| {
            (0..30)
                .map(|i| filing(&format!("BA-{n}-{i}"), &format!("沪备{n}{i:03}")))
                .collect::<Vec<_>>()
        };
        log.append(&store, &batch(0)).await.unwrap();
        log.append(&store, &batch(1)).await.unwrap();
        let first = audit::run_incremental(&store, log.origin(), &log.public_key())
            .await
            .unwrap();
        assert!(first.is_clean());
        assert_eq!((first.entries, first.checkpoints), (60, 2));

        log.append(&store, &batch(2)).await.unwrap();
        edit(
            &db,
            "UPDATE chain_entries SET payload = '{\"filing_no\":\"改\"}' WHERE seq = 75",
        )
        .await;
        let second = audit::run_incremental(&store, log.origin(), &log.public_key())
            .await
            .unwrap();
        // Only what came after the last run was read again.
        assert_eq!((second.entries, second.checkpoints), (30, 1));
        assert_eq!(second.findings[0], Finding::PayloadAltered { seq: 75 });
        let runs = chain::audits(&store, 10).await.unwrap();
        assert_eq!(runs.len(), 2);
        assert_eq!((runs[0].from_size, runs[0].to_size), (60, 90));
        assert!(
            runs[0].findings.contains("第 75 条"),
            "{}",
            runs[0].findings
        );
        // The audit log has the alert, naming the entry.
        let log_lines = tongban_store::audit::page(&store, 0, 100).await.unwrap();
        let alert = log_lines
            .iter()
            .find(|l| l.action == "ledger_tampered")
            .expect("an audit-log line");
        assert!(alert.detail.contains("第 75 条"), "{}", alert.detail);
        // A clean run after it reads nothing old and finds nothing new.
        let third = audit::run_incremental(&store, log.origin(), &log.public_key())
            .await
            .unwrap();
        assert_eq!((third.entries, third.findings.len()), (0, 0));
    }
);

store_test!(
    two_logs_on_one_store_check_each_request_against_the_others_commits,
    |db: TestStore| async move {
        // Two instances (two `Log`s and two stores on the same database) create the same key
        // at once: one wins, the other is refused as a duplicate.
        let second = tongban_store::Store::open(&db.url, Default::default())
            .await
            .unwrap();
        let key = Sm2KeyPair::generate();
        let (a, b) = (
            Log::new("shanghai-eeb/solid-waste", key.clone()),
            Log::new("shanghai-eeb/solid-waste", key),
        );
        for round in 0..10 {
            let k = format!("BA-{round}");
            let request = [filing(&k, "沪备1")];
            let (x, y) = tokio::join!(a.append(&db.store, &request), b.append(&second, &request));
            let accepted = [x.unwrap(), y.unwrap()]
                .iter()
                .filter(|r| r.results[0].is_ok())
                .count();
            assert_eq!(accepted, 1, "round {round}");
        }
        assert_eq!(chain::size(&db.store).await.unwrap(), 10);
        second.close().await;
    }
);
