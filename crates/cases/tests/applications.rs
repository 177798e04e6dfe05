//! Applications on the demonstration item, on both engines: prefill, 暂存, submission with a
//! case number, 再来一单, the case list, ownership and draft expiry.
use std::time::Duration;

use tongban_cases::{
    Applicant, CaseError, again, delete_draft, list, open, purge_expired, save, start, submit,
    timeline,
};
use tongban_domain::Timestamp;
use tongban_engine::Item;
use tongban_engine::case::CaseState;
use tongban_store::cases::CaseFilter;
use tongban_store::store_test;
use tongban_store::testing::TestStore;

mod common;
use common::{complete, enterprise, file_store, item, known};

/// Attaches the required monitoring report to draft `id`.
async fn with_report(db: &TestStore, item: &Item, me: &Applicant, id: &str) {
    let dir = tempfile::tempdir().unwrap();
    let files = file_store(dir.path());
    tongban_cases::materials::attach(
        &db.store,
        &files,
        item,
        me,
        id,
        tongban_cases::materials::Target::Material("monitoring_report"),
        "监测报告.pdf",
        bytes::Bytes::from_static(b"%PDF-1.7 report"),
    )
    .await
    .unwrap();
}

store_test!(
    a_draft_is_prefilled_saved_as_typed_and_kept_for_fifteen_days,
    |db: TestStore| async move {
        let (item, me) = (item(), enterprise(1));
        let id = start(&db.store, &item, &me, &known()).await.unwrap();
        let case = open(&db.store, &me, &id).await.unwrap();
        assert_eq!(case.state(), CaseState::Draft);
        let d = &case.projection.data;
        assert_eq!(d.one("unit_name"), Some("上海示范医院"));
        assert_eq!(d.one("credit_code"), Some("91310115MA1FL8XQ34"));
        assert_eq!(d.one("sales_only"), Some("否"), "the spec's default");
        assert!(d.modules.contains("sources") && d.modules.contains("devices"));
        assert_eq!(
            case.days_left(Timestamp::now()),
            Some(14),
            "15 days, the last one running"
        );

        // 暂存 keeps what was typed, even what is not valid yet, and the page.
        let mut typed = d.clone();
        typed.set("contact_phone", "1391234");
        save(&db.store, &item, &me, &id, &typed, "sources")
            .await
            .unwrap();
        let case = open(&db.store, &me, &id).await.unwrap();
        assert_eq!(case.projection.data.one("contact_phone"), Some("1391234"));
        assert_eq!(case.projection.step.as_deref(), Some("sources"));

        // Another enterprise cannot see, change or delete it.
        let other = enterprise(2);
        assert!(matches!(
            open(&db.store, &other, &id).await,
            Err(CaseError::NotFound)
        ));
        assert!(matches!(
            save(&db.store, &item, &other, &id, &typed, "basic").await,
            Err(CaseError::NotFound)
        ));
        assert!(matches!(
            submit(&db.store, &item, &other, &id, &complete(typed.clone())).await,
            Err(CaseError::NotFound)
        ));
        assert!(matches!(
            delete_draft(&db.store, &other, &id).await,
            Err(CaseError::NotFound)
        ));
        assert!(matches!(
            timeline(&db.store, &other, &id).await,
            Err(CaseError::NotFound)
        ));
        assert!(open(&db.store, &me, &id).await.is_ok());
    }
);

