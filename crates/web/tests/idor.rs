//! Object-level authorisation on every route that takes an id: another enterprise, or an officer
//! outside the object's jurisdiction, gets 404 or 403 — never the object, never a change.
//!
//! The list below must name every route with a path parameter; a test reads the web crate's
//! source and fails when a route with an id is missing here, so a new one cannot skip the check.
use std::collections::BTreeSet;

use axum::http::StatusCode;
use tongban_store::store_test;
use tongban_store::testing::TestStore;
use tongban_web::app;

mod common;
use common::*;

/// Who tries to reach another's object on a route.
#[derive(Clone, Copy, Debug)]
enum Intruder {
    /// The primary certificate of another enterprise.
    OtherEnterprise,
    /// An intake officer of another district.
    OtherDistrictOfficer,
    /// The route's id names a service (事项), not anyone's object: another enterprise using it
    /// must still not reach A's case through it.
    ServiceOfOtherEnterprise,
    /// The route's id names a service on the workbench: an officer of another district using
    /// it sees their own district's reports, never A's.
    ServiceOfOtherDistrictOfficer,
}

/// Every route with a path parameter: (method, pattern, who tries it).
const ID_ROUTES: &[(&str, &str, Intruder)] = &[
    ("GET", "/cases/{id}", Intruder::OtherEnterprise),
    ("GET", "/cases/{id}/edit", Intruder::OtherEnterprise),
    ("POST", "/cases/{id}/edit", Intruder::OtherEnterprise),
    ("POST", "/cases/{id}/delete", Intruder::OtherEnterprise),
    // 材料补正 and the documents the bureau issued on a case (the 补正告知书 of a case in 补正).
    ("GET", "/cases/{id}/correction", Intruder::OtherEnterprise),
    ("POST", "/cases/{id}/correction", Intruder::OtherEnterprise),
    (
        "GET",
        "/cases/{id}/documents/{doc}",
        Intruder::OtherEnterprise,
    ),
    ("POST", "/cases/{id}/materials", Intruder::OtherEnterprise),
    (
        "GET",
        "/cases/{id}/materials/{file}",
        Intruder::OtherEnterprise,
    ),
    (
        "POST",
        "/cases/{id}/materials/{file}/delete",
        Intruder::OtherEnterprise,
    ),
    (
        "POST",
        "/cases/{id}/ledgers/{ledger}/import",
        Intruder::OtherEnterprise,
    ),
    (
        "GET",
        "/cases/{id}/ledgers/{ledger}/export",
        Intruder::OtherEnterprise,
    ),
    (
        "POST",
        "/cases/{id}/ledgers/{ledger}/rows",
        Intruder::OtherEnterprise,
    ),
    (
        "POST",
        "/cases/{id}/ledgers/{ledger}/rows/{row}/delete",
        Intruder::OtherEnterprise,
    ),
    (
        "GET",
        "/items/{item}/ledgers/{ledger}/template",
        Intruder::ServiceOfOtherEnterprise,
    ),
    ("GET", "/items/{item}", Intruder::ServiceOfOtherEnterprise),
    (
        "GET",
        "/items/{item}/apply",
        Intruder::ServiceOfOtherEnterprise,
    ),
    (
        "POST",
        "/items/{item}/apply",
        Intruder::ServiceOfOtherEnterprise,
    ),
    (
        "POST",
        "/items/{item}/again",
        Intruder::ServiceOfOtherEnterprise,
    ),
    // 签章: only the case's applicant and the parties its form names.
    ("GET", "/cases/{id}/signing", Intruder::OtherEnterprise),
    (
        "GET",
        "/cases/{id}/signing/document",
        Intruder::OtherEnterprise,
    ),
    // 报告下载 from a yearly report's list.
    (
        "GET",
        "/cases/{id}/signing/report",
        Intruder::OtherEnterprise,
    ),
    (
        "POST",
        "/cases/{id}/signing/prepare",
        Intruder::OtherEnterprise,
    ),
    (
        "POST",
        "/cases/{id}/signing/finish",
        Intruder::OtherEnterprise,
    ),
    (
        "POST",
        "/cases/{id}/signing/code",
        Intruder::OtherEnterprise,
    ),
    (
        "POST",
        "/cases/{id}/signing/confirm",
        Intruder::OtherEnterprise,
    ),
    (
        "POST",
        "/enterprise/activation/{id}/withdraw",
        Intruder::OtherEnterprise,
    ),
    (
        "POST",
        "/enterprise/certificates/{serial}/secondary",
        Intruder::OtherEnterprise,
    ),
    (
        "POST",
        "/enterprise/certificates/{serial}/revoke",
        Intruder::OtherEnterprise,
    ),
    (
        "GET",
        "/workbench/activations/{id}",
        Intruder::OtherDistrictOfficer,
    ),
    (
        "GET",
        "/workbench/activations/{id}/scan",
        Intruder::OtherDistrictOfficer,
    ),
    (
        "POST",
        "/workbench/activations/{id}/decide",
        Intruder::OtherDistrictOfficer,
    ),
    // A batch render is its officer's alone (here the city officer's).
    (
        "GET",
        "/workbench/batches/{id}",
        Intruder::OtherDistrictOfficer,
    ),
    (
        "GET",
        "/workbench/batches/{id}/progress",
        Intruder::OtherDistrictOfficer,
    ),
    (
        "GET",
        "/workbench/batches/{id}/zip",
        Intruder::OtherDistrictOfficer,
    ),
    // 年度报告管理: A's report is 浦东's; the 闵行 officer's queries never show it.
    (
        "GET",
        "/workbench/reports/{item}",
        Intruder::ServiceOfOtherDistrictOfficer,
    ),
    (
        "GET",
        "/workbench/reports/{item}/export",
        Intruder::ServiceOfOtherDistrictOfficer,
    ),
    (
        "POST",
        "/workbench/reports/{item}/zip",
        Intruder::ServiceOfOtherDistrictOfficer,
    ),
    (
        "GET",
        "/workbench/reports/{item}/statistics",
        Intruder::ServiceOfOtherDistrictOfficer,
    ),
    (
        "GET",
        "/workbench/reports/{item}/confirmations",
        Intruder::ServiceOfOtherDistrictOfficer,
    ),
    (
        "POST",
        "/workbench/reports/{item}/confirmations",
        Intruder::ServiceOfOtherDistrictOfficer,
    ),
    (
        "POST",
        "/workbench/reports/{item}/confirmations/apply",
        Intruder::ServiceOfOtherDistrictOfficer,
    ),
    (
        "GET",
        "/workbench/reports/{item}/{case}",
        Intruder::OtherDistrictOfficer,
    ),
    (
        "GET",
        "/workbench/reports/{item}/{case}/pdf",
        Intruder::OtherDistrictOfficer,
    ),
    (
        "POST",
        "/workbench/reports/{item}/{case}/confirm",
        Intruder::OtherDistrictOfficer,
    ),
    // 办件审批: A's application is 浦东's; the 闵行 officer may neither see nor act on it.
    (
        "GET",
        "/workbench/cases/{id}",
        Intruder::OtherDistrictOfficer,
    ),
    (
        "POST",
        "/workbench/cases/{id}/act",
        Intruder::OtherDistrictOfficer,
    ),
    (
        "POST",
        "/workbench/cases/{id}/split",
        Intruder::OtherDistrictOfficer,
    ),
    (
        "GET",
        "/workbench/cases/{id}/correction",
        Intruder::OtherDistrictOfficer,
    ),
    (
        "POST",
        "/workbench/cases/{id}/correction",
        Intruder::OtherDistrictOfficer,
    ),
    (
        "GET",
        "/workbench/cases/{id}/decision",
        Intruder::OtherDistrictOfficer,
    ),
    (
        "POST",
        "/workbench/cases/{id}/decision",
        Intruder::OtherDistrictOfficer,
    ),
    (
        "GET",
        "/workbench/cases/{id}/materials/{file}",
        Intruder::OtherDistrictOfficer,
    ),
    (
        "GET",
        "/workbench/cases/{id}/documents/{doc}",
        Intruder::OtherDistrictOfficer,
    ),
];

