//! Shortcuts for the tests of this binary.

use api_service::testing::{closed_port_url, TestApp};
use reqwest::{RequestBuilder, Response};
use serde_json::Value;
use visage_store::{FaceRef, NewFace, Service};

pub use serde_json::json;

/// api-service whose core-service is down: enough for everything but successful image calls.
pub async fn spawn() -> TestApp {
    TestApp::spawn(&closed_port_url()).await
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

/// `{"message", "code"}`.
pub fn error(message: &str, code: u32) -> Value {
    json!({ "message": message, "code": code })
}

/// Stores a face directly (adding one over HTTP needs core-service).
pub async fn seed_face(app: &TestApp, subject: &str, image: Option<&[u8]>) -> FaceRef {
    let face = NewFace { subject, embedding: &[0.6, 0.8], calculator: "test.Calculator", image };
    app.db.store.add_face(app.recognition.id, face).await.expect("face not stored")
}

/// A fixture file from `tests/fixtures`.
pub fn fixture(path: &str) -> Vec<u8> {
    let full = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")), std::path::PathBuf::from)
        .join("../tests/fixtures")
        .join(path);
    std::fs::read(&full).unwrap_or_else(|e| panic!("cannot read {}: {e}", full.display()))
}

/// How many rows `table` has.
pub async fn count(app: &TestApp, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(app.db.store.pool())
        .await
        .expect("count failed")
}
