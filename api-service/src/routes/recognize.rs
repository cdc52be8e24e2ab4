//! Faces in an image compared with a recognition service's collection.
//!
//! | call | answer |
//! |---|---|
//! | `POST /recognition/recognize?limit&prediction_count&det_prob_threshold&face_plugins&status&detect_faces` + image | `{"result":[{"box","subjects":[{"subject","similarity","image_id"}],…}],"plugins_versions"?}` (`image_id`, the matched stored face, is ours) |
//! | `POST /recognition/faces/{image_id}/verify?limit&det_prob_threshold&face_plugins&status` + image | `{"result":[{"box","subject","similarity",…}],"plugins_versions"?}`; unknown id → 44 |
//! | `POST /recognition/subjects/{subject}/verify?limit&det_prob_threshold&face_plugins&status&similarity_threshold` + image (ours) | `{"result":[{"box","subject","verified","similarity","mean_similarity","threshold","faces":[{"image_id","similarity"}],…}],"plugins_versions"?}`; unknown subject → 42, a subject without faces → 44 |
//!
//! A subject's verification compares each face of the photo with every stored face of the
//! subject (name in any letter case): `similarity` is the best, `mean_similarity` the mean,
//! `faces` each stored face's, most similar first; `verified` says whether the best reaches
//! `threshold` (`similarity_threshold`, else the service's `matchThreshold`, else
//! [`DEFAULT_MATCH_THRESHOLD`]).
//!
//! `subjects` lists the `prediction_count` nearest stored faces (a subject can appear more than
//! once), most similar first, leaving out those below the match threshold (`similarity_threshold`,
//! else the service's `matchThreshold`; none: CompreFace's answer); `[]` means unknown (or an
//! empty collection). Faces come largest first, one
//! entry per face found.

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde::Serialize;
use uuid::Uuid;
use visage_common::face::Face;
use visage_common::similarity::{round5, DEFAULT_MATCH_THRESHOLD};
use visage_common::{ApiError, ErrorCode};

use crate::auth::{ApiKey, Recognition};
use crate::error::store_error;
use crate::params::{parse_uuid, PathParam};
use crate::processing::{
    embedding_of, guaranteed_cosine, match_threshold, passes, prediction_count, similarity, FaceResults, ImageOptions,
    SubjectSimilarity,
};
use crate::state::AppState;
use crate::upload::ImageUpload;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/recognition/recognize", post(recognize))
        .route("/recognition/faces/{image_id}/verify", post(verify))
        .route("/recognition/subjects/{subject}/verify", post(verify_subject))
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
    let threshold = match_threshold(&upload.params, &key.service)?;
    let detect_faces = upload.params.bool_or("detect_faces", true)?;
    let image = upload.image("file", state.settings.max_file_size)?;

    let request = options.core_request(true, detect_faces);
    let found = state.core.find_faces(image.bytes, &image.file_name, &request).await?;
    let queries = found.result.iter().map(embedding_of).collect::<Result<Vec<_>, _>>()?;
    let coefficients = state.core.coefficients().await?;
    let guaranteed = guaranteed_cosine(&coefficients, threshold);
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
                .filter(|s| passes(threshold, s.similarity))
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

/// A face compared with every stored face of one subject.
#[derive(Debug, Serialize)]
struct SubjectVerifiedFace {
    #[serde(flatten)]
    face: Face,
    subject: String,
    verified: bool,
    /// The best of `faces`.
    similarity: f64,
    mean_similarity: f64,
    threshold: f64,
    faces: Vec<StoredFaceSimilarity>,
}

#[derive(Debug, Serialize)]
struct StoredFaceSimilarity {
    image_id: Uuid,
    similarity: f64,
}

async fn verify_subject(
    key: ApiKey<Recognition>,
    State(state): State<AppState>,
    PathParam(subject): PathParam<String>,
    upload: ImageUpload,
) -> Result<Json<FaceResults<SubjectVerifiedFace>>, ApiError> {
    key.count_request(&state);
    let options = ImageOptions::read(&upload.params)?;
    let threshold = match_threshold(&upload.params, &key.service)?.unwrap_or(DEFAULT_MATCH_THRESHOLD);
    let image = upload.image("file", state.settings.max_file_size)?;
    // The subject first: an unknown one costs no inference.
    let (subject_id, subject) = state
        .store
        .find_subject(key.model_id(), &subject)
        .await
        .map_err(store_error)?
        .ok_or_else(|| ApiError::new(ErrorCode::SubjectNotFound, format!("Subject {subject} not found")))?;

    let request = options.core_request(true, true);
    let found = state.core.find_faces(image.bytes, &image.file_name, &request).await?;
    let queries = found.result.iter().map(embedding_of).collect::<Result<Vec<_>, _>>()?;
    let stored = state
        .collections
        .verify_subject(key.model_id(), subject_id, queries)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::ImageNotFound, format!("Subject {subject} has no stored faces")))?;
    let coefficients = state.core.coefficients().await?;

    let result = found
        .result
        .into_iter()
        .enumerate()
        .map(|(i, face)| {
            let mut faces: Vec<StoredFaceSimilarity> = stored
                .iter()
                .map(|(image_id, distances)| StoredFaceSimilarity {
                    image_id: *image_id,
                    similarity: similarity(&coefficients, distances[i]),
                })
                .collect();
            faces.sort_by(|a, b| b.similarity.total_cmp(&a.similarity).then(a.image_id.cmp(&b.image_id)));
            let best = faces.first().map_or(0.0, |f| f.similarity);
            let mean = round5(faces.iter().map(|f| f.similarity).sum::<f64>() / faces.len() as f64);
            SubjectVerifiedFace {
                face: options.present(face),
                subject: subject.clone(),
                verified: best >= threshold,
                similarity: best,
                mean_similarity: mean,
                threshold,
                faces,
            }
        })
        .collect();
    Ok(Json(FaceResults { result, plugins_versions: options.plugins_versions(found.plugins_versions) }))
}