/// 固废链's open API routes whose ids name an access application's objects (business keys and
/// 备案号 under its data scope, its subscriptions): another application tries them.
const APP_ID_ROUTES: &[&str] = &[
    "/ledger/v1/keys/{contract}/{key}",
    "/ledger/v1/references/{contract}/{reference}",
    "/ledger/v1/subscriptions/{id}",
    "/ledger/v1/subscriptions/{id}/entries",
];

/// Routes with a path parameter that is not an object of anyone's: public by design.
const PUBLIC_ID_ROUTES: &[(&str, &str)] = &[
    (
        "/ledger/v1/checkpoints/{height}",
        "a checkpoint of the 固废链: tree size, root and signature, published for every province \
         to check, with no business data",
    ),
    (
        "/ledger/v1/checkpoints/{height}/cosignatures",
        "a witness posts its cosignature of a checkpoint; the signature itself is checked \
         against the configured witness's key, and nothing else is read or written",
    ),
    (
        "/verify/{payload}",
        "the QR page of a licence: the parameter is the SM2-signed payload printed on it, which \
     shows only what the printed licence already shows",
    ),
];

#[test]
fn every_route_with_an_id_is_in_the_list() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = BTreeSet::new();
    for entry in std::fs::read_dir(&src).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let mut rest = text.as_str();
        while let Some(i) = rest.find(".route(") {
            rest = &rest[i + ".route(".len()..];
            let path = rest.trim_start().trim_start_matches('"');
            let path = &path[..path.find('"').unwrap()];
            if path.contains('{') {
                found.insert(path.to_string());
            }
        }
    }
    let listed: BTreeSet<String> = ID_ROUTES
        .iter()
        .map(|(_, p, _)| p.to_string())
        .chain(PUBLIC_ID_ROUTES.iter().map(|(p, _)| p.to_string()))
        .chain(APP_ID_ROUTES.iter().map(|p| p.to_string()))
        .collect();
    assert!(!found.is_empty(), "the source scan found no routes");
    assert_eq!(
        found, listed,
        "routes with ids in the source vs. routes this test checks"
    );
}

