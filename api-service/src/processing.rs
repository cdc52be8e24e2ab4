//! What the endpoints that send an image to core share: their parameters, the core request,
//! and how core's faces are shown to the client.
//!
//! | parameter | default | rule |
//! |---|---|---|
//! | `limit` | 0 (all faces) | ≥ 0, else 26 `Limit should be equal or greater than 0; ` |
//! | `det_prob_threshold` | core's | a number; core refuses values outside [0, 1] |
//! | `face_plugins` | none | comma-separated plugin slugs |
//! | `status` | false | adds `execution_time` per face and `plugins_versions` |
//! | `prediction_count` | 1 | a positive number or -1 (all), else 12 |
//! | `similarity_threshold` | the service's `matchThreshold` | a number in [0, 1], else 26; recognitions leave out stored faces less similar |
//!
//! Endpoints that compare faces need embeddings: they ask core for the `calculator` plugin
//! whatever the client asked for, and show `embedding` only when the client asked for it.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;
use visage_common::face::Face;
use visage_common::params::Params;
use visage_common::similarity::{distance_from_dot, l2_normalized, round5, Coefficients};
use visage_common::{ApiError, ErrorCode};
use visage_index::Limit;
use visage_store::Service;

use crate::core_client::FindFaces;

const CALCULATOR: &str = "calculator";

/// `{"result": [...], "plugins_versions": {...}}`, the versions only with `status=true`.
#[derive(Debug, Serialize, ToSchema)]
pub struct FaceResults<T: ToSchema> {
    pub result: Vec<T>,
    /// The version of each plugin that ran (`detector`, `calculator`, …), with `status=true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plugins_versions: Option<BTreeMap<String, String>>,
}

/// One stored face matching a query: `{"subject", "similarity"}`, and in recognition answers
/// also the matched example's `image_id` (ours: a client can show the stored photo that matched;
/// CompreFace clients ignore the extra field).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"subject": "Anna Smith", "similarity": 0.97858, "image_id": "9ed4b2a6-2a4f-4a0e-9a5b-1d2c3b4a5f60"}))]
pub struct SubjectSimilarity {
    pub subject: String,
    /// From 0 to 1, to 5 decimals.
    pub similarity: f64,
    /// The matched stored face (ours; in image recognitions only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_id: Option<uuid::Uuid>,
}

/// The parameters of an endpoint that detects faces in an image.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageOptions {
    pub limit: u64,
    pub det_prob_threshold: Option<f64>,
    /// The client's `face_plugins`, as given.
    pub face_plugins: String,
    pub status: bool,
}

impl ImageOptions {
    pub fn read(params: &Params) -> Result<Self, ApiError> {
        let limit = params.int("limit")?.unwrap_or(0);
        let limit =
            u64::try_from(limit).map_err(|_| ApiError::validation("Limit should be equal or greater than 0; "))?;
        Ok(Self {
            limit,
            det_prob_threshold: params.float("det_prob_threshold")?,
            face_plugins: params.get("face_plugins").unwrap_or_default(),
            status: params.bool_or("status", false)?,
        })
    }

    /// The core request: the client's plugins, with `calculator` added when `embeddings` are
    /// needed.
    pub fn core_request(&self, embeddings: bool, detect_faces: bool) -> FindFaces {
        let plugins = self.face_plugins.trim();
        let face_plugins = if !embeddings || self.wants_embeddings() {
            Some(plugins.to_string()).filter(|p| !p.is_empty())
        } else if plugins.is_empty() {
            Some(CALCULATOR.to_string())
        } else {
            Some(format!("{CALCULATOR},{plugins}"))
        };
        FindFaces {
            limit: Some(self.limit),
            det_prob_threshold: self.det_prob_threshold,
            face_plugins,
            detect_faces: Some(detect_faces),
        }
    }

