//! The bureau's handling of a case of 一般固体废物跨省级行政区域贮存、处置审批 on both engines:
//! 受理, 补正 of one field and one material, 审查 at each level, the sealed reply and the licence,
//! revocation; a case split into two parallel sub-cases; jurisdiction and roles; and what the
//! applicant is told (home-page messages, SMS and the case library's outbox).
use tongban_cases::CaseError;
use tongban_cases::issuing::{self, LiveStatus};
use tongban_cases::materials::{self, Target};
use tongban_cases::workflow::{self, CorrectionRequest, Queue, WorkError};
use tongban_documents::testing::text_of;
use tongban_domain::{OfficerRole, Timestamp};
use tongban_engine::case::CaseState;
use tongban_engine::workflow::WorkflowError;
use tongban_store::store_test;
use tongban_store::testing::TestStore;

mod common;
use common::{PUDONG, World, filed, filed_with, officer, pdf, solid_waste_item};

const MINHANG: &str = "310112";

fn state(db_case: &tongban_cases::Case) -> CaseState {
    db_case.state()
}

store_test!(
    a_case_goes_from_submission_through_correction_review_and_licence_to_revocation,
    |db: TestStore| async move {
        let w = World::new();
        let desk = w.desk(&db);
        let item = solid_waste_item();
        let (me, id, _) = filed(&db, &w, PUDONG, 1).await;
        let intake = officer(PUDONG, "受理员", &[OfficerRole::Intake]);
        let reviewer = officer(PUDONG, "审核员", &[OfficerRole::Review]);
        let approver = officer("310000", "审批员", &[OfficerRole::Approval]);

        // Waiting for acceptance, with the acceptance limit running.
        let h = workflow::open(&desk, &item, &intake, &id).await.unwrap();
        assert_eq!(state(&h.case), CaseState::Submitted);
        let due = w
            .calendar
            .add_working_days(tongban_engine::workflow::beijing_date(Timestamp::now()), 5);
        assert_eq!(h.case.deadline, Some(due));
        let page = workflow::queue(&desk, &[&item], &intake, Queue::Acceptance, "", 1)
            .await
            .unwrap();
        assert_eq!(page.total, 1);

        // A reviewer may not accept; the intake officer asks for a correction instead.
        assert!(matches!(
            workflow::accept(&desk, &item, &reviewer, &id, "").await,
            Err(WorkError::Workflow(WorkflowError::NotYourRole { .. }))
        ));
        let refused = workflow::request_correction(
            &desk,
            &item,
            &intake,
            &id,
            &CorrectionRequest {
                points: vec![("field:quantity".into(), "  ".into())],
                note: String::new(),
            },
        )
        .await
        .unwrap_err();
        assert_eq!(refused.to_string(), "请填写「拟转移数量」的补正意见");
        let correction = workflow::request_correction(
            &desk,
            &item,
            &intake,
            &id,
            &CorrectionRequest {
                points: vec![
                    (
                        "field:quantity".into(),
                        "数量与合同约定不一致，请核实".into(),
                    ),
                    (
                        "material:transport_contract".into(),
                        "合同未加盖运输单位公章".into(),
                    ),
                ],
                note: "请按以下意见补正。".into(),
            },
        )
        .await
        .unwrap();
        assert_eq!(correction.fields().collect::<Vec<_>>(), ["quantity"]);
        let h = workflow::open(&desk, &item, &intake, &id).await.unwrap();
        assert_eq!(state(&h.case), CaseState::Correcting);
        assert_eq!(h.case.deadline, None, "the clock stops during 补正");
        // The 补正告知书 is sealed, says what to correct and carries a QR code.
        let notice = tongban_store::documents::of_case(&db.store, &id)
            .await
            .unwrap()
            .into_iter()
            .find(|d| d.kind == "correction_notice")
            .unwrap();
        let pdf_bytes = w
            .files
            .get(&notice.file_digest.parse().unwrap())
            .await
            .unwrap();
        // Lines wrap anywhere in Chinese text: compare without the breaks.
        let text: String = text_of(&pdf_bytes).split_whitespace().collect();
        assert!(text.contains("补正告知书"), "{text}");
        assert!(text.contains("合同未加盖运输单位公章"), "{text}");
        assert!(text.contains("扫描二维码查询办理进度"), "{text}");

        // The applicant changes the marked field and a field that was not marked: only the marked
        // one changes. Resubmitting before replacing the marked material is refused.
        let mut posted = h.case.projection.data.clone();
        posted.set("quantity", "9000.00");
        posted.set("waste_name", "改过的名称");
        let e = workflow::resubmit(&desk, &item, &me, &id, &posted)
            .await
            .unwrap_err();
        assert!(
            matches!(&e, CaseError::Invalid(p) if p[0].message.contains("请按补正意见重新上传")),
            "{e}"
        );
        // Only the marked material may be replaced during 补正.
        assert!(matches!(
            materials::attach(
                &db.store,
                &w.files,
                &item,
                &me,
                &id,
                Target::Material("receiver_contract"),
                "x.pdf",
                pdf("x")
            )
            .await,
            Err(CaseError::NotDraft)
        ));
        materials::attach(
            &db.store,
            &w.files,
            &item,
            &me,
            &id,
            Target::Material("transport_contract"),
            "盖章合同.pdf",
            pdf("stamped"),
        )
        .await
        .unwrap();
        workflow::resubmit(&desk, &item, &me, &id, &posted)
            .await
            .unwrap();
        let h = workflow::open(&desk, &item, &intake, &id).await.unwrap();
        assert_eq!(state(&h.case), CaseState::Submitted);
        assert_eq!(h.case.projection.data.one("quantity"), Some("9000.00"));
        assert_eq!(
            h.case.projection.data.one("waste_name"),
            Some("燃煤电厂粉煤灰"),
            "unmarked fields keep their values"
        );
        assert!(h.case.deadline.is_some(), "the acceptance limit runs again");

        // 受理, then 承办 and 审核 pass it on; the approver of the city bureau decides.
        workflow::accept(&desk, &item, &intake, &id, "")
            .await
            .unwrap();
        assert!(matches!(
            workflow::decide(&desk, &item, &approver, &id, true, "同意", None).await,
            Err(WorkError::Workflow(WorkflowError::NotNow { .. }))
        ));
        workflow::pass(&desk, &item, &reviewer, &id, "材料齐全，拟同意")
            .await
            .unwrap();
        workflow::pass(&desk, &item, &reviewer, &id, "同意承办意见")
            .await
            .unwrap();
        let page = workflow::queue(&desk, &[&item], &approver, Queue::Approval, "", 1)
            .await
            .unwrap();
        assert_eq!(page.total, 1);
        let h = workflow::open(&desk, &item, &approver, &id).await.unwrap();
        let draft =
            tongban_cases::letters::decision_draft(&item, &h.case, true, "经审查，符合要求。");
        assert!(
            draft.items.iter().any(|i| i.contains("燃煤电厂粉煤灰")),
            "{draft:?}"
        );
        let letter = workflow::seal_decision(&desk, &item, &approver, &id, true, "同意", draft)
            .await
            .unwrap();
        assert!(letter.number.starts_with("沪环土函〔"), "{}", letter.number);
        let h = workflow::open(&desk, &item, &approver, &id).await.unwrap();
        assert_eq!(state(&h.case), CaseState::Granted);

        // 发证: the case is 办结 and the licence is valid until it is revoked.
        let licence = workflow::issue_licence(&desk, &item, &approver, &id)
            .await
            .unwrap();
        let h = workflow::open(&desk, &item, &approver, &id).await.unwrap();
        assert_eq!(state(&h.case), CaseState::Closed);
        assert_eq!(h.case.deadline, None);
        let today = tongban_engine::workflow::beijing_date(Timestamp::now());
        let row = tongban_store::documents::by_id(&db.store, &licence.id)
            .await
            .unwrap();
        assert_eq!(issuing::status_of(row.as_ref(), today), LiveStatus::Valid);
        assert!(matches!(
            workflow::revoke_licence(&desk, &item, &approver, &id, " ").await,
            Err(WorkError::Invalid(m)) if m == "请填写撤销原因"
        ));
        workflow::revoke_licence(&desk, &item, &approver, &id, "企业申请注销")
            .await
            .unwrap();
        let row = tongban_store::documents::by_id(&db.store, &licence.id)
            .await
            .unwrap();
        assert_eq!(issuing::status_of(row.as_ref(), today).label(), "已失效");

        // The applicant was told at every step: home-page messages, SMS, the case library.
        let kinds: Vec<String> = tongban_cases::messages(&db.store, &me, 50)
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.kind)
            .collect();
        for kind in [
            "submitted",
            "correction_requested",
            "resubmitted",
            "accepted",
            "reviewed",
            "decided",
            "licence_issued",
            "licence_revoked",
        ] {
            assert!(
                kinds.iter().any(|k| k == kind),
                "{kind} missing from {kinds:?}"
            );
        }
        let library = tongban_store::outbox::list(&db.store, Some(workflow::CASE_LIBRARY))
            .await
            .unwrap();
        let labels: Vec<String> = library
            .iter()
            .map(|m| m.payload["label"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(
            labels,
            [
                "提交申请",
                "补正告知",
                "提交补正",
                "已受理",
                "审查通过",
                "审查通过",
                "准予许可",
                "电子证照已发放",
                "电子证照已撤销"
            ]
        );
        let repository = tongban_store::outbox::list(&db.store, Some(workflow::LICENCE_REPOSITORY))
            .await
            .unwrap();
        assert_eq!(
            repository
                .iter()
                .map(|m| m.kind.as_str())
                .collect::<Vec<_>>(),
            ["licence_issued", "licence_revoked"]
        );
        let sms = tongban_store::jobs::count_queued(&db.store).await.unwrap();
        assert!(sms >= 6, "SMS and deliveries queued: {sms}");
    }
);

store_test!(
    a_split_case_moves_on_only_when_both_sub_cases_are_decided,
    |db: TestStore| async move {
        let w = World::new();
        let desk = w.desk(&db);
        let item = solid_waste_item();
        let (me, id, _) = filed(&db, &w, PUDONG, 2).await;
        let intake = officer(PUDONG, "受理员", &[OfficerRole::Intake]);
        let reviewer = officer(PUDONG, "审核员", &[OfficerRole::Review]);
        let mh_reviewer = officer(MINHANG, "审核员", &[OfficerRole::Review]);
        let mh_approver = officer(MINHANG, "审批员", &[OfficerRole::Approval]);
        let pd_approver = officer(
            PUDONG,
            "审批员",
            &[OfficerRole::Approval, OfficerRole::Review],
        );
        workflow::accept(&desk, &item, &intake, &id, "")
            .await
            .unwrap();
        let children = workflow::split(
            &desk,
            &item,
            &reviewer,
            &id,
            &[
                ("贮存设施审查".into(), PUDONG.into()),
                ("运输路线审查".into(), MINHANG.into()),
            ],
        )
        .await
        .unwrap();
        assert_eq!(children.len(), 2);
        // The parent waits; 闵行 sees its sub-case, not the parent.
        assert!(matches!(
            workflow::pass(&desk, &item, &reviewer, &id, "同意").await,
            Err(WorkError::Workflow(WorkflowError::ChildrenPending { .. }))
        ));
        assert!(matches!(
            workflow::open(&desk, &item, &mh_reviewer, &id).await,
            Err(WorkError::NotFound)
        ));
        let mh_queue = workflow::queue(&desk, &[&item], &mh_reviewer, Queue::Review, "", 1)
            .await
            .unwrap();
        assert_eq!(
            mh_queue
                .cases
                .iter()
                .map(|c| c.id.clone())
                .collect::<Vec<_>>(),
            [children[1].clone()]
        );

        // Each sub-case goes through the levels in its own bureau.
        for (child, rev, app) in [
            (&children[0], &reviewer, &pd_approver),
            (&children[1], &mh_reviewer, &mh_approver),
        ] {
            workflow::pass(&desk, &item, rev, child, "符合要求")
                .await
                .unwrap();
            workflow::pass(&desk, &item, rev, child, "同意")
                .await
                .unwrap();
            let parent = workflow::open(&desk, &item, &intake, &id).await.unwrap();
            assert_eq!(
                parent.case.projection.level.as_deref(),
                Some("undertake"),
                "not before both are decided"
            );
            workflow::decide(&desk, &item, app, child, true, "同意", None)
                .await
                .unwrap();
        }
        let parent = workflow::open(&desk, &item, &intake, &id).await.unwrap();
        assert!(
            parent
                .children
                .iter()
                .all(|c| c.state() == CaseState::Closed)
        );
        assert_eq!(
            parent.case.projection.level.as_deref(),
            Some("check"),
            "both decided: on to 审核"
        );
        workflow::pass(&desk, &item, &reviewer, &id, "同意")
            .await
            .unwrap();
        workflow::decide(&desk, &item, &pd_approver, &id, true, "同意", None)
            .await
            .unwrap();
        workflow::issue_licence(&desk, &item, &pd_approver, &id)
            .await
            .unwrap();
        let parent = workflow::open(&desk, &item, &intake, &id).await.unwrap();
        assert_eq!(parent.case.state(), CaseState::Closed);
        // The applicant sees one case, with the sub-cases' progress as its messages.
        let mine = tongban_cases::list(&db.store, &me, &Default::default(), 1)
            .await
            .unwrap();
        assert_eq!(mine.total, 1);
        let messages = tongban_cases::messages(&db.store, &me, 50).await.unwrap();
        assert_eq!(
            messages
                .iter()
                .filter(|m| m.kind == "sub_case_decided")
                .count(),
            2
        );
        assert!(messages.iter().all(|m| m.case_id == id));
    }
);

store_test!(
    an_officer_of_another_district_cannot_see_or_act_on_a_case,
    |db: TestStore| async move {
        let w = World::new();
        let desk = w.desk(&db);
        let item = solid_waste_item();
        let (_, id, _) = filed(&db, &w, PUDONG, 3).await;
        let minhang = officer(MINHANG, "受理员", &[OfficerRole::Intake]);
        assert!(matches!(
            workflow::open(&desk, &item, &minhang, &id).await,
            Err(WorkError::NotFound)
        ));
        assert!(matches!(
            workflow::accept(&desk, &item, &minhang, &id, "").await,
            Err(WorkError::NotFound)
        ));
        let page = workflow::queue(&desk, &[&item], &minhang, Queue::Acceptance, "", 1)
            .await
            .unwrap();
        assert_eq!(page.total, 0);
        let city = officer("310000", "受理员", &[OfficerRole::Intake]);
        workflow::accept(&desk, &item, &city, &id, "")
            .await
            .unwrap();
        let h = workflow::open(&desk, &item, &city, &id).await.unwrap();
        assert_eq!(h.case.state(), CaseState::Reviewing);
    }
);

store_test!(
    a_licence_whose_period_has_ended_is_recorded_as_expired_once,
    |db: TestStore| async move {
        let w = World::new();
        let desk = w.desk(&db);
        let item = solid_waste_item();
        let today = tongban_engine::workflow::beijing_date(Timestamp::now());
        let (me, id, _) = filed_with(&db, &w, PUDONG, 4, |d| {
            d.set(
                "transport_from",
                (today - chrono::Duration::days(200)).to_string(),
            );
            d.set(
                "transport_to",
                (today - chrono::Duration::days(1)).to_string(),
            );
        })
        .await;
        let intake = officer(PUDONG, "受理员", &[OfficerRole::Intake]);
        let reviewer = officer(PUDONG, "审核员", &[OfficerRole::Review]);
        let approver = officer(PUDONG, "审批员", &[OfficerRole::Approval]);
        workflow::accept(&desk, &item, &intake, &id, "")
            .await
            .unwrap();
        workflow::pass(&desk, &item, &reviewer, &id, "同意")
            .await
            .unwrap();
        workflow::pass(&desk, &item, &reviewer, &id, "同意")
            .await
            .unwrap();
        workflow::decide(&desk, &item, &approver, &id, true, "同意", None)
            .await
            .unwrap();
        let licence = workflow::issue_licence(&desk, &item, &approver, &id)
            .await
            .unwrap();
        assert_eq!(
            issuing::status_of(Some(&licence), today).label(),
            "已失效",
            "past its last day the QR page says so at once"
        );
        let catalogue = tongban_items::catalogue().unwrap();
        assert_eq!(
            workflow::expire_licences(&desk, &catalogue).await.unwrap(),
            1
        );
        assert_eq!(
            workflow::expire_licences(&desk, &catalogue).await.unwrap(),
            0,
            "recorded once"
        );
        let kinds: Vec<String> = tongban_cases::messages(&db.store, &me, 5)
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.kind)
            .collect();
        assert_eq!(kinds[0], "licence_expired");
        let repository = tongban_store::outbox::list(&db.store, Some(workflow::LICENCE_REPOSITORY))
            .await
            .unwrap();
        assert_eq!(
            repository
                .iter()
                .map(|m| m.kind.as_str())
                .collect::<Vec<_>>(),
            ["licence_issued", "licence_expired"]
        );
    }
);

