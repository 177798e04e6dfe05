//! The router driven in-process, on SQLite and PostgreSQL.
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use tongban_store::store_test;
use tongban_store::testing::TestStore;

mod common;
use common::*;

store_test!(
    the_home_page_is_the_bureaus_portal_in_chinese,
    |db: TestStore| async move {
        let dir = tempfile::tempdir().unwrap();
        let app = router(&db, dir.path());
        let page = send(&app, get("/")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert_eq!(
            page.headers[header::CONTENT_TYPE],
            "text/html; charset=utf-8"
        );
        for text in [
            "上海市生态环境局",
            "一网通办",
            "请登录",
            "工作人员入口",
            "一般固体废物跨省级行政区域贮存、处置审批",
            "行政许可",
            "备案",
        ] {
            assert!(page.body.contains(text), "home page lacks {text}");
        }
        assert_eq!(page.headers["x-content-type-options"], "nosniff");
        let css = send(&app, get("/static/app.css")).await;
        assert_eq!(css.status, StatusCode::OK);
        assert!(css.body.contains("--blue"));
    }
);

store_test!(readiness_follows_the_store, |db: TestStore| async move {
    let dir = tempfile::tempdir().unwrap();
    let app = router(&db, dir.path());
    let ready = send(&app, get("/readyz")).await;
    assert_eq!(ready.status, StatusCode::OK);
    let json: serde_json::Value = serde_json::from_str(&ready.body).unwrap();
    assert_eq!(json["status"], "ready");
    assert_eq!(json["store"], db.store.engine().name());
    assert_eq!(send(&app, get("/healthz")).await.status, StatusCode::OK);

    db.store.close().await;
    let down = send(&app, get("/readyz")).await;
    assert_eq!(down.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(down.body.contains("数据库暂时无法访问"));
    // Alive, though not ready.
    assert_eq!(send(&app, get("/healthz")).await.status, StatusCode::OK);
});

store_test!(
    errors_are_chinese_pages_or_json_with_the_request_id,
    |db: TestStore| async move {
        let dir = tempfile::tempdir().unwrap();
        let app = router(&db, dir.path());
        let page = send(
            &app,
            with_header(
                "GET",
                "/no/such/page",
                header::HeaderName::from_static("x-request-id"),
                "req-42",
            ),
        )
        .await;
        assert_eq!(page.status, StatusCode::NOT_FOUND);
        assert_eq!(page.headers["x-request-id"], "req-42");
        assert!(page.body.contains("您访问的页面不存在"));
        assert!(
            page.body.contains("req-42"),
            "the page quotes the request id for support"
        );
        assert!(!page.body.contains("panicked") && !page.body.contains("sqlx"));

        let json = send(
            &app,
            with_header("GET", "/no/such/page", header::ACCEPT, "application/json"),
        )
        .await;
        assert_eq!(json.status, StatusCode::NOT_FOUND);
        let v: serde_json::Value = serde_json::from_str(&json.body).unwrap();
        assert_eq!(v["error"]["code"], "not_found");
        assert!(
            v["error"]["request_id"].as_str().unwrap().len() >= 32,
            "a request id is made when none is sent"
        );

        // The framework's own rejections are Chinese too.
        let mut browser = Browser::new(&app);
        browser.get("/").await;
        let token = browser.cookies["tongban_csrf"].clone();
        let wrong_method = browser
            .send(
                Request::delete("/")
                    .header("x-csrf-token", token)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
        assert!(wrong_method.body.contains("不支持该操作方式"));
        let bad_form = Browser::new(&app)
            .post_form("/workbench/login", "username=x")
            .await;
        assert_eq!(bad_form.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad_form.body.contains("请求内容有误"), "{}", bad_form.body);
    }
);

store_test!(
    an_officer_logs_in_sees_the_workbench_and_logs_out,
    |db: TestStore| async move {
        let dir = tempfile::tempdir().unwrap();
        let app = router(&db, dir.path());
        add_officer(&db, "pd.shouli", "Pudong#2026").await;
        let mut browser = Browser::new(&app);

        // Not logged in: sent to the login page.
        let anonymous = browser.get("/workbench").await;
        assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
        assert_eq!(anonymous.headers[header::LOCATION], "/workbench/login");
        let form = browser.get("/workbench/login").await;
        let token = browser.cookies["tongban_csrf"].clone();
        assert!(
            form.body
                .contains(&format!("name=\"_csrf\" value=\"{token}\"")),
            "the form carries the token"
        );

        let wrong = browser.login("pd.shouli", "pudong#2026").await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
        assert!(wrong.body.contains("用户名或密码错误"));
        assert!(
            wrong.body.contains("value=\"pd.shouli\""),
            "the username is kept in the form"
        );
        let unknown = browser.login("nobody", "Pudong#2026").await;
        assert_eq!(
            unknown.status,
            StatusCode::UNAUTHORIZED,
            "unknown users get the same answer"
        );
        let empty = browser.login("pd.shouli", "").await;
        assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(empty.body.contains("请输入密码"));

        let ok = browser.login("pd.shouli", "Pudong%232026").await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
        let cookie = ok.headers[header::SET_COOKIE].to_str().unwrap().to_string();
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
        let session = cookie.split(';').next().unwrap().to_string();

        let bench = browser.get("/workbench").await;
        assert_eq!(bench.status, StatusCode::OK);
        for text in [
            "浦东受理员",
            "浦东新区生态环境局",
            "窗口受理",
            "待受理",
            "退出",
        ] {
            assert!(bench.body.contains(text), "workbench lacks {text}");
        }
        // A forged cookie is not a session.
        let forged = send(
            &app,
            with_header("GET", "/workbench", header::COOKIE, "tongban_session=00ff"),
        )
        .await;
        assert_eq!(forged.status, StatusCode::SEE_OTHER);

        let out = browser.post_form("/workbench/logout", "").await;
        assert_eq!(out.status, StatusCode::SEE_OTHER);
        assert!(
            out.headers[header::SET_COOKIE]
                .to_str()
                .unwrap()
                .contains("Max-Age=0")
        );
        let after = send(
            &app,
            with_header("GET", "/workbench", header::COOKIE, &session),
        )
        .await;
        assert_eq!(
            after.status,
            StatusCode::SEE_OTHER,
            "the old cookie no longer works"
        );
    }
);

store_test!(
    forms_without_the_pages_token_are_refused,
    |db: TestStore| async move {
        let dir = tempfile::tempdir().unwrap();
        let app = router(&db, dir.path());
        add_officer(&db, "pd.shouli", "Pudong#2026").await;
        let mut victim = Browser::new(&app);
        victim.login("pd.shouli", "Pudong%232026").await;
        assert_eq!(victim.get("/workbench").await.status, StatusCode::OK);

        // Another site makes the victim's browser post: the cookies go along, the token cannot.
        let forged = Request::post("/workbench/logout")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(""))
            .unwrap();
        let refused = victim.send(forged).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        assert!(
            refused.body.contains("页面已过期或请求来源无法确认"),
            "{}",
            refused.body
        );
        assert_eq!(
            victim.get("/workbench").await.status,
            StatusCode::OK,
            "still logged in"
        );

        // A token from another browser does not fit this one's cookie.
        let mut attacker = Browser::new(&app);
        attacker.get("/").await;
        let foreign = attacker.cookies["tongban_csrf"].clone();
        let wrong = Request::post("/workbench/logout")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!("_csrf={foreign}")))
            .unwrap();
        assert_eq!(victim.send(wrong).await.status, StatusCode::FORBIDDEN);

        // The header works for scripts.
        let token = victim.cookies["tongban_csrf"].clone();
        let scripted = Request::post("/workbench/logout")
            .header("x-csrf-token", token)
            .body(Body::empty())
            .unwrap();
        assert_eq!(victim.send(scripted).await.status, StatusCode::SEE_OTHER);
        assert_eq!(
            victim.get("/workbench").await.status,
            StatusCode::SEE_OTHER,
            "logged out"
        );
    }
);

