//! Issued documents on both engines (see `store_test!`): an applicant's licences (企业证照).
use tongban_domain::Timestamp;
use tongban_store::cases::{self, CaseRow};
use tongban_store::documents::{self, IssuedRow};
use tongban_store::testing::TestStore;
use tongban_store::{Store, store_test};

async fn case(store: &Store, id: &str, item: &str, applicant: &str) {
    let now = Timestamp::now().millis();
    let mut tx = store.begin().await.unwrap();
    cases::insert(
        &mut tx,
        &CaseRow {
            id: id.into(),
            number: Some(format!("GF{id}")),
            item_id: item.into(),
            applicant_kind: "enterprise".into(),
            applicant_id: applicant.into(),
            state: "closed".into(),
            step: None,
            data: "{}".into(),
            created_at: now,
            updated_at: now,
            submitted_at: Some(now),
            expires_at: None,
            last_seq: 1,
            last_digest: "0".repeat(64),
            district_code: Some("310115".into()),
            level: None,
            deadline: None,
            correction: None,
            parent_id: None,
            title: None,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

async fn issue(store: &Store, id: &str, kind: &str, case_id: Option<&str>, at: i64) {
    let mut tx = store.begin().await.unwrap();
    documents::insert(
        &mut tx,
        &IssuedRow {
            id: id.into(),
            kind: kind.into(),
            case_id: case_id.map(str::to_string),
            number: format!("沪环固跨〔2026〕{id}号"),
            title: "一般固体废物跨省级行政区域贮存、处置批复证照".into(),
            holder: "上海示范热电有限公司".into(),
            file_digest: "ab".repeat(32),
            slots: "[]".into(),
            issued_at: at,
            valid_until: Some("2026-12-31".into()),
            revoked_at: None,
            revoked_reason: None,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

store_test!(
    an_applicant_sees_the_licences_of_its_own_cases_only,
    |db: TestStore| async move {
        let store = db.store.clone();
        case(&store, "c1", "solid-waste-cross-storage", "ent-a").await;
        case(&store, "c2", "radiation-annual-report", "ent-a").await;
        case(&store, "c3", "solid-waste-cross-storage", "ent-b").await;
        issue(&store, "1", "licence", Some("c1"), 1_000).await;
        issue(&store, "2", "correction_notice", Some("c1"), 2_000).await;
        issue(&store, "3", "licence", Some("c2"), 3_000).await;
        issue(&store, "4", "licence", Some("c3"), 4_000).await;
        issue(&store, "5", "licence", None, 5_000).await;
        let mut tx = store.begin().await.unwrap();
        assert!(
            documents::revoke(&mut tx, "1", "企业申请注销", Timestamp(6_000))
                .await
                .unwrap()
        );
        tx.commit().await.unwrap();

        let mine = documents::licences_of_applicant(&store, "enterprise", "ent-a")
            .await
            .unwrap();
        let seen: Vec<(&str, &str)> = mine
            .iter()
            .map(|l| (l.document.id.as_str(), l.item_id.as_str()))
            .collect();
        // Newest first; no letters, nothing of another applicant's, nothing without a case.
        assert_eq!(
            seen,
            [
                ("3", "radiation-annual-report"),
                ("1", "solid-waste-cross-storage")
            ]
        );
        let revoked = &mine[1].document;
        assert_eq!(revoked.revoked_reason.as_deref(), Some("企业申请注销"));
        assert_eq!(revoked.valid_until.as_deref(), Some("2026-12-31"));
        assert!(
            documents::licences_of_applicant(&store, "individual", "ent-a")
                .await
                .unwrap()
                .is_empty()
        );
    }
);
