//! Liveness and readiness for orchestrators (Kubernetes probes, Docker health checks, load
//! balancers).
//!
//! | call | answer |
//! |---|---|
//! | `GET /health/live` | 200 `{"status":"UP"}` while the process serves requests |
//! | `GET /health/ready` | 200 `{"status":"UP","checks":{"database":"UP",…}}` when every check passes; 503 with `"status":"DOWN"` and each failing check's reason otherwise |
//!
//! Each service names its checks (the database, core-service, the models); they run
//! concurrently, each given [`CHECK_TIMEOUT`].

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use futures::future::BoxFuture;
use serde_json::{json, Value};

/// How long one readiness check may take before it counts as failed.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

type Check = Arc<dyn Fn() -> BoxFuture<'static, Result<(), String>> + Send + Sync>;

/// The readiness checks of a service.
#[derive(Clone, Default)]
pub struct Health {
    checks: Vec<(&'static str, Check)>,
}

impl Health {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a check: `Ok` when the dependency is usable, else why not.
    pub fn check<F, Fut>(mut self, name: &'static str, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        self.checks.push((name, Arc::new(move || Box::pin(check()))));
        self
    }

    /// Adds the check that the database answers a query (`ping`: the store's).
    pub fn database<F, Fut>(self, ping: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        self.check("database", ping)
    }

    /// Runs every check; `(ready, answer)`.
    pub async fn readiness(&self) -> (bool, Value) {
        let results = futures::future::join_all(self.checks.iter().map(|(name, check)| {
            let run = check();
            async move {
                let outcome = match tokio::time::timeout(CHECK_TIMEOUT, run).await {
                    Ok(outcome) => outcome,
                    Err(_) => Err(format!("no answer within {} s", CHECK_TIMEOUT.as_secs())),
                };
                (*name, outcome)
            }
        }))
        .await;
        let ready = results.iter().all(|(_, outcome)| outcome.is_ok());
        let checks: BTreeMap<&str, String> = results
            .into_iter()
            .map(|(name, outcome)| (name, outcome.map_or_else(|e| format!("DOWN: {e}"), |()| "UP".to_string())))
            .collect();
        (ready, json!({ "status": if ready { "UP" } else { "DOWN" }, "checks": checks }))
    }

    /// `GET /health/live` and `GET /health/ready`.
    pub fn routes(self) -> Router {
        Router::new().route("/health/live", get(|| async { Json(json!({ "status": "UP" })) })).route(
            "/health/ready",
            get(move || {
                let health = self.clone();
                async move {
                    let (ready, answer) = health.readiness().await;
                    if !ready {
                        tracing::warn!(%answer, "not ready");
                    }
                    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
                    (status, Json(answer)).into_response()
                }
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn ready_only_when_every_check_passes() {
        let health = Health::new().check("database", || async { Ok(()) });
        assert_eq!(health.readiness().await, (true, json!({"status": "UP", "checks": {"database": "UP"}})));
        let health = health.check("core", || async { Err("connection refused".to_string()) });
        assert_eq!(
            health.readiness().await,
            (false, json!({"status": "DOWN", "checks": {"database": "UP", "core": "DOWN: connection refused"}}))
        );
    }

    #[tokio::test]
    async fn a_check_that_hangs_fails_after_the_timeout() {
        let health = Health::new().check("slow", std::future::pending);
        let (ready, answer) = health.readiness().await;
        assert!(!ready);
        assert_eq!(answer["checks"]["slow"], "DOWN: no answer within 2 s");
    }
}
