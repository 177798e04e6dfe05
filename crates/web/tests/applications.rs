//! An item served from its spec alone (tests/fixtures/test-filing.toml): guide, notice with its
//! countdown and commitments, the steps with show_if, modules, 暂存, 下一步 checks, submission,
//! the case list and 再来一单 — over HTTP, on both engines.
use axum::http::StatusCode;
use tongban_store::store_test;
use tongban_store::testing::TestStore;

mod common;
use common::*;

const CODE: &str = "91310115MA1FL8XQ34";

store_test!(
    an_item_is_served_from_its_spec_from_notice_to_submission,
    |db: TestStore| async move {
        let dir = tempfile::tempdir().unwrap();
        let state = state_with_test_item(&db, dir.path());
        let app = tongban_web::app(state.clone());
        let mut city = officer_browser(&db, &app, "shi.shouli", "310000", "市局受理员").await;
        let (mut b, _, _) = enterprise(&state, &app, &mut city, CODE).await;

        let guide = b.get("/items/test-filing").await;
        assert!(guide.body.contains("测试备案事项") && guide.body.contains("立即办理"));

        // The notice: a countdown, and the server holds to it.
        let notice = b.get("/items/test-filing/apply").await;
        assert!(notice.body.contains("data-countdown=\"1\"") && notice.body.contains("测试须知"));
        let at = notice
            .body
            .split("name=\"shown_at\" value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string();
        let token = notice
            .body
            .split("name=\"token\" value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string();
        let early = b
            .post_form(
                "/items/test-filing/apply",
                &format!("shown_at={at}&token={token}&commitment=1"),
            )
            .await;
        assert_eq!(early.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(early.body.contains("倒计时结束后再继续"));
        let forged = b
            .post_form(
                "/items/test-filing/apply",
                "shown_at=0&token=x&commitment=1",
            )
            .await;
        assert_eq!(forged.status, StatusCode::UNPROCESSABLE_ENTITY);
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let uncommitted = b
            .post_form(
                "/items/test-filing/apply",
                &format!("shown_at={at}&token={token}"),
            )
            .await;
        assert!(uncommitted.body.contains("请阅读并勾选全部承诺事项"));
        let started = through_the_notice(&mut b).await;
        assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
        let id = case_id_of(&started);
        let edit = format!("/cases/{id}/edit");

        // 基本信息: prefilled; the capacity question waits for 是.
        let page = b.get(&edit).await;
        assert!(
            page.body.contains(&format!("value=\"企业{CODE}\"")),
            "prefilled name"
        );
        assert!(page.body.contains("暂存倒计时 14 天"));
        let capacity = page
            .body
            .split("id=\"field-storage_capacity\"")
            .nth(1)
            .unwrap();
        assert!(
            capacity.split('>').next().unwrap().contains("hidden"),
            "hidden until 是"
        );
        assert!(
            !page.body.contains("危险废物</li>"),
            "module off: no page for it"
        );

        let next = b
            .post_form(
                &edit,
                "_step=basic&_action=next&f.unit_name=x&f.year=2026&f.has_storage=%E6%98%AF",
            )
            .await;
        assert_eq!(next.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(next.body.contains("贮存能力：请填写"), "{}", next.body);
        let capacity = next
            .body
            .split("id=\"field-storage_capacity\"")
            .nth(1)
            .unwrap();
        assert!(!capacity.split('>').next().unwrap().contains("hidden"));

        // 暂存 keeps it; 下一步 moves on; 上一步 comes back with the answers.
        let saved = b
            .post_form(&edit, "_step=basic&_action=save&f.unit_name=%E7%A4%BA%E8%8C%83%E5%8E%82&f.year=2026&f.has_storage=%E6%98%AF&f.storage_capacity=12.5")
            .await;
        assert_eq!(location(&saved), format!("{edit}?step=basic&saved=1"));
        let again = b.get(&location(&saved)).await;
        assert!(again.body.contains("已暂存") && again.body.contains("value=\"12.5\""));
        let next = b
            .post_form(&edit, "_step=basic&_action=next&f.unit_name=%E7%A4%BA%E8%8C%83%E5%8E%82&f.year=2026&f.has_storage=%E6%98%AF&f.storage_capacity=12.5")
            .await;
        assert_eq!(location(&next), format!("{edit}?step=other"));

        // Switching the module on adds its page between the two, and its requirements.
        let on = b
            .post_form(
                &edit,
                "_step=other&_action=save&_modules=1&_module=waste&f.remark=",
            )
            .await;
        assert_eq!(on.status, StatusCode::SEE_OTHER);
        let back = b
            .post_form(
                &edit,
                "_step=other&_action=previous&_modules=1&_module=waste&f.remark=",
            )
            .await;
        assert_eq!(location(&back), format!("{edit}?step=waste"));
        let refused = b
            .post_form(
                &edit,
                "_step=other&_action=submit&_modules=1&_module=waste&f.remark=",
            )
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.body.contains("废物代码：请填写"));
        assert!(
            refused
                .body
                .contains("aria-current=\"step\"><span>2</span> 危险废物"),
            "shows the page with the problem"
        );
        let bad = b
            .post_form(
                &edit,
                "_step=waste&_action=next&_modules=1&_module=waste&f.waste_code=900041",
            )
            .await;
        assert!(bad.body.contains("应为“类别-序号-代码”，如 900-041-49"));
        let next = b
            .post_form(
                &edit,
                "_step=waste&_action=next&_modules=1&_module=waste&f.waste_code=900-041-49",
            )
            .await;
        assert_eq!(location(&next), format!("{edit}?step=other"));

        // 其他相关 ≫ 申请材料: submitting without the required report names it.
        let to_materials = b
            .post_form(
                &edit,
                "_step=other&_action=next&_modules=1&_module=waste&f.remark=%E6%97%A0",
            )
            .await;
        assert_eq!(location(&to_materials), format!("{edit}?step=_materials"));
        let page = b.get(&location(&to_materials)).await;
        assert!(
            page.body.contains("贮存设施检测报告") && page.body.contains("应急预案"),
            "应急预案 shows: 有贮存设施"
        );
        assert!(
            page.body
                .contains("aria-current=\"step\"><span>4</span> 申请材料")
        );
        let refused = b.post_form(&edit, "_step=_materials&_action=submit").await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.body.contains("贮存设施检测报告：请上传"));

        // Uploads are judged by content and size (acceptance 3 of issue 4).
        let uploads = format!("/cases/{id}/materials");
        let exe = b"MZ\x90\x00\x03\x00 This program cannot be run in DOS mode.";
        let page = post_multipart(
            &mut b,
            &uploads,
            &[("material", "report")],
            ("file", "检测报告.pdf", exe),
        )
        .await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            page.body
                .contains("贮存设施检测报告：文件内容为可执行程序，不能上传"),
            "{}",
            page.body
        );
        let mut big = b"%PDF-1.7\n".to_vec();
        big.resize(10 * 1024 * 1024 + 1, b' ');
        let page = post_multipart(
            &mut b,
            &uploads,
            &[("material", "report")],
            ("file", "大.pdf", &big),
        )
        .await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.body.contains("贮存设施检测报告：文件大小不能超过10MB"));
        big.pop();
        let ok = post_multipart(
            &mut b,
            &uploads,
            &[("material", "report")],
            ("file", "检测报告.pdf", &big),
        )
        .await;
        assert_eq!(
            location(&ok),
            format!("{edit}?step=_materials"),
            "exactly 10 MB is taken"
        );
        let extra = post_multipart(
            &mut b,
            &uploads,
            &[("material", "extra"), ("name", "委托书")],
            ("file", "委托书.jpg", b"\xFF\xD8\xFF\xE0 jfif"),
        )
        .await;
        assert_eq!(extra.status, StatusCode::SEE_OTHER);
        let page = b.get(&format!("{edit}?step=_materials")).await;
        assert!(page.body.contains("检测报告.pdf") && page.body.contains("委托书：委托书.jpg"));
        let file_id = page
            .body
            .split(&format!("/cases/{id}/materials/"))
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string();
        let download = b.get(&format!("/cases/{id}/materials/{file_id}")).await;
        assert_eq!(download.status, StatusCode::OK);
        assert_eq!(download.bytes.len(), 10 * 1024 * 1024);
        assert!(
            download.headers[axum::http::header::CONTENT_DISPOSITION]
                .to_str()
                .unwrap()
                .contains("UTF-8''")
        );

        let submitted = b.post_form(&edit, "_step=_materials&_action=submit").await;
        assert_eq!(
            submitted.status,
            StatusCode::SEE_OTHER,
            "{}",
            submitted.body
        );
        let detail = b.get(&location(&submitted)).await;
        let day = tongban_cases::beijing_day(tongban_domain::Timestamp::now());
        assert!(
            detail.body.contains(&format!("TS{day}000001")),
            "{}",
            detail.body
        );
        assert!(detail.body.contains("提交申请") && detail.body.contains("新建申请"));
        // A submitted case is no longer editable.
        let frozen = b
            .post_form(&edit, "_step=other&_action=save&f.remark=late")
            .await;
        assert_eq!(frozen.status, StatusCode::CONFLICT);

        // 我的办件, then 再来一单: everything but the per-case year.
        // 企业主页: the case's progress as messages; a secondary certificate granted another
        // service sees none of them.
        let home = b.get("/enterprise").await;
        assert!(
            home.body.contains(&format!(
                "您的「测试备案事项」申请已提交，申请号 TS{day}000001"
            )),
            "{}",
            home.body
        );
        assert!(home.body.contains("您新建了「测试备案事项」申请"));
        let mut clerk = logged_in(&state, &app, CODE).await;
        let serial = serial_on(&clerk.get("/enterprise").await);
        let granted = b
            .post_form(
                &format!("/enterprise/certificates/{serial}/secondary"),
                "holder=%E5%BC%A0%E4%B8%89&rights=radiation-self-check",
            )
            .await;
        assert_eq!(granted.status, StatusCode::SEE_OTHER, "{}", granted.body);
        // …nor the enterprise's cases of services it was not granted.
        let clerk_list = clerk.get("/cases").await;
        assert!(
            clerk_list.body.contains("暂无办件") && !clerk_list.body.contains(&format!("TS{day}"))
        );
        let refused = clerk.get(&format!("/cases/{id}")).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        assert!(!refused.body.contains(&format!("TS{day}")));
        let unopened = logged_in(&state, &app, CODE).await.get("/cases").await;
        assert!(
            unopened.body.contains("暂无办件"),
            "a certificate not yet opened sees no cases"
        );
        let clerk_home = clerk.get("/enterprise").await;
        assert!(
            clerk_home.body.contains("办件动态") && !clerk_home.body.contains("测试备案事项"),
            "{}",
            clerk_home.body
        );

        let list = b.get("/cases").await;
        assert!(list.body.contains(&format!("TS{day}000001")) && list.body.contains("再来一单"));
        let copy = b.post_form("/items/test-filing/again", "").await;
        let copy_id = case_id_of(&copy);
        assert_ne!(copy_id, id);
        let page = b.get(&format!("/cases/{copy_id}/edit?step=basic")).await;
        assert!(page.body.contains("value=\"示范厂\"") && page.body.contains("value=\"12.5\""));
        assert!(
            !page.body.contains("<option value=\"2026\" selected>"),
            "the year is per case"
        );
        let drafts = b.get("/cases?state=draft").await;
        assert!(
            drafts.body.contains("继续填写") && !drafts.body.contains(&format!("TS{day}000001"))
        );
        let deleted = b.post_form(&format!("/cases/{copy_id}/delete"), "").await;
        assert_eq!(location(&deleted), "/cases?deleted=1");
        assert_eq!(
            b.get(&format!("/cases/{copy_id}")).await.status,
            StatusCode::NOT_FOUND
        );
    }
);

