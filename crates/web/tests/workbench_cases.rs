//! 办件审批 on the workbench over HTTP, on both engines: the queues with their counts and
//! deadlines, acceptance, the levels of review, the drafted and sealed reply, the licence, and
//! revocation; batch acceptance that refuses what it may not do; roles; and an enterprise kept
//! out of the workbench.
use axum::http::StatusCode;
use tongban_domain::OfficerRole;
use tongban_store::store_test;
use tongban_store::testing::TestStore;
use tongban_web::app;

mod common;
use common::*;

store_test!(
    an_officer_takes_a_case_from_the_queue_to_the_licence,
    |db: TestStore| async move {
        let dir = tempfile::tempdir().unwrap();
        let state = state(&db, dir.path());
        let app = app(state.clone());
        let (_, id) = filed_application(&state, 1, "310115").await;
        let mut intake = officer_browser(&db, &app, "pd.intake", "310115", "浦东受理员").await;
        let mut reviewer = officer_browser_with(
            &db,
            &app,
            "pd.review",
            "310115",
            "浦东审核员",
            &[OfficerRole::Review],
        )
        .await;
        let mut approver = officer_browser_with(
            &db,
            &app,
            "shi.approve",
            "310000",
            "市局审批员",
            &[OfficerRole::Approval],
        )
        .await;

        // The home page counts it; the queue lists it with its acceptance deadline.
        let home = intake.get("/workbench").await;
        assert!(
            home.body.contains("您有 <strong>1</strong> 件待办"),
            "{}",
            home.body
        );
        let queue = intake.get("/workbench/cases?queue=acceptance").await;
        assert_eq!(queue.status, StatusCode::OK);
        assert!(
            queue.body.contains("上海示范热电001有限公司"),
            "{}",
            queue.body
        );
        assert!(queue.body.contains("共 1 件"));
        let searched = intake
            .get("/workbench/cases?queue=acceptance&q=不存在的单位")
            .await;
        assert!(searched.body.contains("共 0 件"));

        // The case page: the form read-only, the materials to preview, the actions of 受理.
        let page = intake.get(&format!("/workbench/cases/{id}")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("燃煤电厂粉煤灰"));
        assert!(page.body.contains("id=\"do-accept\"") && !page.body.contains("id=\"do-pass\""));
        let file = page
            .body
            .split(&format!("/workbench/cases/{id}/materials/"))
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string();
        let preview = intake
            .get(&format!("/workbench/cases/{id}/materials/{file}"))
            .await;
        assert_eq!(preview.status, StatusCode::OK);
        assert_eq!(preview.headers["content-type"], "application/pdf");
        assert!(
            preview.headers["content-disposition"]
                .to_str()
                .unwrap()
                .starts_with("inline"),
            "previewed in the browser"
        );

        // A reviewer cannot accept; the intake officer does.
        let refused = reviewer
            .post_form(
                &format!("/workbench/cases/{id}/act"),
                "action=accept&opinion=",
            )
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        assert!(
            refused.body.contains("您没有在「已提交」环节受理的权限"),
            "{}",
            refused.body
        );
        let accepted = intake
            .post_form(
                &format!("/workbench/cases/{id}/act"),
                "action=accept&opinion=",
            )
            .await;
        assert_eq!(accepted.status, StatusCode::SEE_OTHER, "{}", accepted.body);

        // 承办 without an opinion is refused with the reason, then passed on twice.
        let empty = reviewer
            .post_form(
                &format!("/workbench/cases/{id}/act"),
                "action=pass&opinion=",
            )
            .await;
        assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(empty.body.contains("请填写审查意见"));
        for opinion in ["材料齐全，拟同意", "同意承办意见"] {
            let passed = reviewer
                .post_form(
                    &format!("/workbench/cases/{id}/act"),
                    &format!("action=pass&opinion={opinion}"),
                )
                .await;
            assert_eq!(passed.status, StatusCode::SEE_OTHER, "{}", passed.body);
        }
        let waiting = approver.get("/workbench/cases?queue=approval").await;
        assert!(waiting.body.contains("共 1 件"), "{}", waiting.body);

        // 拟函: the reply is drafted from the case; the officer edits the title and seals it.
        let draft = approver
            .get(&format!("/workbench/cases/{id}/decision"))
            .await;
        assert_eq!(draft.status, StatusCode::OK, "{}", draft.body);
        assert!(
            draft.body.contains("废物名称：燃煤电厂粉煤灰"),
            "{}",
            draft.body
        );
        let sealed = approver
            .post_form(
                &format!("/workbench/cases/{id}/decision"),
                "granted=1&opinion=同意&title=关于同意上海示范热电001有限公司转移粉煤灰的复函&paragraphs=你单位申请收悉。%0A同意你单位的申请。&items=废物名称：燃煤电厂粉煤灰",
            )
            .await;
        assert_eq!(sealed.status, StatusCode::SEE_OTHER, "{}", sealed.body);
        assert!(location(&sealed).contains("done="));
        let issued = approver
            .post_form(&format!("/workbench/cases/{id}/act"), "action=licence")
            .await;
        assert_eq!(issued.status, StatusCode::SEE_OTHER, "{}", issued.body);
        let done = approver.get(&format!("/workbench/cases/{id}")).await;
        assert!(
            done.body.contains("id=\"case-state\">办结"),
            "{}",
            done.body
        );
        assert!(
            done.body
                .contains("关于同意上海示范热电001有限公司转移粉煤灰的复函")
        );
        assert!(done.body.contains("电子证照"));
        assert!(
            done.body.contains("市局审批员"),
            "the timeline names who acted"
        );

        // Revocation needs a reason; then the verification shows the licence invalid.
        let no_reason = approver
            .post_form(
                &format!("/workbench/cases/{id}/act"),
                "action=revoke&reason=",
            )
            .await;
        assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
        let revoked = approver
            .post_form(
                &format!("/workbench/cases/{id}/act"),
                "action=revoke&reason=企业申请注销",
            )
            .await;
        assert_eq!(revoked.status, StatusCode::SEE_OTHER, "{}", revoked.body);
        let after = approver.get(&format!("/workbench/cases/{id}")).await;
        assert!(after.body.contains("已失效"), "{}", after.body);
    }
);

