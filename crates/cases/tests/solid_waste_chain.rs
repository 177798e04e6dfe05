//! The cases of 一般固体废物跨省级行政区域贮存、处置审批 on the 固废链, on both engines: the
//! application and every status change reach the log through the outbox, in order, written in
//! the case's transaction; a redelivery writes nothing twice; a refusal stops the destination;
//! other items write nothing.
use std::ops::Deref;
use std::sync::Arc;

use serde_json::json;
use tongban_cases::materials::{self, Target};
use tongban_cases::solid_waste_chain::DESTINATION;
use tongban_cases::start;
use tongban_cases::workflow::{self, CorrectionRequest};
use tongban_crypto::Sm2KeyPair;
use tongban_domain::OfficerRole;
use tongban_engine::case::CaseState;
use tongban_ledger::apps::{App, Grant, Scope};
use tongban_ledger::outbox::{BUREAU_APP, Delivered};
use tongban_ledger::service::Ledger;
use tongban_platform::{Envelope, Platform};
use tongban_store::outbox::{self, NewMessage};
use tongban_store::store_test;
use tongban_store::testing::TestStore;

mod common;
use common::{PUDONG, cipher, complete, filed, known, officer, pdf, solid_waste_item};

/// The desk of [`common::World`], and the 固废链 its cases are delivered to.
struct World {
    desk: common::World,
    ledger: Arc<Ledger>,
}

impl Deref for World {
    type Target = common::World;

    fn deref(&self) -> &common::World {
        &self.desk
    }
}

impl World {
    fn new(db: &TestStore) -> World {
        World {
            desk: common::World::new(),
            ledger: Ledger::start(
                db.store.clone(),
                tongban_ledger::log::Log::new("shanghai-eeb/solid-waste", Sm2KeyPair::generate()),
                tongban_ledger::witness::Witnesses::default(),
                1,
                Arc::new(cipher()),
            ),
        }
    }

    /// Runs the outbox job of the 固废链 destination as the scheduler would, through the
    /// platform crate's handler.
    async fn deliver(&self, db: &TestStore) -> Result<(), String> {
        let Some(last) = pending(db).await.last().cloned() else {
            return Ok(());
        };
        let handler = tongban_platform::deliver_handler(
            db.store.clone(),
            Arc::new(ToLedger {
                ledger: self.ledger.clone(),
                seal: self.bureau.seal.clone(),
            }),
        );
        handler(json!({ "destination": DESTINATION, "id": last.id }))
            .await
            .map_err(|e| e.0)
    }
}

/// The binary's routing, for the one destination.
struct ToLedger {
    ledger: Arc<Ledger>,
    seal: Sm2KeyPair,
}

impl Platform for ToLedger {
    fn deliver<'a>(
        &'a self,
        destination: &'a str,
        message: &'a Envelope,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send + 'a>> {
        assert_eq!(destination, DESTINATION);
        Box::pin(async move {
            tongban_ledger::outbox::deliver(&self.ledger, &self.seal, &message.id, &message.payload)
                .await
                .map(|_| ())
        })
    }
}

async fn messages(db: &TestStore) -> Vec<outbox::OutboxRow> {
    outbox::list(&db.store, Some(DESTINATION)).await.unwrap()
}

async fn pending(db: &TestStore) -> Vec<outbox::OutboxRow> {
    messages(db)
        .await
        .into_iter()
        .filter(|m| m.delivered_at.is_none())
        .collect()
}

/// A province's access application reading both contracts with `scope`.
fn reader(province: &str, scope: Scope) -> App {
    App {
        id: format!("app-{province}"),
        name: province.into(),
        province: province.into(),
        secret: "x".into(),
        grants: ["disposal_application", "disposal_process"]
            .map(|c| Grant {
                contract: c.into(),
                operations: vec![],
                read: true,
                scope,
            })
            .into(),
        revoked: false,
    }
}

