//! `POST /migrate` (no API key): recomputes, in the background, every stored embedding that
//! another embedder than core's current one computed (see [`crate::migration`]). Answers
//! `200 Migration started` as plain text, as CompreFace does; while one runs, 400 code 27.

use axum::extract::State;
use axum::routing::post;
use axum::Router;
use visage_common::ApiError;

use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/migrate", post(migrate))
}

async fn migrate(State(state): State<AppState>) -> Result<&'static str, ApiError> {
    state.migration.clone().start(state.store.clone(), state.core.clone()).await?;
    Ok("Migration started")
}