store_test!(
    only_those_the_item_is_for_may_apply,
    |db: TestStore| async move {
        let dir = tempfile::tempdir().unwrap();
        let state = state_with_test_item(&db, dir.path());
        let app = tongban_web::app(state.clone());
        let mut city = officer_browser(&db, &app, "shi.shouli", "310000", "市局受理员").await;
        enterprise(&state, &app, &mut city, CODE).await;

        // A certificate the primary has not granted this service.
        let mut clerk = logged_in(&state, &app, CODE).await;
        let refused = clerk.get("/items/test-filing/apply").await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        assert!(
            refused.body.contains("您使用的数字证书无权办理该事项"),
            "{}",
            refused.body
        );

        // Nobody logged in: to the login page.
        let anonymous = Browser::new(&app).get("/items/test-filing/apply").await;
        assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
        assert!(location(&anonymous).starts_with("/login"));
        // The guide is public.
        assert_eq!(
            Browser::new(&app).get("/items/test-filing").await.status,
            StatusCode::OK
        );
        assert_eq!(
            Browser::new(&app).get("/items/nothing-here").await.status,
            StatusCode::NOT_FOUND
        );
    }
);

/// The city's enterprise registry as a local peer: knows one enterprise's phone number.
struct Registry;

impl tongban_engine::prefill::PrefillSource for Registry {
    fn name(&self) -> &str {
        "registry"
    }
    fn lookup<'a>(
        &'a self,
        known: &'a tongban_engine::prefill::Known,
    ) -> tongban_engine::prefill::Lookup<'a> {
        Box::pin(async move {
            match known.get("enterprise.credit_code").map(String::as_str) {
                Some(CODE) => Ok([(
                    "registry.contact_phone".to_string(),
                    "021-58881234".to_string(),
                )]
                .into()),
                _ => Err("not in the registry".into()),
            }
        })
    }
}