store_test!(
    a_marked_choice_opens_the_fields_it_reveals_and_nothing_else,
    |db: TestStore| async move {
        let w = World::new();
        let desk = w.desk(&db);
        let item = solid_waste_item();
        let (me, id, _) = filed(&db, &w, PUDONG, 5).await;
        let intake = officer(PUDONG, "受理员", &[OfficerRole::Intake]);
        let correction = workflow::request_correction(
            &desk,
            &item,
            &intake,
            &id,
            &CorrectionRequest {
                points: vec![(
                    "field:transport_mode".into(),
                    "经核实为水路运输，请更正".into(),
                )],
                note: String::new(),
            },
        )
        .await
        .unwrap();
        let open = workflow::correctable_fields(&item, &correction);
        assert!(open.contains(&"departure_wharf".to_string()), "{open:?}");
        assert!(!open.contains(&"waste_name".to_string()), "{open:?}");
        // 轮船 reveals 离岸码头, which is then required; once filled the case goes back.
        let mut posted = tongban_engine::FormData::default();
        posted.set("transport_mode", "轮船");
        posted.set("waste_name", "不该被改的名称");
        let refused = workflow::resubmit(&desk, &item, &me, &id, &posted)
            .await
            .unwrap_err();
        assert!(refused.to_string().contains("离岸码头"), "{refused}");
        posted.set("departure_wharf", "上海港外高桥码头");
        workflow::resubmit(&desk, &item, &me, &id, &posted)
            .await
            .unwrap();
        let h = workflow::open(&desk, &item, &intake, &id).await.unwrap();
        let data = &h.case.projection.data;
        assert_eq!(data.one("transport_mode"), Some("轮船"));
        assert_eq!(data.one("departure_wharf"), Some("上海港外高桥码头"));
        assert_eq!(data.one("waste_name"), Some("燃煤电厂粉煤灰"));
    }
);
