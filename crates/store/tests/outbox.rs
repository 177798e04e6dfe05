//! The outbox repository on both engines (see `store_test!`).
use std::time::Duration;

use tongban_domain::Timestamp;
use tongban_store::outbox::{self, NewMessage};
use tongban_store::testing::TestStore;
use tongban_store::{Store, jobs, store_test};

fn message(destination: &str, case: &str, kind: &str, n: i64) -> NewMessage {
    NewMessage {
        destination: destination.into(),
        case_id: Some(case.into()),
        kind: kind.into(),
        payload: serde_json::json!({ "n": n, "note": "受理" }),
    }
}

async fn push(store: &Store, m: &NewMessage) -> String {
    let mut tx = store.begin().await.unwrap();
    let id = outbox::push(&mut tx, m).await.unwrap();
    tx.commit().await.unwrap();
    id
}

store_test!(
    a_message_and_its_delivery_job_commit_or_vanish_together,
    |db: TestStore| async move {
        let store = db.store.clone();
        let mut tx = store.begin().await.unwrap();
        outbox::push(&mut tx, &message("case_library", "C-1", "case.accepted", 1))
            .await
            .unwrap();
        drop(tx);
        assert!(outbox::list(&store, None).await.unwrap().is_empty());
        assert_eq!(jobs::count_queued(&store).await.unwrap(), 0);

        let m = message("case_library", "C-1", "case.accepted", 1);
        let id = push(&store, &m).await;
        let rows = outbox::list(&store, None).await.unwrap();
        assert_eq!(rows.len(), 1);
        let row = &rows[0];
        assert_eq!(row.id, id);
        assert_eq!(
            uuid::Uuid::parse_str(&id).unwrap().get_version_num(),
            7,
            "ids are UUIDv7, ordered by time"
        );
        assert_eq!(
            (
                row.destination.as_str(),
                row.case_id.as_deref(),
                row.kind.as_str()
            ),
            ("case_library", Some("C-1"), "case.accepted")
        );
        assert_eq!(row.payload, m.payload, "Chinese text comes back unchanged");
        assert_eq!((row.delivered_at, row.attempts), (None, 0));
        assert!(row.last_error.is_none());
        assert!((Timestamp::now().millis() - row.created_at.millis()).abs() < 60_000);

        let claimed = jobs::claim(&store, Timestamp::now(), Duration::from_secs(30), 10)
            .await
            .unwrap();
        assert_eq!(claimed.len(), 1);
        assert_eq!(claimed[0].kind, outbox::DELIVER_JOB);
        assert_eq!(
            claimed[0].payload,
            serde_json::json!({ "destination": "case_library", "id": id })
        );
    }
);

store_test!(
    messages_queued_together_keep_their_order_and_each_its_job,
    |db: TestStore| async move {
        let store = db.store.clone();
        let messages = vec![
            message("case_library", "C-1", "submitted", 1),
            message("solid_waste_chain", "C-1", "disposal_application.create", 2),
            message("solid_waste_chain", "C-1", "disposal_process.create", 3),
        ];
        let mut tx = store.begin().await.unwrap();
        let ids = outbox::push_all(&mut tx, &messages).await.unwrap();
        drop(tx);
        assert!(
            outbox::list(&store, None).await.unwrap().is_empty(),
            "rolled back, all gone"
        );
        assert_eq!(jobs::count_queued(&store).await.unwrap(), 0);

        let mut tx = store.begin().await.unwrap();
        let ids_again = outbox::push_all(&mut tx, &messages).await.unwrap();
        assert!(outbox::push_all(&mut tx, &[]).await.unwrap().is_empty());
        tx.commit().await.unwrap();
        assert_ne!(ids, ids_again);
        let rows = outbox::list(&store, None).await.unwrap();
        let mut listed: Vec<(&str, &str, &serde_json::Value)> = rows
            .iter()
            .map(|r| (r.id.as_str(), r.kind.as_str(), &r.payload))
            .collect();
        listed.sort_by(|a, b| a.0.cmp(b.0));
        let expected: Vec<(&str, &str, &serde_json::Value)> = ids_again
            .iter()
            .zip(&messages)
            .map(|(id, m)| (id.as_str(), m.kind.as_str(), &m.payload))
            .collect();
        assert_eq!(
            listed, expected,
            "ids in the order given, each with its message"
        );

        let claimed = jobs::claim(&store, Timestamp::now(), Duration::from_secs(30), 10)
            .await
            .unwrap();
        let mut delivered: Vec<serde_json::Value> =
            claimed.into_iter().map(|j| j.payload).collect();
        delivered.sort_by_key(|p| p["id"].as_str().unwrap().to_string());
        let expected: Vec<serde_json::Value> = ids_again
            .iter()
            .zip(&messages)
            .map(|(id, m)| serde_json::json!({ "destination": m.destination, "id": id }))
            .collect();
        assert_eq!(delivered, expected, "one delivery job a message");
    }
);

store_test!(
    pending_is_per_destination_in_id_order_up_to_the_id,
    |db: TestStore| async move {
        let store = db.store.clone();
        let a1 = push(&store, &message("case_library", "C-1", "case.accepted", 1)).await;
        let b1 = push(
            &store,
            &message("licence_repository", "C-1", "licence.issued", 2),
        )
        .await;
        let a2 = push(&store, &message("case_library", "C-2", "case.accepted", 3)).await;
        let a3 = push(&store, &message("case_library", "C-1", "case.concluded", 4)).await;
        assert!(a1 < b1 && b1 < a2 && a2 < a3, "ids grow with each push");

        let ids = |rows: Vec<outbox::OutboxRow>| rows.into_iter().map(|r| r.id).collect::<Vec<_>>();
        assert_eq!(
            ids(outbox::pending(&store, "case_library", &a2, 10)
                .await
                .unwrap()),
            vec![a1.clone(), a2.clone()]
        );
        assert_eq!(
            ids(outbox::pending(&store, "case_library", &a3, 1)
                .await
                .unwrap()),
            vec![a1.clone()],
            "limit"
        );
        assert_eq!(
            ids(outbox::pending(&store, "licence_repository", &a3, 10)
                .await
                .unwrap()),
            vec![b1.clone()]
        );

        let at = Timestamp::now();
        assert!(outbox::mark_delivered(&store, &a1, at).await.unwrap());
        assert!(
            !outbox::mark_delivered(&store, &a1, at.after(Duration::from_secs(1)))
                .await
                .unwrap(),
            "a second delivery keeps the first's time"
        );
        assert_eq!(
            ids(outbox::pending(&store, "case_library", &a3, 10)
                .await
                .unwrap()),
            vec![a2.clone(), a3.clone()]
        );

        outbox::record_failure(&store, &a2, "平台返回 503")
            .await
            .unwrap();
        outbox::record_failure(&store, &a2, "无法连接平台")
            .await
            .unwrap();
        let rows = outbox::list(&store, Some("case_library")).await.unwrap();
        assert_eq!(ids(rows.clone()), vec![a1.clone(), a2.clone(), a3.clone()]);
        assert_eq!((rows[0].delivered_at, rows[0].attempts), (Some(at), 1));
        assert_eq!(rows[1].attempts, 2);
        assert_eq!(rows[1].last_error.as_deref(), Some("无法连接平台"));
        assert!(rows[1].delivered_at.is_none());
        assert_eq!(outbox::list(&store, None).await.unwrap().len(), 4);
        assert_eq!(
            ids(outbox::list(&store, Some("licence_repository"))
                .await
                .unwrap()),
            vec![b1]
        );
    }
);
