//! Building and running the service: connect and migrate the database, bind the listener, serve.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderName, Method};
use axum::Router;
use prometheus_client::metrics::gauge::Gauge;
use tokio::net::TcpListener;
use tower_http::cors::{AllowOrigin, CorsLayer};
use visage_http::health::Health;
use visage_http::metrics::{Metrics, MetricsBuilder};
use visage_http::{layers, Server};
use visage_store::Store;

use crate::auth::API_KEY_HEADER;
use crate::collections::Collections;
use crate::config::Settings;
use crate::core_client::CoreClient;
use crate::routes;
use crate::state::AppState;

/// Builds api-service: [`Application::build`] answers the bound [`Server`] once every
/// collection is loaded (`PRELOAD`).
pub struct Application;

impl Application {
    /// Connects to the database, applies pending migrations, loads the collections and binds
    /// the listener (port 0 picks a free port).
    pub async fn build(settings: Settings) -> anyhow::Result<Server> {
        let store = Store::open(settings.database.clone(), settings.db_max_connections).await?;
        Self::build_with_store(settings, store).await
    }

    /// Like [`Application::build`] on a store that is connected and migrated already.
    pub async fn build_with_store(settings: Settings, store: Store) -> anyhow::Result<Server> {
        let core = CoreClient::new(&settings.core_url, settings.core_connect_timeout, settings.core_timeout)
            .context("cannot set up the core-service client")?;
        let collections = Collections::start(store.clone()).await.context("cannot listen for collection changes")?;
        // Deletions marked by any process are purged by whichever takes them first.
        store.spawn_purger();
        // Ready means the collections are in memory: the port opens after they are loaded, so
        // nginx (which has no readiness checks of its own) and a Kubernetes readiness probe only
        // send requests to a replica that answers them at full speed.
        if settings.preload {
            collections.preload().await.context("cannot list the collections to load")?;
        }
        let listener = TcpListener::bind(settings.listen)
            .await
            .with_context(|| format!("cannot listen on {}", settings.listen))?;
        let state = AppState {
            store,
            core: Arc::new(core),
            settings: Arc::new(settings),
            collections,
            migration: Arc::default(),
            thumbnails: Arc::default(),
        };
        Ok(Server::new(listener, app(state))?)
    }
}

/// The routes with what applies to all of them: the body size limit and the standard layers
/// (request id, route span, JSON 500 on panic, request metrics), with CORS for browsers; and, at
/// the root, `/metrics` and `/health/live`, `/health/ready`. No overall timeout: the calls to
/// core-service have their own (`READ_TIMEOUT`).
pub fn app(state: AppState) -> Router {
    let body_limit = usize::try_from(state.settings.max_request_size).unwrap_or(usize::MAX);
    // A refused upload is read to its end (up to the larger of the request limit and the
    // default) so that it reaches the client through the front door.
    let drain = layers::DrainLimits {
        max_bytes: state.settings.max_request_size.max(layers::DrainLimits::default().max_bytes),
        ..layers::DrainLimits::default()
    };
    let metrics = metrics(&state);
    let health = Health::new()
        .database({
            let store = state.store.clone();
            move || {
                let store = store.clone();
                async move { store.ping().await.map_err(|e| e.to_string()) }
            }
        })
        .check("core", {
            let core = state.core.clone();
            move || {
                let core = core.clone();
                async move { core.healthcheck().await }
            }
        });
    let router =
        routes::router(state).layer(DefaultBodyLimit::max(body_limit)).merge(metrics.routes()).merge(health.routes());
    layers::standard(
        router,
        layers::Options { cors: Some(cors()), metrics: Some(metrics), drain, ..layers::Options::default() },
    )
}

/// api-service's metrics, besides the request metrics every service records:
///
/// | metric | type | labels |
/// |---|---|---|
/// | `visage_search_seconds` | histogram | |
/// | `visage_collections_loaded`, `visage_collection_faces`, `visage_collection_index_bytes` | gauges | |
/// | `visage_core_call_failures_total` | counter | `kind`: `unreachable`, `status`, `unreadable`, `failover` |
/// | `visage_collection_catch_ups_total`, `visage_collection_reloads_total` | counters | |
/// | `visage_db_connections{state}`, `visage_db_connections_max` | gauges | |
fn metrics(state: &AppState) -> Metrics {
    let mut builder = MetricsBuilder::new();
    let store = state.store.clone();
    builder.database_pool(move || store.pool_state());
    let registry = builder.registry();
    registry.register("search_seconds", "Time to search a collection", state.collections.search_histogram());
    registry.register("core_call_failures", "Calls to core-service that failed", state.core.failures());
    let (catch_ups, reloads) = state.collections.recoveries();
    registry.register(
        "collection_catch_ups",
        "Lost listening connections recovered by reading the change log",
        catch_ups,
    );
    registry.register(
        "collection_reloads",
        "Lost listening connections recovered by reloading every collection",
        reloads,
    );
    let (loaded, faces, bytes): (Gauge, Gauge, Gauge) = Default::default();
    registry.register("collections_loaded", "Recognition collections loaded in this process", loaded.clone());
    registry.register("collection_faces", "Faces in the loaded collections", faces.clone());
    registry.register("collection_index_bytes", "Memory of the loaded collections' search structures", bytes.clone());
    let collections = state.collections.clone();
    builder.on_scrape(move || {
        let (n, f, b) = collections.stats();
        loaded.set(n as i64);
        faces.set(f as i64);
        bytes.set(b as i64);
    });
    builder.build()
}

/// CORS as CompreFace's front proxy sets it for `/api/v1`: any origin, the API's methods and
/// headers (with `x-api-key`), preflights cached for 20 days.
fn cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::any())
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS, Method::PUT, Method::DELETE])
        .allow_headers([
            HeaderName::from_static("dnt"),
            header::USER_AGENT,
            HeaderName::from_static("x-requested-with"),
            header::IF_MODIFIED_SINCE,
            header::CACHE_CONTROL,
            header::CONTENT_TYPE,
            header::RANGE,
            HeaderName::from_static(API_KEY_HEADER),
        ])
        .max_age(Duration::from_secs(1_728_000))
}
