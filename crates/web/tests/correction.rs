//! The applicant's side of the workflow on 一般固体废物跨省级行政区域贮存、处置审批, both engines:
//! the 补正意见 on the case page, the 材料补正 page (only the marked field editable, the marked
//! material re-uploaded before 提交补正), the documents the bureau issued, and 企业证照.
use axum::http::{StatusCode, header};
use tongban_cases::Applicant;
use tongban_cases::workflow::{self, CorrectionRequest};
use tongban_domain::{CreditCode, OfficerRole};
use tongban_engine::case::CaseState;
use tongban_store::store_test;
use tongban_store::testing::TestStore;
use tongban_web::{AppState, app};

mod common;
use common::*;

const ITEM: &str = "solid-waste-cross-storage";
/// A 浦东 enterprise (the applicant) and a 闵行 one (the intruder).
const A: &str = "91310115MA1FL8XQ34";
const B: &str = "91310112MA1GB2Y75L";

/// Enterprise `code` (logged in once, so it exists) files a complete application with its three
/// materials, as its own certificate would; returns the applicant and the case id.
async fn filed(state: &AppState, code: &str) -> (Applicant, String) {
    let e =
        tongban_store::enterprises::by_credit_code(&state.store, &CreditCode::parse(code).unwrap())
            .await
            .unwrap()
            .unwrap();
    file_application(state, &e).await
}

/// The first `/cases/{case}/documents/<id>` link on a page.
fn document_link(body: &str, case: &str) -> String {
    let prefix = format!("/cases/{case}/documents/");
    let id = body
        .split(&prefix)
        .nth(1)
        .unwrap_or_else(|| panic!("no document link in {body}"))
        .split('"')
        .next()
        .unwrap();
    format!("{prefix}{id}")
}

