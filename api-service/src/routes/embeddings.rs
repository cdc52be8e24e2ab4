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
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use visage_common::{ApiError, ErrorCode};

use crate::auth::{ApiKey, Recognition, Verification};
use crate::params::{parse_uuid, JsonBody, PathParam, Query};
use crate::processing::{
    check_embeddings, compare, guaranteed_cosine, match_threshold, passes, prediction_count, similarity, FaceResults,
    SubjectSimilarity,
};
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(recognize)).routes(routes!(verify)).routes(routes!(compare_with_source))
}

/// `{"embeddings": [[…], …]}`: embeddings computed by the client, of the collection's length.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"embeddings": [[0.0123, -0.0456, 0.0789, 0.1011]]}))]
struct EmbeddingsBody {
    /// At least one embedding.
    embeddings: Option<Vec<Vec<f64>>>,
}

/// `{"source": […], "targets": [[…], …]}`: one embedding compared with others of its length.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"source": [0.0123, -0.0456, 0.0789, 0.1011], "targets": [[0.0119, -0.0461, 0.0801, 0.0998], [-0.0512, 0.0334, 0.0012, 0.0876]]}))]
struct SourceTargetsBody {
    source: Option<Vec<f64>>,
    /// At least one embedding.
    targets: Option<Vec<Vec<f64>>>,
}

/// An embedding of the request with the stored faces nearest to it.
#[derive(Debug, Serialize, ToSchema)]
struct EmbeddingMatches {
    /// As sent.
    embedding: Vec<f64>,
    /// The `prediction_count` most similar stored faces, most similar first.
    similarities: Vec<SubjectSimilarity>,
}

/// An embedding of the request with its similarity.
#[derive(Debug, Serialize, ToSchema)]
struct EmbeddingSimilarity {
    /// As sent.
    embedding: Vec<f64>,
    /// From 0 to 1, to 5 decimals.
    similarity: f64,
}

/// A required, non-empty list.
fn required<T>(value: Option<Vec<T>>, field: &str) -> Result<Vec<T>, ApiError> {
    value.filter(|v| !v.is_empty()).ok_or_else(|| ApiError::empty_field(field))
}

fn to_f32(embedding: &[f64]) -> Vec<f32> {
    embedding.iter().map(|x| *x as f32).collect()
}

/// Recognise embeddings
///
/// Compares embeddings computed elsewhere (with the same model as core's) with the stored faces:
/// for each, the `prediction_count` most similar stored faces at or above the match threshold.
#[utoipa::path(
    post, path = "/recognition/embeddings/recognize", operation_id = "recognizeEmbeddings", tag = "embeddings",
    params(
        ("prediction_count" = Option<i64>, Query, description = "The most similar stored faces to list per embedding, a positive number or -1 for all (default 1). One answer holds at most MAX_MATCHES (10 000) matches over all its embeddings, and a call takes at most MAX_EMBEDDINGS (1000) embeddings: more is refused with code 50"),
        ("similarity_threshold" = Option<f64>, Query, description = "Ours: leave out stored faces less similar than this, 0 to 1 (default the service's match threshold, else none)"),
    ),
    request_body = EmbeddingsBody,
    responses((status = 200, description = "Each embedding with its most similar stored faces", body = FaceResults<EmbeddingMatches>,
        example = json!({"result": [{"embedding": [0.0123, -0.0456, 0.0789, 0.1011], "similarities": [{"subject": "Anna Smith", "similarity": 0.97858}]}]}))),
    extensions(("x-error-codes" = json!([0, 5, 12, 26, 41, 50]))),
)]
async fn recognize(
    key: ApiKey<Recognition>,
    State(state): State<AppState>,
    Query(params): Query,
    JsonBody(body): JsonBody<EmbeddingsBody>,
) -> Result<Json<FaceResults<EmbeddingMatches>>, ApiError> {
    let embeddings = required(body.embeddings, "embeddings")?;
    check_embeddings(embeddings.len(), state.settings.max_embeddings)?;
    let limit = prediction_count(&params, state.settings.max_matches)?;
    let threshold = match_threshold(&params, &key.service)?;
    let queries = embeddings.iter().map(|e| to_f32(e)).collect();
    let coefficients = state.core.coefficients().await?;
    let guaranteed = guaranteed_cosine(&coefficients, threshold);
    let matches =
        state.collections.search(key.model_id(), queries, limit, guaranteed, state.settings.max_matches).await?;
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

/// Verify embeddings against a face
///
/// Compares embeddings computed elsewhere with one stored face; the most similar first.
#[utoipa::path(
    post, path = "/recognition/embeddings/faces/{image_id}/verify", operation_id = "verifyEmbeddings", tag = "embeddings",
    params(("image_id" = String, Path, description = "The stored face's id", example = "3913ba28-5b1b-4d0e-a6de-ef3f4a4ec8f6")),
    request_body = EmbeddingsBody,
    responses((status = 200, description = "Each embedding with its similarity to the stored face, most similar first", body = FaceResults<EmbeddingSimilarity>,
        example = json!({"result": [{"embedding": [0.0123, -0.0456, 0.0789, 0.1011], "similarity": 0.97858}]}))),
    extensions(("x-error-codes" = json!([0, 5, 26, 41, 44, 50]))),
)]
async fn verify(
    key: ApiKey<Recognition>,
    State(state): State<AppState>,
    PathParam(image_id): PathParam<String>,
    JsonBody(body): JsonBody<EmbeddingsBody>,
) -> Result<Json<FaceResults<EmbeddingSimilarity>>, ApiError> {
    let image_id = parse_uuid("image_id", &image_id)?;
    let embeddings = required(body.embeddings, "embeddings")?;
    check_embeddings(embeddings.len(), state.settings.max_embeddings)?;
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

/// Compare embeddings
///
/// Compares a source embedding with target embeddings, all computed elsewhere; the most similar
/// first.
#[utoipa::path(
    post, path = "/verification/embeddings/verify", operation_id = "compareEmbeddings", tag = "embeddings",
    request_body = SourceTargetsBody,
    responses((status = 200, description = "Each target with its similarity to the source, most similar first", body = FaceResults<EmbeddingSimilarity>,
        example = json!({"result": [{"embedding": [0.0119, -0.0461, 0.0801, 0.0998], "similarity": 0.99321}, {"embedding": [-0.0512, 0.0334, 0.0012, 0.0876], "similarity": 0.31544}]}))),
    extensions(("x-error-codes" = json!([0, 5, 41, 50]))),
)]
async fn compare_with_source(
    _key: ApiKey<Verification>,
    State(state): State<AppState>,
    JsonBody(body): JsonBody<SourceTargetsBody>,
) -> Result<Json<FaceResults<EmbeddingSimilarity>>, ApiError> {
    let source = required(body.source, "source")?;
    let targets = required(body.targets, "targets")?;
    check_embeddings(targets.len(), state.settings.max_embeddings)?;
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
