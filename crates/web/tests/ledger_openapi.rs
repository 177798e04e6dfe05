//! The 固废链's OpenAPI document (`docs/ledger-openapi.json`) against the code, so the two
//! cannot drift: it is OpenAPI 3.0 as `openapiv3` reads it, with nothing in it the parser
//! ignores and every `$ref` resolving; its (method, path) pairs are exactly the `.route(…)`
//! lines of `ledger_api::routes()` and exactly what the running app serves; an operation is
//! signed in the document exactly when its handler checks a signature; and
//! `GET /ledger/v1/openapi.json` serves the file byte for byte.
use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use regex::Regex;
use serde_json::Value;
use tongban_store::store_test;
use tongban_store::testing::TestStore;

mod common;
use common::*;

/// The methods probed on each documented path (HEAD follows GET in axum).
const METHODS: [&str; 5] = ["get", "post", "put", "delete", "patch"];

/// The four signing headers' schemes, all required together on a signed call.
const SIGNING_SCHEMES: [&str; 4] = [
    "TongbanApp",
    "TongbanTimestamp",
    "TongbanNonce",
    "TongbanSignature",
];

type Routes = BTreeSet<(String, String)>;

fn document_text() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/ledger-openapi.json"
    ))
    .expect("docs/ledger-openapi.json")
}

fn document() -> openapiv3::OpenAPI {
    serde_json::from_str(&document_text()).expect("docs/ledger-openapi.json is OpenAPI 3.0")
}

fn source() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/ledger_api.rs"))
        .expect("src/ledger_api.rs")
}

/// Each documented operation: (method, path) and whether it requires the signing headers.
fn operations(doc: &openapiv3::OpenAPI) -> Vec<(String, String, bool)> {
    let mut out = Vec::new();
    for (path, item) in doc.paths.iter() {
        let item = item.as_item().expect("path items are inline, not $ref");
        for (method, op) in item.iter() {
            let security = op
                .security
                .as_ref()
                .unwrap_or_else(|| panic!("{method} {path}: no `security` (use [] if public)"));
            let signed = match security.as_slice() {
                [] => false,
                [one] => {
                    let names: BTreeSet<&str> = one.keys().map(String::as_str).collect();
                    assert_eq!(
                        names,
                        SIGNING_SCHEMES.into_iter().collect(),
                        "{method} {path}: a signed call needs all four headers together"
                    );
                    true
                }
                _ => panic!("{method} {path}: one security requirement (all four headers) or none"),
            };
            out.push((method.to_string(), path.clone(), signed));
        }
    }
    out
}

fn documented(doc: &openapiv3::OpenAPI) -> Routes {
    operations(doc)
        .into_iter()
        .map(|(m, p, _)| (m, p))
        .collect()
}