store_test!(
    an_applicant_corrects_the_marked_field_and_material_and_resubmits,
    |db: TestStore| async move {
        let dir = tempfile::tempdir().unwrap();
        let state = state(&db, dir.path());
        let app = app(state.clone());
        let item = state.items.get(ITEM).unwrap();
        let mut city = officer_browser(&db, &app, "shi.shouli", "310000", "市局受理员").await;
        let (mut a, _, _, _) = primary(&state, &app, &mut city, A).await;
        let (mut b, _, _, _) = primary(&state, &app, &mut city, B).await;
        let (me, id) = filed(&state, A).await;
        let (_, b_case) = filed(&state, B).await;

        let intake = add_officer_in(
            &db,
            "pd.shouli",
            "Officer#2026",
            "310115",
            "浦东受理员",
            &[OfficerRole::Intake],
        )
        .await;
        let correction = workflow::request_correction(
            &state.desk(),
            item,
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
        // B's case has a 补正告知书 of its own, which A must not reach through A's case.
        let minhang = add_officer_in(
            &db,
            "mh.shouli",
            "Officer#2026",
            "310112",
            "闵行受理员",
            &[OfficerRole::Intake],
        )
        .await;
        workflow::request_correction(
            &state.desk(),
            item,
            &minhang,
            &b_case,
            &CorrectionRequest {
                points: vec![("field:waste_name".into(), "名称不规范".into())],
                note: String::new(),
            },
        )
        .await
        .unwrap();

        // The case page: the state, the notes, the deadline, the button and the 补正告知书.
        let page = a.get(&format!("/cases/{id}")).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        for text in [
            "补正中",
            "补正意见",
            "拟转移数量",
            "数量与合同约定不一致，请核实",
            "合同未加盖运输单位公章",
            "请按以下意见补正。",
            "补正期限",
            &correction.due,
            "补正告知书",
            "有效",
        ] {
            assert!(page.body.contains(text), "{text} missing: {}", page.body);
        }
        assert!(
            page.body
                .contains(&format!("href=\"/cases/{id}/correction\">材料补正")),
            "{}",
            page.body
        );
        let notice = document_link(&page.body, &id);
        // 我的办件 and the home page say so too.
        let list = a.get("/cases").await;
        assert!(
            list.body.contains("补正中") && list.body.contains(&format!("/cases/{id}/correction")),
            "{}",
            list.body
        );
        let home = a.get("/enterprise").await;
        assert!(home.body.contains("需要补正"), "{}", home.body);

        // The correction page: the marked field is an input with the note, the rest is text.
        let page = a.get(&format!("/cases/{id}/correction")).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains("name=\"f.quantity\""), "{}", page.body);
        assert!(page.body.contains("field to-correct"), "{}", page.body);
        assert!(page.body.contains("补正意见：数量与合同约定不一致，请核实"));
        assert!(!page.body.contains("name=\"f.waste_name\""));
        assert!(page.body.contains("燃煤电厂粉煤灰"), "shown as text");
        assert!(page.body.contains("与运输单位签订的运输合同（盖章扫描件）"));
        assert!(page.body.contains("补正意见：合同未加盖运输单位公章"));
        assert!(page.body.contains("提交补正"));

        // Resubmitting before the contract is uploaded again names it; the typed value stays.
        let refused = a
            .post_form(
                &format!("/cases/{id}/correction"),
                "f.quantity=9000.00&f.waste_name=%E6%94%B9",
            )
            .await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            refused.body
        );
        assert!(
            refused
                .body
                .contains("与运输单位签订的运输合同（盖章扫描件）：请按补正意见重新上传"),
            "{}",
            refused.body
        );
        assert!(refused.body.contains("value=\"9000.00\""));

        // The upload from the correction page comes back to it.
        let uploaded = post_multipart(
            &mut a,
            &format!("/cases/{id}/materials"),
            &[("material", "transport_contract"), ("back", "correction")],
            ("file", "盖章合同.pdf", b"%PDF-1.7 stamped"),
        )
        .await;
        assert_eq!(uploaded.status, StatusCode::SEE_OTHER, "{}", uploaded.body);
        assert_eq!(location(&uploaded), format!("/cases/{id}/correction"));
        let page = a.get(&format!("/cases/{id}/correction")).await;
        assert!(page.body.contains("盖章合同.pdf") && page.body.contains("已重新上传"));
        // A material that was not marked cannot be replaced now.
        let other = post_multipart(
            &mut a,
            &format!("/cases/{id}/materials"),
            &[("material", "receiver_contract"), ("back", "correction")],
            ("file", "x.pdf", b"%PDF-1.7 x"),
        )
        .await;
        assert_eq!(other.status, StatusCode::CONFLICT, "{}", other.body);

        let done = a
            .post_form(
                &format!("/cases/{id}/correction"),
                "f.quantity=9000.00&f.waste_name=%E6%94%B9",
            )
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
        assert_eq!(location(&done), format!("/cases/{id}?resubmitted=1"));
        let page = a.get(&location(&done)).await;
        assert!(page.body.contains("补正已提交") && page.body.contains("已提交"));
        assert!(
            !page.body.contains("id=\"correction\""),
            "the panel is gone"
        );
        let case = tongban_cases::open(&state.store, &me, &id).await.unwrap();
        assert_eq!(case.state(), CaseState::Submitted);
        assert_eq!(case.projection.data.one("quantity"), Some("9000.00"));
        assert_eq!(
            case.projection.data.one("waste_name"),
            Some("燃煤电厂粉煤灰"),
            "what was not marked is not taken"
        );
        let again = a.get(&format!("/cases/{id}/correction")).await;
        assert_eq!(again.status, StatusCode::CONFLICT);
        assert!(again.body.contains("该办件不在补正中"), "{}", again.body);

        // The 补正告知书 is the owner's to download, as a PDF.
        let pdf = a.get(&notice).await;
        assert_eq!(pdf.status, StatusCode::OK);
        assert_eq!(pdf.headers[header::CONTENT_TYPE], "application/pdf");
        let disposition = pdf.headers[header::CONTENT_DISPOSITION].to_str().unwrap();
        assert!(disposition.starts_with("attachment;"), "{disposition}");
        assert!(pdf.bytes.starts_with(b"%PDF"));

        // Another enterprise reaches neither the page nor the document.
        for path in [format!("/cases/{id}/correction"), notice.clone()] {
            let page = b.get(&path).await;
            assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
            assert!(!page.bytes.starts_with(b"%PDF"));
        }
        let refused = b
            .post_form(&format!("/cases/{id}/correction"), "f.quantity=1")
            .await;
        assert_eq!(refused.status, StatusCode::NOT_FOUND);
        // Nor does A get B's document through A's own case.
        let b_page = b.get(&format!("/cases/{b_case}")).await;
        let b_notice = document_link(&b_page.body, &b_case);
        let b_doc = b_notice.rsplit('/').next().unwrap();
        let crossed = a.get(&format!("/cases/{id}/documents/{b_doc}")).await;
        assert_eq!(crossed.status, StatusCode::NOT_FOUND);
    }
);