store_test!(
    submission_validates_numbers_the_case_and_freezes_it,
    |db: TestStore| async move {
        let (item, me) = (item(), enterprise(1));
        let id = start(&db.store, &item, &me, &known()).await.unwrap();
        let draft = open(&db.store, &me, &id).await.unwrap().projection.data;
        match submit(&db.store, &item, &me, &id, &draft).await {
            Err(CaseError::Invalid(problems)) => {
                let text: Vec<_> = problems.iter().map(|p| p.message.as_str()).collect();
                assert!(
                    text.contains(&"年度：请选择") && text.contains(&"许可证号：请填写"),
                    "{text:?}"
                );
            }
            other => panic!(
                "an incomplete application was submitted: {:?}",
                other.map(|_| ())
            ),
        }
        assert_eq!(
            open(&db.store, &me, &id).await.unwrap().state(),
            CaseState::Draft
        );

        with_report(&db, &item, &me, &id).await;
        let number = submit(&db.store, &item, &me, &id, &complete(draft.clone()))
            .await
            .unwrap();
        let today = tongban_cases::beijing_day(Timestamp::now());
        assert_eq!(number, format!("FZ{today}000001"));
        let case = open(&db.store, &me, &id).await.unwrap();
        assert_eq!(case.state(), CaseState::Submitted);
        assert_eq!(case.projection.number.as_deref(), Some(number.as_str()));
        assert_eq!(case.expires_at, None, "a case does not expire");
        assert!(matches!(
            save(&db.store, &item, &me, &id, &draft, "basic").await,
            Err(CaseError::NotDraft)
        ));
        assert!(matches!(
            submit(&db.store, &item, &me, &id, &complete(draft.clone())).await,
            Err(CaseError::NotDraft)
        ));
        assert!(matches!(
            delete_draft(&db.store, &me, &id).await,
            Err(CaseError::NotFound)
        ));

        // The next submission of the day takes the next number.
        let second = start(&db.store, &item, &enterprise(2), &known())
            .await
            .unwrap();
        with_report(&db, &item, &enterprise(2), &second).await;
        let n2 = submit(&db.store, &item, &enterprise(2), &second, &complete(draft))
            .await
            .unwrap();
        assert_eq!(n2, format!("FZ{today}000002"));

        // The timeline is the chained events.
        let events = timeline(&db.store, &me, &id).await.unwrap();
        let kinds: Vec<_> = events.iter().map(|e| e.body.label()).collect();
        assert_eq!(kinds, ["新建申请", "上传材料", "提交申请"]);
        assert_eq!(events[2].prev_digest, events[1].digest);
    }
);

store_test!(
    again_copies_the_last_case_except_per_case_fields,
    |db: TestStore| async move {
        let (item, me) = (item(), enterprise(1));
        assert!(matches!(
            again(&db.store, &item, &me, &known()).await,
            Err(CaseError::NothingToCopy)
        ));
        let id = start(&db.store, &item, &me, &known()).await.unwrap();
        let mut filled = complete(open(&db.store, &me, &id).await.unwrap().projection.data);
        filled.modules.remove("devices");
        with_report(&db, &item, &me, &id).await;
        submit(&db.store, &item, &me, &id, &filled).await.unwrap();

        let copy = again(&db.store, &item, &me, &known()).await.unwrap();
        assert_ne!(copy, id);
        let copied = open(&db.store, &me, &copy).await.unwrap();
        assert_eq!(copied.state(), CaseState::Draft);
        let submitted = open(&db.store, &me, &id).await.unwrap().projection.data;
        let mut expected = submitted.clone();
        expected.values.remove("year");
        assert_eq!(
            copied.projection.data, expected,
            "every field but the per-case year"
        );
        assert!(!copied.projection.data.modules.contains("devices"));
        // Another enterprise's 再来一单 does not see this one's cases.
        assert!(matches!(
            again(&db.store, &item, &enterprise(2), &known()).await,
            Err(CaseError::NothingToCopy)
        ));
    }
);

