//! The `ledger.display` job against the local peer of the city's government-blockchain display,
//! on both engines: it posts the 固废链's dashboard snapshot, signed, with the log's height and
//! entries; while the display is down (503, or nothing listening) a run logs and succeeds, and
//! the next period's run shows the newer figures.
use std::sync::Arc;
use std::time::{Duration, Instant};

use tongban_crypto::Sm2KeyPair;
use tongban_jobs::Scheduler;
use tongban_ledger::contracts::VERSION;
use tongban_ledger::log::Request;
use tongban_ledger::service::Ledger;
use tongban_platform::display::{self, Display, HttpDisplay};
use tongban_platform::peer::{self, PeerState};
use tongban_store::store_test;
use tongban_store::testing::TestStore;

fn ledger(db: &TestStore) -> Arc<Ledger> {
    let keys = [("k1".to_string(), tongban_crypto::field::new_key_hex())].into();
    let fields = Arc::new(
        tongban_crypto::FieldCipher::new(&keys, "k1", &tongban_crypto::field::new_key_hex())
            .unwrap(),
    );
    Ledger::start(
        db.store.clone(),
        tongban_ledger::log::Log::new("shanghai-eeb/solid-waste", Sm2KeyPair::generate()),
        tongban_ledger::witness::Witnesses::default(),
        1,
        fields,
    )
}

async fn file(ledger: &Ledger, key: &str) {
    ledger
        .submit(Request {
            contract: "filing".into(),
            version: VERSION,
            key: key.into(),
            operation: "create".into(),
            payload: format!(r#"{{"filing_no":"沪备{key}","waste":"一般工业固体废物"}}"#),
            app_id: "jiangsu-eeb".into(),
            app_signature: "00ff".into(),
            nonce: None,
        })
        .await
        .unwrap()
        .unwrap();
}

/// The job as `tongban serve` registers it: the ledger's snapshot to `display`.
fn job(
    ledger: &Arc<Ledger>,
    display: Arc<dyn Display>,
) -> impl Fn() -> futures::future::BoxFuture<'static, Result<(), tongban_jobs::JobFailure>>
+ Send
+ Sync
+ 'static {
    let ledger = ledger.clone();
    display::job(display, move || {
        let ledger = ledger.clone();
        async move {
            ledger
                .dashboard(0)
                .await
                .map(|d| d.snapshot())
                .map_err(|e| e.to_string())
        }
    })
}

store_test!(
    the_display_job_posts_the_snapshot_and_gets_over_a_display_that_is_down,
    |db: TestStore| async move {
        let ledger = ledger(&db);
        for key in ["BA-1", "BA-2", "BA-3"] {
            file(&ledger, key).await;
        }
        let seal = Sm2KeyPair::generate();
        let peer_state = PeerState::new(Some(seal.public_key()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (addr, _task) = peer::serve(peer_state.clone(), listener).unwrap();
        let http: Arc<dyn Display> =
            Arc::new(HttpDisplay::new(&format!("http://{addr}/"), Some(seal.clone())).unwrap());
        let run = job(&ledger, http.clone());

        // Up: the display shows the log's height and entries, and counts only.
        run().await.unwrap();
        let figures = ledger.dashboard(0).await.unwrap();
        let shown = peer_state.shown().expect("a snapshot shown");
        assert_eq!(shown["height"], figures.height);
        assert!(figures.height >= 1);
        assert_eq!(shown["entries"], 3);
        assert_eq!(shown["executions"], 3);
        assert_eq!(shown["node_count"], 1);
        assert_eq!(shown["contract_count"], 4);
        assert_eq!(shown["final_checkpoint"]["signatures"], 1);
        let text = shown.to_string();
        assert!(
            !text.contains("BA-1") && !text.contains("沪备") && !text.contains("jiangsu-eeb"),
            "no business data on the display: {text}"
        );

        // Down (503): the run logs and succeeds, the screen keeps the last snapshot.
        file(&ledger, "BA-4").await;
        peer_state.fail_next(1);
        run().await.unwrap();
        assert_eq!(peer_state.snapshots().len(), 1);
        assert_eq!(peer_state.shown().unwrap()["entries"], 3);
        // The next period sends the newer figures.
        run().await.unwrap();
        assert_eq!(peer_state.shown().unwrap()["entries"], 4);

        // Nothing listening: the post says so, within the timeout, and the run succeeds.
        let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let nowhere = format!("http://{}", free.local_addr().unwrap());
        drop(free);
        let gone: Arc<dyn Display> = Arc::new(HttpDisplay::new(&nowhere, None).unwrap());
        let error = gone
            .show(&ledger.dashboard(0).await.unwrap().snapshot())
            .await
            .unwrap_err();
        assert!(error.contains("cannot connect"), "{error}");
        job(&ledger, gone)().await.unwrap();

        // Unsigned or malformed snapshots are refused by the display.
        let unsigned = HttpDisplay::new(&format!("http://{addr}"), None).unwrap();
        let refused = unsigned
            .show(&serde_json::json!({"height": 1}))
            .await
            .unwrap_err();
        assert!(refused.contains("401"), "{refused}");
        let partial = HttpDisplay::new(&format!("http://{addr}"), Some(seal.clone())).unwrap();
        let refused = partial
            .show(&serde_json::json!({"height": 1}))
            .await
            .unwrap_err();
        assert!(refused.contains("400"), "{refused}");

        // Scheduled as `tongban serve` does, every period, through two runs of a display that
        // is down: the newest figures arrive.
        file(&ledger, "BA-5").await;
        peer_state.fail_next(2);
        let attempts = peer_state.attempts();
        let scheduler = Scheduler::builder(db.store.clone())
            .every(
                display::JOB_KIND,
                Duration::from_millis(50),
                job(&ledger, http),
            )
            .build();
        scheduler.ensure_recurring().await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while peer_state.shown().unwrap()["entries"] != 5 {
            assert!(Instant::now() < deadline, "the snapshot never arrived");
            let pass = scheduler.run_due().await.unwrap();
            assert_eq!(
                pass.retried + pass.dead,
                0,
                "a display that is down fails no run"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(peer_state.attempts() >= attempts + 3);

        // An older snapshot arriving late is taken but does not replace the newer one.
        let mut old = peer_state.shown().unwrap();
        old["snapshot_at"] = serde_json::json!(0);
        old["entries"] = serde_json::json!(1);
        partial.show(&old).await.unwrap();
        assert_eq!(peer_state.shown().unwrap()["entries"], 5);
        assert_eq!(peer_state.snapshots().last().unwrap()["entries"], 1);
    }
);
