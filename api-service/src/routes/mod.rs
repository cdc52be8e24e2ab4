//! The routes of `/api/v1`, one module per resource.
//!
//! - [`subjects`] serves `/recognition/subjects…` and `/recognition/gallery`
//! - [`faces`] serves `/recognition/faces…` (add, list, delete, images, thumbnails, details)
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
            or, on the same paths, base64-encoded in a JSON body `{\"file\": \"...\"}`. Errors are \
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
        .merge(faces::routes())
        .merge(service::routes())
        .merge(recognize::routes())
        .merge(embeddings::routes())
        .merge(detection::routes())
        .merge(verification::routes())
        .merge(migrate::routes())
        .merge(transfer::routes())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// What registers a route, or builds a router, without an OpenAPI description.
    const UNDOCUMENTED: [&str; 6] =
        [".route(", ".route_service(", ".nest_service(", "Router::new(", "Router::<", "routing::"];

    /// Where `pattern` occurs in `code` as a whole token (`OpenApiRouter::new(` is no
    /// `Router::new(`).
    fn mentions(code: &str, pattern: &str) -> bool {
        code.match_indices(pattern)
            .any(|(at, _)| !code[..at].chars().next_back().is_some_and(|c| c.is_alphanumeric() || c == '_'))
    }

    /// Every route of `/api/v1` is registered from its OpenAPI description (utoipa-axum's
    /// `routes!`), so whatever is served is in the document: no route module adds a route by
    /// hand or builds a plain `axum::Router`. (This module assembles the served router from the
    /// documented one and the document's own routes; its code is checked too.)
    #[test]
    fn route_modules_register_only_documented_routes() {
        let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src/routes"));
        let mut modules = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let file = path.file_name().unwrap().to_string_lossy().into_owned();
            let source = std::fs::read_to_string(&path).unwrap();
            // The tests below the code may name what the code must not do.
            let code = source.split("\n#[cfg(test)]").next().unwrap_or_default();
            for (number, line) in code.lines().enumerate() {
                let line = line.split("//").next().unwrap_or_default();
                for pattern in UNDOCUMENTED {
                    assert!(
                        !mentions(line, pattern),
                        "{file}:{}: `{pattern}` serves a route without documentation; register it with `routes!`",
                        number + 1
                    );
                }
            }
            modules.push(file);
        }
        modules.sort();
        let expected = [
            "detection.rs",
            "embeddings.rs",
            "faces.rs",
            "migrate.rs",
            "mod.rs",
            "recognize.rs",
            "service.rs",
            "subjects.rs",
            "transfer.rs",
            "verification.rs",
        ];
        assert!(expected.iter().all(|m| modules.contains(&m.to_string())), "read only {modules:?}");
    }

    #[test]
    fn the_check_sees_undocumented_routes() {
        assert!(mentions(r#"Router::new().route("/x", get(x))"#, ".route("));
        assert!(mentions("axum::Router::new()", "Router::new("));
        assert!(mentions("use axum::routing::post;", "routing::"));
        assert!(!mentions("OpenApiRouter::new().routes(routes!(x))", "Router::new("));
        assert!(!mentions("OpenApiRouter::new().routes(routes!(x))", ".route("));
    }
}
