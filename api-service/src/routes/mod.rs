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
use visage_http::fallback::{method_not_allowed, no_route};

use crate::state::AppState;

/// Everything api-service serves, under `/api/v1`.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .merge(subjects::routes())
        .merge(faces::routes())
        .merge(service::routes())
        .merge(recognize::routes())
        .merge(embeddings::routes())
        .merge(detection::routes())
        .merge(verification::routes())
        .merge(migrate::routes())
        .merge(transfer::routes())
        .method_not_allowed_fallback(method_not_allowed);
    Router::new().nest("/api/v1", api).fallback(no_route).with_state(state)
}