store_test!(
    no_route_hands_out_another_partys_object,
    |db: TestStore| async move {
        let dir = tempfile::tempdir().unwrap();
        let state = state_with_test_item(&db, dir.path());
        let app = app(state.clone());
        let mut city = officer_browser(&db, &app, "shi.shouli", "310000", "市局受理员").await;
        let mut minhang = officer_browser(&db, &app, "mh.shouli", "310112", "闵行受理员").await;

        // A: a 浦东 enterprise, whose objects the intruders go after; B: a 闵行 enterprise.
        let (mut a, a_activation, a_serial) =
            enterprise(&state, &app, &mut city, "91310115MA1FL8XQ34").await;
        let (mut b, _, _) = enterprise(&state, &app, &mut city, "91310112MA1GB2Y75L").await;

        // A's application (a submitted case and a draft), with a phone number only A typed.
        let (a_case, a_submitted, a_draft, a_file) = a_cases(&mut a).await;
        // A 浦东 application of a licence, in 补正 (so it has a notice and files to reach for).
        let (_, licence_case) = filed_application(&state, 1, "310115").await;
        let licence_item = state.items.get(LICENCE_ITEM).unwrap();
        let pudong = tongban_domain::Officer {
            id: tongban_domain::OfficerId::from_raw("pudong-intake"),
            username: "pd.test".into(),
            display_name: "浦东受理员".into(),
            jurisdiction: tongban_domain::Jurisdiction::by_code("310115").unwrap(),
            roles: vec![tongban_domain::OfficerRole::Intake],
            created_at: tongban_domain::Timestamp::now(),
        };
        tongban_cases::workflow::request_correction(
            &state.desk(),
            licence_item,
            &pudong,
            &licence_case,
            &tongban_cases::workflow::CorrectionRequest {
                points: vec![("field:quantity".into(), "请核实".into())],
                note: String::new(),
            },
        )
        .await
        .unwrap();
        let licence_file = tongban_store::cases::materials(&db.store, &licence_case)
            .await
            .unwrap()[0]
            .id
            .clone();
        let licence_doc = tongban_store::documents::of_case(&db.store, &licence_case)
            .await
            .unwrap()[0]
            .id
            .clone();
        let licence_events = tongban_store::cases::events(&db.store, &licence_case)
            .await
            .unwrap()
            .len();
        // A batch render of the city officer's.
        let started = city
            .post_form("/workbench/batches", "source=sample_reports&count=1")
            .await;
        assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
        let batch = started.headers[axum::http::header::LOCATION]
            .to_str()
            .unwrap()
            .trim_start_matches("/workbench/batches/")
            .to_string();

        for (method, pattern, intruder) in ID_ROUTES {
            // Only a submitted case has a form to sign.
            let id = if pattern.starts_with("/cases/{id}/signing") {
                a_submitted.as_str()
            } else if pattern.starts_with("/cases/{id}/correction")
                || pattern.starts_with("/cases/{id}/documents/")
            {
                // 材料补正 and the bureau's documents: the case in 补正, with its notice.
                licence_case.as_str()
            } else if pattern.starts_with("/cases/") {
                a_draft.as_str()
            } else if pattern.starts_with("/workbench/batches/") {
                batch.as_str()
            } else {
                a_activation.as_str()
            };
            let path = if pattern.starts_with("/workbench/cases/") {
                pattern
                    .replace("{id}", &licence_case)
                    .replace("{file}", &licence_file)
                    .replace("{doc}", &licence_doc)
            } else {
                pattern.to_string()
            };
            let path = path
                .replace("{id}", id)
                .replace("{serial}", &a_serial)
                .replace("{file}", &a_file)
                .replace("{doc}", &licence_doc)
                .replace("{ledger}", "storage_log")
                .replace("{row}", "1")
                .replace("{case}", &a_submitted)
                .replace("{item}", "test-filing");
            let browser = match intruder {
                Intruder::OtherEnterprise | Intruder::ServiceOfOtherEnterprise => &mut b,
                Intruder::OtherDistrictOfficer | Intruder::ServiceOfOtherDistrictOfficer => {
                    &mut minhang
                }
            };
            let page = match *method {
                "GET" => browser.get(&path).await,
                // An upload route gets a real upload.
                "POST" if path.ends_with("/materials") || path.ends_with("/import") => {
                    post_multipart(
                        browser,
                        &path,
                        &[("material", "extra"), ("name", "intruder")],
                        ("file", "x.pdf", b"%PDF-1.7 intruder"),
                    )
                    .await
                }
                "POST" => {
                    browser
                        .post_form(
                            &path,
                            "decision=approve&holder=x&rights=radiation-annual-report&_step=basic&_action=save&f.unit_name=intruder&certificate=x&pending=x&signature=x&code=123456&action=accept&opinion=intruder&reason=intruder&granted=1&title=x&paragraphs=x&mark=field:quantity&note:field:quantity=intruder&title1=a&district1=310112&title2=b&district2=310112",
                        )
                        .await
                }
                m => panic!("method {m} not covered"),
            };
            if let Intruder::ServiceOfOtherDistrictOfficer = intruder {
                // The 闵行 officer's own (empty) view: nothing of A's, no zip of A's report.
                assert!(
                    !page.body.contains("13800000000")
                        && !page.body.contains(&a_case)
                        && !page.bytes.windows(11).any(|w| w == b"13800000000"),
                    "{method} {pattern} leaked A's report"
                );
                assert_ne!(
                    page.status,
                    StatusCode::SEE_OTHER,
                    "{method} {pattern}: no zip of nothing"
                );
                continue;
            }
            if let Intruder::ServiceOfOtherEnterprise = intruder {
                // B may use the service for itself; nothing of A's may show.
                assert!(
                    !page.body.contains("13800000000") && !page.body.contains(&a_case),
                    "{method} {pattern} leaked A's case"
                );
                continue;
            }
            assert!(
                matches!(page.status, StatusCode::NOT_FOUND | StatusCode::FORBIDDEN),
                "{method} {pattern} as {intruder:?}: {}",
                page.status
            );
            assert!(
                !page.body.contains("13800000000")
                    && page.bytes.get(..3) != Some(&[0xFF, 0xD8, 0xFF][..]),
                "{pattern} leaked data"
            );
        }
        // B's 再来一单 above made B a copy of nothing of A's; A's draft is unchanged and still there.
        let draft = a.get(&format!("/cases/{a_draft}/edit?step=basic")).await;
        assert_eq!(draft.status, StatusCode::OK);
        assert!(draft.body.contains("13800000000") && !draft.body.contains("intruder"));
        let files = a
            .get(&format!("/cases/{a_draft}/edit?step=_materials"))
            .await;
        assert!(
            files.body.contains(&a_file) && !files.body.contains("intruder"),
            "A's file is still there, and only A's"
        );

        // A's report is indexed for 浦东, and the 闵行 officer confirmed nothing.
        let indexed = tongban_store::case_index::by_case(&db.store, &a_submitted)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (indexed.district_code.as_str(), indexed.status.as_str()),
            ("310115", "submitted")
        );

        // The 闵行 officer changed nothing on the 浦东 licence case.
        assert_eq!(
            tongban_store::cases::events(&db.store, &licence_case)
                .await
                .unwrap()
                .len(),
            licence_events
        );

        // Nobody signed A's form, nor prepared a signature on it.
        assert!(
            tongban_store::documents::of_case(&db.store, &a_submitted)
                .await
                .unwrap()
                .is_empty()
        );

        // Nothing changed: A's second certificate is still unregistered and not revoked.
        let certs = tongban_store::certificates::by_serial(&db.store, &a_serial)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            certs.role,
            tongban_domain::certificate::CertificateRole::Unregistered
        );
        assert!(certs.revoked_at.is_none());
    }
);

