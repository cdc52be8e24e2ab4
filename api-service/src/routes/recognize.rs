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
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use visage_common::error::ErrorBody;
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
use crate::upload::{Base64Image, ImageForm, ImageUpload};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(recognize)).routes(routes!(verify)).routes(routes!(verify_subject))
}

/// The multipart body of `POST /recognition/recognize`: the image as part `file`, and the call's
/// parameters, which may also come as form fields.
#[derive(Debug, ToSchema)]
pub struct RecognizeForm {
    /// The image: JPEG, PNG, BMP, GIF, TIFF, ICO or WebP.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
    pub limit: Option<u64>,
    pub prediction_count: Option<i64>,
    pub det_prob_threshold: Option<f64>,
    pub face_plugins: Option<String>,
    pub status: Option<bool>,
    pub detect_faces: Option<bool>,
    pub similarity_threshold: Option<f64>,
}

/// The multipart body of a subject's verification: the image as part `file`, and the call's
/// parameters, which may also come as form fields.
#[derive(Debug, ToSchema)]
pub struct SubjectVerifyForm {
    /// The image: JPEG, PNG, BMP, GIF, TIFF, ICO or WebP.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
    pub limit: Option<u64>,
    pub det_prob_threshold: Option<f64>,
    pub face_plugins: Option<String>,
    pub status: Option<bool>,
    pub similarity_threshold: Option<f64>,
}

/// A face with the stored faces nearest to it.
#[derive(Debug, Serialize, ToSchema)]
struct RecognizedFace {
    #[serde(flatten)]
    face: Face,
    /// The `prediction_count` most similar stored faces at or above the match threshold, most
    /// similar first; empty for an unknown face.
    subjects: Vec<SubjectSimilarity>,
}

/// Recognise faces
///
/// Finds the faces of an image, largest first, and for each the `prediction_count` most similar
/// stored faces with their subjects.
#[utoipa::path(
    post, path = "/recognition/recognize", operation_id = "recognizeFaces", tag = "recognition",
    params(
        ("limit" = Option<u64>, Query, description = "The largest faces to report, 0 for all (default 0)"),
        ("prediction_count" = Option<i64>, Query, description = "The most similar stored faces to list per face, a positive number or -1 for all (default 1); a subject can appear more than once. One answer holds at most MAX_MATCHES (10 000) matches over all its faces: more is refused with code 50"),
        ("det_prob_threshold" = Option<f64>, Query, description = "The detector's minimal certainty for a face, 0 to 1 (default core's)"),
        ("face_plugins" = Option<String>, Query, description = "Comma-separated plugins to run besides the embedder: age, gender, pose, mask, landmarks, landmarks2d106, quality; `calculator` shows each face's embedding", example = "age,gender,pose,mask,landmarks,landmarks2d106,calculator,quality"),
        ("status" = Option<bool>, Query, description = "Add each face's `execution_time` and the answer's `plugins_versions` (default false)", example = true),
        ("detect_faces" = Option<bool>, Query, description = "false: the whole image is one face, as cropped (default true)"),
        ("similarity_threshold" = Option<f64>, Query, description = "Ours: leave out stored faces less similar than this, 0 to 1 (default the service's match threshold, else none)"),
    ),
    request_body(
        description = "The image, as multipart part `file` or as base64 JSON",
        content((RecognizeForm = "multipart/form-data"), (Base64Image = "application/json")),
    ),
    responses(
        (status = 200, description = "The faces found, largest first, with their most similar stored faces", body = FaceResults<RecognizedFace>,
            example = json!({"result": [{
                "age": {"probability": 0.92681, "high": 32, "low": 25},
                "box": {"probability": 0.99838, "x_min": 257, "y_min": 79, "x_max": 413, "y_max": 290},
                "subjects": [{"subject": "Anna Smith", "similarity": 0.97858, "image_id": "3913ba28-5b1b-4d0e-a6de-ef3f4a4ec8f6"}],
                "execution_time": {"age": 5, "detector": 31, "calculator": 45}
            }], "plugins_versions": {"age": "agegender.AgeDetector", "detector": "scrfd", "calculator": "arcface"}})),
        (status = 413, description = "The image or the request is over its size limit (code 0)", body = ErrorBody,
            example = json!({"message": "The file exceeds its maximum allowed size of 5242880 bytes", "code": 0})),
    ),
    extensions(("x-error-codes" = json!([0, 5, 12, 21, 26, 28, 34, 41, 50]))),
)]
async fn recognize(
    key: ApiKey<Recognition>,
    State(state): State<AppState>,
    upload: ImageUpload,
) -> Result<Json<FaceResults<RecognizedFace>>, ApiError> {
    key.count_request(&state);
    let options = ImageOptions::read(&upload.params)?;
    let limit = prediction_count(&upload.params, state.settings.max_matches)?;
    let threshold = match_threshold(&upload.params, &key.service)?;
    let detect_faces = upload.params.bool_or("detect_faces", true)?;
    let image = upload.image("file", state.settings.max_file_size)?;

    let request = options.core_request(true, detect_faces);
    let found = state.core.find_faces(image.bytes, &image.file_name, &request).await?;
    let queries = found.result.iter().map(embedding_of).collect::<Result<Vec<_>, _>>()?;
    let coefficients = state.core.coefficients().await?;
    let guaranteed = guaranteed_cosine(&coefficients, threshold);
    let matches =
        state.collections.search(key.model_id(), queries, limit, guaranteed, state.settings.max_matches).await?;

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
#[derive(Debug, Serialize, ToSchema)]
struct VerifiedFace {
    #[serde(flatten)]
    face: Face,
    /// The stored face's subject.
    subject: String,
    /// From 0 to 1, to 5 decimals.
    similarity: f64,
}

/// Verify faces against a stored face
///
/// Compares every face of an image, largest first, with one stored face.
#[utoipa::path(
    post, path = "/recognition/faces/{image_id}/verify", operation_id = "verifyFace", tag = "recognition",
    params(
        ("image_id" = String, Path, description = "The stored face's id", example = "3913ba28-5b1b-4d0e-a6de-ef3f4a4ec8f6"),
        ("limit" = Option<u64>, Query, description = "The largest faces to report, 0 for all (default 0)"),
        ("det_prob_threshold" = Option<f64>, Query, description = "The detector's minimal certainty for a face, 0 to 1 (default core's)"),
        ("face_plugins" = Option<String>, Query, description = "Comma-separated plugins to run besides the embedder: age, gender, pose, mask, landmarks, landmarks2d106, quality; `calculator` shows each face's embedding", example = "age,gender,pose,mask,landmarks,landmarks2d106,calculator,quality"),
        ("status" = Option<bool>, Query, description = "Add each face's `execution_time` and the answer's `plugins_versions` (default false)", example = true),
    ),
    request_body(
        description = "The image, as multipart part `file` or as base64 JSON",
        content((ImageForm = "multipart/form-data"), (Base64Image = "application/json")),
    ),
    responses(
        (status = 200, description = "The faces found, largest first, each with its similarity to the stored face", body = FaceResults<VerifiedFace>,
            example = json!({"result": [{"box": {"probability": 0.99838, "x_min": 257, "y_min": 79, "x_max": 413, "y_max": 290}, "subject": "Anna Smith", "similarity": 0.97858}]})),
        (status = 413, description = "The image or the request is over its size limit (code 0)", body = ErrorBody,
            example = json!({"message": "The file exceeds its maximum allowed size of 5242880 bytes", "code": 0})),
    ),
    extensions(("x-error-codes" = json!([0, 5, 21, 26, 28, 34, 41, 44]))),
)]
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
#[derive(Debug, Serialize, ToSchema)]
struct SubjectVerifiedFace {
    #[serde(flatten)]
    face: Face,
    /// The subject's name as stored.
    subject: String,
    /// Whether `similarity` reaches `threshold`.
    verified: bool,
    /// The best of `faces`.
    similarity: f64,
    /// The mean of `faces`.
    mean_similarity: f64,
    /// The threshold applied.
    threshold: f64,
    /// Every stored face of the subject, most similar first.
    faces: Vec<StoredFaceSimilarity>,
}

