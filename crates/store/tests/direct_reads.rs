//! The reads that run on the calling thread on SQLite (see `direct` in the store) give what
//! the store holds, field by field, as the sqlx reads do, on both engines.
use std::time::Duration;

use tongban_domain::certificate::CertificateRole;
use tongban_domain::{CreditCode, Enterprise, EnterpriseId, Jurisdiction, Timestamp};
use tongban_store::cases::{self, CaseFilter, CaseRow, MaterialRow};
use tongban_store::testing::TestStore;
use tongban_store::{Store, certificates, enterprises, sessions, store_test};

fn enterprise() -> Enterprise {
    Enterprise {
        id: EnterpriseId::new(),
        name: "上海喆玥环保科技有限公司".into(),
        credit_code: CreditCode::complete("91310115MA1K3YJ12").unwrap(),
        legal_representative: "张玥".into(),
        registered_address: "上海市浦东新区张江路1号".into(),
        district: Jurisdiction::by_code("310115").unwrap(),
        created_at: Timestamp(1_764_000_000_123),
    }
}

/// An enterprise with a secondary certificate and a live session on it.
async fn logged_in(store: &Store) -> (Enterprise, &'static str) {
    let e = enterprise();
    let mut tx = store.begin().await.unwrap();
    enterprises::insert(&mut tx, &e).await.unwrap();
    certificates::record_seen(&mut tx, "SN-7", &e.id, "PEM", Timestamp(1_900_000_000_000))
        .await
        .unwrap();
    let rights = ["radiation-annual-report".to_string()];
    assert!(
        certificates::set_role(
            &mut tx,
            &e.id,
            "SN-7",
            CertificateRole::Secondary,
            &rights,
            "李娜"
        )
        .await
        .unwrap()
    );
    sessions::insert(
        &mut tx,
        "session-key",
        sessions::Owner::Enterprise {
            id: &e.id,
            certificate: "SN-7",
        },
        Timestamp::now().after(Duration::from_secs(3600)),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    (e, "session-key")
}

store_test!(
    a_session_reads_its_certificate_and_enterprise_as_stored,
    |db: TestStore| async move {
        let store = db.store.clone();
        let (e, key) = logged_in(&store).await;
        let (certificate, found) =
            certificates::of_enterprise_session(&store, key, Timestamp::now())
                .await
                .unwrap()
                .expect("a live session");
        assert_eq!(found, e, "every field of the enterprise");
        assert_eq!(
            Some(certificate.clone()),
            certificates::by_serial(&store, "SN-7").await.unwrap()
        );
        assert_eq!(certificate.holder, "李娜");
        assert_eq!(certificate.rights, ["radiation-annual-report"]);

        let later = Timestamp::now().after(Duration::from_secs(7200));
        assert!(
            certificates::of_enterprise_session(&store, key, later)
                .await
                .unwrap()
                .is_none(),
            "an expired session is nobody's"
        );
        assert!(
            certificates::of_enterprise_session(&store, "other-key", Timestamp::now())
                .await
                .unwrap()
                .is_none()
        );
    }
);

/// A case with every column set, each to a value of its own.
fn full_case(n: i64) -> CaseRow {
    CaseRow {
        id: format!("case-{n}"),
        number: Some(format!("SHEEB2026120{n}")),
        item_id: "solid-waste-cross-storage".into(),
        applicant_kind: "enterprise".into(),
        applicant_id: "ent-a".into(),
        state: "correcting".into(),
        step: Some("materials".into()),
        data: format!(r#"{{"unit_name":"单位{n}"}}"#),
        created_at: 1_764_000_000_000 + n,
        updated_at: 1_764_100_000_000 + n,
        submitted_at: Some(1_764_050_000_000 + n),
        expires_at: Some(1_765_000_000_000 + n),
        last_seq: 4 + n,
        last_digest: format!("digest-{n}"),
        district_code: Some("310115".into()),
        level: Some("district".into()),
        deadline: Some("2026-12-18".into()),
        correction: Some(r#"{"fields":["unit_name"]}"#.into()),
        parent_id: None,
        title: Some(format!("标题{n}")),
    }
}

store_test!(
    my_cases_list_every_column_as_stored,
    |db: TestStore| async move {
        let store = db.store.clone();
        let stored: Vec<CaseRow> = (1..=3).map(full_case).collect();
        let mut tx = store.begin().await.unwrap();
        for c in &stored {
            cases::insert(&mut tx, c).await.unwrap();
        }
        tx.commit().await.unwrap();

        let all = CaseFilter::default();
        let (page, total) = cases::of_applicant(&store, "enterprise", "ent-a", &all, 0, 2)
            .await
            .unwrap();
        assert_eq!(total, 3);
        assert_eq!(page, [stored[2].clone(), stored[1].clone()], "newest first");
        for c in &page {
            assert_eq!(Some(c.clone()), cases::by_id(&store, &c.id).await.unwrap());
        }

        let (rest, total) = cases::of_applicant(&store, "enterprise", "ent-a", &all, 2, 2)
            .await
            .unwrap();
        assert_eq!((rest, total), (vec![stored[0].clone()], 3));
        let (past, total) = cases::of_applicant(&store, "enterprise", "ent-a", &all, 10, 2)
            .await
            .unwrap();
        assert_eq!(
            (past.len(), total),
            (0, 3),
            "a page past the end still counts"
        );

        let listed = CaseFilter {
            without_data: true,
            ..Default::default()
        };
        let (page, _) = cases::of_applicant(&store, "enterprise", "ent-a", &listed, 0, 1)
            .await
            .unwrap();
        assert_eq!(page[0].data, "{}");
        assert_eq!(page[0].title, stored[2].title);

        let (theirs, total) = cases::of_applicant(&store, "enterprise", "ent-b", &all, 0, 10)
            .await
            .unwrap();
        assert_eq!(
            (theirs.len(), total),
            (0, 0),
            "another applicant's list is empty"
        );
    }
);

store_test!(
    a_case_reads_its_files_and_its_enterprise_as_stored,
    |db: TestStore| async move {
        let store = db.store.clone();
        let e = enterprise();
        let case = full_case(7);
        let files: Vec<MaterialRow> = (1..=2)
            .map(|n| MaterialRow {
                id: format!("file-{n}"),
                case_id: case.id.clone(),
                material_id: format!("contract_{n}"),
                name: format!("合同{n}"),
                file_name: format!("转移合同{n}.pdf"),
                file_kind: "pdf".into(),
                size: 10_000 + n,
                digest: format!("{n:064x}"),
                uploaded_at: 1_764_200_000_000 + n,
            })
            .collect();
        let mut tx = store.begin().await.unwrap();
        enterprises::insert(&mut tx, &e).await.unwrap();
        cases::insert(&mut tx, &case).await.unwrap();
        for f in files.iter().rev() {
            cases::insert_material(&mut tx, f).await.unwrap();
        }
        tx.commit().await.unwrap();

        assert_eq!(
            cases::by_id(&store, &case.id).await.unwrap(),
            Some(case.clone())
        );
        assert_eq!(cases::by_id(&store, "case-8").await.unwrap(), None);
        assert_eq!(
            cases::materials(&store, &case.id).await.unwrap(),
            files,
            "every field, in the order they were uploaded"
        );
        assert!(cases::materials(&store, "case-8").await.unwrap().is_empty());
        assert_eq!(enterprises::by_id(&store, &e.id).await.unwrap(), Some(e));
        assert_eq!(
            enterprises::by_id(&store, &EnterpriseId::new())
                .await
                .unwrap(),
            None
        );
    }
);
