//! The served OpenAPI document is valid and true, checked without Python:
//! every `{param}` of a path is declared, every `$ref` resolves, and every
//! operation, called on a real server with ids that do not exist and an
//! empty body, answers a status (and content type) that the document lists
//! for it. The schemathesis run in `cargo xtask test` goes much further;
//! this catches the regressions that break the document itself.

mod common;

use std::collections::BTreeSet;

use common::TestServer;
use serde_json::{Value, json};

const METHODS: [&str; 5] = ["get", "put", "post", "patch", "delete"];

/// `(path, method, operation)` for every operation of the document.
fn operations(doc: &Value) -> Vec<(String, &'static str, &Value)> {
    let mut found = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths is an object") {
        for method in METHODS {
            if let Some(operation) = item.get(method) {
                found.push((path.clone(), method, operation));
            }
        }
    }
    found
}

fn template_names(path: &str) -> BTreeSet<String> {
    path.split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_owned()))
        .collect()
}

/// What is wrong with the path parameters: a `{name}` with no required
/// `in: path` parameter, a path parameter that is not in the template, or
/// a parameter declared twice.
fn path_parameter_problems(doc: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    for (path, method, operation) in operations(doc) {
        let wanted = template_names(&path);
        let params = operation["parameters"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let mut declared = BTreeSet::new();
        let mut seen = BTreeSet::new();
        for param in &params {
            let (name, place) = (param["name"].as_str(), param["in"].as_str());
            let (Some(name), Some(place)) = (name, place) else {
                problems.push(format!("{method} {path}: a parameter without name or in"));
                continue;
            };
            if !seen.insert((name.to_owned(), place.to_owned())) {
                problems.push(format!("{method} {path}: {place} parameter {name} twice"));
            }
            if place == "path" {
                if param["required"] != json!(true) {
                    problems.push(format!(
                        "{method} {path}: path parameter {name} not required"
                    ));
                }
                declared.insert(name.to_owned());
            }
        }
        for name in wanted.difference(&declared) {
            problems.push(format!("{method} {path}: {{{name}}} is not declared"));
        }
        for name in declared.difference(&wanted) {
            problems.push(format!(
                "{method} {path}: path parameter {name} is not in the path"
            ));
        }
    }
    problems
}

/// Every `$ref` in the document that does not point at something in it.
fn unresolved_refs(doc: &Value) -> Vec<String> {
    fn walk(node: &Value, doc: &Value, out: &mut Vec<String>) {
        match node {
            Value::Object(map) => {
                for (key, value) in map {
                    match (key.as_str(), value.as_str()) {
                        ("$ref", Some(target)) => {
                            let resolved = target
                                .strip_prefix('#')
                                .and_then(|pointer| doc.pointer(pointer));
                            if resolved.is_none() {
                                out.push(target.to_owned());
                            }
                        }
                        _ => walk(value, doc, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|item| walk(item, doc, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(doc, doc, &mut out);
    out
}

async fn served_document(server: &TestServer) -> Value {
    let (status, doc) = server.get("/api/v1/openapi.json").await;
    assert_eq!(status, 200);
    doc
}

#[tokio::test]
async fn every_path_parameter_is_declared_and_every_ref_resolves() {
    let server = TestServer::start().await;
    let doc = served_document(&server).await;
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
    assert!(operations(&doc).len() >= 47, "operations went missing");
    assert_eq!(path_parameter_problems(&doc), Vec::<String>::new());
    assert_eq!(unresolved_refs(&doc), Vec::<String>::new());
    let mut ids = BTreeSet::new();
    for (path, method, operation) in operations(&doc) {
        let id = operation["operationId"].as_str().unwrap_or_default();
        assert!(
            ids.insert(id.to_owned()),
            "{method} {path}: operationId {id} twice"
        );
    }
    server.stop().await;
}

#[test]
fn the_checks_find_a_missing_parameter_and_a_dangling_ref() {
    let broken = json!({
        "openapi": "3.1.0",
        "paths": {"/runs/{id}/metrics/{key}": {"get": {
            "parameters": [{"name": "id", "in": "path", "required": true},
                           {"name": "format", "in": "path", "required": true}],
            "responses": {"200": {"content": {"application/json": {"schema":
                {"$ref": "#/components/schemas/HistoryFormat"}}}}}
        }}},
        "components": {"schemas": {}}
    });
    assert_eq!(
        path_parameter_problems(&broken),
        [
            "get /runs/{id}/metrics/{key}: {key} is not declared",
            "get /runs/{id}/metrics/{key}: path parameter format is not in the path",
        ]
    );
    assert_eq!(
        unresolved_refs(&broken),
        ["#/components/schemas/HistoryFormat"]
    );
}

/// How a probe request is spoilt, besides naming nothing.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Probe {
    /// A JSON body of `{}` where one is taken.
    EmptyBody,
    /// A `text/plain` body, as a cross-site form could send.
    PlainText,
    /// `Host: attacker.example`, as after DNS rebinding.
    ForeignHost,
}

/// The path with every parameter naming nothing, in the form of a real
/// one (a number for experiments, 32 hex digits for runs), so the lookups
/// run and answer 404.
fn url_for_nothing(path: &str) -> String {
    let mut url = path.to_owned();
    for name in template_names(path) {
        let value = match name.as_str() {
            "id" if path.starts_with("/api/v1/experiments/") => "987654321",
            "id" | "other" => "0123456789abcdef0123456789abcdef",
            _ => "nothing-here",
        };
        url = url.replace(&format!("{{{name}}}"), value);
    }
    url
}

/// Sends one probe; returns the status and the media type of the answer.
async fn send_probe(
    server: &TestServer,
    method: &str,
    url: &str,
    operation: &Value,
    probe: Probe,
) -> (String, Option<String>) {
    let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).expect("a method");
    let mut request = server.client.request(method, server.url(url));
    let body_types = operation["requestBody"]["content"].as_object();
    let takes_json = body_types.is_some_and(|types| types.contains_key("application/json"));
    request = match probe {
        Probe::PlainText => request.header("content-type", "text/plain").body("{}"),
        Probe::EmptyBody | Probe::ForeignHost if takes_json => request
            .header("content-type", "application/json")
            .body("{}"),
        _ if body_types.is_some() => request
            .header("content-type", "application/octet-stream")
            .body("bytes"),
        _ => request,
    };
    if probe == Probe::ForeignHost {
        request = request.header("host", "attacker.example");
    }
    let response = request.send().await.expect("the server answers");
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or(v).trim().to_owned());
    (response.status().as_u16().to_string(), content_type)
}

/// Calls every operation with ids that name nothing, three ways (see
/// [`Probe`]): whatever the answer, its status and content type must be in
/// the document. A foreign `Host` must be refused, and a plain-text body
/// where JSON is taken too.
#[tokio::test]
async fn every_answer_to_a_request_for_nothing_is_documented() {
    let server = TestServer::start().await;
    let doc = served_document(&server).await;
    let mut undocumented = Vec::new();
    for (path, method, operation) in operations(&doc) {
        let url = url_for_nothing(&path);
        let takes_json = operation["requestBody"]["content"]
            .as_object()
            .is_some_and(|types| types.contains_key("application/json"));
        for probe in [Probe::EmptyBody, Probe::PlainText, Probe::ForeignHost] {
            let (status, content_type) = send_probe(&server, method, &url, operation, probe).await;
            let what = format!("{method} {url} ({probe:?})");
            match probe {
                Probe::ForeignHost => assert_eq!(status, "403", "{what}"),
                Probe::PlainText if takes_json => assert_eq!(status, "415", "{what}"),
                _ => {}
            }
            let Some(documented) = operation["responses"].get(&status) else {
                undocumented.push(format!("{what}: status {status}"));
                continue;
            };
            if let (Some(got), Some(types)) = (content_type, documented["content"].as_object())
                && !types.contains_key(&got)
                && !types.contains_key("*/*")
            {
                undocumented.push(format!("{what}: {status} as {got}"));
            }
        }
    }
    assert_eq!(undocumented, Vec::<String>::new());
    server.stop().await;
}
