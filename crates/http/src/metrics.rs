//! Prometheus metrics: one registry per service, `GET /metrics` in the text format, and the
//! request metrics every service records.
//!
//! Every service answers, besides its own figures:
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `visage_http_requests_total` | counter | `method`, `route` (the route template, `unmatched` for unknown paths), `status` |
//! | `visage_http_request_duration_seconds` | histogram | `method`, `route` |
//! | `visage_db_connections` | gauge | `state`: `in_use`, `idle` (services with a database) |
//! | `visage_db_connections_max` | gauge | |
//!
//! Labels never carry user data: routes are templates (`/api/v1/recognition/faces/{image_id}`),
//! never paths, and no metric is labelled by subject, key or service id.
//!
//! Gauges that describe state (pool sizes, loaded collections) are read when scraped, by the
//! hooks given to [`MetricsBuilder::on_scrape`].

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// Latency buckets in seconds: 1 ms to about 33 s, doubling.
pub fn latency_buckets() -> impl Iterator<Item = f64> {
    exponential_buckets(0.001, 2.0, 16)
}

/// A histogram of seconds with [`latency_buckets`].
pub fn latency_histogram() -> Histogram {
    Histogram::new(latency_buckets())
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    state: &'static str,
}

type ScrapeHook = Box<dyn Fn() + Send + Sync>;

/// Collects what a service registers before it starts serving.
pub struct MetricsBuilder {
    registry: Registry,
    hooks: Vec<ScrapeHook>,
}

impl Default for MetricsBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl MetricsBuilder {
    /// A registry whose metric names start with `visage_`.
    pub fn new() -> Self {
        Self { registry: Registry::with_prefix("visage"), hooks: Vec::new() }
    }

    /// The registry, to register a service's own metrics.
    pub fn registry(&mut self) -> &mut Registry {
        &mut self.registry
    }

    /// Runs `hook` before every scrape (to set gauges that describe current state).
    pub fn on_scrape(&mut self, hook: impl Fn() + Send + Sync + 'static) {
        self.hooks.push(Box::new(hook));
    }

    /// The database pool's connections in use and idle, and its maximum, read at each scrape
    /// from `state`: `(open, idle, maximum)`.
    pub fn database_pool(&mut self, state: impl Fn() -> (u32, usize, u32) + Send + Sync + 'static) {
        let connections = Family::<PoolLabels, Gauge>::default();
        let max: Gauge = Gauge::default();
        self.registry.register("db_connections", "Database connections by state", connections.clone());
        self.registry.register("db_connections_max", "The database pool's maximum size", max.clone());
        self.on_scrape(move || {
            let (size, idle, most) = state();
            let (size, idle) = (i64::from(size), idle as i64);
            connections.get_or_create(&PoolLabels { state: "in_use" }).set((size - idle).max(0));
            connections.get_or_create(&PoolLabels { state: "idle" }).set(idle);
            max.set(i64::from(most));
        });
    }

    pub fn build(mut self) -> Metrics {
        let requests = Family::<RequestLabels, Counter>::default();
        let durations = Family::<RouteLabels, Histogram>::new_with_constructor(latency_histogram as fn() -> Histogram);
        self.registry.register("http_requests", "HTTP requests answered", requests.clone());
        self.registry.register("http_request_duration_seconds", "Time to answer an HTTP request", durations.clone());
        Metrics { inner: Arc::new(Inner { registry: self.registry, hooks: self.hooks, requests, durations }) }
    }
}

struct Inner {
    registry: Registry,
    hooks: Vec<ScrapeHook>,
    requests: Family<RequestLabels, Counter>,
    durations: Family<RouteLabels, Histogram, fn() -> Histogram>,
}

/// A service's metrics, shared by its middleware and its `/metrics` route.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").field("registry", &self.inner.registry).finish_non_exhaustive()
    }
}

impl Metrics {
    /// Everything in the Prometheus text format.
    pub fn render(&self) -> String {
        for hook in &self.inner.hooks {
            hook();
        }
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.inner.registry);
        out
    }

    /// `GET /metrics`.
    pub fn routes(&self) -> Router {
        let metrics = self.clone();
        Router::new().route(
            "/metrics",
            get(move || async move {
                ([(CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], metrics.render())
                    .into_response()
            }),
        )
    }

    /// Records one request.
    async fn record(self, request: Request, next: Next) -> Response {
        let started = Instant::now();
        let method = request.method().as_str().to_string();
        let route = request.extensions().get::<MatchedPath>().map_or("unmatched", MatchedPath::as_str).to_string();
        let response = next.run(request).await;
        let status = response.status().as_u16();
        self.inner
            .requests
            .get_or_create(&RequestLabels { method: method.clone(), route: route.clone(), status })
            .inc();
        self.inner.durations.get_or_create(&RouteLabels { method, route }).observe(started.elapsed().as_secs_f64());
        response
    }
}

/// The middleware that records every request, with the service's [`Metrics`] as its state
/// (`axum::middleware::from_fn_with_state(metrics, track)`; [`crate::layers::standard`] installs
/// it).
pub async fn track(State(metrics): State<Metrics>, request: Request, next: Next) -> Response {
    metrics.record(request, next).await
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    use super::*;

    #[tokio::test]
    async fn requests_are_counted_by_route_template_and_status() {
        let mut builder = MetricsBuilder::new();
        let faces = Counter::<u64>::default();
        builder.registry().register("things", "Things", faces.clone());
        let seen = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let hook_seen = seen.clone();
        builder.on_scrape(move || {
            hook_seen.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        });
        let metrics = builder.build();
        let router = Router::new()
            .route("/items/{id}", get(|| async { "item" }))
            .layer(axum::middleware::from_fn_with_state(metrics.clone(), track))
            .merge(metrics.routes());
        for path in ["/items/secret-1", "/items/secret-2"] {
            router.clone().oneshot(Request::get(path).body(Body::empty()).unwrap()).await.unwrap();
        }
        faces.inc();
        let response = router.oneshot(Request::get("/metrics").body(Body::empty()).unwrap()).await.unwrap();
        let body = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
        let text = String::from_utf8(body.to_vec()).unwrap();
        assert!(
            text.contains(r#"visage_http_requests_total{method="GET",route="/items/{id}",status="200"} 2"#),
            "{text}"
        );
        assert!(text.contains(r#"visage_http_request_duration_seconds_count{method="GET",route="/items/{id}"} 2"#));
        assert!(text.contains("visage_things_total 1"), "{text}");
        assert!(!text.contains("secret"), "paths never become labels: {text}");
        assert_eq!(seen.load(std::sync::atomic::Ordering::Relaxed), 1);
    }
}