/// A source that is down.
struct Down;

impl tongban_engine::prefill::PrefillSource for Down {
    fn name(&self) -> &str {
        "down"
    }
    fn lookup<'a>(
        &'a self,
        _: &'a tongban_engine::prefill::Known,
    ) -> tongban_engine::prefill::Lookup<'a> {
        Box::pin(async { Err("connection refused".to_string()) })
    }
}

store_test!(
    external_prefill_sources_fill_what_they_know,
    |db: TestStore| async move {
        let dir = tempfile::tempdir().unwrap();
        let mut state = state_with_test_item(&db, dir.path());
        state.prefill = vec![std::sync::Arc::new(Down), std::sync::Arc::new(Registry)];
        let app = tongban_web::app(state.clone());
        let mut city = officer_browser(&db, &app, "shi.shouli", "310000", "市局受理员").await;
        let (mut b, _, _) = enterprise(&state, &app, &mut city, CODE).await;
        let started = through_the_notice(&mut b).await;
        assert_eq!(
            started.status,
            StatusCode::SEE_OTHER,
            "a source that is down blocks nothing"
        );
        let page = b
            .get(&format!("/cases/{}/edit", case_id_of(&started)))
            .await;
        assert!(
            page.body.contains("value=\"021-58881234\""),
            "the registry's phone number"
        );
        assert!(
            page.body.contains(&format!("value=\"企业{CODE}\"")),
            "and the profile's name"
        );
    }
);
