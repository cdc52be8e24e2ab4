//! Comparisons of embeddings the client computed itself (JSON only, no image, no core call
//! besides core's similarity coefficients).
//!
//! | call | body → answer |
//! |---|---|
//! | `POST /recognition/embeddings/recognize?prediction_count=1&similarity_threshold` | `{"embeddings":[[…]]}` → `{"result":[{"embedding","similarities":[{"subject","similarity"}]}]}` |
//! | `POST /recognition/embeddings/faces/{image_id}/verify` | `{"embeddings":[[…]]}` → `{"result":[{"embedding","similarity"}]}`, most similar first; unknown id → 44 |
//! | `POST /verification/embeddings/verify` | `{"source":[…],"targets":[[…]]}` → `{"result":[{"embedding","similarity"}]}`, most similar first |
//!
//! Embeddings are echoed as sent and compared normalised. A missing or empty list is 5
//! `Field <name> cannot be empty`; an embedding whose length differs from the stored ones (or
//! from the source) is a 400 code 0 that says so (CompreFace fails there with its generic code
//! 0 message).

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use visage_common::{ApiError, ErrorCode};

use crate::auth::{ApiKey, Recognition, Verification};
use crate::params::{parse_uuid, JsonBody, PathParam, Query};
use crate::processing::{
    compare, guaranteed_cosine, match_threshold, passes, prediction_count, similarity, FaceResults, SubjectSimilarity,
};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/recognition/embeddings/recognize", post(recognize))
        .route("/recognition/embeddings/faces/{image_id}/verify", post(verify))
        .route("/verification/embeddings/verify", post(compare_with_source))
}

#[derive(Debug, Deserialize)]
struct EmbeddingsBody {
    embeddings: Option<Vec<Vec<f64>>>,
}

#[derive(Debug, Deserialize)]
struct SourceTargetsBody {
    source: Option<Vec<f64>>,
    targets: Option<Vec<Vec<f64>>>,
}

#[derive(Debug, Serialize)]
struct EmbeddingMatches {
    embedding: Vec<f64>,
    similarities: Vec<SubjectSimilarity>,
}

#[derive(Debug, Serialize)]
struct EmbeddingSimilarity {
    embedding: Vec<f64>,
    similarity: f64,
}

/// A required, non-empty list.
fn required<T>(value: Option<Vec<T>>, field: &str) -> Result<Vec<T>, ApiError> {
    value.filter(|v| !v.is_empty()).ok_or_else(|| ApiError::empty_field(field))
}

fn to_f32(embedding: &[f64]) -> Vec<f32> {
    embedding.iter().map(|x| *x as f32).collect()
}

async fn recognize(
    key: ApiKey<Recognition>,
    State(state): State<AppState>,
    Query(params): Query,
    JsonBody(body): JsonBody<EmbeddingsBody>,
) -> Result<Json<FaceResults<EmbeddingMatches>>, ApiError> {
    let embeddings = required(body.embeddings, "embeddings")?;
    let limit = prediction_count(&params)?;
    let threshold = match_threshold(&params, &key.service)?;
    let queries = embeddings.iter().map(|e| to_f32(e)).collect();
    let coefficients = state.core.coefficients().await?;
    let guaranteed = guaranteed_cosine(&coefficients, threshold);
    let matches = state.collections.search(key.model_id(), queries, limit, guaranteed).await?;
    let result = embeddings
        .into_iter()
        .zip(matches)
        .map(|(embedding, matches)| EmbeddingMatches {
            embedding,
            similarities: matches
                .into_iter()
                .map(|m| SubjectSimilarity {
                    subject: m.subject,
                    similarity: similarity(&coefficients, m.distance),
                    image_id: None,
                })
                .filter(|s| passes(threshold, s.similarity))
                .collect(),
        })
        .collect();
    Ok(Json(FaceResults { result, plugins_versions: None }))
}

async fn verify(
    key: ApiKey<Recognition>,
    State(state): State<AppState>,
    PathParam(image_id): PathParam<String>,
    JsonBody(body): JsonBody<EmbeddingsBody>,
) -> Result<Json<FaceResults<EmbeddingSimilarity>>, ApiError> {
    let image_id = parse_uuid("image_id", &image_id)?;
    let embeddings = required(body.embeddings, "embeddings")?;
    let queries = embeddings.iter().map(|e| to_f32(e)).collect();
    let (_, distances) = state
        .collections
        .verify(key.model_id(), image_id, queries)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::ImageNotFound, "Image Id is incorrect"))?;
    let coefficients = state.core.coefficients().await?;
    let similarities = distances.into_iter().map(|d| similarity(&coefficients, d)).collect();
    Ok(Json(FaceResults { result: most_similar_first(embeddings, similarities), plugins_versions: None }))
}

async fn compare_with_source(
    _key: ApiKey<Verification>,
    State(state): State<AppState>,
    JsonBody(body): JsonBody<SourceTargetsBody>,
) -> Result<Json<FaceResults<EmbeddingSimilarity>>, ApiError> {
    let source = required(body.source, "source")?;
    let targets = required(body.targets, "targets")?;
    let coefficients = state.core.coefficients().await?;
    let queries: Vec<Vec<f32>> = targets.iter().map(|t| to_f32(t)).collect();
    let similarities = compare(&coefficients, &to_f32(&source), &queries)?;
    Ok(Json(FaceResults { result: most_similar_first(targets, similarities), plugins_versions: None }))
}

/// Embeddings with their similarities, most similar first (ties keep the request's order).
fn most_similar_first(embeddings: Vec<Vec<f64>>, similarities: Vec<f64>) -> Vec<EmbeddingSimilarity> {
    let mut result: Vec<EmbeddingSimilarity> = embeddings
        .into_iter()
        .zip(similarities)
        .map(|(embedding, similarity)| EmbeddingSimilarity { embedding, similarity })
        .collect();
    result.sort_by(|a, b| b.similarity.total_cmp(&a.similarity));
    result
}