/// What the log holds for key `key` of `contract`: (operation, status or "") in order.
async fn history(w: &World, contract: &str, key: &str) -> Vec<(String, String)> {
    tongban_store::chain::entries_of_key(&w.ledger.store, contract, key)
        .await
        .unwrap()
        .into_iter()
        .map(|e| {
            assert_eq!(e.app_id, BUREAU_APP);
            let p: serde_json::Value = serde_json::from_str(&e.payload).unwrap();
            let status = p["status"].as_str().unwrap_or_default().to_string();
            (e.operation, status)
        })
        .collect()
}

fn ops(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(o, s)| (o.to_string(), s.to_string()))
        .collect()
}

store_test!(
    a_case_from_submission_to_approval_is_on_the_chain_in_order,
    |db: TestStore| async move {
        let w = World::new(&db);
        let desk = w.desk(&db);
        let item = solid_waste_item();
        let (me, id, number) = filed(&db, &w, PUDONG, 1).await;
        let intake = officer(PUDONG, "受理员", &[OfficerRole::Intake]);
        let reviewer = officer(PUDONG, "审核员", &[OfficerRole::Review]);
        let approver = officer(PUDONG, "审批员", &[OfficerRole::Approval]);

        // Queued with the submission, nothing delivered yet.
        let queued = messages(&db).await;
        assert_eq!(
            queued.iter().map(|m| m.kind.as_str()).collect::<Vec<_>>(),
            ["disposal_application.create", "disposal_process.create"]
        );
        assert!(
            queued
                .iter()
                .all(|m| m.case_id.as_deref() == Some(id.as_str()))
        );
        assert_eq!(queued[0].payload["key"], number.as_str());

        // 补正 before 受理, resubmitted; 受理, two 审查 levels, 准予许可, 发证.
        workflow::request_correction(
            &desk,
            &item,
            &intake,
            &id,
            &CorrectionRequest {
                points: vec![("field:quantity".into(), "数量请核实".into())],
                note: String::new(),
            },
        )
        .await
        .unwrap();
        let h = workflow::open(&desk, &item, &intake, &id).await.unwrap();
        let mut posted = h.case.projection.data.clone();
        posted.set("quantity", "9000.00");
        workflow::resubmit(&desk, &item, &me, &id, &posted)
            .await
            .unwrap();
        // Delivered part-way: the rest follows in order on the next run.
        w.deliver(&db).await.unwrap();
        workflow::accept(&desk, &item, &intake, &id, "")
            .await
            .unwrap();
        workflow::pass(&desk, &item, &reviewer, &id, "拟同意")
            .await
            .unwrap();
        workflow::pass(&desk, &item, &reviewer, &id, "同意")
            .await
            .unwrap();
        workflow::decide(&desk, &item, &approver, &id, true, "同意", None)
            .await
            .unwrap();
        workflow::issue_licence(&desk, &item, &approver, &id)
            .await
            .unwrap();
        let h = workflow::open(&desk, &item, &approver, &id).await.unwrap();
        assert_eq!(h.case.state(), CaseState::Closed);
        w.deliver(&db).await.unwrap();
        assert!(pending(&db).await.is_empty());

        assert_eq!(
            history(&w, "disposal_process", &number).await,
            ops(&[
                ("create", "submitted"),
                ("status", "correction"),
                ("status", "submitted"),
                ("status", "accepted"),
                ("status", "reviewing"),
                ("status", "approved"),
            ])
        );
        assert_eq!(
            history(&w, "disposal_application", &number).await,
            ops(&[("create", ""), ("update", "")])
        );
        // The amended application is the one resubmitted, with the materials' SM3.
        let app =
            tongban_store::chain::entries_of_key(&w.ledger.store, "disposal_application", &number)
                .await
                .unwrap();
        let amended: serde_json::Value = serde_json::from_str(&app[1].payload).unwrap();
        assert_eq!(amended["form"]["quantity"], "9000.00");
        assert_eq!(amended["materials"].as_array().unwrap().len(), 3);
        assert_eq!(amended["parties"], json!(["shanghai", "jiangsu"]));
        // Across keys, in the order of the case's changes: the application before its status.
        let all = tongban_store::chain::entries_from(&w.ledger.store, 0, 100)
            .await
            .unwrap();
        let order: Vec<String> = all
            .iter()
            .map(|e| format!("{}.{}", e.contract, e.operation))
            .collect();
        assert_eq!(
            order,
            [
                "disposal_application.create",
                "disposal_process.create",
                "disposal_process.status",
                "disposal_application.update",
                "disposal_process.status",
                "disposal_process.status",
                "disposal_process.status",
                "disposal_process.status",
            ]
        );

        // The receiving province sees the whole history with proofs; another province nothing.
        let jiangsu = reader("jiangsu", Scope::Party);
        let view = w
            .ledger
            .key_view(&jiangsu, "disposal_process", &number)
            .await
            .unwrap()
            .expect("the party sees the key");
        assert_eq!(view.state, "approved");
        assert_eq!(view.reference.as_deref(), Some(number.as_str()));
        assert_eq!(view.entries.len(), 6);
        assert!(view.entries.iter().all(|e| e.proof.is_some()));
        let seqs: Vec<u64> = view.entries.iter().map(|e| e.entry.seq).collect();
        assert!(seqs.windows(2).all(|p| p[0] < p[1]), "{seqs:?}");
        let anhui = reader("anhui", Scope::Party);
        assert!(
            w.ledger
                .key_view(&anhui, "disposal_process", &number)
                .await
                .unwrap()
                .is_none()
        );
    }
);