store_test!(
    batch_acceptance_accepts_what_it_may_and_names_what_it_may_not,
    |db: TestStore| async move {
        let dir = tempfile::tempdir().unwrap();
        let state = state(&db, dir.path());
        let app = app(state.clone());
        let (_, mine_1) = filed_application(&state, 1, "310115").await;
        let (_, mine_2) = filed_application(&state, 2, "310115").await;
        let (_, theirs) = filed_application(&state, 3, "310112").await;
        let mut intake = officer_browser(&db, &app, "pd.intake", "310115", "浦东受理员").await;
        let queue = intake.get("/workbench/cases?queue=acceptance").await;
        assert!(
            queue.body.contains("共 2 件"),
            "闵行's case is not in 浦东's queue"
        );
        let done = intake
            .post_form(
                "/workbench/cases/batch",
                &format!("action=accept&ids={mine_1}&ids={mine_2}&ids={theirs}"),
            )
            .await;
        assert_eq!(done.status, StatusCode::OK);
        let back = done;
        assert!(back.body.contains("已受理2件，1件未办理"), "{}", back.body);
        let their_number = tongban_store::cases::by_id(&db.store, &theirs)
            .await
            .unwrap()
            .unwrap()
            .number
            .unwrap();
        assert!(
            back.body.contains("办件不存在或不在您的管辖范围内")
                && !back.body.contains(&their_number),
            "another district's case is not named: {}",
            back.body
        );
        let crafted = intake
            .get(&format!("/workbench/cases/{mine_1}?done=请致电12345"))
            .await;
        assert!(
            !crafted.body.contains("请致电"),
            "no words from a crafted link"
        );
        let reviewing = intake.get("/workbench/cases?queue=review").await;
        assert!(reviewing.body.contains("共 2 件"), "{}", reviewing.body);
        let mut minhang = officer_browser(&db, &app, "mh.intake", "310112", "闵行受理员").await;
        let still = minhang.get(&format!("/workbench/cases/{theirs}")).await;
        assert!(
            still.body.contains("id=\"case-state\">已提交"),
            "{}",
            still.body
        );
    }
);

store_test!(
    an_enterprise_cannot_act_in_the_workbench,
    |db: TestStore| async move {
        let dir = tempfile::tempdir().unwrap();
        let state = state(&db, dir.path());
        let app = app(state.clone());
        let (_, id) = filed_application(&state, 1, "310115").await;
        let mut city = officer_browser(&db, &app, "shi.shouli", "310000", "市局受理员").await;
        let (mut firm, _, _) = enterprise(&state, &app, &mut city, "91310115MA1FL8XQ34").await;
        for path in ["/workbench/cases", &format!("/workbench/cases/{id}")] {
            let page = firm.get(path).await;
            assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}");
            assert_eq!(location(&page), "/workbench/login");
        }
        let tried = firm
            .post_form(
                &format!("/workbench/cases/{id}/act"),
                "action=accept&opinion=",
            )
            .await;
        assert_ne!(tried.status, StatusCode::OK);
        let case = tongban_store::cases::by_id(&db.store, &id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(case.state, "submitted", "nothing changed");
    }
);
