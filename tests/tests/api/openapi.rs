//! The public API's OpenAPI document (`/api/v1/openapi.json`): it lists exactly the calls of the
//! API, each call it lists is served, its examples validate against its schemas, and the real
//! answers to every call (made with its examples and a photo) are as it describes them.

use serde_json::Value;
use visage_http::docs::check;

use crate::helpers::*;

/// Every call of `/api/v1`: CompreFace's (SPEC §2) and ours (subject verification, import and
/// export, face details and thumbnails, the gallery).
const CALLS: &[(&str, &str)] = &[
    ("GET", "/api/v1/config"),
    ("GET", "/api/v1/consistence/status"),
    ("POST", "/api/v1/detection/detect"),
    ("POST", "/api/v1/migrate"),
    ("POST", "/api/v1/recognition/embeddings/faces/{image_id}/verify"),
    ("POST", "/api/v1/recognition/embeddings/recognize"),
    ("GET", "/api/v1/recognition/export"),
    ("DELETE", "/api/v1/recognition/faces"),
    ("GET", "/api/v1/recognition/faces"),
    ("POST", "/api/v1/recognition/faces"),
    ("POST", "/api/v1/recognition/faces/delete"),
    ("DELETE", "/api/v1/recognition/faces/{image_id}"),
    ("GET", "/api/v1/recognition/faces/{image_id}/details"),
    ("GET", "/api/v1/recognition/faces/{image_id}/img"),
    ("GET", "/api/v1/recognition/faces/{image_id}/thumbnail"),
    ("GET", "/api/v1/recognition/gallery"),
    ("POST", "/api/v1/recognition/faces/{image_id}/verify"),
    ("POST", "/api/v1/recognition/import"),
    ("GET", "/api/v1/recognition/import/{id}"),
    ("POST", "/api/v1/recognition/recognize"),
    ("DELETE", "/api/v1/recognition/subjects"),
    ("GET", "/api/v1/recognition/subjects"),
    ("POST", "/api/v1/recognition/subjects"),
    ("DELETE", "/api/v1/recognition/subjects/{subject}"),
    ("PUT", "/api/v1/recognition/subjects/{subject}"),
    ("POST", "/api/v1/recognition/subjects/{subject}/verify"),
    ("GET", "/api/v1/static/{api_key}/images/{image_id}"),
    ("POST", "/api/v1/verification/embeddings/verify"),
    ("POST", "/api/v1/verification/verify"),
];

fn document() -> Value {
    api_service::routes::openapi()
}

#[test]
fn the_document_lists_every_call_of_the_api_and_nothing_else() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    let listed = check::operations(&doc);
    let mut expected: Vec<(String, String)> = CALLS.iter().map(|(m, p)| (m.to_string(), p.to_string())).collect();
    expected.sort();
    assert_eq!(listed, expected);
    let mut operation_ids = std::collections::BTreeSet::new();
    for (method, path) in &listed {
        let op = check::operation(&doc, method, path).unwrap();
        assert!(op["summary"].as_str().is_some_and(|s| !s.is_empty()), "{method} {path} has no summary");
        let id = op["operationId"].as_str().unwrap_or_default();
        assert!(operation_ids.insert(id.to_string()), "{method} {path}: operationId {id:?} is not unique");
        assert!(op["responses"].as_object().is_some_and(|r| r.keys().any(|s| s.starts_with('2'))), "{method} {path}");
    }
}

#[test]
fn the_examples_validate_against_their_schemas() {
    let doc = document();
    let errors = check::example_errors(&doc);
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    // The error codes are examples too: 42 under 404 for a subject's deletion.
    let op = check::operation(&doc, "DELETE", "/api/v1/recognition/subjects/{subject}").unwrap();
    assert_eq!(
        op["responses"]["404"]["content"]["application/json"]["examples"]["code 42"]["value"],
        json!({"message": "Subject not found", "code": 42})
    );
    assert_eq!(op["x-error-codes"], json!([26, 42, 32, 20, 10]));
}

