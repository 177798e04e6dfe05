//! The enterprise's certificate login, first-login activation, officer review and secondary
//! certificates, driven through the router as a browser would, on SQLite and PostgreSQL.
use std::time::Duration;

use axum::http::{StatusCode, header};
use tongban_crypto::Sm2KeyPair;
use tongban_crypto::cert::Holder;
use tongban_store::store_test;
use tongban_store::testing::TestStore;
use tongban_web::app;

mod common;
use common::*;

const CODE: &str = "91310115MA1FL8XQ34";
const OTHER: &str = "91310112MA1GB2Y75L";

store_test!(
    an_enterprise_activates_its_primary_certificate_and_limits_a_secondary,
    |db: TestStore| async move {
        let dir = tempfile::tempdir().unwrap();
        let state = state(&db, dir.path());
        let app = app(state.clone());
        let (key, pem) = issue(&state, CODE, "上海浦江辐射技术有限公司");

        // Certificate login; the first time, the enterprise is asked to activate a primary certificate.
        let mut boss = Browser::new(&app);
        let login = cert_login(&mut boss, &key, &pem, CODE).await;
        assert_eq!(login.status, StatusCode::SEE_OTHER, "{}", login.body);
        let home = boss.get("/enterprise").await;
        assert_eq!(home.status, StatusCode::OK);
        for text in [
            "上海浦江辐射技术有限公司",
            CODE,
            "企业首次登录",
            "图片最大不超过200KB"
                .replace("图片最大不超过", "不超过")
                .as_str(),
        ] {
            assert!(home.body.contains(text), "home lacks {text}");
        }

        // A PDF instead of the JPG, and a bad phone: refused with each field named, nothing stored.
        let bad = submit_activation(&mut boss, "12345", b"%PDF-1.7 not a scan").await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            bad.body.contains("联系电话：应为11位手机号码")
                && bad.body.contains("文件内容不是JPG图片"),
            "{}",
            bad.body
        );
        let ok = submit_activation(&mut boss, "13816881234", &jpeg(120 * 1024)).await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
        let home = boss.get("/enterprise").await;
        assert!(
            home.body
                .contains("已提交主证书开通申请，将于1个工作日内处理"),
            "{}",
            home.body
        );
        let id = activation_id(&home);

        // Another enterprise can neither withdraw nor see it.
        let (other_key, other_pem) = issue(&state, OTHER, "上海闵联环保科技有限公司");
        let mut stranger = Browser::new(&app);
        cert_login(&mut stranger, &other_key, &other_pem, OTHER).await;
        assert_eq!(
            stranger
                .post_form(&format!("/enterprise/activation/{id}/withdraw"), "")
                .await
                .status,
            StatusCode::NOT_FOUND
        );

        // A 闵行 officer does not see a 浦东 enterprise's request; a city officer does.
        let mut minhang = officer_browser(&db, &app, "mh.shouli", "310112", "闵行受理员").await;
        assert!(
            !minhang
                .get("/workbench/activations")
                .await
                .body
                .contains("上海浦江辐射技术有限公司")
        );
        assert_eq!(
            minhang
                .get(&format!("/workbench/activations/{id}"))
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            minhang
                .get(&format!("/workbench/activations/{id}/scan"))
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            minhang
                .post_form(
                    &format!("/workbench/activations/{id}/decide"),
                    "decision=approve"
                )
                .await
                .status,
            StatusCode::NOT_FOUND
        );

        let mut city = officer_browser(&db, &app, "shi.shouli", "310000", "市局受理员").await;
        let queue = city.get("/workbench/activations").await;
        assert!(
            queue.body.contains("上海浦江辐射技术有限公司") && queue.body.contains("个工作日"),
            "{}",
            queue.body
        );
        let detail = city.get(&format!("/workbench/activations/{id}")).await;
        assert!(detail.body.contains("13816881234") && detail.body.contains("王珺"));
        let scan = city.get(&format!("/workbench/activations/{id}/scan")).await;
        assert_eq!(scan.status, StatusCode::OK);
        assert_eq!(scan.headers[header::CONTENT_TYPE], "image/jpeg");
        assert_eq!(
            scan.bytes,
            jpeg(120 * 1024),
            "the officer sees the uploaded scan"
        );
        // The enterprise's own session is not an officer's.
        assert_eq!(
            boss.get(&format!("/workbench/activations/{id}"))
                .await
                .status,
            StatusCode::SEE_OTHER
        );

        let refused = city
            .post_form(
                &format!("/workbench/activations/{id}/decide"),
                "decision=reject&opinion=",
            )
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.body.contains("不予通过时必须填写理由"));
        assert_eq!(
            city.post_form(
                &format!("/workbench/activations/{id}/decide"),
                "decision=approve&opinion="
            )
            .await
            .status,
            StatusCode::SEE_OTHER
        );

        // Now primary: it manages the other certificates.
        let home = boss.get("/enterprise").await;
        assert!(
            home.body.contains("主证书") && home.body.contains("副证书管理"),
            "{}",
            home.body
        );

        let (clerk_key, clerk_pem) = issue(&state, CODE, "上海浦江辐射技术有限公司");
        let mut clerk = Browser::new(&app);
        cert_login(&mut clerk, &clerk_key, &clerk_pem, CODE).await;
        let clerk_home = clerk.get("/enterprise").await;
        assert!(
            clerk_home.body.contains("本证书尚未开通"),
            "{}",
            clerk_home.body
        );
        let serial = serial_on(&clerk_home);

        // A certificate that is not the primary cannot hand out rights, not even to itself.
        let denied = clerk
            .post_form(
                &format!("/enterprise/certificates/{serial}/secondary"),
                "holder=李静&rights=solid-waste-cross-storage",
            )
            .await;
        assert_eq!(denied.status, StatusCode::FORBIDDEN);
        assert!(
            denied.body.contains("只有主证书可以设置副证书权限"),
            "{}",
            denied.body
        );
        // Nor can another enterprise's certificate touch it.
        assert_eq!(
            stranger
                .post_form(&format!("/enterprise/certificates/{serial}/revoke"), "")
                .await
                .status,
            StatusCode::FORBIDDEN
        );

        let set = boss
            .post_form(
                &format!("/enterprise/certificates/{serial}/secondary"),
                &format!(
                    "holder={}&rights=radiation-annual-report",
                    urlencode("李静")
                ),
            )
            .await;
        assert_eq!(set.status, StatusCode::SEE_OTHER, "{}", set.body);
        let clerk_home = clerk.get("/enterprise").await;
        assert!(
            clerk_home.body.contains("副证书")
                && clerk_home
                    .body
                    .contains("放射性同位素与射线装置的安全和防护状况年度评估报告填报"),
            "{}",
            clerk_home.body
        );
        assert!(
            !clerk_home.body.contains("一般固体废物跨省级行政区域贮存"),
            "only the granted service is listed"
        );

        // Revoked by the primary: the clerk's session ends.
        assert_eq!(
            boss.post_form(&format!("/enterprise/certificates/{serial}/revoke"), "")
                .await
                .status,
            StatusCode::SEE_OTHER
        );
        assert_eq!(clerk.get("/enterprise").await.status, StatusCode::SEE_OTHER);
    }
);

store_test!(
    a_bad_signature_or_a_foreign_certificate_does_not_log_in,
    |db: TestStore| async move {
        let dir = tempfile::tempdir().unwrap();
        let state = state(&db, dir.path());
        let app = app(state.clone());
        let (_, pem) = issue(&state, CODE, "上海浦江辐射技术有限公司");
        let thief = Sm2KeyPair::generate();
        let mut b = Browser::new(&app);
        let page = cert_login(&mut b, &thief, &pem, CODE).await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
        assert!(page.body.contains("签名验证失败"), "{}", page.body);
        assert_eq!(b.get("/enterprise").await.status, StatusCode::SEE_OTHER);

        let foreign_ca =
            tongban_crypto::cert::Ca::create("通办测试CA", Duration::from_secs(86400)).unwrap();
        let key = Sm2KeyPair::generate();
        let foreign = foreign_ca
            .issue(
                &Holder::Enterprise {
                    name: "x".into(),
                    credit_code: CODE.into(),
                },
                &key.public_key(),
                Duration::from_secs(86400),
            )
            .unwrap();
        let page = cert_login(&mut b, &key, &foreign, CODE).await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
        assert!(page.body.contains("证书签名验证失败"), "{}", page.body);
    }
);