/// A submits one application of the test item and leaves a second as a draft, both carrying the
/// phone number the intruders must never see, and a file on the draft. Returns (submitted case
/// number, submitted case id, draft id, file id).
async fn a_cases(a: &mut Browser) -> (String, String, String, String) {
    let mut ids = vec![];
    for _ in 0..2 {
        let started = through_the_notice(a).await;
        let id = case_id_of(&started);
        a.post_form(
            &format!("/cases/{id}/edit"),
            "_step=basic&_action=save&f.unit_name=13800000000&f.year=2026&f.has_storage=%E5%90%A6",
        )
        .await;
        ids.push(id);
    }
    for id in &ids {
        let uploaded = post_multipart(
            a,
            &format!("/cases/{id}/materials"),
            &[("material", "report")],
            ("file", "13800000000.pdf", b"%PDF-1.7 13800000000"),
        )
        .await;
        assert_eq!(uploaded.status, StatusCode::SEE_OTHER, "{}", uploaded.body);
    }
    let page = a
        .get(&format!("/cases/{}/edit?step=_materials", ids[1]))
        .await;
    let file = page
        .body
        .split(&format!("/cases/{}/materials/", ids[1]))
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let submitted = a
        .post_form(
            &format!("/cases/{}/edit", ids[0]),
            "_step=other&_action=submit&f.remark=",
        )
        .await;
    assert_eq!(
        submitted.status,
        StatusCode::SEE_OTHER,
        "{}",
        submitted.body
    );
    let detail = a.get(&format!("/cases/{}", ids[0])).await;
    let number = detail
        .body
        .split("<dt>申请号</dt><dd>")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();
    let submitted = ids.remove(0);
    (number, submitted, ids.remove(0), file)
}

