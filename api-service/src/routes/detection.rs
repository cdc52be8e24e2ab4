//! `POST /detection/detect?limit&det_prob_threshold&face_plugins&status` + image:
//! `{"result":[{"box",…plugins}],"plugins_versions"?}`, faces largest first.
//!
//! Core runs exactly the plugins the client asked for (no embedding unless `calculator` is
//! among them).

use axum::extract::State;
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use visage_common::error::ErrorBody;
use visage_common::face::Face;
use visage_common::ApiError;

use crate::auth::{ApiKey, Detection};
use crate::processing::{FaceResults, ImageOptions};
use crate::state::AppState;
use crate::upload::{Base64Image, ImageForm, ImageUpload};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(detect))
}

/// Detect faces
///
/// Finds the faces of an image, largest first, with what the requested `face_plugins` say of
/// each (`age`, `gender`, `pose`, `mask`, `landmarks`, `calculator` for the embedding,
/// `quality`).
#[utoipa::path(
    post, path = "/detection/detect", operation_id = "detectFaces", tag = "detection",
    params(
        ("limit" = Option<u64>, Query, description = "The largest faces to report, 0 for all (default 0)"),
        ("det_prob_threshold" = Option<f64>, Query, description = "The detector's minimal certainty for a face, 0 to 1 (default core's)"),
        ("face_plugins" = Option<String>, Query, description = "Comma-separated plugins: age, gender, pose, mask, landmarks, landmarks2d106, calculator, quality", example = "age,gender,pose,mask,landmarks,landmarks2d106,calculator,quality"),
        ("status" = Option<bool>, Query, description = "Add each face's `execution_time` and the answer's `plugins_versions` (default false)", example = true),
    ),
    request_body(
        description = "The image, as multipart part `file` or as base64 JSON",
        content((ImageForm = "multipart/form-data"), (Base64Image = "application/json")),
    ),
    responses(
        (status = 200, description = "The faces found, largest first", body = FaceResults<Face>,
            example = json!({"result": [{
                "age": {"probability": 0.92681, "high": 32, "low": 25},
                "gender": {"probability": 0.99518, "value": "female"},
                "box": {"probability": 0.99838, "x_min": 257, "y_min": 79, "x_max": 413, "y_max": 290},
                "execution_time": {"age": 5, "gender": 4, "detector": 31}
            }], "plugins_versions": {"age": "agegender.AgeDetector", "gender": "agegender.GenderDetector", "detector": "scrfd"}})),
        (status = 413, description = "The image or the request is over its size limit (code 0)", body = ErrorBody,
            example = json!({"message": "The file exceeds its maximum allowed size of 5242880 bytes", "code": 0})),
    ),
    extensions(("x-error-codes" = json!([5, 21, 26, 28, 34, 41]))),
)]
async fn detect(
    key: ApiKey<Detection>,
    State(state): State<AppState>,
    upload: ImageUpload,
) -> Result<Json<FaceResults<Face>>, ApiError> {
    key.count_request(&state);
    let options = ImageOptions::read(&upload.params)?;
    let image = upload.image("file", state.settings.max_file_size)?;
    let request = options.core_request(false, true);
    let found = state.core.find_faces(image.bytes, &image.file_name, &request).await?;
    let result = found.result.into_iter().map(|face| options.present(face)).collect();
    Ok(Json(FaceResults { result, plugins_versions: options.plugins_versions(found.plugins_versions) }))
}