    /// Whether the client asked for embeddings (CompreFace's test: the plugins mention them).
    pub fn wants_embeddings(&self) -> bool {
        self.face_plugins.contains(CALCULATOR)
    }

    /// A face of core's answer as the client gets it: the embedding only when asked for, the
    /// execution times only with `status`.
    pub fn present(&self, mut face: Face) -> Face {
        if !self.wants_embeddings() {
            face.embedding = None;
        }
        if !self.status {
            face.execution_time = None;
        }
        face
    }

    /// Core's `plugins_versions`, shown with `status` only.
    pub fn plugins_versions(&self, versions: BTreeMap<String, String>) -> Option<BTreeMap<String, String>> {
        self.status.then_some(versions)
    }
}

/// `prediction_count`: how many of the nearest stored faces to show (default 1, -1 all); more
/// than `max_matches` (what one answer may hold) is refused with code 50.
pub fn prediction_count(params: &Params, max_matches: usize) -> Result<Limit, ApiError> {
    let count = params.int("prediction_count")?.unwrap_or(1);
    let limit = Limit::from_prediction_count(count).ok_or_else(|| {
        ApiError::new(ErrorCode::IncorrectPredictionCount, "Prediction count should be any positive number or -1")
    })?;
    match limit {
        Limit::Top(n) if n > max_matches => Err(ApiError::new(
            ErrorCode::LimitExceeded,
            format!("prediction_count is {n}; one answer holds at most {max_matches} matches (MAX_MATCHES)"),
        )),
        _ => Ok(limit),
    }
}

/// Refuses (code 50) a search whose answer would hold more than `max_matches` matches: `queries`
/// faces or embeddings, each with `limit` of a collection of `collection` faces.
pub fn check_matches(queries: usize, limit: Limit, collection: usize, max_matches: usize) -> Result<(), ApiError> {
    let each = match limit {
        Limit::All => collection,
        Limit::Top(n) => n.min(collection),
    };
    let total = each.saturating_mul(queries);
    if total > max_matches {
        return Err(ApiError::new(
            ErrorCode::LimitExceeded,
            format!(
                "This search would answer {total} matches ({queries} faces or embeddings, {each} each); one answer \
                 holds at most {max_matches} (MAX_MATCHES): ask for a smaller prediction_count or fewer faces"
            ),
        ));
    }
    Ok(())
}

/// Refuses (code 50) more than `max` embeddings in one call.
pub fn check_embeddings(count: usize, max: usize) -> Result<(), ApiError> {
    if count > max {
        return Err(ApiError::new(
            ErrorCode::LimitExceeded,
            format!("The call has {count} embeddings; one call takes at most {max} (MAX_EMBEDDINGS)"),
        ));
    }
    Ok(())
}

/// The similarity clients see for a distance between unit-length embeddings, to 5 decimals.
pub fn similarity(coefficients: &Coefficients, distance: f32) -> f64 {
    round5(coefficients.similarity(f64::from(distance)))
}

/// The similarity below which a recognition leaves stored faces out: the request's
/// `similarity_threshold`, else the service's match threshold; `None` keeps every face found
/// (CompreFace's answers).
pub fn match_threshold(params: &Params, service: &Service) -> Result<Option<f64>, ApiError> {
    match params.float("similarity_threshold")? {
        Some(t) if !(0.0..=1.0).contains(&t) => {
            Err(ApiError::validation(format!("similarity_threshold must be between 0 and 1, got {t}")))
        }
        Some(t) => Ok(Some(t)),
        None => Ok(service.match_threshold),
    }
}

/// Whether a match is shown under the threshold (the similarity as the client sees it).
pub fn passes(threshold: Option<f64>, similarity: f64) -> bool {
    threshold.is_none_or(|t| similarity >= t)
}

/// Recognitions never miss a stored face at or above this similarity that belongs in the answer:
/// 0.5, where CompreFace's answers start to mean "probably the same person", or the match
/// threshold when lower (down to [`LOWEST_GUARANTEED_SIMILARITY`]), so "unknown" is never the
/// search's miss.
pub const GUARANTEED_SIMILARITY: f64 = 0.5;