store_test!(
    a_redelivered_message_writes_no_second_entry,
    |db: TestStore| async move {
        let w = World::new(&db);
        let (_, _, number) = filed(&db, &w, PUDONG, 2).await;
        let first = messages(&db).await.remove(0);
        // A crash after the append, before the message was marked delivered: the job delivers
        // it again.
        let appended =
            tongban_ledger::outbox::deliver(&w.ledger, &w.bureau.seal, &first.id, &first.payload)
                .await
                .unwrap();
        assert!(matches!(appended, Delivered::Appended(_)));
        w.deliver(&db).await.unwrap();
        assert!(pending(&db).await.is_empty());
        assert_eq!(history(&w, "disposal_application", &number).await.len(), 1);
        assert_eq!(history(&w, "disposal_process", &number).await.len(), 1);
        // Again, also once the nonces are purged: found by the message id in the payload.
        let again =
            tongban_ledger::outbox::deliver(&w.ledger, &w.bureau.seal, &first.id, &first.payload)
                .await
                .unwrap();
        assert_eq!(again, Delivered::Already);
        tongban_store::chain::purge_nonces(&w.ledger.store, i64::MAX)
            .await
            .unwrap();
        let purged =
            tongban_ledger::outbox::deliver(&w.ledger, &w.bureau.seal, &first.id, &first.payload)
                .await
                .unwrap();
        assert_eq!(purged, Delivered::Already);
        assert_eq!(history(&w, "disposal_application", &number).await.len(), 1);
        let total = tongban_store::chain::entries_from(&w.ledger.store, 0, 100)
            .await
            .unwrap();
        assert_eq!(total.len(), 2);
    }
);

