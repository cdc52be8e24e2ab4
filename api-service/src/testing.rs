//! Test support (feature `testing`): the real api-service on a free port over a fresh database.
//!
//! ```ignore
//! let app = TestApp::spawn(&core_url).await;
//! let answer = app.client.get(app.url("/api/v1/recognition/subjects"))
//!     .header("x-api-key", app.recognition.api_key.to_string()).send().await?;
//! ```
//!
//! Each [`TestApp`] has a database of its own (see `visage_store::testing`) with a recognition,
//! a detection and a verification service of its own, and serves until it is dropped.

use std::net::TcpListener;

use tokio::sync::oneshot;
use visage_store::testing::TestDatabase;
use visage_store::{Service, ServiceType, Store};

use crate::{Application, Settings};

/// A running api-service and what a test needs to talk to it.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    pub client: reqwest::Client,
    pub db: TestDatabase,
    pub recognition: Service,
    pub detection: Service,
    pub verification: Service,
    stop: Option<oneshot::Sender<()>>,
}

impl TestApp {
    /// api-service with default settings, calling the core-service at `core_url`.
    pub async fn spawn(core_url: &str) -> Self {
        Self::spawn_with(core_url, |_| {}).await
    }

    /// Like [`TestApp::spawn`], with `adjust` changing the settings first.
    pub async fn spawn_with(core_url: &str, adjust: impl FnOnce(&mut Settings)) -> Self {
        visage_http::telemetry::init_for_tests();
        let db = TestDatabase::create().await;
        let mut settings = Settings::with_database(db.options.clone());
        settings.listen = ([127, 0, 0, 1], 0).into();
        settings.core_url = core_url.trim_end_matches('/').to_string();
        adjust(&mut settings);
        let (address, stop) = serve(settings, db.store.clone()).await;
        let recognition = db.create_service(ServiceType::Recognition).await;
        let detection = db.create_service(ServiceType::Detection).await;
        let verification = db.create_service(ServiceType::Verification).await;
        Self { address, client: reqwest::Client::new(), db, recognition, detection, verification, stop: Some(stop) }
    }

    /// Another api-service on this one's database, with a connection pool of its own, serving
    /// the same services: a second process of a deployment.
    pub async fn spawn_beside(&self, core_url: &str) -> Self {
        let mut settings = Settings::with_database(self.db.options.clone());
        settings.listen = ([127, 0, 0, 1], 0).into();
        settings.core_url = core_url.trim_end_matches('/').to_string();
        let store = Store::connect(self.db.options.clone(), settings.db_max_connections)
            .await
            .expect("cannot connect to the test database");
        let (address, stop) = serve(settings, store).await;
        Self {
            address,
            client: reqwest::Client::new(),
            db: self.db.clone(),
            recognition: self.recognition.clone(),
            detection: self.detection.clone(),
            verification: self.verification.clone(),
            stop: Some(stop),
        }
    }

    /// The full URL of `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Starts the service; it serves until the sender is dropped or used.
async fn serve(settings: Settings, store: Store) -> (String, oneshot::Sender<()>) {
    let app = Application::build_with_store(settings, store).await.expect("api-service does not start");
    let address = format!("http://127.0.0.1:{}", app.port());
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    (address, stop)
}

/// The URL of a local port nobody listens on: a core-service that is down.
pub fn closed_port_url() -> String {
    let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("no free port");
    format!("http://127.0.0.1:{port}")
}

/// Status and JSON body of an answer; panics, showing the body, when it is not JSON.
pub async fn json_of(response: reqwest::Response) -> (u16, serde_json::Value) {
    let status = response.status().as_u16();
    let text = response.text().await.expect("no body");
    let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text:?}"));
    (status, body)
}

/// Sends with the service's API key and reads the JSON answer.
pub async fn call(request: reqwest::RequestBuilder, service: &Service) -> (u16, serde_json::Value) {
    json_of(request.header("x-api-key", service.api_key.to_string()).send().await.expect("request failed")).await
}

/// The `{"message", "code"}` body of an error.
pub fn error(message: &str, code: u32) -> serde_json::Value {
    serde_json::json!({ "message": message, "code": code })
}