/// A stored face's similarity.
#[derive(Debug, Serialize, ToSchema)]
struct StoredFaceSimilarity {
    image_id: Uuid,
    similarity: f64,
}

/// Verify faces against a subject
///
/// Ours: compares every face of an image, largest first, with every stored face of a subject
/// (its name in any letter case) and says whether the best reaches the threshold.
#[utoipa::path(
    post, path = "/recognition/subjects/{subject}/verify", operation_id = "verifySubject", tag = "recognition",
    params(
        ("subject" = String, Path, description = "The subject's name, in any letter case", example = "Anna Smith"),
        ("limit" = Option<u64>, Query, description = "The largest faces to report, 0 for all (default 0)"),
        ("det_prob_threshold" = Option<f64>, Query, description = "The detector's minimal certainty for a face, 0 to 1 (default core's)"),
        ("face_plugins" = Option<String>, Query, description = "Comma-separated plugins to run besides the embedder: age, gender, pose, mask, landmarks, landmarks2d106, quality; `calculator` shows each face's embedding", example = "age,gender,pose,mask,landmarks,landmarks2d106,calculator,quality"),
        ("status" = Option<bool>, Query, description = "Add each face's `execution_time` and the answer's `plugins_versions` (default false)", example = true),
        ("similarity_threshold" = Option<f64>, Query, description = "Ours: the similarity `verified` asks for, 0 to 1 (default the service's match threshold, else 0.5)"),
    ),
    request_body(
        description = "The image, as multipart part `file` or as base64 JSON",
        content((SubjectVerifyForm = "multipart/form-data"), (Base64Image = "application/json")),
    ),
    responses(
        (status = 200, description = "The faces found, largest first, each compared with the subject's stored faces", body = FaceResults<SubjectVerifiedFace>,
            example = json!({"result": [{"box": {"probability": 0.99838, "x_min": 257, "y_min": 79, "x_max": 413, "y_max": 290}, "subject": "Anna Smith", "verified": true, "similarity": 0.97858, "mean_similarity": 0.95512, "threshold": 0.8,
                "faces": [{"image_id": "3913ba28-5b1b-4d0e-a6de-ef3f4a4ec8f6", "similarity": 0.97858}, {"image_id": "a3b51c6e-7f0d-4c2a-9b1e-5d6f7a8b9c0d", "similarity": 0.93166}]}]})),
        (status = 413, description = "The image or the request is over its size limit (code 0)", body = ErrorBody,
            example = json!({"message": "The file exceeds its maximum allowed size of 5242880 bytes", "code": 0})),
    ),
    extensions(("x-error-codes" = json!([0, 5, 21, 26, 28, 34, 41, 42, 44]))),
)]
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
