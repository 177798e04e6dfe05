//! The outbox to the city platform against its local peer, on both engines (see `store_test!`).
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use tongban_crypto::Sm2KeyPair;
use tongban_jobs::Scheduler;
use tongban_platform::peer::{self, PeerState};
use tongban_platform::{
    CASE_LIBRARY, Envelope, HttpPlatform, JOB_KIND, LICENCE_REPOSITORY, Platform, SIGNATURE_HEADER,
    deliver_handler, sign_body,
};
use tongban_store::outbox::{self, NewMessage};
use tongban_store::testing::TestStore;
use tongban_store::{Store, StoreOptions, jobs, store_test};

const UNIT: Duration = Duration::from_millis(100);

fn message(destination: &str, case: &str, kind: &str) -> NewMessage {
    NewMessage {
        destination: destination.into(),
        case_id: Some(case.into()),
        kind: kind.into(),
        payload: serde_json::json!({ "case": case, "status": kind, "unit": "上海喆玥环保科技有限公司" }),
    }
}

/// Pushes each message in a transaction of its own, as the cases crate does; returns the ids.
async fn push_all(store: &Store, messages: &[NewMessage]) -> Vec<String> {
    let mut ids = Vec::new();
    for m in messages {
        let mut tx = store.begin().await.unwrap();
        ids.push(outbox::push(&mut tx, m).await.unwrap());
        tx.commit().await.unwrap();
    }
    ids
}

async fn start_peer(state: PeerState) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (addr, _task) = peer::serve(state, listener).unwrap();
    format!("http://{addr}")
}

fn scheduler(store: &Store, platform: Arc<dyn Platform>) -> Scheduler {
    let mut scheduler = Scheduler::builder(store.clone())
        .on(JOB_KIND, deliver_handler(store.clone(), platform))
        .build();
    scheduler.backoff_unit = UNIT;
    scheduler
}

/// Runs passes until `done` holds, waiting a little whenever nothing was due; panics after 20 s.
async fn run_until<F, Fut>(scheduler: &Scheduler, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done().await {
        assert!(Instant::now() < deadline, "not done within 20 s");
        let pass = scheduler.run_due().await.unwrap();
        if pass.succeeded + pass.retried + pass.dead == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// A platform whose first `lose` answers are lost after the message got through: the peer holds
/// the message, our side saw a failure, so the message is sent again.
struct LostAnswers {
    inner: HttpPlatform,
    lose: Mutex<usize>,
}

impl Platform for LostAnswers {
    fn deliver<'a>(
        &'a self,
        destination: &'a str,
        message: &'a Envelope,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            self.inner.deliver(destination, message).await?;
            let mut lose = self.lose.lock().unwrap();
            if *lose > 0 {
                *lose -= 1;
                return Err("connection reset before the answer".into());
            }
            Ok(())
        })
    }
}

