//! `/status` and `/config`: open to everyone (the UI asks before anybody logs in).

use std::time::Duration;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/status", get(status)).route("/config", get(config))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Status {
    /// `OK`, or `NOT_READY` while the database does not answer within a second.
    status: &'static str,
    /// Whether a service still answers to one of the public demo API keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    demo_keys_active: Option<bool>,
}

async fn status(State(state): State<AppState>) -> Json<Status> {
    let answer = tokio::time::timeout(Duration::from_secs(1), state.store.demo_keys_active()).await;
    Json(match answer {
        Ok(Ok(demo)) => Status { status: "OK", demo_keys_active: Some(demo) },
        _ => Status { status: "NOT_READY", demo_keys_active: None },
    })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Config {
    mail_service_enabled: bool,
    /// `open`, `invite` or `closed`.
    sign_up: &'static str,
}

async fn config(State(state): State<AppState>) -> Json<Config> {
    Json(Config { mail_service_enabled: state.mailer.is_some(), sign_up: state.settings.sign_up.as_str() })
}