store_test!(
    a_refused_message_stops_its_destination_and_stays_refused,
    |db: TestStore| async move {
        let w = World::new(&db);
        // A status change for a key the chain does not hold: a bug, which the contract refuses.
        let mut tx = db.store.begin().await.unwrap();
        outbox::push(
            &mut tx,
            &NewMessage {
                destination: DESTINATION.into(),
                case_id: None,
                kind: "disposal_process.status".into(),
                payload: json!({
                    "contract": "disposal_process",
                    "version": 1,
                    "key": "GF-NOT-THERE",
                    "operation": "status",
                    "payload": { "status": "accepted" },
                }),
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let (_, _, number) = filed(&db, &w, PUDONG, 3).await;
        for _ in 0..2 {
            let e = w.deliver(&db).await.unwrap_err();
            assert!(e.contains("GF-NOT-THERE"), "{e}");
            let held = pending(&db).await;
            assert_eq!(held.len(), 3, "the later messages wait behind it");
            assert!(
                held[0]
                    .last_error
                    .as_deref()
                    .unwrap()
                    .contains("固废链拒绝")
            );
        }
        assert!(history(&w, "disposal_process", &number).await.is_empty());
    }
);

/// Makes every insert into the audit log fail, or lets it succeed again: a failure after the
/// case change and its outbox message, before the commit.
async fn break_audit(db: &TestStore, broken: bool) {
    use sqlx::Connection;
    if db.url.starts_with("sqlite") {
        let mut c = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
        let sql = if broken {
            "CREATE TRIGGER no_audit BEFORE INSERT ON audit_log \
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
        } else {
            "DROP TRIGGER no_audit"
        };
        sqlx::query(sql).execute(&mut c).await.unwrap();
    } else {
        let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
        let sqls: &[&str] = if broken {
            &[
                "CREATE FUNCTION no_audit() RETURNS trigger AS \
                 $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$ LANGUAGE plpgsql",
                "CREATE TRIGGER no_audit BEFORE INSERT ON audit_log \
                 FOR EACH ROW EXECUTE FUNCTION no_audit()",
            ]
        } else {
            &["DROP TRIGGER no_audit ON audit_log"]
        };
        for sql in sqls {
            sqlx::query(sql).execute(&mut c).await.unwrap();
        }
    }
}

store_test!(
    a_change_that_rolls_back_leaves_no_message,
    |db: TestStore| async move {
        let w = World::new(&db);
        let desk = w.desk(&db);
        let item = solid_waste_item();
        let (_, id, number) = filed(&db, &w, PUDONG, 4).await;
        let intake = officer(PUDONG, "受理员", &[OfficerRole::Intake]);
        break_audit(&db, true).await;
        assert!(
            workflow::accept(&desk, &item, &intake, &id, "")
                .await
                .is_err()
        );
        break_audit(&db, false).await;
        let h = workflow::open(&desk, &item, &intake, &id).await.unwrap();
        assert_eq!(h.case.state(), CaseState::Submitted);
        assert_eq!(messages(&db).await.len(), 2, "the submission's only");
        workflow::accept(&desk, &item, &intake, &id, "")
            .await
            .unwrap();
        let kinds: Vec<String> = messages(&db).await.into_iter().map(|m| m.kind).collect();
        assert_eq!(
            kinds,
            [
                "disposal_application.create",
                "disposal_process.create",
                "disposal_process.status"
            ]
        );
        w.deliver(&db).await.unwrap();
        let key = tongban_store::chain::key(&w.ledger.store, "disposal_process", &number)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(key.state, "accepted");
    }
);

store_test!(
    a_case_of_another_item_writes_nothing_to_the_chain,
    |db: TestStore| async move {
        let w = World::new(&db);
        let item = common::item();
        assert_eq!(item.id, "radiation-self-check");
        let me = common::enterprise(1);
        let id = start(&db.store, &item, &me, &known()).await.unwrap();
        materials::attach(
            &db.store,
            &w.files,
            &item,
            &me,
            &id,
            Target::Material("monitoring_report"),
            "监测报告.pdf",
            pdf("report"),
        )
        .await
        .unwrap();
        let data = tongban_cases::open(&db.store, &me, &id)
            .await
            .unwrap()
            .projection
            .data;
        tongban_cases::submit(&db.store, &item, &me, &id, &complete(data))
            .await
            .unwrap();
        assert!(messages(&db).await.is_empty());
        w.deliver(&db).await.unwrap();
        assert!(
            tongban_store::chain::entries_from(&w.ledger.store, 0, 10)
                .await
                .unwrap()
                .is_empty()
        );
    }
);