/// Below this the guarantee would compare most of a collection exactly; a lower threshold is
/// served by the best-effort search between it and this.
pub const LOWEST_GUARANTEED_SIMILARITY: f64 = 0.2;

/// The cosine the search guarantees, for the embedder's coefficients and the match threshold.
pub fn guaranteed_cosine(coefficients: &Coefficients, threshold: Option<f64>) -> f32 {
    let similarity =
        threshold.map_or(GUARANTEED_SIMILARITY, |t| t.clamp(LOWEST_GUARANTEED_SIMILARITY, GUARANTEED_SIMILARITY));
    coefficients.dot_at(similarity) as f32
}

/// The embedding of a face core found, which every comparing endpoint asked for.
pub fn embedding_of(face: &Face) -> Result<Vec<f32>, ApiError> {
    face.embedding
        .clone()
        .ok_or_else(|| ApiError::core_unavailable("core-service returned a face without its embedding"))
}

/// Compares one embedding with others, CompreFace's verification: both sides normalised, the
/// similarity of each target in target order.
pub fn compare(coefficients: &Coefficients, source: &[f32], targets: &[Vec<f32>]) -> Result<Vec<f64>, ApiError> {
    let source = unit(source)?;
    targets
        .iter()
        .map(|target| {
            if target.len() != source.len() {
                return Err(ApiError::new(
                    ErrorCode::Undefined,
                    format!(
                        "Embeddings of {} values cannot be compared with embeddings of {} values",
                        target.len(),
                        source.len()
                    ),
                ));
            }
            let target = unit(target)?;
            let dot: f64 = source.iter().zip(&target).map(|(a, b)| f64::from(*a) * f64::from(*b)).sum();
            Ok(round5(coefficients.similarity(distance_from_dot(dot))))
        })
        .collect()
}

