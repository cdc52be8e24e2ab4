//! The HTTP foundation shared by core-service, api-service and admin-service.
//!
//! - [`telemetry`]: one `tracing` subscriber per process, filtered by `RUST_LOG`.
//! - [`layers`]: what every service wraps its routes in: a request id (`x-request-id`, taken
//!   from the client or made up, answered back and written in every log line of the request), a
//!   span named by the matched route, a JSON 500 for a panicking handler, a request timeout with
//!   a JSON answer, and CORS where a service wants it.
//! - [`drain`]: the rest of a request body an early answer left unread is read before the answer
//!   goes out, so a refusal reaches the client through a proxy instead of a 502.
//! - [`metrics`]: a Prometheus registry per service, `GET /metrics`, and the request metrics
//!   (count, status, latency by route template) recorded by the standard layers.
//! - [`health`]: `GET /health/live` and `GET /health/ready` for orchestrators.
//! - [`docs`]: the OpenAPI document's common parts (error answers from each operation's codes)
//!   and Swagger UI with the document at `{base}/docs`, `{base}/openapi.json`.
//! - [`fallback`]: the JSON 404 for unknown paths and the JSON answer for an unserved method.
//! - [`extract`]: extractors whose rejections are `{message, code}` errors: [`extract::Query`],
//!   [`extract::PathParam`], [`extract::JsonBody`], and the checks behind them.
//! - [`multipart_error`]: a multipart reading error as the client should see it.
//! - [`spawn_blocking`]: blocking work (inference, decoding, password hashing) on tokio's
//!   blocking pool inside the request's span, so its logs carry the request id and route.
//! - [`Server`]: a bound listener with its router, serving until a shutdown signal and finishing
//!   requests in flight; every service's `Application::build` returns one.

pub mod docs;
pub mod drain;
pub mod extract;
pub mod fallback;
pub mod health;
pub mod layers;
pub mod metrics;
pub mod telemetry;

use std::future::Future;

use axum::extract::multipart::MultipartError;
use axum::http::StatusCode;
use axum::Router;
use tokio::net::TcpListener;
use visage_common::ApiError;

/// A bound, ready-to-serve service: what each service's `Application::build` returns, so tests
/// start exactly what production starts (on port 0 for a free port).
pub struct Server {
    listener: TcpListener,
    router: Router,
    port: u16,
}

impl Server {
    /// `router` on `listener`.
    pub fn new(listener: TcpListener, router: Router) -> std::io::Result<Self> {
        let port = listener.local_addr()?.port();
        Ok(Self { listener, router, port })
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until the process receives Ctrl-C or SIGTERM, then finishes requests in flight.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_until(visage_common::shutdown::shutdown_signal()).await
    }

    /// Serves until `stop` resolves, then lets requests in flight finish.
    pub async fn run_until(self, stop: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        // Handlers may read the peer's address (admin-service's login throttle).
        let service = self.router.into_make_service_with_connect_info::<std::net::SocketAddr>();
        axum::serve(self.listener, service).with_graceful_shutdown(stop).await
    }
}

/// Runs `work` on the blocking pool inside the current tracing span (the request's).
pub fn spawn_blocking<F, R>(work: F) -> tokio::task::JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || span.in_scope(work))
}

/// A multipart body that cannot be read: 413 naming `limit` when it is too large, 400 code 26
/// when it is malformed.
pub fn multipart_error(e: &MultipartError, limit: u64) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::too_large("request", limit)
    } else {
        ApiError::validation(format!("The multipart body is malformed: {}", e.body_text()))
    }
}
