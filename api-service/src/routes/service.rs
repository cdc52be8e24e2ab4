//! Routes without an API key: limits for the web UI, the consistency status and image links.
//!
//! | call | answer |
//! |---|---|
//! | `GET /config` | `{"clientMaxFileSize","clientMaxBodySize"}` in bytes |
//! | `GET /consistence/status` | whether stored embeddings match core's embedder |
//! | `GET /static/{api_key}/images/{image_id}` | a stored image, for `<img src>` |

use axum::extract::State;
use axum::response::Response;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use visage_common::ApiError;
use visage_store::services::DEMO_RECOGNITION_API_KEY;

use crate::error::store_error;
use crate::params::{parse_uuid, PathParam};
use crate::routes::faces::image_response;
use crate::state::AppState;

/// The embedder CompreFace's demo collection was computed with.
const DEMO_CALCULATOR: &str = "Facenet2018";

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(config)).routes(routes!(consistence)).routes(routes!(static_image))
}

/// The upload limits, in bytes.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"clientMaxFileSize": 5242880, "clientMaxBodySize": 10485760}))]
struct ClientConfig {
    /// The largest image.
    client_max_file_size: u64,
    /// The largest request.
    client_max_body_size: u64,
}

/// Upload limits
///
/// The largest image and the largest request the API accepts, for clients to check before
/// uploading.
#[utoipa::path(
    get, path = "/config", operation_id = "getConfig", tag = "service",
    security(()),
    responses((status = 200, description = "The limits in bytes", body = ClientConfig)),
)]
async fn config(State(state): State<AppState>) -> Json<ClientConfig> {
    Json(ClientConfig {
        client_max_file_size: state.settings.max_file_size,
        client_max_body_size: state.settings.max_request_size,
    })
}

/// Whether the stored embeddings fit core's embedder.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"demoFaceCollectionIsInconsistent": false, "dbIsInconsistent": false, "saveImagesToDB": true, "status": "OK"}))]
struct Consistence {
    /// Whether the demo collection was computed with another embedder than CompreFace's demo one.
    demo_face_collection_is_inconsistent: bool,
    /// Whether any other collection holds embeddings of another embedder than core's.
    db_is_inconsistent: bool,
    /// Whether images are stored with their faces (needed by `/migrate`).
    #[serde(rename = "saveImagesToDB")]
    save_images_to_db: bool,
    /// Always `OK`.
    #[schema(value_type = String)]
    status: &'static str,
}

/// Consistency of the stored embeddings
///
/// Whether stored embeddings came from another embedder than core's (then `POST /migrate`
/// recomputes them): the demo collection against CompreFace's demo embedder, every other one
/// against core's.
#[utoipa::path(
    get, path = "/consistence/status", operation_id = "getConsistenceStatus", tag = "service",
    security(()),
    responses((status = 200, description = "The state of the stored embeddings", body = Consistence)),
    extensions(("x-error-codes" = json!([41]))),
)]
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

/// A stored image, without the key header
///
/// A face's stored image for `<img src>`, cacheable for a year by the browser alone (`private`). Any text works as the key
/// (CompreFace matches it as a string); an unknown one, an image of another service or a face
/// without a stored image gives an empty body.
#[utoipa::path(
    get, path = "/static/{api_key}/images/{image_id}", operation_id = "getStaticImage", tag = "service",
    security(()),
    params(
        ("api_key" = String, Path, description = "The API key of the recognition service", example = "00000000-0000-0000-0000-000000000002"),
        ("image_id" = String, Path, description = "The face's id", example = "3913ba28-5b1b-4d0e-a6de-ef3f4a4ec8f6"),
    ),
    responses((status = 200, description = "The image as stored, of its own type (`Cache-Control: private, max-age=31536000`); an empty `application/octet-stream` body when there is none",
        content(
            ("image/jpeg"), ("image/png"), ("image/webp"), ("image/bmp"),
            ("image/gif"), ("image/tiff"), ("image/x-icon"), ("application/octet-stream"),
        ))),
    extensions(("x-error-codes" = json!([26]))),
)]
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