store_test!(
    a_licence_shows_on_enterprise_licences_until_it_is_revoked,
    |db: TestStore| async move {
        let dir = tempfile::tempdir().unwrap();
        let state = state(&db, dir.path());
        let app = app(state.clone());
        let item = state.items.get(ITEM).unwrap();
        let desk = state.desk();
        let mut city = officer_browser(&db, &app, "shi.shouli", "310000", "市局受理员").await;
        let (mut a, _, _, _) = primary(&state, &app, &mut city, A).await;
        let (_, id) = filed(&state, A).await;
        let pw = "Officer#2026";
        let intake =
            add_officer_in(&db, "pd.sl", pw, "310115", "受理员", &[OfficerRole::Intake]).await;
        let reviewer =
            add_officer_in(&db, "pd.sh", pw, "310115", "审核员", &[OfficerRole::Review]).await;
        let approver = add_officer_in(
            &db,
            "shi.sp",
            pw,
            "310000",
            "审批员",
            &[OfficerRole::Approval],
        )
        .await;
        workflow::accept(&desk, item, &intake, &id, "")
            .await
            .unwrap();
        workflow::pass(&desk, item, &reviewer, &id, "材料齐全，拟同意")
            .await
            .unwrap();
        workflow::pass(&desk, item, &reviewer, &id, "同意承办意见")
            .await
            .unwrap();
        workflow::decide(&desk, item, &approver, &id, true, "同意", None)
            .await
            .unwrap();
        let licence = workflow::issue_licence(&desk, item, &approver, &id)
            .await
            .unwrap();

        let home = a.get("/enterprise").await;
        assert!(home.body.contains("href=\"/enterprise/licences\">企业证照"));
        assert!(home.body.contains("电子证照已发放"), "{}", home.body);
        let page = a.get("/enterprise/licences").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        for text in [
            "一般固体废物跨省级行政区域贮存、处置批复证照",
            licence.number.as_str(),
            licence.holder.as_str(),
            licence.valid_until.as_deref().unwrap(),
            "<span class=\"tag ok\">有效</span>",
        ] {
            assert!(page.body.contains(text), "{text} missing: {}", page.body);
        }
        assert!(!page.body.contains("tag void"));
        let link = format!("/cases/{id}/documents/{}", licence.id);
        assert!(page.body.contains(&link));
        let pdf = a.get(&link).await;
        assert_eq!(pdf.status, StatusCode::OK);
        assert!(pdf.bytes.starts_with(b"%PDF"));
        // The case page lists the licence (and the reply) among its documents; 办结 offers 再来一单.
        let case_page = a.get(&format!("/cases/{id}")).await;
        assert!(case_page.body.contains("电子证照") && case_page.body.contains(&licence.number));
        assert!(case_page.body.contains("再来一单") && case_page.body.contains("办结"));

        // A secondary certificate granted another service sees no licence of this one.
        let mut clerk = logged_in(&state, &app, A).await;
        let serial = serial_on(&clerk.get("/enterprise").await);
        let set = a
            .post_form(
                &format!("/enterprise/certificates/{serial}/secondary"),
                &format!(
                    "holder={}&rights=radiation-annual-report",
                    urlencode("李静")
                ),
            )
            .await;
        assert_eq!(set.status, StatusCode::SEE_OTHER, "{}", set.body);
        let theirs = clerk.get("/enterprise/licences").await;
        assert_eq!(theirs.status, StatusCode::OK);
        assert!(!theirs.body.contains(&licence.number), "{}", theirs.body);
        assert!(theirs.body.contains("暂无电子证照"));
        a.post_form(
            &format!("/enterprise/certificates/{serial}/secondary"),
            &format!("holder={}&rights={ITEM}", urlencode("李静")),
        )
        .await;
        assert!(
            clerk
                .get("/enterprise/licences")
                .await
                .body
                .contains(&licence.number)
        );

        // Revoked: still listed, 已失效 with the reason.
        workflow::revoke_licence(&desk, item, &approver, &id, "企业申请注销")
            .await
            .unwrap();
        let page = a.get("/enterprise/licences").await;
        assert!(page.body.contains(&licence.number));
        assert!(
            page.body.contains("<span class=\"tag void\">已失效</span>"),
            "{}",
            page.body
        );
        assert!(page.body.contains("企业申请注销"));
        assert!(a.get("/enterprise").await.body.contains("电子证照已撤销"));
    }
);
