//! Object-level authorisation on every route that takes an id: another enterprise, or an officer
//! outside the object's jurisdiction, gets 404 or 403 — never the object, never a change.
//!
//! The list below must name every route with a path parameter; a test reads the web crate's
//! source and fails when a route with an id is missing here, so a new one cannot skip the check.
use std::collections::BTreeSet;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use base64::Engine as _;
use tongban_crypto::Sm2KeyPair;
use tongban_crypto::cert::Holder;
use tongban_domain::OfficerRole;
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

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A browser logged in with a fresh certificate of enterprise `code`.
async fn cert_login(state: &AppState, app: &axum::Router, code: &str) -> Browser {
    let key = Sm2KeyPair::generate();
    let holder = Holder::Enterprise {
        name: format!("企业{code}"),
        credit_code: code.into(),
    };
    let pem = state
        .ca
        .issue(&holder, &key.public_key(), Duration::from_secs(86400))
        .unwrap();
    let mut b = Browser::new(app);
    let page = b.get("/login/enterprise").await;
    let challenge = page
        .body
        .split("name=\"challenge\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let sig = base64::engine::general_purpose::STANDARD.encode(
        tongban_identity::enterprise::sign_login(&key, &challenge, code),
    );
    let r = b
        .post_form(
            "/login/enterprise",
            &format!(
                "certificate={}&challenge={challenge}&signature={}",
                urlencode(&pem),
                urlencode(&sig)
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
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
    let mut primary = cert_login(state, app, code).await;
    let boundary = "b";
    let mut body = Vec::new();
    for (k, v) in [
        ("legal_representative", "王珺"),
        ("registration_number", "1"),
        ("contact", "李静"),
        ("contact_phone", "13800000000"),
        ("media_number", "M1"),
    ] {
        body.extend(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"scan\"; filename=\"a.jpg\"\r\n\r\n").as_bytes());
    body.extend([0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3]);
    body.extend(format!("\r\n--{boundary}--\r\n").as_bytes());
    let token = primary.cookies["tongban_csrf"].clone();
    let req = Request::post(format!("/enterprise/activation?_csrf={token}"))
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(Body::from(body))
        .unwrap();
    assert_eq!(primary.send(req).await.status, StatusCode::SEE_OTHER);
    let home = primary.get("/enterprise").await;
    let activation = home
        .body
        .split("/enterprise/activation/")
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(
        city.post_form(
            &format!("/workbench/activations/{activation}/decide"),
            "decision=approve"
        )
        .await
        .status,
        StatusCode::SEE_OTHER
    );

    let mut second = cert_login(state, app, code).await;
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
        add_officer_in(
            &db,
            "shi.shouli",
            "City#1",
            "310000",
            "市局受理员",
            &[OfficerRole::Intake],
        )
        .await;
        add_officer_in(
            &db,
            "mh.shouli",
            "Minhang#1",
            "310112",
            "闵行受理员",
            &[OfficerRole::Intake],
        )
        .await;
        let mut city = Browser::new(&app);
        city.login("shi.shouli", "City%231").await;
        let mut minhang = Browser::new(&app);
        minhang.login("mh.shouli", "Minhang%231").await;

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