#[tokio::test]
async fn every_documented_call_is_served_and_answers_as_documented() {
    let app = spawn().await;
    let doc = document();
    let (status, face) = add_face(&app, "Anna", "upstream-samples/001_A.jpg").await;
    assert_eq!(status, 201, "{face}");
    let image_id = face["image_id"].as_str().unwrap().to_string();
    let photo = fixture("upstream-samples/002_A.jpg");

    // Deletions last, the migration (which blocks writes while it runs) at the very end.
    let mut calls = check::operations(&doc);
    calls.sort_by_key(|(method, path)| (path.ends_with("/migrate"), method == "DELETE"));
    let mut problems = Vec::new();
    for (method, path) in &calls {
        let op = check::operation(&doc, method, path).unwrap();
        // The stored face and its subject where a path names them, the examples elsewhere.
        let real = path
            .replace("{subject}", "Anna")
            .replace("{image_id}", &image_id)
            .replace("{api_key}", &app.recognition.api_key.to_string())
            .replace("{id}", "00000000-0000-0000-0000-000000000000");
        let filled = check::fill_path(op, &real);
        let mut request = app.client.request(method.parse().unwrap(), app.url(&filled)).query(&query_examples(op));
        let service = if path.starts_with("/api/v1/detection") {
            &app.detection
        } else if path.starts_with("/api/v1/verification") {
            &app.verification
        } else {
            &app.recognition
        };
        request = request.header("x-api-key", service.api_key.to_string());
        if let Some(files) = check::multipart_files(&doc, op) {
            let mut form = reqwest::multipart::Form::new();
            for field in files {
                form = form.part(field, reqwest::multipart::Part::bytes(photo.clone()).file_name("002_A.jpg"));
            }
            request = request.multipart(form);
        } else if let Some(example) = check::json_example(&doc, op) {
            request = request.json(&example);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let is_json = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        let bytes = response.bytes().await.expect("body");
        let body: Option<Value> = if is_json { serde_json::from_slice(&bytes).ok() } else { None };
        if let Some(message) = check::fallback_message(body.as_ref()) {
            panic!("{method} {path} is documented but not served: {message}");
        }
        problems.extend(check::answer_errors(&doc, method, path, status, body.as_ref()));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The query parameters of `op` that have an example, with it (`face_plugins` asks for every
/// plugin, so the real faces show every part of their schema).
fn query_examples(op: &Value) -> Vec<(String, String)> {
    op["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["in"] == "query")
        .filter_map(|p| {
            let value = match p.get("example")? {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            Some((p["name"].as_str()?.to_string(), value))
        })
        .collect()
}

#[tokio::test]
async fn the_document_and_swagger_ui_are_served() {
    let app = spawn().await;
    let (status, served) = json_of(reqwest::get(app.url("/api/v1/openapi.json")).await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(served, document());

    let page = reqwest::get(app.url("/api/v1/docs")).await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"<script src="docs/swagger-ui-bundle.js"></script>"#), "{html}");
    assert!(html.contains("<title>Visage public API</title>"));
    for (asset, kind) in
        [("swagger-ui-bundle.js", "text/javascript"), ("swagger-ui.css", "text/css"), ("init.js", "text/javascript")]
    {
        let answer = reqwest::get(app.url(&format!("/api/v1/docs/{asset}"))).await.unwrap();
        assert_eq!(
            (answer.status().as_u16(), answer.headers()["content-type"].to_str().unwrap()),
            (200, kind),
            "{asset}"
        );
        assert!(answer.bytes().await.unwrap().len() > 100, "{asset}");
    }
    let init = reqwest::get(app.url("/api/v1/docs/init.js")).await.unwrap().text().await.unwrap();
    assert!(init.contains(r#"url: "openapi.json""#));
    let (status, body) = json_of(reqwest::get(app.url("/api/v1/docs/nothing.js")).await.unwrap()).await;
    assert_eq!((status, body["code"].as_u64()), (404, Some(0)));
}
