//! 固废链数据看板 in headless Chromium, on both engines (003 module 91): an officer opens it from
//! the workbench and sees the block height, the entries, the nodes and the final checkpoint; the
//! test appends entries through the ledger and the page shows the new height and the new entry
//! without a reload. A visitor is sent to the workbench login, and an enterprise's session gets
//! neither the page nor its figures.
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use fantoccini::{Client, Locator};
use tongban_crypto::Sm2KeyPair;
use tongban_ledger::apps::{Grant, Scope};
use tongban_ledger::contracts::VERSION;
use tongban_ledger::log::{self, Request};
use tongban_ledger::service::Ledger;
use tongban_ledger::witness::Witnesses;
use tongban_store::store_test;
use tongban_store::testing::TestStore;

mod common;
use common::*;
#[path = "common/browser.rs"]
mod browser;
use browser::*;

const CODE: &str = "91310115MA1FL8XQ34";
const ORIGIN: &str = "shanghai-eeb/solid-waste";

async fn file(ledger: &Ledger, app: &str, key: &str) {
    ledger
        .submit(Request {
            contract: "filing".into(),
            version: VERSION,
            key: key.into(),
            operation: "create".into(),
            payload: format!(r#"{{"filing_no":"苏备{key}","waste":"一般工业固体废物"}}"#),
            app_id: app.into(),
            app_signature: "00ff".into(),
            nonce: None,
        })
        .await
        .unwrap()
        .unwrap();
}

/// Waits (up to 10 s: the page polls every 2 s) until `css` says exactly `expected`.
async fn wait_exact(c: &Client, css: &str, expected: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = text_of(c, css).await;
        if now == expected {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{css} says {now:?}, never {expected:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

store_test!(
    the_ledger_board_shows_the_figures_live_to_officers_only,
    |db: TestStore| async move {
        let Some((_driver, driver_port)) = chromedriver().await else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let mut state = state(&db, dir.path());
        // Jiangsu's witness beside the log: a checkpoint is final with both signatures.
        let jiangsu = Sm2KeyPair::generate();
        state.ledger = Ledger::start(
            db.store.clone(),
            log::Log::new(ORIGIN, Sm2KeyPair::generate()),
            Witnesses(vec![("jiangsu".into(), jiangsu.public_key())]),
            2,
            state.fields.clone(),
        );
        let ledger = state.ledger.clone();
        let app = tongban_web::app(state.clone());
        let base = serve(&app).await;

        // Not signed in: sent to the workbench login, the figures too.
        for path in ["/workbench/ledger", "/workbench/ledger/summary"] {
            let page = send(&app, get(path)).await;
            assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}");
            assert_eq!(location(&page), "/workbench/login", "{path}");
        }

        let jiangsu_app = ledger
            .register(
                "officer:test",
                "江苏省固废管理系统",
                "jiangsu",
                vec![Grant {
                    contract: "filing".into(),
                    operations: vec!["create".into()],
                    read: true,
                    scope: Scope::Own,
                }],
            )
            .await
            .unwrap();
        file(&ledger, &jiangsu_app.id, "SU-1").await;
        file(&ledger, &jiangsu_app.id, "SU-2").await;
        let cosigned = log::latest(&ledger.store, ORIGIN).await.unwrap().unwrap();
        let signature = cosigned.checkpoint.cosign("jiangsu", &jiangsu);
        assert!(
            log::add_cosignature(
                &ledger.store,
                ORIGIN,
                &ledger.witnesses,
                cosigned.checkpoint.height,
                "jiangsu",
                &signature,
            )
            .await
            .unwrap()
        );

        // An enterprise's session: neither the page nor the figures.
        let mut city = officer_browser(&db, &app, "shi.shouli", "310000", "市局受理员").await;
        let (mut firm, _, _, _) = primary(&state, &app, &mut city, CODE).await;
        for path in ["/workbench/ledger", "/workbench/ledger/summary"] {
            let page = firm.get(path).await;
            assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}");
            assert_eq!(location(&page), "/workbench/login", "{path}");
            assert!(!page.body.contains("SU-1"));
        }

        // The officer's figures as JSON, with the session.
        let summary = city.get("/workbench/ledger/summary").await;
        assert_eq!(summary.status, StatusCode::OK);
        let figures: serde_json::Value = serde_json::from_str(&summary.body).unwrap();
        assert_eq!(figures["entries"], 2);
        assert_eq!(figures["recent"][0]["key"], "SU-2");
        assert_eq!(figures["recent"][0]["app_name"], "江苏省固废管理系统");
        assert_eq!(figures["final_checkpoint"]["signatures"], 2);
        assert_eq!(figures["nodes"][1]["keeping_up"], true);

        // The officer opens the board from the workbench.
        let session = city.cookies["tongban_session"].clone();
        let c = chromium(driver_port, 1280, 1400).await;
        take_session(&c, &base, &session).await;
        c.goto(&format!("{base}/workbench")).await.unwrap();
        go(&c, "#menu-ledger").await;
        assert_eq!(text_of(&c, "h1").await, "固废链数据看板");
        let height = cosigned.checkpoint.height;
        assert_eq!(text_of(&c, "#ledger-height").await, height.to_string());
        assert_eq!(text_of(&c, "#ledger-entries").await, "2");
        assert_eq!(text_of(&c, "#ledger-node-count").await, "2");
        assert_eq!(text_of(&c, "#ledger-contract-count").await, "4");
        assert_eq!(text_of(&c, "#final-height").await, height.to_string());
        assert_eq!(text_of(&c, "#final-signatures").await, "2/2");
        assert_eq!(
            text_of(&c, "#final-root").await,
            format!("{}…", &hex::encode(cosigned.checkpoint.root)[..16])
        );
        let nodes = text_of(&c, "#ledger-nodes tbody").await;
        assert!(
            nodes.contains("上海市") && nodes.contains("江苏省") && nodes.contains("正常"),
            "{nodes}"
        );
        assert!(
            text_of(&c, "#ledger-recent tbody tr")
                .await
                .contains("SU-2")
        );
        let dir_shots = screenshot_dir(dir.path(), "ledger-board");
        screenshot_to(&c, &dir_shots, "board.png").await;

        // New entries, and the page follows without a reload.
        c.execute("window.notReloaded = true;", vec![])
            .await
            .unwrap();
        file(&ledger, &jiangsu_app.id, "SU-3").await;
        ledger
            .submit(Request {
                contract: "disposal_process".into(),
                version: VERSION,
                key: "SWGF2026120100001".into(),
                operation: "create".into(),
                payload: r#"{"status":"submitted","application_no":"SWGF2026120100001"}"#.into(),
                app_id: jiangsu_app.id.clone(),
                app_signature: "00ff".into(),
                nonce: None,
            })
            .await
            .unwrap()
            .unwrap();
        let now = ledger.dashboard(0).await.unwrap();
        assert_eq!(now.entries, 4);
        wait_exact(&c, "#ledger-entries", "4").await;
        wait_exact(&c, "#ledger-height", &now.height.to_string()).await;
        assert_eq!(text_of(&c, "#ledger-executions").await, "4");
        let newest = text_of(&c, "#ledger-recent tbody tr").await;
        assert!(
            newest.contains("SWGF2026120100001")
                && newest.contains("一般固体废物跨省贮存、处置业务处理")
                && newest.contains("江苏省固废管理系统"),
            "{newest}"
        );
        assert_eq!(
            c.find_all(Locator::Css("#ledger-recent tbody tr"))
                .await
                .unwrap()
                .len(),
            4
        );
        let contracts = text_of(&c, "#ledger-contracts").await;
        assert!(
            contracts.contains("一般固体废物跨省贮存、处置业务处理"),
            "{contracts}"
        );
        // The final checkpoint waits for Jiangsu's signature of the new ones.
        assert_eq!(text_of(&c, "#final-height").await, height.to_string());
        assert_eq!(
            c.execute("return window.notReloaded === true;", vec![])
                .await
                .unwrap(),
            serde_json::Value::Bool(true),
            "updated in place"
        );
        screenshot_to(&c, &dir_shots, "board-updated.png").await;
        c.close().await.unwrap();
    }
);
