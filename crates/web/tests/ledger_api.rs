//! 固废链's open API over HTTP, through the SDK, on both engines: a registered application
//! submits and queries, and verifies the answer itself; bad calls (wrong secret, unknown app,
//! stale timestamp, replayed nonce, an operation outside its grants, an invalid transition)
//! get 401/403/409 with a clear message and write nothing.
use serde_json::json;
use tongban_ledger::apps::{self, Grant, Scope};
use tongban_ledger_sdk::{Client, NewEntry, SdkError, Trust};
use tongban_store::testing::TestStore;
use tongban_store::{chain, store_test};

mod common;
use common::*;

async fn serve(state: tongban_web::AppState) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = tongban_web::app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

fn grant(contract: &str, operations: &[&str], scope: Scope) -> Grant {
    Grant {
        contract: contract.into(),
        operations: operations.iter().map(|s| s.to_string()).collect(),
        read: true,
        scope,
    }
}

fn status_of(e: SdkError) -> (u16, String) {
    match e {
        SdkError::Api {
            status, message, ..
        } => (status, message),
        other => panic!("expected the server's refusal, got {other}"),
    }
}

/// A call signed by hand, to send the same nonce twice or an old timestamp.
async fn raw_post(
    base: &str,
    app: &apps::App,
    timestamp: i64,
    nonce: &str,
    body: &str,
) -> (u16, String) {
    raw_post_to(base, "/ledger/v1/entries", app, timestamp, nonce, body).await
}

async fn raw_post_to(
    base: &str,
    path: &str,
    app: &apps::App,
    timestamp: i64,
    nonce: &str,
    body: &str,
) -> (u16, String) {
    let signature = apps::sign(&app.secret, "POST", path, timestamp, nonce, body.as_bytes());
    let response = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .header(apps::HEADER_APP, &app.id)
        .header(apps::HEADER_TIMESTAMP, timestamp.to_string())
        .header(apps::HEADER_NONCE, nonce)
        .header(apps::HEADER_SIGNATURE, signature)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let v: serde_json::Value = response.json().await.unwrap();
    (
        status,
        v["error"]["message"].as_str().unwrap_or("").to_string(),
    )
}

fn now() -> i64 {
    tongban_domain::Timestamp::now().millis()
}