fn unit(embedding: &[f32]) -> Result<Vec<f32>, ApiError> {
    l2_normalized(embedding).ok_or_else(|| {
        ApiError::new(ErrorCode::Undefined, "Invalid embedding: it needs values, finite and not all zero")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(query: &str) -> Result<ImageOptions, ApiError> {
        ImageOptions::read(&Params::from_query(Some(query)))
    }

    #[test]
    fn reads_the_parameters_with_their_defaults() {
        let o = options("").unwrap();
        assert_eq!((o.limit, o.det_prob_threshold, o.face_plugins.as_str(), o.status), (0, None, "", false));
        let o = options("limit=2&det_prob_threshold=0.5&face_plugins=age&face_plugins=gender&status=TRUE").unwrap();
        assert_eq!(
            (o.limit, o.det_prob_threshold, o.face_plugins.as_str(), o.status),
            (2, Some(0.5), "age,gender", true)
        );
        let err = options("limit=-1").unwrap_err();
        assert_eq!((err.code.code(), err.message.as_str()), (26, "Limit should be equal or greater than 0; "));
    }

    #[test]
    fn the_calculator_is_requested_when_embeddings_are_needed() {
        let plugins = |query: &str, embeddings| options(query).unwrap().core_request(embeddings, true).face_plugins;
        assert_eq!(plugins("", true).as_deref(), Some("calculator"));
        assert_eq!(plugins("face_plugins=age", true).as_deref(), Some("calculator,age"));
        assert_eq!(plugins("face_plugins=age,calculator", true).as_deref(), Some("age,calculator"));
        assert_eq!(plugins("", false), None);
        assert_eq!(plugins("face_plugins=age", false).as_deref(), Some("age"));
    }

    #[test]
    fn prediction_count_is_positive_or_minus_one_up_to_the_cap() {
        let count = |q: &str| prediction_count(&Params::from_query(Some(q)), 100);
        assert_eq!(count(""), Ok(Limit::Top(1)));
        assert_eq!(count("prediction_count=3"), Ok(Limit::Top(3)));
        assert_eq!(count("prediction_count=100"), Ok(Limit::Top(100)));
        assert_eq!(count("prediction_count=-1"), Ok(Limit::All));
        for bad in ["prediction_count=0", "prediction_count=-2"] {
            let err = count(bad).unwrap_err();
            assert_eq!((err.code.code(), err.status()), (12, 400), "{bad}");
        }
        let err = count("prediction_count=101").unwrap_err();
        assert_eq!((err.code.code(), err.status()), (50, 400));
    }

    #[test]
    fn a_search_may_answer_at_most_max_matches_in_all() {
        assert!(check_matches(10, Limit::Top(10), 1_000_000, 100).is_ok());
        assert!(check_matches(10, Limit::Top(11), 1_000_000, 100).is_err());
        assert!(check_matches(3, Limit::All, 33, 100).is_ok(), "-1 on a small collection");
        assert!(check_matches(3, Limit::All, 34, 100).is_err());
        assert!(check_matches(1000, Limit::Top(1000), 0, 100).is_ok(), "an empty collection answers nothing");
        assert!(check_embeddings(5, 5).is_ok());
        assert_eq!(check_embeddings(6, 5).unwrap_err().code.code(), 50);
    }

    #[test]
    fn the_request_threshold_overrides_the_service_one() {
        let mut service = Service {
            id: uuid::Uuid::nil(),
            app_id: uuid::Uuid::nil(),
            name: "s".into(),
            service_type: visage_store::ServiceType::Recognition,
            api_key: uuid::Uuid::nil(),
            match_threshold: None,
        };
        let threshold = |q: &str, s: &Service| match_threshold(&Params::from_query(Some(q)), s);
        assert_eq!(threshold("", &service), Ok(None));
        assert_eq!(threshold("similarity_threshold=0.7", &service), Ok(Some(0.7)));
        service.match_threshold = Some(0.6);
        assert_eq!(threshold("", &service), Ok(Some(0.6)));
        assert_eq!(threshold("similarity_threshold=0", &service), Ok(Some(0.0)));
        for bad in ["similarity_threshold=1.5", "similarity_threshold=-0.1", "similarity_threshold=high"] {
            let err = threshold(bad, &service).unwrap_err();
            assert_eq!((err.code.code(), err.status()), (26, 400), "{bad}");
        }
        assert!(passes(None, 0.0) && passes(Some(0.6), 0.6) && !passes(Some(0.6), 0.59999));
    }

    #[test]
    fn the_guarantee_reaches_down_to_the_threshold() {
        let c = Coefficients([1.11, 5.5]);
        let at = |s: f64| c.dot_at(s) as f32;
        assert_eq!(guaranteed_cosine(&c, None), at(0.5));
        assert_eq!(guaranteed_cosine(&c, Some(0.9)), at(0.5));
        assert_eq!(guaranteed_cosine(&c, Some(0.3)), at(0.3));
        assert_eq!(guaranteed_cosine(&c, Some(0.0)), at(LOWEST_GUARANTEED_SIMILARITY));
    }

    #[test]
    fn comparison_normalises_both_sides() {
        let c = Coefficients([1.1, 6.0]);
        let got = compare(&c, &[2.0, 0.0], &[vec![0.0, 3.0], vec![5.0, 0.0]]).unwrap();
        assert_eq!(got, vec![round5(c.similarity(2f64.sqrt())), round5(c.similarity(0.0))]);
        assert_eq!(compare(&c, &[1.0, 0.0], &[vec![1.0]]).unwrap_err().code, ErrorCode::Undefined);
        assert_eq!(compare(&c, &[0.0, 0.0], &[vec![1.0, 0.0]]).unwrap_err().code, ErrorCode::Undefined);
    }
}