store_test!(
    every_message_reaches_the_platform_once_in_order_across_failures_and_a_restart,
    |db: TestStore| async move {
        let seal = Sm2KeyPair::generate();
        let peer = PeerState::new(Some(seal.public_key()));
        let url = start_peer(peer.clone()).await;
        let messages = [
            message(CASE_LIBRARY, "C-1", "case.submitted"),
            message(CASE_LIBRARY, "C-2", "case.submitted"),
            message(CASE_LIBRARY, "C-1", "case.accepted"),
            message(LICENCE_REPOSITORY, "C-1", "licence.issued"),
            message(CASE_LIBRARY, "C-1", "case.concluded"),
            message(LICENCE_REPOSITORY, "C-2", "licence.revoked"),
        ];
        let ids = push_all(&db.store, &messages).await;
        peer.fail_next(3);

        // Before the restart: three 503s, then one message that gets through with its answer lost.
        let platform = LostAnswers {
            inner: HttpPlatform::new(&url, Some(seal.clone())).unwrap(),
            lose: Mutex::new(1),
        };
        let mut first = scheduler(&db.store, Arc::new(platform));
        first.batch = 1;
        run_until(&first, || {
            let peer = peer.clone();
            async move { peer.attempts() >= 4 }
        })
        .await;
        let rows = outbox::list(&db.store, None).await.unwrap();
        assert!(
            rows.iter().all(|r| r.delivered_at.is_none()),
            "nothing counts as delivered yet"
        );
        assert!(rows.iter().any(|r| r.last_error.is_some()));
        let held_before: usize = [CASE_LIBRARY, LICENCE_REPOSITORY]
            .iter()
            .map(|d| peer.received(d).len())
            .sum();
        assert_eq!(held_before, 1, "the message whose answer was lost");

        // The restart: scheduler and store gone, a new store on the same database.
        drop(first);
        db.store.close().await;
        let store = Store::open(&db.url, StoreOptions::default()).await.unwrap();
        let platform = HttpPlatform::new(&url, Some(seal.clone())).unwrap();
        let second = scheduler(&store, Arc::new(platform));
        run_until(&second, || {
            let store = store.clone();
            async move { jobs::count_queued(&store).await.unwrap() == 0 }
        })
        .await;

        for destination in [CASE_LIBRARY, LICENCE_REPOSITORY] {
            let pushed: Vec<(String, String, String)> = messages
                .iter()
                .zip(&ids)
                .filter(|(m, _)| m.destination == destination)
                .map(|(m, id)| (id.clone(), m.kind.clone(), m.case_id.clone().unwrap()))
                .collect();
            let held: Vec<(String, String, String)> = peer
                .received(destination)
                .into_iter()
                .map(|e| (e.id, e.kind, e.case_id.unwrap()))
                .collect();
            assert_eq!(held, pushed, "{destination}: each once, in push order");
        }
        assert_eq!(
            peer.received(CASE_LIBRARY)[0].payload,
            messages[0].payload,
            "the payload arrives unchanged"
        );
        assert!(
            peer.attempts() > messages.len() + 1,
            "the failures and the redelivery happened ({} attempts)",
            peer.attempts()
        );
        let rows = outbox::list(&store, None).await.unwrap();
        assert_eq!(rows.len(), 6);
        assert!(rows.iter().all(|r| r.delivered_at.is_some()), "{rows:#?}");
        assert!(rows.iter().map(|r| r.attempts).sum::<i64>() > 6);

        // A job run again (a worker that died after delivering) sends nothing twice.
        let attempts = peer.attempts();
        let handler = deliver_handler(
            store.clone(),
            Arc::new(HttpPlatform::new(&url, Some(seal)).unwrap()),
        );
        handler(serde_json::json!({ "destination": CASE_LIBRARY, "id": ids[4] }))
            .await
            .unwrap();
        assert_eq!(peer.attempts(), attempts, "delivered messages are skipped");
        store.close().await;
    }
);

/// Refuses every message of one kind, and records what it was asked to deliver.
#[derive(Default)]
struct Poisoned {
    asked: Mutex<Vec<String>>,
}

impl Platform for Poisoned {
    fn deliver<'a>(
        &'a self,
        _destination: &'a str,
        message: &'a Envelope,
    ) -> BoxFuture<'a, Result<(), String>> {
        self.asked.lock().unwrap().push(message.id.clone());
        let refused = message.kind == "case.poisoned";
        Box::pin(async move {
            if refused {
                Err("422 报文字段不合规".into())
            } else {
                Ok(())
            }
        })
    }
}

store_test!(
    a_message_that_keeps_failing_holds_back_its_destination_only,
    |db: TestStore| async move {
        let ids = push_all(
            &db.store,
            &[
                message(CASE_LIBRARY, "C-1", "case.poisoned"),
                message(CASE_LIBRARY, "C-2", "case.submitted"),
                message(LICENCE_REPOSITORY, "C-1", "licence.issued"),
            ],
        )
        .await;
        let platform = Arc::new(Poisoned::default());
        let scheduler = scheduler(&db.store, platform.clone());
        let store = db.store.clone();
        run_until(&scheduler, || {
            let store = store.clone();
            async move {
                let rows = outbox::list(&store, Some(CASE_LIBRARY)).await.unwrap();
                rows[0].attempts >= 4
            }
        })
        .await;

        let rows = outbox::list(&db.store, None).await.unwrap();
        let row = |id: &str| rows.iter().find(|r| r.id == id).unwrap().clone();
        let stuck = row(&ids[0]);
        assert!(stuck.delivered_at.is_none());
        assert!(stuck.attempts >= 4);
        assert_eq!(stuck.last_error.as_deref(), Some("422 报文字段不合规"));
        let later = row(&ids[1]);
        assert!(
            later.delivered_at.is_none(),
            "not delivered before the one before it"
        );
        assert_eq!(later.attempts, 0, "never even tried");
        assert!(
            row(&ids[2]).delivered_at.is_some(),
            "the other destination is not held back"
        );
        let asked = platform.asked.lock().unwrap().clone();
        assert!(!asked.contains(&ids[1]), "{asked:?}");
        assert_eq!(asked.iter().filter(|id| **id == ids[2]).count(), 1);
        assert!(
            jobs::count_queued(&db.store).await.unwrap() >= 2,
            "still retried"
        );
    }
);

