//! `POST /detection/detect?limit&det_prob_threshold&face_plugins&status` + image:
//! `{"result":[{"box",…plugins}],"plugins_versions"?}`, faces largest first.
//!
//! Core runs exactly the plugins the client asked for (no embedding unless `calculator` is
//! among them).

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use visage_common::face::Face;
use visage_common::ApiError;

use crate::auth::{ApiKey, Detection};
use crate::processing::{FaceResults, ImageOptions};
use crate::state::AppState;
use crate::upload::ImageUpload;

pub fn routes() -> Router<AppState> {
    Router::new().route("/detection/detect", post(detect))
}

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
