//! `POST /verification/verify?limit&det_prob_threshold&face_plugins&status` with images
//! `source_image` and `target_image` (multipart parts or base64 JSON fields):
//!
//! ```json
//! {"result": [{"source_image_face": {"box", …}, "face_matches": [{"box", …, "similarity"}], "plugins_versions"?}]}
//! ```
//!
//! The source must show exactly one face (none → 28, several → 31); every face of the target is
//! compared with it, in the target's face order (largest first), as CompreFace answers.
//! `plugins_versions` (with `status=true`) sits inside the result element and comes from the
//! source image's call.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde::Serialize;
use visage_common::face::Face;
use visage_common::ApiError;

use crate::auth::{ApiKey, Verification};
use crate::processing::{compare, embedding_of, FaceResults, ImageOptions};
use crate::state::AppState;
use crate::upload::ImageUpload;

pub fn routes() -> Router<AppState> {
    Router::new().route("/verification/verify", post(verify))
}

#[derive(Debug, Serialize)]
struct Verified {
    source_image_face: Face,
    face_matches: Vec<FaceMatch>,
    #[serde(skip_serializing_if = "Option::is_none")]
    plugins_versions: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Serialize)]
struct FaceMatch {
    #[serde(flatten)]
    face: Face,
    similarity: f64,
}

async fn verify(
    key: ApiKey<Verification>,
    State(state): State<AppState>,
    upload: ImageUpload,
) -> Result<Json<FaceResults<Verified>>, ApiError> {
    key.count_request(&state);
    let options = ImageOptions::read(&upload.params)?;
    let max_file_size = state.settings.max_file_size;
    let source = upload.image("source_image", max_file_size)?;
    let target = upload.image("target_image", max_file_size)?;

    // Both images at once; the source's errors still come first.
    let request = options.core_request(true, true);
    let (source_found, target_found) = tokio::join!(
        state.core.find_faces(source.bytes, &source.file_name, &request),
        state.core.find_faces(target.bytes, &target.file_name, &request),
    );
    let source_found = source_found?;
    let mut source_faces = source_found.result.into_iter();
    let source_face = match (source_faces.next(), source_faces.next()) {
        (None, _) => return Err(ApiError::no_face()),
        (Some(face), None) => face,
        (Some(_), Some(_)) => return Err(ApiError::too_many_faces()),
    };
    let target_faces = target_found?.result;

    let coefficients = state.core.coefficients().await?;
    let targets = target_faces.iter().map(embedding_of).collect::<Result<Vec<_>, _>>()?;
    let similarities = compare(&coefficients, &embedding_of(&source_face)?, &targets)?;
    let face_matches = target_faces
        .into_iter()
        .zip(similarities)
        .map(|(face, similarity)| FaceMatch { face: options.present(face), similarity })
        .collect();
    let verified = Verified {
        source_image_face: options.present(source_face),
        face_matches,
        plugins_versions: options.plugins_versions(source_found.plugins_versions),
    };
    Ok(Json(FaceResults { result: vec![verified], plugins_versions: None }))
}