store_test!(
    the_case_list_filters_pages_and_drafts_expire,
    |db: TestStore| async move {
        let (item, me) = (item(), enterprise(1));
        let mut ids = vec![];
        for _ in 0..12 {
            ids.push(start(&db.store, &item, &me, &known()).await.unwrap());
        }
        let data = complete(open(&db.store, &me, &ids[0]).await.unwrap().projection.data);
        with_report(&db, &item, &me, &ids[0]).await;
        submit(&db.store, &item, &me, &ids[0], &data).await.unwrap();
        start(&db.store, &item, &enterprise(2), &known())
            .await
            .unwrap();

        let all = list(&db.store, &me, &CaseFilter::default(), 1)
            .await
            .unwrap();
        assert_eq!((all.total, all.cases.len()), (12, 10));
        assert_eq!(all.cases[0].id, ids[0], "the latest change first");
        assert_eq!(
            list(&db.store, &me, &CaseFilter::default(), 2)
                .await
                .unwrap()
                .cases
                .len(),
            2
        );
        // A secondary certificate's list: only the items it was granted.
        let only = |items: Vec<&str>| CaseFilter {
            only_items: Some(items.into_iter().map(String::from).collect()),
            ..Default::default()
        };
        assert_eq!(
            list(&db.store, &me, &only(vec!["radiation-self-check"]), 1)
                .await
                .unwrap()
                .total,
            12
        );
        assert_eq!(
            list(&db.store, &me, &only(vec!["other-item"]), 1)
                .await
                .unwrap()
                .total,
            0
        );
        assert_eq!(
            list(&db.store, &me, &only(vec![]), 1).await.unwrap().total,
            0
        );
        assert_eq!(
            list(&db.store, &me, &only(vec!["x') OR ('1'='1"]), 1)
                .await
                .unwrap()
                .total,
            0
        );
        let drafts = CaseFilter {
            state: Some("draft".into()),
            ..Default::default()
        };
        assert_eq!(list(&db.store, &me, &drafts, 1).await.unwrap().total, 11);
        // A page past the end is empty and still says how many there are.
        let beyond = list(&db.store, &me, &drafts, 99).await.unwrap();
        assert!(beyond.cases.is_empty());
        assert_eq!(beyond.total, 11);
        // 我的办件 leaves the forms out, and lists the same cases.
        let full = list(&db.store, &me, &CaseFilter::default(), 1)
            .await
            .unwrap();
        let bare = CaseFilter {
            without_data: true,
            ..Default::default()
        };
        let bare = list(&db.store, &me, &bare, 1).await.unwrap();
        assert_eq!(bare.total, full.total);
        assert!(
            full.cases
                .iter()
                .any(|c| !c.projection.data.values.is_empty())
        );
        assert!(
            bare.cases
                .iter()
                .all(|c| c.projection.data.values.is_empty())
        );
        let ids_of =
            |p: &tongban_cases::CasePage| p.cases.iter().map(|c| c.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids_of(&bare), ids_of(&full));
        let this_year: i32 = tongban_cases::beijing_day(Timestamp::now())[..4]
            .parse()
            .unwrap();
        let year = |y| CaseFilter {
            created_between: Some(tongban_cases::year_range(y)),
            ..Default::default()
        };
        assert_eq!(
            list(&db.store, &me, &year(this_year), 1)
                .await
                .unwrap()
                .total,
            12
        );
        assert_eq!(
            list(&db.store, &me, &year(this_year - 1), 1)
                .await
                .unwrap()
                .total,
            0
        );
        let other_item = CaseFilter {
            item_id: Some("other".into()),
            ..Default::default()
        };
        assert_eq!(list(&db.store, &me, &other_item, 1).await.unwrap().total, 0);

        // Nothing has expired yet; sixteen days on, every draft has, and the case remains.
        assert_eq!(purge_expired(&db.store, Timestamp::now()).await.unwrap(), 0);
        let later = Timestamp::now().after(Duration::from_secs(16 * 86_400));
        assert_eq!(purge_expired(&db.store, later).await.unwrap(), 12);
        let left = list(&db.store, &me, &CaseFilter::default(), 1)
            .await
            .unwrap();
        assert_eq!(left.total, 1);
        assert_eq!(left.cases[0].state(), CaseState::Submitted);
        assert!(matches!(
            open(&db.store, &me, &ids[1]).await,
            Err(CaseError::NotFound)
        ));
    }
);