store_test!(
    an_application_submits_and_verifies_and_bad_calls_write_nothing,
    |db: TestStore| async move {
        let dir = tempfile::tempdir().unwrap();
        let state = state(&db, dir.path());
        let ledger = state.ledger.clone();
        let base = serve(state).await;
        let jiangsu = ledger
            .register(
                "officer:admin",
                "江苏省固体废物管理信息系统",
                "jiangsu",
                vec![grant(
                    "disposal_process",
                    &["create", "status"],
                    Scope::Party,
                )],
            )
            .await
            .unwrap();
        let client = Client::new(&base).signing_as(&jiangsu.id, &jiangsu.secret);
        let payload = json!({"status": "submitted", "application_no": "SWGF2026120100001",
            "parties": ["shanghai", "jiangsu"], "waste": "一般工业固体废物", "tonnes": 120});
        let first = client
            .submit("disposal_process", "SWGF2026120100001", "create", &payload)
            .await
            .unwrap();
        assert_eq!((first.seq, first.prev), (0, None));
        let second = client
            .submit(
                "disposal_process",
                "SWGF2026120100001",
                "status",
                &json!({"status": "accepted", "parties": ["shanghai", "jiangsu"]}),
            )
            .await
            .unwrap();
        assert_eq!((second.seq, second.prev), (1, Some(0)));

        // The answer verifies without trusting the server: signature, leaves, proofs.
        let answer = client
            .key("disposal_process", "SWGF2026120100001")
            .await
            .unwrap();
        assert_eq!(answer.state, "accepted");
        assert_eq!(answer.entries.len(), 2);
        let trust = Trust {
            log_key: ledger.log.public_key(),
            witnesses: vec![],
            quorum: 1,
        };
        assert_eq!(trust.check_key(&answer).unwrap(), 2);
        // An answer altered on the way is caught.
        let mut altered = answer.clone();
        altered.entries[0].fields.payload = altered.entries[0].fields.payload.replace("120", "12");
        assert!(trust.check_key(&altered).is_err());

        let size = || async { chain::size(&db.store).await.unwrap() };
        assert_eq!(size().await, 2);
        let body = json!({"contract": "disposal_process", "key": "SWGF2026120100002",
            "operation": "create", "payload": {"status": "submitted"}})
        .to_string();

        // Wrong secret.
        let forged = Client::new(&base).signing_as(&jiangsu.id, "0123456789abcdef");
        let (status, message) = status_of(
            forged
                .submit(
                    "disposal_process",
                    "SWGF2026120100002",
                    "create",
                    &json!({"status": "submitted"}),
                )
                .await
                .unwrap_err(),
        );
        assert_eq!(status, 401);
        assert!(message.starts_with("签名无效"), "{message}");
        // Unknown application.
        let stranger = Client::new(&base).signing_as("app-unknown", "x");
        let (status, message) = status_of(
            stranger
                .key("disposal_process", "SWGF2026120100001")
                .await
                .unwrap_err(),
        );
        assert_eq!(
            (status, message.as_str()),
            (401, "未登记的应用“app-unknown”")
        );
        // A stale timestamp, correctly signed.
        let (status, message) = raw_post(
            &base,
            &jiangsu,
            now() - 10 * 60 * 1000,
            "0123456789abcdef0123",
            &body,
        )
        .await;
        assert_eq!(status, 401);
        assert!(message.contains("时间戳"), "{message}");
        // The same call twice: the second is a replay.
        let (status, _) = raw_post(&base, &jiangsu, now(), "fedcba9876543210fedc", &body).await;
        assert_eq!(status, 201);
        let (status, message) =
            raw_post(&base, &jiangsu, now(), "fedcba9876543210fedc", &body).await;
        assert_eq!(
            (status, message.as_str()),
            (401, "重复的请求：该 nonce 已使用过")
        );
        assert_eq!(size().await, 3);
        // An operation outside its grants.
        let (status, message) = status_of(
            client
                .submit("filing", "BA-1", "create", &json!({"filing_no": "苏备001"}))
                .await
                .unwrap_err(),
        );
        assert_eq!(status, 403);
        assert!(message.contains("无权"), "{message}");
        // A status out of order.
        let (status, message) = status_of(
            client
                .submit(
                    "disposal_process",
                    "SWGF2026120100001",
                    "status",
                    &json!({"status": "submitted"}),
                )
                .await
                .unwrap_err(),
        );
        assert_eq!(
            (status, message.as_str()),
            (409, "状态不能从“已受理”变为“已提交”")
        );
        // A key it may not see: another province's, not naming Jiangsu.
        let zhejiang = ledger
            .register(
                "officer:admin",
                "浙江省系统",
                "zhejiang",
                vec![grant("disposal_process", &["create"], Scope::Party)],
            )
            .await
            .unwrap();
        let other = Client::new(&base).signing_as(&zhejiang.id, &zhejiang.secret);
        other
            .submit(
                "disposal_process",
                "ZJ-1",
                "create",
                &json!({"status": "submitted"}),
            )
            .await
            .unwrap();
        let (status, _) = status_of(client.key("disposal_process", "ZJ-1").await.unwrap_err());
        assert_eq!(status, 404);
        assert_eq!(size().await, 4, "only the accepted calls were written");
        let latest = chain::latest_checkpoint(&db.store).await.unwrap().unwrap();
        assert_eq!(latest.tree_size, 4);

        // A stopped application is refused; registering and stopping are in the audit log.
        assert!(ledger.revoke("officer:admin", &zhejiang.id).await.unwrap());
        assert!(!ledger.revoke("officer:admin", &zhejiang.id).await.unwrap());
        let (status, message) = status_of(
            other
                .submit(
                    "disposal_process",
                    "ZJ-2",
                    "create",
                    &json!({"status": "submitted"}),
                )
                .await
                .unwrap_err(),
        );
        assert_eq!(status, 401);
        assert_eq!(message, format!("应用“{}”已停用", zhejiang.id));
        let lines = tongban_store::audit::page(&db.store, 0, 100).await.unwrap();
        let changes: Vec<(&str, &str)> = lines
            .iter()
            .filter(|l| l.action == "permission_change")
            .map(|l| (l.actor.as_str(), l.object.as_str()))
            .collect();
        let jiangsu_object = format!("ledger_app:{}", jiangsu.id);
        let zhejiang_object = format!("ledger_app:{}", zhejiang.id);
        assert_eq!(
            changes,
            [
                ("officer:admin", jiangsu_object.as_str()),
                ("officer:admin", zhejiang_object.as_str()),
                ("officer:admin", zhejiang_object.as_str()),
            ]
        );
        assert_eq!(chain::size(&db.store).await.unwrap(), 4);
    }
);