fn envelope(id: &str) -> Envelope {
    Envelope {
        id: id.into(),
        kind: "case.accepted".into(),
        case_id: Some("C-1".into()),
        payload: serde_json::json!({ "status": "受理" }),
        created_at: 1_790_000_000_000,
    }
}

#[tokio::test]
async fn a_peer_with_the_bureaus_key_refuses_unsigned_and_wrongly_signed_messages() {
    let seal = Sm2KeyPair::generate();
    let peer = PeerState::new(Some(seal.public_key()));
    let url = start_peer(peer.clone()).await;
    let endpoint = format!("{url}/api/v1/{CASE_LIBRARY}/messages");
    let body = serde_json::to_vec(&envelope("m-1")).unwrap();
    let client = reqwest::Client::new();
    let post = |signature: Option<String>| {
        let mut request = client
            .post(&endpoint)
            .header("content-type", "application/json")
            .header("idempotency-key", "m-1")
            .body(body.clone());
        if let Some(signature) = signature {
            request = request.header(SIGNATURE_HEADER, signature);
        }
        request.send()
    };

    let unsigned = post(None).await.unwrap();
    assert_eq!(unsigned.status(), 401);
    let answer: serde_json::Value = unsigned.json().await.unwrap();
    assert_eq!(answer["error"]["code"], "signature_required");

    let other_key = Sm2KeyPair::generate();
    assert_eq!(
        post(Some(sign_body(&other_key, &body)))
            .await
            .unwrap()
            .status(),
        401,
        "signed by another key"
    );
    assert_eq!(
        post(Some(sign_body(&seal, b"{\"id\":\"m-2\"}")))
            .await
            .unwrap()
            .status(),
        401,
        "a signature over other bytes"
    );
    assert_eq!(
        post(Some("not base64!".into())).await.unwrap().status(),
        401
    );
    let err = HttpPlatform::new(&url, None)
        .unwrap()
        .deliver(CASE_LIBRARY, &envelope("m-1"))
        .await
        .unwrap_err();
    assert!(err.contains("401"), "{err}");
    assert!(peer.received(CASE_LIBRARY).is_empty());

    assert_eq!(
        post(Some(sign_body(&seal, &body))).await.unwrap().status(),
        200
    );
    assert_eq!(peer.received(CASE_LIBRARY), vec![envelope("m-1")]);
    assert_eq!(peer.attempts(), 6, "refused attempts count too");
}

#[tokio::test]
async fn the_peer_takes_an_id_once_and_lists_what_it_holds() {
    let peer = PeerState::new(None);
    let url = start_peer(peer.clone()).await;
    let platform = HttpPlatform::new(&format!("{url}/"), None).unwrap();
    for id in ["m-1", "m-2", "m-1"] {
        platform
            .deliver(LICENCE_REPOSITORY, &envelope(id))
            .await
            .unwrap();
    }
    peer.fail_next(1);
    let err = platform
        .deliver(LICENCE_REPOSITORY, &envelope("m-3"))
        .await
        .unwrap_err();
    assert!(err.contains("503"), "{err}");
    assert_eq!(peer.attempts(), 4);
    assert_eq!(
        peer.received(LICENCE_REPOSITORY),
        vec![envelope("m-1"), envelope("m-2")]
    );
    assert!(peer.received(CASE_LIBRARY).is_empty(), "per destination");

    let listed: serde_json::Value =
        reqwest::get(format!("{url}/api/v1/{LICENCE_REPOSITORY}/messages"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let listed: Vec<Envelope> = serde_json::from_value(listed["messages"].clone()).unwrap();
    assert_eq!(listed, vec![envelope("m-1"), envelope("m-2")]);

    let err = platform
        .deliver("archive", &envelope("m-4"))
        .await
        .unwrap_err();
    assert!(err.contains("404"), "{err}");
    assert!(HttpPlatform::new("ftp://platform.example", None).is_err());
    assert!(HttpPlatform::new("不是地址", None).is_err());
}
