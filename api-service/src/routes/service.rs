//! Routes without an API key: limits for the web UI, the consistency status and image links.
//!
//! | call | answer |
//! |---|---|
//! | `GET /config` | `{"clientMaxFileSize","clientMaxBodySize"}` in bytes |
//! | `GET /consistence/status` | whether stored embeddings match core's embedder |
//! | `GET /static/{api_key}/images/{image_id}` | a stored image, for `<img src>` |

use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use uuid::Uuid;
use visage_common::ApiError;
use visage_store::services::DEMO_RECOGNITION_API_KEY;

use crate::error::store_error;
use crate::params::{parse_uuid, PathParam};
use crate::routes::faces::image_response;
use crate::state::AppState;

/// The embedder CompreFace's demo collection was computed with.
const DEMO_CALCULATOR: &str = "Facenet2018";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/config", get(config))
        .route("/consistence/status", get(consistence))
        .route("/static/{api_key}/images/{image_id}", get(static_image))
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ClientConfig {
    client_max_file_size: u64,
    client_max_body_size: u64,
}

async fn config(State(state): State<AppState>) -> Json<ClientConfig> {
    Json(ClientConfig {
        client_max_file_size: state.settings.max_file_size,
        client_max_body_size: state.settings.max_request_size,
    })
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Consistence {
    demo_face_collection_is_inconsistent: bool,
    db_is_inconsistent: bool,
    #[serde(rename = "saveImagesToDB")]
    save_images_to_db: bool,
    status: &'static str,
}

/// Whether stored embeddings came from another embedder than core's (then `/migrate` helps):
/// the demo collection against CompreFace's demo embedder, every other one against core's.
async fn consistence(State(state): State<AppState>) -> Result<Json<Consistence>, ApiError> {
    let calculator = &state.core.status().await?.calculator_version;
    let (demo, db) = state
        .store
        .calculator_mismatches(DEMO_RECOGNITION_API_KEY, DEMO_CALCULATOR, calculator)
        .await
        .map_err(store_error)?;
    Ok(Json(Consistence {
        demo_face_collection_is_inconsistent: demo,
        db_is_inconsistent: db,
        save_images_to_db: state.settings.save_images_to_db,
        status: "OK",
    }))
}

/// Any text works as the key (CompreFace matches it as a string); an unknown one, or an image
/// of another service, gives an empty body.
async fn static_image(
    State(state): State<AppState>,
    PathParam((api_key, image_id)): PathParam<(String, String)>,
) -> Result<Response, ApiError> {
    let image_id = parse_uuid("image_id", &image_id)?;
    let content = match Uuid::try_parse(&api_key) {
        Ok(key) => match state.store.find_service_by_api_key(key).await.map_err(store_error)? {
            Some(service) => state.store.face_image(service.id, image_id).await.map_err(store_error)?.flatten(),
            None => None,
        },
        Err(_) => None,
    };
    Ok(image_response(content))
}
