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
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use visage_common::error::ErrorBody;
use visage_common::face::Face;
use visage_common::ApiError;

use crate::auth::{ApiKey, Verification};
use crate::processing::{compare, embedding_of, FaceResults, ImageOptions};
use crate::state::AppState;
use crate::upload::ImageUpload;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(verify))
}

/// The multipart body of `POST /verification/verify`: the images as parts `source_image` and
/// `target_image`, and the call's parameters, which may also come as form fields.
#[derive(Debug, ToSchema)]
pub struct VerificationForm {
    /// The image with the one face to compare: JPEG, PNG, BMP, GIF, TIFF, ICO or WebP.
    #[schema(value_type = String, format = Binary)]
    pub source_image: Vec<u8>,
    /// The image whose faces are compared with it.
    #[schema(value_type = String, format = Binary)]
    pub target_image: Vec<u8>,
    pub limit: Option<u64>,
    pub det_prob_threshold: Option<f64>,
    pub face_plugins: Option<String>,
    pub status: Option<bool>,
}

/// The JSON body of `POST /verification/verify`: both images base64-encoded.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"source_image": "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP...", "target_image": "iVBORw0KGgoAAAANSUhEUgAA..."}))]
pub struct Base64Images {
    #[schema(content_encoding = "base64")]
    pub source_image: String,
    #[schema(content_encoding = "base64")]
    pub target_image: String,
}

/// The source image's face with the target image's faces compared with it.
#[derive(Debug, Serialize, ToSchema)]
struct Verified {
    source_image_face: Face,
    /// Every face of the target image, largest first.
    face_matches: Vec<FaceMatch>,
    /// The version of each plugin that ran, with `status=true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    plugins_versions: Option<BTreeMap<String, String>>,
}

/// A face of the target image with its similarity to the source's.
#[derive(Debug, Serialize, ToSchema)]
struct FaceMatch {
    #[serde(flatten)]
    face: Face,
    /// From 0 to 1, to 5 decimals.
    similarity: f64,
}

/// Compare the faces of two images
///
/// Compares the one face of the source image with every face of the target image.
#[utoipa::path(
    post, path = "/verification/verify", operation_id = "verifyImages", tag = "verification",
    params(
        ("limit" = Option<u64>, Query, description = "The largest faces to report per image, 0 for all (default 0)"),
        ("det_prob_threshold" = Option<f64>, Query, description = "The detector's minimal certainty for a face, 0 to 1 (default core's)"),
        ("face_plugins" = Option<String>, Query, description = "Comma-separated plugins to run besides the embedder: age, gender, pose, mask, landmarks, landmarks2d106, quality; `calculator` shows each face's embedding", example = "age,gender,pose,mask,landmarks,landmarks2d106,calculator,quality"),
        ("status" = Option<bool>, Query, description = "Add each face's `execution_time` and the result's `plugins_versions` (default false)", example = true),
    ),
    request_body(
        description = "The images, as multipart parts `source_image` and `target_image` or as base64 JSON",
        content((VerificationForm = "multipart/form-data"), (Base64Images = "application/json")),
    ),
    responses(
        (status = 200, description = "The source's face and the target's faces with their similarities", body = FaceResults<Verified>,
            example = json!({"result": [{
                "source_image_face": {"box": {"probability": 0.99838, "x_min": 257, "y_min": 79, "x_max": 413, "y_max": 290}},
                "face_matches": [{"box": {"probability": 0.99838, "x_min": 257, "y_min": 79, "x_max": 413, "y_max": 290}, "similarity": 0.97858}]
            }]})),
        (status = 413, description = "An image or the request is over its size limit (code 0)", body = ErrorBody,
            example = json!({"message": "The file exceeds its maximum allowed size of 5242880 bytes", "code": 0})),
    ),
    extensions(("x-error-codes" = json!([0, 5, 21, 26, 28, 31, 34, 41]))),
)]
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
