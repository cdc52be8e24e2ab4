//! `/status` and `/config`: open to everyone (the UI asks before anybody logs in).

use std::time::Duration;

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(status)).routes(routes!(config))
}

/// The installation's state.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"status": "OK", "demoKeysActive": false}))]
struct Status {
    /// `OK`, or `NOT_READY` while the database does not answer within a second.
    #[schema(value_type = String)]
    status: &'static str,
    /// Whether a service still answers to one of the public demo API keys (left out while not
    /// ready).
    #[serde(skip_serializing_if = "Option::is_none")]
    demo_keys_active: Option<bool>,
}

/// The installation's settings that the UI needs before anybody logs in.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"mailServiceEnabled": false, "signUp": "open"}))]
struct Config {
    /// Whether e-mail goes out (registration confirmation, password reset).
    mail_service_enabled: bool,
    /// `open`, `invite` or `closed`.
    #[schema(value_type = String)]
    sign_up: &'static str,
}

/// The installation's state
///
/// `OK` when the database answers within a second, else `NOT_READY`; with it, whether the public
/// demo API keys (`00000000-0000-0000-0000-000000000002` to `…04`) still work (ours), so that the
/// UI can warn about them.
#[utoipa::path(
    get, path = "/status", operation_id = "status", tag = "system", security(()),
    responses((status = 200, description = "The state", body = Status)),
)]
async fn status(State(state): State<AppState>) -> Json<Status> {
    let answer = tokio::time::timeout(Duration::from_secs(1), state.store.demo_keys_active()).await;
    Json(match answer {
        Ok(Ok(demo)) => Status { status: "OK", demo_keys_active: Some(demo) },
        _ => Status { status: "NOT_READY", demo_keys_active: None },
    })
}

/// The installation's settings
///
/// Whether e-mail is set up (CompreFace's `mailServiceEnabled`) and the sign-up policy (ours,
/// `SIGN_UP`): `open`, `invite` (invited addresses only) or `closed`.
#[utoipa::path(
    get, path = "/config", operation_id = "config", tag = "system", security(()),
    responses((status = 200, description = "The settings", body = Config)),
)]
async fn config(State(state): State<AppState>) -> Json<Config> {
    Json(Config { mail_service_enabled: state.mailer.is_some(), sign_up: state.settings.sign_up.as_str() })
}
