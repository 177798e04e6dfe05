//! Object-level authorisation on every route that takes an id: another enterprise, or an officer
//! outside the object's jurisdiction, gets 404 or 403 — never the object, never a change.
//!
//! The list below must name every route with a path parameter; a test reads the web crate's
//! source and fails when a route with an id is missing here, so a new one cannot skip the check.
use std::collections::BTreeSet;

use axum::http::StatusCode;
use tongban_store::store_test;
use tongban_store::testing::TestStore;
use tongban_web::{AppState, app};

mod common;
use common::*;

/// Who tries to reach another's object on a route.
#[derive(Clone, Copy, Debug)]
enum Intruder {
    /// The primary certificate of another enterprise.
    OtherEnterprise,
    /// An intake officer of another district.
    OtherDistrictOfficer,
}

/// Every route with a path parameter: (method, pattern, who tries it).
const ID_ROUTES: &[(&str, &str, Intruder)] = &[
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
    let listed: BTreeSet<String> = ID_ROUTES.iter().map(|(_, p, _)| p.to_string()).collect();
    assert!(!found.is_empty(), "the source scan found no routes");
    assert_eq!(
        found, listed,
        "routes with ids in the source vs. routes this test checks"
    );
}

/// A browser logged in with a fresh certificate of enterprise `code`.
async fn logged_in(state: &AppState, app: &axum::Router, code: &str) -> Browser {
    let (key, pem) = issue(state, code, &format!("企业{code}"));
    let mut b = Browser::new(app);
    assert_eq!(
        cert_login(&mut b, &key, &pem, code).await.status,
        StatusCode::SEE_OTHER
    );
    b
}

/// An enterprise with a primary certificate (approved by a city officer) and a second,
/// unregistered certificate; returns the primary's browser, the activation id and the second serial.
async fn enterprise(
    state: &AppState,
    app: &axum::Router,
    city: &mut Browser,
    code: &str,
) -> (Browser, String, String) {
    let mut primary = logged_in(state, app, code).await;
    assert_eq!(
        submit_activation(&mut primary, "13800000000", &jpeg(64))
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let home = primary.get("/enterprise").await;
    let activation = activation_id(&home);
    assert_eq!(
        city.post_form(
            &format!("/workbench/activations/{activation}/decide"),
            "decision=approve"
        )
        .await
        .status,
        StatusCode::SEE_OTHER
    );

    let mut second = logged_in(state, app, code).await;
    let serial = second
        .get("/enterprise")
        .await
        .body
        .split("证书序列号</dt><dd><code>")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();
    (primary, activation, serial)
}

store_test!(
    no_route_hands_out_another_partys_object,
    |db: TestStore| async move {
        let dir = tempfile::tempdir().unwrap();
        let state = state(&db, dir.path());
        let app = app(state.clone());
        let mut city = officer_browser(&db, &app, "shi.shouli", "310000", "市局受理员").await;
        let mut minhang = officer_browser(&db, &app, "mh.shouli", "310112", "闵行受理员").await;

        // A: a 浦东 enterprise, whose objects the intruders go after; B: a 闵行 enterprise.
        let (_a, a_activation, a_serial) =
            enterprise(&state, &app, &mut city, "91310115MA1FL8XQ34").await;
        let (mut b, _, _) = enterprise(&state, &app, &mut city, "91310112MA1GB2Y75L").await;

        for (method, pattern, intruder) in ID_ROUTES {
            let path = pattern
                .replace("{id}", &a_activation)
                .replace("{serial}", &a_serial);
            let browser = match intruder {
                Intruder::OtherEnterprise => &mut b,
                Intruder::OtherDistrictOfficer => &mut minhang,
            };
            let page = match *method {
                "GET" => browser.get(&path).await,
                "POST" => {
                    browser
                        .post_form(
                            &path,
                            "decision=approve&holder=x&rights=radiation-annual-report",
                        )
                        .await
                }
                m => panic!("method {m} not covered"),
            };
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
