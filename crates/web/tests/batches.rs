//! 批量生成 on the workbench: an officer starts a batch, sees its progress bar and state, and
//! downloads the zip once the job has run; another officer finds none of it.
use std::io::Read;

use axum::http::{StatusCode, header};
use tongban_cases::batch::{Outcome, Runner};
use tongban_store::store_test;
use tongban_store::testing::TestStore;
use tongban_web::app;

mod common;
use common::*;

store_test!(
    an_officer_starts_a_batch_watches_it_and_downloads_the_zip,
    |db: TestStore| async move {
        let dir = tempfile::tempdir().unwrap();
        let state = state(&db, dir.path());
        let app = app(state.clone());
        let mut officer = officer_browser(&db, &app, "pd.shouli", "310115", "浦东受理员").await;
        let mut other = officer_browser(&db, &app, "pd.shencha", "310115", "浦东审查员").await;

        let home = officer.get("/workbench").await;
        assert!(
            home.body
                .contains("href=\"/workbench/batches\">批量生成</a>")
        );
        let list = officer.get("/workbench/batches").await;
        assert_eq!(list.status, StatusCode::OK);
        assert!(list.body.contains("还没有批量任务") && list.body.contains("示例年度报告"));

        // Out of range: refused with the reason, nothing started.
        for count in ["0", "2001", "abc"] {
            let refused = officer
                .post_form(
                    "/workbench/batches",
                    &format!("source=sample_reports&count={count}"),
                )
                .await;
            assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
            assert!(
                refused.body.contains("份数应为1至2000之间的整数"),
                "{}",
                refused.body
            );
        }
        assert!(
            officer
                .get("/workbench/batches")
                .await
                .body
                .contains("还没有批量任务")
        );

        let started = officer
            .post_form("/workbench/batches", "source=sample_reports&count=3")
            .await;
        assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
        let page = started.headers[header::LOCATION]
            .to_str()
            .unwrap()
            .to_string();
        let id = page
            .strip_prefix("/workbench/batches/")
            .unwrap()
            .to_string();

        let queued = officer.get(&page).await;
        assert_eq!(queued.status, StatusCode::OK);
        assert!(
            queued.body.contains("示例年度报告（3份）"),
            "{}",
            queued.body
        );
        assert!(
            queued
                .body
                .contains("<progress id=\"batch-bar\" value=\"0\" max=\"3\"")
        );
        assert!(queued.body.contains("已生成 0 / 3 份") && queued.body.contains("排队中"));
        assert!(
            queued
                .body
                .contains(&format!("/workbench/batches/{id}/progress"))
        );
        assert!(
            queued.body.contains("<p id=\"batch-download\" hidden>"),
            "no zip yet: the download link is hidden until the page sees the batch done"
        );
        let progress = officer.get(&format!("{page}/progress")).await;
        let json: serde_json::Value = serde_json::from_str(&progress.body).unwrap();
        assert_eq!(
            (
                json["done"].as_i64(),
                json["total"].as_i64(),
                json["state"].as_str()
            ),
            (Some(0), Some(3), Some("queued"))
        );
        assert_eq!(
            officer.get(&format!("{page}/zip")).await.status,
            StatusCode::CONFLICT
        );

        // Another officer, even of the same bureau, finds nothing.
        for path in [
            page.clone(),
            format!("{page}/progress"),
            format!("{page}/zip"),
        ] {
            let page = other.get(&path).await;
            assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
            assert!(!page.body.contains("示例年度报告"));
        }
        assert!(!other.get("/workbench/batches").await.body.contains(&id));

        // The job runs (here in-process; the server's scheduler calls the same runner).
        let runner = Runner::new(
            db.store.clone(),
            state.files.clone(),
            state.bureau.renderer.clone(),
        );
        loop {
            match runner.run(&id).await.unwrap() {
                Outcome::More => continue,
                outcome => break assert_eq!(outcome, Outcome::Done),
            }
        }
        let done = officer.get(&page).await;
        assert!(done.body.contains("已生成 3 / 3 份") && done.body.contains("已完成"));
        assert!(
            done.body
                .contains(&format!("href=\"/workbench/batches/{id}/zip\">下载 ZIP"))
        );
        let json: serde_json::Value =
            serde_json::from_str(&officer.get(&format!("{page}/progress")).await.body).unwrap();
        assert_eq!(
            (json["done"].as_i64(), json["state"].as_str()),
            (Some(3), Some("done"))
        );
        let list = officer.get("/workbench/batches").await;
        assert!(
            list.body.contains("<progress value=\"3\" max=\"3\""),
            "{}",
            list.body
        );
        assert!(list.body.contains("已生成 3 / 3 份") && list.body.contains("已完成"));

        let zip = officer.get(&format!("{page}/zip")).await;
        assert_eq!(zip.status, StatusCode::OK);
        assert_eq!(zip.headers[header::CONTENT_TYPE], "application/zip");
        let disposition = zip.headers[header::CONTENT_DISPOSITION].to_str().unwrap();
        assert!(
            disposition.starts_with("attachment;")
                && disposition.contains(&format!(
                    "filename*=UTF-8''{}",
                    urlencode("示例年度报告（3份）.zip")
                )),
            "{disposition}"
        );
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip.bytes.clone())).unwrap();
        let mut names = Vec::new();
        for i in 0..archive.len() {
            let mut file = archive.by_index(i).unwrap();
            names.push(file.name().unwrap().to_string());
            let mut head = [0u8; 4];
            file.read_exact(&mut head).unwrap();
            assert_eq!(&head, b"%PDF");
        }
        assert_eq!(
            names,
            [
                "示例年度报告-0001.pdf",
                "示例年度报告-0002.pdf",
                "示例年度报告-0003.pdf"
            ]
        );
        assert_eq!(
            other.get(&format!("{page}/zip")).await.status,
            StatusCode::NOT_FOUND
        );
    }
);
