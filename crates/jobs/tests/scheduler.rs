//! The scheduler against both engines.
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tongban_domain::Timestamp;
use tongban_jobs::{JobFailure, Scheduler};
use tongban_store::jobs::{self, NewJob};
use tongban_store::testing::TestStore;
use tongban_store::{Store, StoreOptions, store_test};

store_test!(
    a_timed_job_survives_a_restart_and_runs_once_due,
    |db: TestStore| async move {
        // Schedule a job for shortly in the future, then "restart": close every connection.
        let mut tx = db.store.begin().await.unwrap();
        let id = jobs::enqueue(
            &mut tx,
            &NewJob::new("draft.expire", serde_json::json!({"draft": "D-1"}))
                .at(Timestamp::now().after(Duration::from_millis(400))),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        db.store.close().await;

        let store = Store::open(&db.url, StoreOptions::default()).await.unwrap();
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = seen.clone();
        let scheduler = Scheduler::builder(store.clone())
            .on("draft.expire", move |payload| {
                let sink = sink.clone();
                async move {
                    sink.lock()
                        .unwrap()
                        .push(payload["draft"].as_str().unwrap().to_string());
                    Ok(())
                }
            })
            .build();

        assert_eq!(
            scheduler.run_due().await.unwrap().succeeded,
            0,
            "not due yet"
        );
        tokio::time::sleep(Duration::from_millis(450)).await;
        assert_eq!(scheduler.run_due().await.unwrap().succeeded, 1);
        assert_eq!(
            scheduler.run_due().await.unwrap().succeeded,
            0,
            "done jobs do not run again"
        );
        assert_eq!(*seen.lock().unwrap(), vec!["D-1".to_string()]);
        assert_eq!(
            jobs::by_id(&store, &id).await.unwrap().unwrap().state,
            "done"
        );
    }
);

store_test!(
    a_failing_handler_is_retried_later_with_its_error_kept,
    |db: TestStore| async move {
        let store = db.store.clone();
        let mut tx = store.begin().await.unwrap();
        let id = jobs::enqueue(
            &mut tx,
            &NewJob::new("outbox.deliver", serde_json::json!({})),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let scheduler = Scheduler::builder(store.clone())
            .on("outbox.deliver", |_| async {
                Err(JobFailure("市办件库接口返回503".into()))
            })
            .build();
        let pass = scheduler.run_due().await.unwrap();
        assert_eq!(pass.retried, 1);
        let record = jobs::by_id(&store, &id).await.unwrap().unwrap();
        assert_eq!(record.state, "queued");
        assert_eq!(record.last_error.as_deref(), Some("市办件库接口返回503"));
        assert!(
            record.run_at >= Timestamp::now().millis() + 4_000,
            "backs off about 5 s"
        );
        assert_eq!(
            scheduler.run_due().await.unwrap().retried,
            0,
            "not retried before its time"
        );
    }
);

store_test!(
    an_unknown_kind_is_not_dropped_silently,
    |db: TestStore| async move {
        let store = db.store.clone();
        let mut tx = store.begin().await.unwrap();
        let id = jobs::enqueue(
            &mut tx,
            &NewJob::new("nobody.handles", serde_json::json!({})),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let scheduler = Scheduler::builder(store.clone()).build();
        assert_eq!(scheduler.run_due().await.unwrap().retried, 1);
        let record = jobs::by_id(&store, &id).await.unwrap().unwrap();
        assert!(record.last_error.unwrap().contains("nobody.handles"));
    }
);

store_test!(
    recurring_work_runs_and_reschedules_itself_once,
    |db: TestStore| async move {
        let store = db.store.clone();
        let runs = Arc::new(AtomicUsize::new(0));
        let counter = runs.clone();
        let scheduler = Scheduler::builder(store.clone())
            .every("sessions.purge", Duration::from_secs(600), move || {
                let counter = counter.clone();
                async move {
                    counter.fetch_add(1, Ordering::SeqCst);
                    Ok(())
                }
            })
            .build();
        // Two instances starting make one row, not two.
        scheduler.ensure_recurring().await.unwrap();
        scheduler.ensure_recurring().await.unwrap();
        assert_eq!(jobs::count_queued(&store).await.unwrap(), 1);
        assert_eq!(scheduler.run_due().await.unwrap().succeeded, 1);
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        // The next run is queued, ten minutes out.
        assert_eq!(jobs::count_queued(&store).await.unwrap(), 1);
        assert_eq!(scheduler.run_due().await.unwrap().succeeded, 0);
    }
);

store_test!(the_loop_stops_on_shutdown, |db: TestStore| async move {
    let (tx, rx) = tokio::sync::watch::channel(false);
    let scheduler = Scheduler::builder(db.store.clone()).build();
    let handle = tokio::spawn(scheduler.run(rx));
    tokio::time::sleep(Duration::from_millis(50)).await;
    tx.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(5), handle)
        .await
        .expect("stops promptly")
        .unwrap();
});

#[test]
fn backoff_doubles_and_is_capped() {
    assert_eq!(tongban_jobs::backoff(1), Duration::from_secs(5));
    assert_eq!(tongban_jobs::backoff(2), Duration::from_secs(10));
    assert_eq!(tongban_jobs::backoff(4), Duration::from_secs(40));
    assert_eq!(tongban_jobs::backoff(30), Duration::from_secs(3600));
}

store_test!(
    a_run_longer_than_the_lease_keeps_its_job_and_a_dead_workers_job_runs_again,
    |db: TestStore| async move {
        let store = db.store.clone();
        let mut tx = store.begin().await.unwrap();
        for kind in ["batch.long", "batch.queued_behind"] {
            jobs::enqueue(&mut tx, &NewJob::new(kind, serde_json::json!({})))
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        let runs = Arc::new(AtomicUsize::new(0));
        let scheduler = |store: &Store| {
            let (long, behind) = (runs.clone(), runs.clone());
            let mut s = Scheduler::builder(store.clone())
                .on("batch.long", move |_| {
                    let runs = long.clone();
                    async move {
                        runs.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(1500)).await;
                        Ok(())
                    }
                })
                .on("batch.queued_behind", move |_| {
                    let runs = behind.clone();
                    async move {
                        runs.fetch_add(1, Ordering::SeqCst);
                        Ok(())
                    }
                })
                .build();
            s.lease = Duration::from_millis(600);
            s
        };
        // Worker A takes both jobs and works on the long one for more than two leases; worker
        // B, looking meanwhile, finds every claim renewed: neither job runs twice.
        let a = scheduler(&store);
        let b = scheduler(&store);
        let worker_a = tokio::spawn(async move { a.run_due().await.unwrap() });
        tokio::time::sleep(Duration::from_millis(1200)).await;
        assert_eq!(
            b.run_due().await.unwrap(),
            Default::default(),
            "B claims nothing"
        );
        assert_eq!(worker_a.await.unwrap().succeeded, 2);
        assert_eq!(runs.load(Ordering::SeqCst), 2);

        // A worker that dies holding a claim: the job runs again once the lease lapses.
        let mut tx = store.begin().await.unwrap();
        jobs::enqueue(
            &mut tx,
            &NewJob::new("batch.queued_behind", serde_json::json!({})),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let claimed = jobs::claim(&store, Timestamp::now(), Duration::from_millis(600), 1)
            .await
            .unwrap();
        assert_eq!(claimed.len(), 1, "the dead worker's claim");
        assert_eq!(b.run_due().await.unwrap().succeeded, 0, "still claimed");
        tokio::time::sleep(Duration::from_millis(700)).await;
        assert_eq!(b.run_due().await.unwrap().succeeded, 1);
    }
);
