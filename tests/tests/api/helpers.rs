//! Shortcuts for this binary's tests.

use api_service::testing::TestApp;
use reqwest::multipart::{Form, Part};
use reqwest::{RequestBuilder, Response};
use serde_json::Value;
use visage_store::Service;

pub use serde_json::json;

/// api-service over a fresh database, calling the shared real core-service.
pub async fn spawn() -> TestApp {
    TestApp::spawn(integration_tests::core::url()).await
}

/// Like [`spawn`], with the settings adjusted first.
pub async fn spawn_with(adjust: impl FnOnce(&mut api_service::Settings)) -> TestApp {
    TestApp::spawn_with(integration_tests::core::url(), adjust).await
}

/// Status and JSON body of an answer.
pub async fn json_of(response: Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.expect("no body");
    let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text:?}"));
    (status, body)
}

/// Sends with the service's API key and reads the JSON answer.
pub async fn call(request: RequestBuilder, service: &Service) -> (u16, Value) {
    json_of(request.header("x-api-key", service.api_key.to_string()).send().await.expect("request failed")).await
}

pub fn error(message: &str, code: u32) -> Value {
    json!({ "message": message, "code": code })
}

/// A fixture file from `tests/fixtures`.
pub fn fixture(path: &str) -> Vec<u8> {
    let full = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(path);
    std::fs::read(&full).unwrap_or_else(|e| panic!("cannot read {}: {e}", full.display()))
}

/// A multipart form with the fixture as part `file`.
pub fn image_form(path: &str) -> Form {
    let name = path.rsplit('/').next().unwrap_or(path).to_string();
    Form::new().part("file", Part::bytes(fixture(path)).file_name(name))
}

/// `POST /recognition/faces?subject=…` with a fixture, answered.
pub async fn add_face(app: &TestApp, subject: &str, path: &str) -> (u16, Value) {
    let request = app.client.post(app.url("/api/v1/recognition/faces")).query(&[("subject", subject)]);
    call(request.multipart(image_form(path)), &app.recognition).await
}

pub async fn count(app: &TestApp, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT count(*) FROM {table}")).fetch_one(app.db.store.pool()).await.expect("count")
}
