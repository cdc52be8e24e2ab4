//! Faces in an image compared with a recognition service's collection.
//!
//! | call | answer |
//! |---|---|
//! | `POST /recognition/recognize?limit&prediction_count&det_prob_threshold&face_plugins&status&detect_faces` + image | `{"result":[{"box","subjects":[{"subject","similarity","image_id"}],…}],"plugins_versions"?}` (`image_id`, the matched stored face, is ours) |
//! | `POST /recognition/faces/{image_id}/verify?limit&det_prob_threshold&face_plugins&status` + image | `{"result":[{"box","subject","similarity",…}],"plugins_versions"?}`; unknown id → 44 |
//!
//! `subjects` lists the `prediction_count` nearest stored faces (a subject can appear more than
//! once), most similar first; an empty collection gives `[]`. Faces come largest first, one
//! entry per face found.

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde::Serialize;
use visage_common::face::Face;
use visage_common::{ApiError, ErrorCode};

use crate::auth::{ApiKey, Recognition};
use crate::params::{parse_uuid, PathParam};
use crate::processing::{
    embedding_of, guaranteed_cosine, prediction_count, similarity, FaceResults, ImageOptions, SubjectSimilarity,
};
use crate::state::AppState;
use crate::upload::ImageUpload;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/recognition/recognize", post(recognize))
        .route("/recognition/faces/{image_id}/verify", post(verify))
}

/// A face with the stored faces nearest to it.
#[derive(Debug, Serialize)]
struct RecognizedFace {
    #[serde(flatten)]
    face: Face,
    subjects: Vec<SubjectSimilarity>,
}

async fn recognize(
    key: ApiKey<Recognition>,
    State(state): State<AppState>,
    upload: ImageUpload,
) -> Result<Json<FaceResults<RecognizedFace>>, ApiError> {
    key.count_request(&state);
    let options = ImageOptions::read(&upload.params)?;
    let limit = prediction_count(&upload.params)?;
    let detect_faces = upload.params.bool_or("detect_faces", true)?;
    let image = upload.image("file", state.settings.max_file_size)?;

    let request = options.core_request(true, detect_faces);
    let found = state.core.find_faces(image.bytes, &image.file_name, &request).await?;
    let queries = found.result.iter().map(embedding_of).collect::<Result<Vec<_>, _>>()?;
    let coefficients = state.core.coefficients().await?;
    let guaranteed = guaranteed_cosine(&coefficients);
    let matches = state.collections.search(key.model_id(), queries, limit, guaranteed).await?;

    let result = found
        .result
        .into_iter()
        .zip(matches)
        .map(|(face, matches)| RecognizedFace {
            face: options.present(face),
            subjects: matches
                .into_iter()
                .map(|m| SubjectSimilarity {
                    subject: m.subject,
                    similarity: similarity(&coefficients, m.distance),
                    image_id: Some(m.image_id),
                })
                .collect(),
        })
        .collect();
    Ok(Json(FaceResults { result, plugins_versions: options.plugins_versions(found.plugins_versions) }))
}

/// A face compared with one stored face.
#[derive(Debug, Serialize)]
struct VerifiedFace {
    #[serde(flatten)]
    face: Face,
    subject: String,
    similarity: f64,
}

async fn verify(
    key: ApiKey<Recognition>,
    State(state): State<AppState>,
    PathParam(image_id): PathParam<String>,
    upload: ImageUpload,
) -> Result<Json<FaceResults<VerifiedFace>>, ApiError> {
    let image_id = parse_uuid("image_id", &image_id)?;
    let options = ImageOptions::read(&upload.params)?;
    let image = upload.image("file", state.settings.max_file_size)?;

    let request = options.core_request(true, true);
    let found = state.core.find_faces(image.bytes, &image.file_name, &request).await?;
    let queries = found.result.iter().map(embedding_of).collect::<Result<Vec<_>, _>>()?;
    // As CompreFace: the stored face is looked up once the image has faces.
    let (subject, distances) = state
        .collections
        .verify(key.model_id(), image_id, queries)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::ImageNotFound, "Image Id is incorrect"))?;
    let coefficients = state.core.coefficients().await?;

    let result = found
        .result
        .into_iter()
        .zip(distances)
        .map(|(face, distance)| VerifiedFace {
            face: options.present(face),
            subject: subject.clone(),
            similarity: similarity(&coefficients, distance),
        })
        .collect();
    Ok(Json(FaceResults { result, plugins_versions: options.plugins_versions(found.plugins_versions) }))
}
