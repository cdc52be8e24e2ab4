//! The routes of `/api/v1`, one module per resource.
//!
//! - [`subjects`] serves `/recognition/subjects…`
//! - [`faces`] serves `/recognition/faces…` (add, list, delete, images)
//! - [`service`] serves `/config`, `/consistence/status`, `/static/{api_key}/images/{image_id}`
//! - [`recognize`] serves `/recognition/recognize` and `/recognition/faces/{image_id}/verify`
//! - [`embeddings`] serves the `…/embeddings/…` comparisons of client-computed embeddings
//! - [`detection`] serves `/detection/detect`, [`verification`] `/verification/verify`
//! - [`migrate`] serves `/migrate`
//! - [`transfer`] serves `/recognition/import…` and `/recognition/export`: a collection in and out
//!   as an archive
//!
//! Each handler carries its OpenAPI description (`#[utoipa::path]`) and each module registers its
//! handlers with utoipa-axum's `routes!`, which takes the path from that description: whatever is
//! served is documented. [`ApiDoc`] adds what the whole API shares; the finished document and
//! Swagger UI are at `/api/v1/openapi.json` and `/api/v1/docs`.
//!
//! Whatever no route serves is a JSON 404 (code 0): an unknown
//! path `No handler found for …`, a known path with another method `Request method '…' not
//! supported`, as CompreFace answers.

pub mod detection;
pub mod embeddings;
pub mod faces;
pub mod migrate;
pub mod recognize;
pub mod service;
pub mod subjects;
pub mod transfer;
pub mod verification;

use axum::Router;
use serde_json::Value;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use visage_http::docs;
use visage_http::fallback::{method_not_allowed, no_route};

use crate::auth::API_KEY_HEADER;
use crate::state::AppState;

/// What the public API's document says of the whole API.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Visage public API",
        description = "Face recognition, detection and verification, compatible with CompreFace's `/api/v1`.\n\n\
            Every call is made with the API key of a service (`x-api-key`): a recognition service's key for \
            `/recognition/...`, a detection service's for `/detection/...`, a verification service's for \
            `/verification/...`. Images come as a multipart `file` (JPEG, PNG, BMP, GIF, TIFF, ICO or WebP) \
            or, at the `_base64`-style calls and with a JSON body, as base64 text. Errors are \
            `{\"message\", \"code\"}`; each call lists its codes.",
        license(name = "Apache-2.0"),
    ),
    modifiers(&ApiKeySecurity),
    security(("api_key" = [])),
    tags(
        (name = "subjects", description = "The people of a recognition service's collection"),
        (name = "faces", description = "Example faces of subjects, with their stored images"),
        (name = "recognition", description = "Recognising and verifying faces against the collection"),
        (name = "embeddings", description = "Comparing embeddings computed elsewhere"),
        (name = "detection", description = "Finding faces and their attributes"),
        (name = "verification", description = "Comparing the faces of two images"),
        (name = "transfer", description = "A collection in and out as an archive"),
        (name = "service", description = "The service's configuration and state"),
    ),
)]
pub struct ApiDoc;

/// The `x-api-key` header as the security scheme of every call.
struct ApiKeySecurity;

impl Modify for ApiKeySecurity {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                API_KEY_HEADER,
                "The API key of the service (a UUID), from the admin UI",
            ))),
        );
    }
}

/// The error codes of the `x-api-key` check, which every keyed call can answer: missing header
/// (20), not a UUID (26), no service of this type with this key (10).
pub const API_KEY_CODES: &[u32] = &[20, 26, 10];

/// Everything api-service serves, under `/api/v1`, with its OpenAPI document and Swagger UI.
pub fn router(state: AppState) -> Router {
    let (router, doc) = documented();
    router
        .method_not_allowed_fallback(method_not_allowed)
        .merge(docs::routes("/api/v1", doc))
        .fallback(no_route)
        .with_state(state)
}

/// The finished OpenAPI document of `/api/v1`.
pub fn openapi() -> Value {
    documented().1
}

fn documented() -> (Router<AppState>, Value) {
    let (router, doc) = OpenApiRouter::with_openapi(ApiDoc::openapi()).nest("/api/v1", modules()).split_for_parts();
    (router, docs::finish(doc, &[("api_key", API_KEY_CODES)]))
}

fn modules() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(subjects::routes())
        .merge(faces::routes().into())
        .merge(service::routes().into())
        .merge(recognize::routes().into())
        .merge(embeddings::routes().into())
        .merge(detection::routes().into())
        .merge(verification::routes().into())
        .merge(migrate::routes().into())
        .merge(transfer::routes().into())
}