/// A GET signed as application `app`: its status and body.
async fn signed_get(base: &str, app: &tongban_ledger::apps::App, path: &str) -> (u16, String) {
    use tongban_ledger::apps;
    let timestamp = tongban_domain::Timestamp::now().millis();
    let nonce = tongban_crypto::random_token()[..24].to_string();
    let signature = apps::sign(&app.secret, "GET", path, timestamp, &nonce, b"");
    let response = reqwest::Client::new()
        .get(format!("{base}{path}"))
        .header(apps::HEADER_APP, &app.id)
        .header(apps::HEADER_TIMESTAMP, timestamp.to_string())
        .header(apps::HEADER_NONCE, nonce)
        .header(apps::HEADER_SIGNATURE, signature)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

store_test!(
    no_ledger_route_hands_out_another_applications_object,
    |db: TestStore| async move {
        use tongban_ledger::apps::{Grant, Scope};
        let dir = tempfile::tempdir().unwrap();
        let state = state(&db, dir.path());
        let ledger = state.ledger.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let router = app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        let own = |contract: &str| Grant {
            contract: contract.into(),
            operations: vec!["create".into()],
            read: true,
            scope: Scope::Own,
        };
        let a = ledger
            .register("officer:test", "江苏省系统", "jiangsu", vec![own("filing")])
            .await
            .unwrap();
        let b = ledger
            .register(
                "officer:test",
                "浙江省系统",
                "zhejiang",
                vec![own("filing")],
            )
            .await
            .unwrap();
        let client = tongban_ledger_sdk::Client::new(&base).signing_as(&a.id, &a.secret);
        client
            .submit(
                "filing",
                "BA-1",
                "create",
                &serde_json::json!({"filing_no": "苏备001", "contact": "13800000000"}),
            )
            .await
            .unwrap();
        let sub = client
            .subscribe("http://127.0.0.1:9/hook", &["filing"])
            .await
            .unwrap();
        // A itself reaches all of them.
        for pattern in APP_ID_ROUTES {
            let path = pattern
                .replace("{contract}", "filing")
                .replace("{key}", "BA-1")
                .replace("{reference}", &urlencode("苏备001"))
                .replace("{id}", &sub.id);
            let (status, body) = signed_get(&base, &a, &path).await;
            assert_eq!(status, 200, "A on {pattern}: {body}");
            let (status, body) = signed_get(&base, &b, &path).await;
            assert!(
                // (The error may repeat the key B asked for; nothing of the entry may show.)
                !body.contains("13800000000") && !body.contains(&a.id),
                "{pattern} leaked A's entry to B: {body}"
            );
            if pattern.contains("/references/") {
                // B may ask by 备案号; it finds none of A's.
                assert_eq!(status, 200, "{pattern}");
                assert!(body.contains("\"keys\":[]"), "{body}");
            } else {
                assert!(matches!(status, 403 | 404), "{pattern} as B: {status}");
            }
        }
    }
);