/// The routes of `ledger_api::routes()` as its source writes them: (method, path, handler).
fn source_routes() -> Vec<(String, String, String)> {
    let src = source();
    let start = src
        .find("pub fn routes()")
        .expect("fn routes() in ledger_api.rs");
    let body = &src[start..];
    let body = &body[..body.find("\n}\n").expect("end of fn routes()")];
    let route = Regex::new(r#"\.route\(\s*"([^"]+)"\s*,"#).unwrap();
    let method = Regex::new(r"\b(get|post|put|delete|patch)\(\s*(\w+)\s*\)").unwrap();
    let found: Vec<_> = route.captures_iter(body).collect();
    assert_eq!(
        found.len(),
        body.matches(".route(").count(),
        "every .route( in routes() is written as .route(\"/path\", method(handler)…)"
    );
    let mut out = Vec::new();
    for (i, c) in found.iter().enumerate() {
        let whole = c.get(0).unwrap();
        let end = found
            .get(i + 1)
            .map_or(body.len(), |n| n.get(0).unwrap().start());
        let methods: Vec<_> = method.captures_iter(&body[whole.end()..end]).collect();
        assert!(!methods.is_empty(), "no method router for {}", &c[1]);
        for m in methods {
            out.push((m[1].to_string(), c[1].to_string(), m[2].to_string()));
        }
    }
    out
}

/// Whether handler `name` in ledger_api.rs checks the call's signature.
fn handler_is_signed(src: &str, name: &str) -> bool {
    let start = src
        .find(&format!("async fn {name}("))
        .unwrap_or_else(|| panic!("handler {name} in ledger_api.rs"));
    let body = &src[start..];
    let body = &body[..body.find("\n}\n").expect("end of the handler")];
    Regex::new(r"\bsigned(_read|_reader_of)?\(")
        .unwrap()
        .is_match(body)
}

#[test]
fn the_document_is_openapi_3_0_and_the_parser_ignores_nothing_in_it() {
    let doc = document();
    assert!(doc.openapi.starts_with("3.0."), "{}", doc.openapi);
    let original: Value = serde_json::from_str(&document_text()).unwrap();
    let reread = serde_json::to_value(&doc).unwrap();
    covered(&original, &reread, "$");
    // Every $ref points at a component that exists.
    let mut refs = Vec::new();
    collect_refs(&original, &mut refs);
    assert!(!refs.is_empty());
    for r in refs {
        let pointer = r
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("{r}: only local references"));
        assert!(
            original.pointer(pointer).is_some(),
            "{r} resolves to nothing"
        );
    }
    // Each operation says what a call answers on success and, if signed, on a bad signature.
    for (method, path, signed) in operations(&doc) {
        let item = doc.paths.paths[&path].as_item().unwrap();
        let op = item.iter().find(|(m, _)| *m == method).unwrap().1;
        let codes: Vec<String> = op
            .responses
            .responses
            .keys()
            .map(|c| c.to_string())
            .collect();
        assert!(
            codes.iter().any(|c| c.starts_with('2')),
            "{method} {path}: no success response"
        );
        if signed {
            assert!(
                codes.iter().any(|c| c == "401"),
                "{method} {path}: a signed call can answer 401"
            );
        }
        assert!(
            op.description.as_ref().is_some_and(|d| !d.is_empty()),
            "{method} {path}: no description"
        );
    }
}