store_test!(
    the_fifth_wrong_password_locks_the_officer_out,
    |db: TestStore| async move {
        let dir = tempfile::tempdir().unwrap();
        let app = router(&db, dir.path());
        add_officer(&db, "pd.shouli", "Pudong#2026").await;
        let mut browser = Browser::new(&app);
        for _ in 0..4 {
            assert_eq!(
                browser.login("pd.shouli", "guess").await.status,
                StatusCode::UNAUTHORIZED
            );
        }
        let fifth = browser.login("pd.shouli", "guess").await;
        assert_eq!(fifth.status, StatusCode::LOCKED);
        assert!(
            fifth.body.contains("连续5次登录失败已被锁定"),
            "{}",
            fifth.body
        );
        // Even the right password is refused while locked.
        let right = browser.login("pd.shouli", "Pudong%232026").await;
        assert_eq!(right.status, StatusCode::LOCKED);
        assert!(right.headers.get(header::SET_COOKIE).is_none());
    }
);

store_test!(
    repeated_login_attempts_from_one_address_are_slowed,
    |db: TestStore| async move {
        use axum::extract::ConnectInfo;
        use std::net::SocketAddr;
        let dir = tempfile::tempdir().unwrap();
        let mut state = state(&db, dir.path());
        state.config.login_attempts_per_minute = 3;
        let app = tongban_web::app(state);
        let mut b = Browser::new(&app);
        b.get("/").await;
        let token = b.cookies["tongban_csrf"].clone();
        let attempt = |ip: &str| {
            let mut req = Request::post("/login/individual")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(format!(
                    "account=13900000000&password=guess&_csrf={token}"
                )))
                .unwrap();
            req.extensions_mut().insert(ConnectInfo(
                format!("{ip}:50000").parse::<SocketAddr>().unwrap(),
            ));
            req
        };
        for _ in 0..3 {
            assert_eq!(
                b.send(attempt("10.1.1.1")).await.status,
                StatusCode::UNAUTHORIZED
            );
        }
        let slowed = b.send(attempt("10.1.1.1")).await;
        assert_eq!(slowed.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(slowed.headers[header::RETRY_AFTER], "60");
        assert!(slowed.body.contains("操作过于频繁"), "{}", slowed.body);
        // Another address is not affected, nor are pages that are only read.
        assert_eq!(
            b.send(attempt("10.1.1.2")).await.status,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(b.get("/login/individual").await.status, StatusCode::OK);
    }
);
