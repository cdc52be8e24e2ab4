//! Shortcuts for the tests of this binary.

use api_service::testing::{closed_port_url, TestApp};
use visage_store::{FaceRef, NewFace};

pub use api_service::testing::{call, error, json_of};
pub use serde_json::json;

/// api-service whose core-service is down: enough for everything but successful image calls.
pub async fn spawn() -> TestApp {
    TestApp::spawn(&closed_port_url()).await
}

/// Stores a face directly (adding one over HTTP needs core-service).
pub async fn seed_face(app: &TestApp, subject: &str, image: Option<&[u8]>) -> FaceRef {
    let face = NewFace { subject, embedding: &[0.6, 0.8], calculator: "test.Calculator", image, face_box: None };
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
    sqlx::query_scalar(&format!("SELECT count(*) FROM {table}")).fetch_one(app.db.pool()).await.expect("count failed")
}