/// Every key and value of `original` is in `reread`: a misspelt or misplaced field, which
/// serde skips, fails here.
fn covered(original: &Value, reread: &Value, at: &str) {
    match (original, reread) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                let w = b
                    .get(k)
                    .unwrap_or_else(|| panic!("{at}.{k} is not OpenAPI 3.0 (the parser drops it)"));
                covered(v, w, &format!("{at}.{k}"));
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            assert_eq!(a.len(), b.len(), "{at}");
            for (i, (v, w)) in a.iter().zip(b).enumerate() {
                covered(v, w, &format!("{at}[{i}]"));
            }
        }
        (Value::Number(a), Value::Number(b)) => {
            assert_eq!(a.as_f64(), b.as_f64(), "{at}")
        }
        (a, b) => assert_eq!(a, b, "{at}"),
    }
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            for (k, v) in o {
                match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(r.clone()),
                    _ => collect_refs(v, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

#[test]
fn the_document_has_the_routes_of_the_source_and_their_signing() {
    let doc = document();
    let from_source = source_routes();
    let in_source: Routes = from_source
        .iter()
        .map(|(m, p, _)| (m.clone(), p.clone()))
        .collect();
    assert_eq!(
        in_source.len(),
        from_source.len(),
        "a route twice in routes()"
    );
    let in_document = documented(&doc);
    let undocumented: Vec<_> = in_source.difference(&in_document).collect();
    let unserved: Vec<_> = in_document.difference(&in_source).collect();
    assert!(
        undocumented.is_empty() && unserved.is_empty(),
        "ledger_api.rs routes missing from docs/ledger-openapi.json: {undocumented:?}; \
         documented but not in ledger_api::routes(): {unserved:?}"
    );
    // Signed in the document exactly when the handler checks a signature.
    let src = source();
    let documented_signed: Routes = operations(&doc)
        .into_iter()
        .filter(|(_, _, signed)| *signed)
        .map(|(m, p, _)| (m, p))
        .collect();
    let code_signed: Routes = from_source
        .iter()
        .filter(|(_, _, handler)| handler_is_signed(&src, handler))
        .map(|(m, p, _)| (m.clone(), p.clone()))
        .collect();
    assert_eq!(
        documented_signed, code_signed,
        "signed routes: document vs code"
    );
    assert!(code_signed.contains(&("post".into(), "/ledger/v1/entries".into())));
    assert!(!code_signed.contains(&("get".into(), "/ledger/v1/checkpoints/latest".into())));
}

/// The path with its parameters filled and each required query parameter given, as a
/// request would be sent.
fn example_uri(op: &openapiv3::Operation, path: &str) -> String {
    let mut uri = path.to_string();
    let mut query = Vec::new();
    for p in &op.parameters {
        let parameter_data = match p.as_item().expect("parameters are inline") {
            openapiv3::Parameter::Path { parameter_data, .. } => parameter_data,
            openapiv3::Parameter::Query { parameter_data, .. } => {
                if parameter_data.required {
                    query.push(format!("{}=0", parameter_data.name));
                }
                continue;
            }
            _ => continue,
        };
        let value = match parameter_data.name.as_str() {
            "contract" => "disposal_process",
            "key" => "SWGF2026120100001",
            "reference" => "REF-001",
            "height" => "0",
            "id" => "sub-0123456789abcdef",
            other => panic!("{path}: give the test an example value for {{{other}}}"),
        };
        uri = uri.replace(&format!("{{{}}}", parameter_data.name), value);
    }
    assert!(
        !uri.contains('{'),
        "{uri}: a path parameter is not documented"
    );
    if !query.is_empty() {
        uri = format!("{uri}?{}", query.join("&"));
    }
    uri
}

/// Whether the router has a route for this call: anything but 405 and the fallback's 404
/// page (a handler's 404 is the API's JSON error).
fn routed(page: &Page) -> bool {
    let json = page
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json"));
    let fallback = page.status == StatusCode::NOT_FOUND && !json;
    page.status != StatusCode::METHOD_NOT_ALLOWED && !fallback
}

fn request(method: &str, uri: &str) -> Request<Body> {
    Request::builder()
        .method(method.to_ascii_uppercase().as_str())
        .uri(uri)
        .body(Body::empty())
        .unwrap()
}

store_test!(
    the_app_serves_exactly_the_documented_routes_and_the_document,
    |db: TestStore| async move {
        let dir = tempfile::tempdir().unwrap();
        let app = router(&db, dir.path());
        // What "no route" looks like, so the probe below can tell.
        let none = send(&app, request("get", "/ledger/v1/no-such-route")).await;
        assert!(!routed(&none), "{} {:?}", none.status, none.headers);
        let wrong = send(&app, request("delete", "/ledger/v1/entries")).await;
        assert_eq!(wrong.status, StatusCode::METHOD_NOT_ALLOWED);
        assert!(!routed(&wrong));

        let doc = document();
        let mut served = Routes::new();
        let mut refused = Vec::new();
        for (path, item) in doc.paths.iter() {
            let item = item.as_item().unwrap();
            for method in METHODS {
                // Documented methods with their parameters; the others with those of any.
                let op = item
                    .iter()
                    .find(|(m, _)| *m == method)
                    .or_else(|| item.iter().next())
                    .unwrap()
                    .1;
                let uri = example_uri(op, path);
                let page = send(&app, request(method, &uri)).await;
                if routed(&page) {
                    served.insert((method.to_string(), path.clone()));
                } else if item.iter().any(|(m, _)| m == method) {
                    refused.push(format!("{method} {uri}: {} {}", page.status, page.body));
                }
            }
        }
        assert!(
            refused.is_empty(),
            "documented but not served: {refused:#?}"
        );
        let in_document = documented(&doc);
        let extra: Vec<_> = served.difference(&in_document).collect();
        assert!(
            extra.is_empty(),
            "served on a documented path but not documented: {extra:?}"
        );
        assert_eq!(served, in_document);
        // And what the source declares is what was found served.
        let in_source: Routes = source_routes()
            .into_iter()
            .map(|(m, p, _)| (m, p))
            .collect();
        assert_eq!(served, in_source);

        // The document, as served: the same bytes as the file, as JSON, without a signature.
        let page = send(&app, get("/ledger/v1/openapi.json")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert_eq!(
            page.headers.get(header::CONTENT_TYPE).unwrap(),
            "application/json"
        );
        assert!(
            page.bytes == document_text().as_bytes(),
            "GET /ledger/v1/openapi.json differs from docs/ledger-openapi.json"
        );
    }
);
