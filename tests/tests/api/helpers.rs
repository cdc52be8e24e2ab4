//! Shortcuts for this binary's tests.

use api_service::testing::TestApp;
use reqwest::multipart::{Form, Part};
use serde_json::Value;
use visage_store::Service;

pub use api_service::testing::{call, error, json_of};
pub use serde_json::json;

/// api-service over a fresh database, calling the shared real core-service.
pub async fn spawn() -> TestApp {
    TestApp::spawn(integration_tests::core::url()).await
}

/// Like [`spawn`], with the settings adjusted first.
pub async fn spawn_with(adjust: impl FnOnce(&mut api_service::Settings)) -> TestApp {
    TestApp::spawn_with(integration_tests::core::url(), adjust).await
}

/// A fixture file from `tests/fixtures`.
pub fn fixture(path: &str) -> Vec<u8> {
    let full = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")), std::path::PathBuf::from)
        .join("fixtures")
        .join(path);
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
    sqlx::query_scalar(&format!("SELECT count(*) FROM {table}")).fetch_one(app.db.pool()).await.expect("count")
}

/// Another api-service on `app`'s database, serving the same services.
pub async fn spawn_beside(app: &TestApp) -> TestApp {
    app.spawn_beside(integration_tests::core::url()).await
}

/// `POST path?query` with the fixture as part `file`, with the service's key, answered.
pub async fn post_image(
    app: &TestApp,
    service: &Service,
    path: &str,
    query: &[(&str, &str)],
    image: &str,
) -> (u16, Value) {
    let request = app.client.post(app.url(path)).query(query).multipart(image_form(image));
    call(request, service).await
}

/// `POST /recognition/recognize?query` with a fixture, answered.
pub async fn recognize(app: &TestApp, image: &str, query: &[(&str, &str)]) -> (u16, Value) {
    post_image(app, &app.recognition, "/api/v1/recognition/recognize", query, image).await
}

/// `POST /recognition/embeddings/recognize?prediction_count=-1` with these embeddings, answered.
pub async fn recognize_embeddings(app: &TestApp, embeddings: &[Vec<f32>]) -> (u16, Value) {
    let request = app
        .client
        .post(app.url("/api/v1/recognition/embeddings/recognize"))
        .query(&[("prediction_count", "-1")])
        .json(&json!({ "embeddings": embeddings }));
    call(request, &app.recognition).await
}

/// Adds a face over HTTP and returns its image id.
pub async fn enrol(app: &TestApp, subject: &str, image: &str) -> uuid::Uuid {
    let (status, body) = add_face(app, subject, image).await;
    assert_eq!(status, 201, "{body}");
    body["image_id"].as_str().and_then(|id| id.parse().ok()).expect("image_id")
}

/// The stored embedding of a face.
pub async fn stored_embedding(app: &TestApp, image_id: uuid::Uuid) -> Vec<f32> {
    app.db.store.get_face(app.recognition.id, image_id).await.expect("read").expect("stored").embedding
}

/// The subject names of a recognition answer's first face (or of the first embedding's
/// similarities), in answer order.
pub fn subjects_of(answer: &Value) -> Vec<String> {
    let first = &answer["result"][0];
    let list = first.get("subjects").or_else(|| first.get("similarities")).and_then(Value::as_array);
    list.map(|l| l.iter().filter_map(|s| s["subject"].as_str().map(str::to_string)).collect()).unwrap_or_default()
}

/// core-service's similarity coefficients `[c0, c1]`.
pub async fn coefficients() -> (f64, f64) {
    let status: Value = reqwest::get(format!("{}/status", integration_tests::core::url()))
        .await
        .expect("core /status")
        .json()
        .await
        .expect("core /status JSON");
    let c = &status["similarity_coefficients"];
    (c[0].as_f64().expect("c0"), c[1].as_f64().expect("c1"))
}

/// The similarity of two unit vectors at Euclidean distance `d`, as the API rounds it.
pub fn expected_similarity((c0, c1): (f64, f64), d: f64) -> f64 {
    let s = (((c0 - d) * c1).tanh() + 1.0) / 2.0;
    (s * 1e5).round() / 1e5
}

/// The keys of a JSON object, sorted.
pub fn keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value.as_object().map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default();
    keys.sort_unstable();
    keys
}
