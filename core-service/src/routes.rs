//! The HTTP surface of core-service (CompreFace's embedding-calculator API).

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Multipart, RawQuery, Request, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use visage_common::face::{CoreStatus, FindFacesResponse};
use visage_common::params::Params;
use visage_common::ApiError;
use visage_http::fallback::{method_not_allowed, no_route};
use visage_http::multipart_error;

use crate::pipeline;
use crate::plugins::PluginSet;
use crate::startup::AppState;

pub fn router(state: Arc<AppState>) -> Router {
    let body_limit = usize::try_from(state.config.max_request_size).unwrap_or(usize::MAX);
    Router::new()
        .route("/healthcheck", get(healthcheck))
        .route("/status", get(status))
        .route("/find_faces", post(find_faces))
        .route("/find_faces_base64", post(find_faces_base64))
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(no_route)
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(state)
}

async fn healthcheck() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "OK" }))
}

async fn status(State(state): State<Arc<AppState>>) -> Json<CoreStatus> {
    Json(state.status.clone())
}

/// `POST /find_faces`: multipart part `file`, parameters in the query or as form fields.
async fn find_faces(
    State(state): State<Arc<AppState>>,
    RawQuery(query): RawQuery,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Json<FindFacesResponse>, ApiError> {
    let mut params = Params::from_query(query.as_deref());
    // Anything but a multipart body has no `file` part.
    let mut multipart = multipart.map_err(|_| ApiError::missing_part("file"))?;
    let mut file = None;
    while let Some(field) =
        multipart.next_field().await.map_err(|e| multipart_error(&e, state.config.max_request_size))?
    {
        let name = field.name().unwrap_or_default().to_string();
        if name == "file" {
            file = Some(field.bytes().await.map_err(|e| multipart_error(&e, state.config.max_request_size))?);
        } else if !name.is_empty() {
            let value = field.text().await.map_err(|e| multipart_error(&e, state.config.max_request_size))?;
            params.push(name, value);
        }
    }
    let file = file.ok_or_else(|| ApiError::missing_part("file"))?;
    run(&state, &params, file.to_vec()).await.map(Json)
}

#[derive(Deserialize)]
struct Base64Body {
    file: Option<String>,
}

/// `POST /find_faces_base64`: JSON `{"file": "<base64>"}`, parameters in the query.
async fn find_faces_base64(
    State(state): State<Arc<AppState>>,
    RawQuery(query): RawQuery,
    request: Request,
) -> Result<Json<FindFacesResponse>, ApiError> {
    let params = Params::from_query(query.as_deref());
    let limit = state.config.max_request_size;
    let bytes = axum::body::to_bytes(request.into_body(), usize::try_from(limit).unwrap_or(usize::MAX))
        .await
        .map_err(|_| ApiError::too_large("request", limit))?;
    let body: Base64Body = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::validation(format!("The request body is not valid JSON: {e}")))?;
    let encoded = body.file.filter(|f| !f.is_empty()).ok_or_else(|| ApiError::empty_field("file"))?;
    let image = visage_common::upload::decode_base64(&encoded)?;
    run(&state, &params, image).await.map(Json)
}

async fn run(state: &Arc<AppState>, params: &Params, image: Vec<u8>) -> Result<FindFacesResponse, ApiError> {
    let limit = match params.int("limit")? {
        None => 0,
        Some(n) if n >= 0 => n as usize,
        Some(_) => return Err(ApiError::validation("Parameter 'limit' must be zero or positive")),
    };
    let det_prob_threshold = match params.float("det_prob_threshold")? {
        None => None,
        Some(t) if (0.0..=1.0).contains(&t) => Some(t as f32),
        Some(_) => return Err(ApiError::validation("Parameter 'det_prob_threshold' must be between 0 and 1")),
    };
    let requested = PluginSet::parse_request(&params.get("face_plugins").unwrap_or_default());
    let request = pipeline::Request {
        limit,
        det_prob_threshold,
        plugins: requested.intersect(state.offered),
        detect_faces: params.bool_or("detect_faces", true)?,
    };
    // Inference is CPU-bound: at most `workers` requests run at once, each on a blocking thread,
    // so the async runtime keeps serving health checks and queued requests wait their turn. At
    // most `max_queued` wait: more are answered 503 at once rather than queued without end. A
    // request whose client goes away while it waits is dropped here and never runs.
    let _permit = {
        let _place = QueuePlace::take(state).inspect_err(|_| {
            state.metrics.rejected.inc();
        })?;
        state.workers.acquire().await.map_err(|_| ApiError::unexpected().with_status(503))?
    };
    // A request running alone spreads its networks over the backend's intra-op threads, so a
    // single client gets every core; while others run, each keeps to its thread and the cores
    // are not oversubscribed (measured in docs/benchmarks.md).
    let alone = state.workers.available_permits() + 1 >= state.config.workers;
    let task_state = Arc::clone(state);
    let work = visage_http::spawn_blocking(move || {
        let s = &task_state;
        let run = || pipeline::find_faces(&s.engine, &s.config.decode_limits, &image, &request);
        if alone {
            s.engine.run_alone(run)
        } else {
            run()
        }
    });
    let answer = work.await.map_err(|e| {
        tracing::error!(error = %e, "inference task failed");
        ApiError::unexpected().with_status(500)
    })?;
    match &answer {
        Ok(found) => state.metrics.record(found),
        Err(e) if e.code == visage_common::ErrorCode::NoFaceFound => state.metrics.record_no_face(),
        Err(_) => {}
    }
    answer
}

/// A request's place in the inference queue, given back when it is dropped (the request got a
/// worker, or its client went away).
struct QueuePlace<'a>(&'a std::sync::atomic::AtomicUsize);

impl<'a> QueuePlace<'a> {
    fn take(state: &'a AppState) -> Result<Self, ApiError> {
        use std::sync::atomic::Ordering;
        let waiting = state.queued.fetch_add(1, Ordering::AcqRel);
        let place = Self(&state.queued);
        if waiting >= state.config.max_queued && state.workers.available_permits() == 0 {
            return Err(ApiError::new(
                visage_common::ErrorCode::Undefined,
                format!("core-service is busy: {waiting} requests are waiting for inference, please retry"),
            )
            .with_status(503));
        }
        Ok(place)
    }
}

impl Drop for QueuePlace<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
    }
}
