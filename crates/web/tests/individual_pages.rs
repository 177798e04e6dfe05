//! An individual registers, lands on the personal page, logs out and in again, on both engines.
use axum::http::StatusCode;
use tongban_store::store_test;
use tongban_store::testing::TestStore;

mod common;
use common::*;

fn id_number() -> String {
    tongban_domain::id_number::IdNumber::complete("31010419900307123")
        .unwrap()
        .as_str()
        .to_string()
}

store_test!(
    an_individual_registers_and_logs_in_with_either_number,
    |db: TestStore| async move {
        let dir = tempfile::tempdir().unwrap();
        let app = router(&db, dir.path());
        let mut b = Browser::new(&app);
        assert!(
            b.get("/register/individual")
                .await
                .body
                .contains("个人用户注册")
        );

        let bad = b.post_form("/register/individual", "name=%E5%BC%A0&id_number=310104199003071230&phone=139&password=abc&password_again=abc").await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        for text in [
            "姓名：应为2至30个字",
            "身份证号码：",
            "手机号码：应为11位手机号码",
            "密码：至少8位",
        ] {
            assert!(bad.body.contains(text), "missing {text}");
        }
        assert!(
            bad.body.contains("value=\"310104199003071230\""),
            "what was typed is kept"
        );
        let mismatch = b.post_form("/register/individual", &format!("name=%E5%BC%A0%E7%8E%A5&id_number={}&phone=13912345678&password=Huanbao2026&password_again=Huanbao2025", id_number())).await;
        assert!(mismatch.body.contains("两次输入的密码不一致"));

        let ok = b.post_form("/register/individual", &format!("name=%E5%BC%A0%E7%8E%A5&id_number={}&phone=13912345678&password=Huanbao2026&password_again=Huanbao2026", id_number())).await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
        let me = b.get("/me").await;
        assert_eq!(me.status, StatusCode::OK);
        assert!(
            me.body.contains("张玥")
                && me.body.contains("139****5678")
                && me.body.contains("310104********"),
            "{}",
            me.body
        );
        assert!(
            !me.body.contains("13912345678") && !me.body.contains("19900307"),
            "numbers are masked on the page"
        );

        b.post_form("/me/logout", "").await;
        assert_eq!(b.get("/me").await.status, StatusCode::SEE_OTHER);

        let wrong = b
            .post_form("/login/individual", "account=13912345678&password=nope")
            .await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
        assert!(wrong.body.contains("账号或密码错误"));
        let by_id = b
            .post_form(
                "/login/individual",
                &format!("account={}&password=Huanbao2026", id_number()),
            )
            .await;
        assert_eq!(by_id.status, StatusCode::SEE_OTHER);
        assert_eq!(b.get("/me").await.status, StatusCode::OK);

        // Registering the same phone again is refused with a clear message.
        let mut other = Browser::new(&app);
        let again = other.post_form("/register/individual", &format!("name=%E6%9D%8E%E9%9D%99&id_number={}&phone=13912345678&password=Another2026&password_again=Another2026", tongban_domain::id_number::IdNumber::complete("31011219851111002").unwrap().as_str())).await;
        assert!(again.body.contains("已注册"), "{}", again.body);
    }
);

store_test!(
    sessions_do_not_cross_between_kinds_of_user,
    |db: TestStore| async move {
        let dir = tempfile::tempdir().unwrap();
        let app = router(&db, dir.path());
        let mut person = Browser::new(&app);
        person.post_form("/register/individual", &format!("name=%E5%BC%A0%E7%8E%A5&id_number={}&phone=13912345678&password=Huanbao2026&password_again=Huanbao2026", id_number())).await;
        assert_eq!(person.get("/me").await.status, StatusCode::OK);
        // An individual's session opens neither the enterprise home nor the workbench.
        assert_eq!(
            person.get("/enterprise").await.status,
            StatusCode::SEE_OTHER
        );
        assert_eq!(person.get("/workbench").await.status, StatusCode::SEE_OTHER);
        assert_eq!(
            person.get("/workbench/activations").await.status,
            StatusCode::SEE_OTHER
        );

        add_officer(&db, "pd.shouli", "Pudong#2026").await;
        let mut officer = Browser::new(&app);
        officer.login("pd.shouli", "Pudong%232026").await;
        assert_eq!(officer.get("/workbench").await.status, StatusCode::OK);
        assert_eq!(officer.get("/me").await.status, StatusCode::SEE_OTHER);
        assert_eq!(
            officer.get("/enterprise").await.status,
            StatusCode::SEE_OTHER
        );
    }
);