store_test!(
    a_batch_call_appends_in_order_answers_each_item_and_writes_nothing_when_refused_whole,
    |db: TestStore| async move {
        let dir = tempfile::tempdir().unwrap();
        let state = state(&db, dir.path());
        let ledger = state.ledger.clone();
        let base = serve(state).await;
        let anhui = ledger
            .register(
                "officer:admin",
                "安徽省固体废物管理信息系统",
                "anhui",
                vec![grant(
                    "disposal_application",
                    &["create", "update"],
                    Scope::Own,
                )],
            )
            .await
            .unwrap();
        let client = Client::new(&base).signing_as(&anhui.id, &anhui.secret);
        let form =
            |no: &str| json!({"application_no": no, "waste": "一般工业固体废物", "tonnes": 30});
        let (a, b) = (form("WH-A"), form("WH-B"));
        let entry = |key: &'static str, operation: &'static str, payload| NewEntry {
            contract: "disposal_application",
            key,
            operation,
            payload,
        };
        let size = || async { chain::size(&db.store).await.unwrap() };

        // Appended in the order given; a later item sees what an earlier one did.
        let answered = client
            .submit_many(&[
                entry("WH-A", "create", &a),
                entry("WH-B", "create", &b),
                entry("WH-A", "update", &a),
            ])
            .await
            .unwrap();
        let written: Vec<(u64, Option<u64>)> = answered
            .iter()
            .map(|r| r.as_ref().map(|s| (s.seq, s.prev)).unwrap())
            .collect();
        assert_eq!(written, [(0, None), (1, None), (2, Some(0))]);
        assert_eq!(size().await, 3);

        // An item its contract refuses is answered in its place; the others are written.
        let c = form("WH-C");
        let answered = client
            .submit_many(&[
                entry("WH-C", "create", &c),
                entry("WH-A", "create", &a),
                entry("WH-C", "update", &c),
            ])
            .await
            .unwrap();
        assert_eq!(answered[0].as_ref().unwrap().seq, 3);
        let refused = answered[1].as_ref().unwrap_err();
        assert!(refused.contains("WH-A"), "{refused}");
        assert_eq!(answered[2].as_ref().unwrap().prev, Some(3));
        assert_eq!(size().await, 5);
        assert_eq!(
            client
                .key("disposal_application", "WH-A")
                .await
                .unwrap()
                .entries
                .len(),
            2
        );

        // One item outside the grants: the whole call is refused, nothing is written.
        let (d, filing) = (form("WH-D"), json!({"filing_no": "皖备001"}));
        let (status, message) = status_of(
            client
                .submit_many(&[
                    entry("WH-D", "create", &d),
                    NewEntry {
                        contract: "filing",
                        key: "BA-1",
                        operation: "create",
                        payload: &filing,
                    },
                ])
                .await
                .unwrap_err(),
        );
        assert_eq!(status, 403);
        assert!(message.starts_with("第2项："), "{message}");
        // No items, or more than a call may carry.
        let (status, message) = status_of(client.submit_many(&[]).await.unwrap_err());
        assert_eq!(status, 400);
        assert!(message.contains("1至1000项"), "{message}");
        let many: Vec<NewEntry> = (0..1001).map(|_| entry("WH-E", "create", &a)).collect();
        let (status, _) = status_of(client.submit_many(&many).await.unwrap_err());
        assert_eq!(status, 400);
        assert_eq!(size().await, 5);

        // A replayed batch call writes nothing the second time.
        let body = json!({"entries": [{"contract": "disposal_application", "key": "WH-F",
            "operation": "create", "payload": form("WH-F")}]})
        .to_string();
        let path = "/ledger/v1/entries/batch";
        let nonce = "0a1b2c3d4e5f60718293";
        let (status, _) = raw_post_to(&base, path, &anhui, now(), nonce, &body).await;
        assert_eq!(status, 200);
        let (status, message) = raw_post_to(&base, path, &anhui, now(), nonce, &body).await;
        assert_eq!(
            (status, message.as_str()),
            (401, "重复的请求：该 nonce 已使用过")
        );
        assert_eq!(size().await, 6);
    }
);
