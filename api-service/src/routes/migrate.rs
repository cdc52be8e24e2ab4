//! `POST /migrate` (no API key): recomputes, in the background, every stored embedding that
//! another embedder than core's current one computed (see [`crate::migration`]). Answers
//! `200 Migration started` as plain text, as CompreFace does; while one runs, 400 code 27.

use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use visage_common::ApiError;

use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(migrate))
}

/// Recompute embeddings
///
/// Starts recomputing, in the background and from the stored images, every stored embedding
/// that another embedder than core's current one computed (`GET /consistence/status` tells
/// whether any is). While it runs, writes to collections are refused (405 code 32).
#[utoipa::path(
    post, path = "/migrate", operation_id = "migrate", tag = "service",
    security(()),
    responses((status = 200, description = "The migration started", body = String, content_type = "text/plain",
        example = "Migration started")),
    extensions(("x-error-codes" = json!([27, 41]))),
)]
async fn migrate(State(state): State<AppState>) -> Result<&'static str, ApiError> {
    state.migration.clone().start(state.store.clone(), state.core.clone()).await?;
    Ok("Migration started")
}
