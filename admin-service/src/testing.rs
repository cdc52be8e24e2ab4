//! Test support (feature `testing`): the real admin-service on a free port over a fresh
//! database, and helpers to sign users up and log them in over HTTP.

use tokio::sync::oneshot;
use visage_store::testing::TestDatabase;

use crate::{Application, Settings};

/// The OAuth client header CompreFace's UI sends.
pub const CLIENT_BASIC: &str = "Basic Q29tbW9uQ2xpZW50SWQ6cGFzc3dvcmQ=";

/// A running admin-service.
pub struct TestAdmin {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    pub client: reqwest::Client,
    pub db: TestDatabase,
    stop: Option<oneshot::Sender<()>>,
}

impl TestAdmin {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// With `adjust` changing the default settings first.
    pub async fn spawn_with(adjust: impl FnOnce(&mut Settings)) -> Self {
        Self::spawn_on(TestDatabase::create().await, adjust).await
    }

    /// On an existing database (shared with an api-service, say).
    pub async fn spawn_on(db: TestDatabase, adjust: impl FnOnce(&mut Settings)) -> Self {
        visage_http::telemetry::init_for_tests();
        let mut settings = Settings::with_database(db.options.clone());
        settings.listen = ([127, 0, 0, 1], 0).into();
        adjust(&mut settings);
        let app =
            Application::build_with_store(settings, db.store.clone()).await.expect("admin-service does not start");
        let address = format!("http://127.0.0.1:{}", app.port());
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(app.run_until(async {
            let _ = stopped.await;
        }));
        Self { address, client: reqwest::Client::new(), db, stop: Some(stop) }
    }

    /// The full URL of `path` under `/admin` (`path` starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}/admin{path}", self.address)
    }

    /// Registers a user; panics unless the answer is 201.
    pub async fn register(&self, email: &str, password: &str, first: &str, last: &str) {
        let response = self
            .client
            .post(self.url("/user/register"))
            .json(&serde_json::json!({"email": email, "password": password, "firstName": first, "lastName": last}))
            .send()
            .await
            .expect("register failed");
        let status = response.status().as_u16();
        assert_eq!(status, 201, "register {email}: {}", response.text().await.unwrap_or_default());
    }

    /// Logs in with the password grant; the answer's status and JSON.
    pub async fn login(&self, email: &str, password: &str) -> (u16, serde_json::Value) {
        let response = self
            .client
            .post(self.url("/oauth/token"))
            .header("authorization", CLIENT_BASIC)
            .form(&[("username", email), ("password", password), ("grant_type", "password")])
            .send()
            .await
            .expect("login failed");
        json_of(response).await
    }

    /// Logs in and returns the access token; panics unless the login succeeds.
    pub async fn token(&self, email: &str, password: &str) -> String {
        let (status, body) = self.login(email, password).await;
        assert_eq!(status, 200, "login {email}: {body}");
        body["access_token"].as_str().expect("no access_token").to_string()
    }
}

impl Drop for TestAdmin {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Status and JSON body of an answer (`null` for an empty body); panics when it is not JSON.
pub async fn json_of(response: reqwest::Response) -> (u16, serde_json::Value) {
    let status = response.status().as_u16();
    let text = response.text().await.expect("no body");
    if text.is_empty() {
        return (status, serde_json::Value::Null);
    }
    let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text:?}"));
    (status, body)
}
