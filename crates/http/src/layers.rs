//! The layers every service wraps its routes in.

use std::time::Duration;

use axum::extract::{MatchedPath, Request};
use axum::http::HeaderName;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::CorsLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use visage_common::{ApiError, ErrorCode};

pub use crate::drain::DrainLimits;
use crate::metrics::Metrics;

/// The header carrying a request's id, in both directions.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// What [`standard`] adds besides the layers every service gets.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// A request running longer is answered with 503 (code 0) and its work dropped.
    pub timeout: Option<Duration>,
    /// CORS for browsers on other origins.
    pub cors: Option<CorsLayer>,
    /// Records every request (count, status, latency by route template).
    pub metrics: Option<Metrics>,
    /// How much of a body left unread by an early answer is read before the answer goes out
    /// (see [`crate::drain`]).
    pub drain: DrainLimits,
}

/// `router` with the standard layers, outermost first: the rest of a body left unread read before
/// the answer goes out, request id (set, then propagated to the answer), a JSON 500 for panics,
/// the request span, CORS, the timeout.
pub fn standard(router: Router, options: Options) -> Router {
    let mut router = router;
    if let Some(timeout) = options.timeout {
        router = router.layer(axum::middleware::from_fn(move |request: Request, next: Next| async move {
            match tokio::time::timeout(timeout, next.run(request)).await {
                Ok(response) => response,
                Err(_) => timed_out(timeout),
            }
        }));
    }
    if let Some(cors) = options.cors {
        router = router.layer(cors);
    }
    if let Some(metrics) = options.metrics {
        router = router.layer(axum::middleware::from_fn_with_state(metrics, crate::metrics::track));
    }
    router
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request| {
            let route = request.extensions().get::<MatchedPath>().map_or("-", MatchedPath::as_str);
            let id =
                request.extensions().get::<RequestId>().and_then(|id| id.header_value().to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", method = %request.method(), route, path = %request.uri().path(), id)
        }))
        .layer(CatchPanicLayer::custom(|_| -> Response {
            // The panic itself is logged by the panic hook.
            ApiError::unexpected().with_status(500).into_response()
        }))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(axum::middleware::from_fn_with_state(options.drain, crate::drain::layer))
}

fn timed_out(timeout: Duration) -> Response {
    tracing::warn!(?timeout, "request timed out");
    ApiError::new(ErrorCode::Undefined, format!("The request took longer than {} s", timeout.as_secs_f32()))
        .with_status(503)
        .into_response()
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    async fn slow() -> &'static str {
        tokio::time::sleep(Duration::from_secs(5)).await;
        "late"
    }

    async fn boom() -> &'static str {
        panic!("boom")
    }

    fn app() -> Router {
        let router =
            Router::new().route("/slow", get(slow)).route("/boom", get(boom)).route("/ok", get(|| async { "ok" }));
        standard(router, Options { timeout: Some(Duration::from_millis(50)), ..Options::default() })
    }

    #[tokio::test]
    async fn answers_carry_a_request_id_and_keep_the_clients() {
        let response = app().oneshot(Request::get("/ok").body(Body::empty()).unwrap()).await.unwrap();
        let id = response.headers().get("x-request-id").unwrap().to_str().unwrap();
        assert_eq!(id.len(), 36, "a generated UUID: {id}");
        let response = app()
            .oneshot(Request::get("/ok").header("x-request-id", "abc-123").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.headers().get("x-request-id").unwrap(), "abc-123");
    }

    #[tokio::test]
    async fn a_slow_request_times_out_with_json_and_a_panic_is_a_json_500() {
        let response = app().oneshot(Request::get("/slow").body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        let body = axum::body::to_bytes(response.into_body(), 1 << 16).await.unwrap();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["code"], 0);
        let response = app().oneshot(Request::get("/boom").body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(response.headers().contains_key("x-request-id"));
    }
}
