//! Building and running the service: load the models, bind the listener, serve.

use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use visage_common::face::{CoreStatus, InferenceInfo};
use visage_http::health::Health;
use visage_http::metrics::MetricsBuilder;
use visage_http::Server;
use visage_inference::engine::{BackendConfig, Engine, EngineConfig};

use crate::config::Config;
use crate::metrics::CoreMetrics;
use crate::plugins::{plugin_version, Plugin, PluginSet};
use crate::routes;

/// Everything a request handler needs.
pub struct AppState {
    pub config: Config,
    pub engine: Engine,
    /// The plugins this instance runs.
    pub offered: PluginSet,
    /// One permit per request allowed to run inference at once.
    pub workers: Semaphore,
    /// Requests waiting for a permit.
    pub queued: std::sync::atomic::AtomicUsize,
    /// `/status`, fixed once the models are loaded.
    pub status: CoreStatus,
    pub metrics: CoreMetrics,
}

/// Builds core-service: [`Application::build`] answers the bound [`Server`].
pub struct Application;

impl Application {
    /// Loads the models (on a blocking thread) and binds the listener; port 0 picks a free port.
    pub async fn build(config: Config) -> anyhow::Result<Server> {
        let wanted = config.plugins;
        let engine_config = EngineConfig {
            models_dir: config.models_dir.clone(),
            detector: config.detector,
            embedder: config.embedder,
            max_detect_size: config.max_detect_size,
            backend: BackendConfig {
                kind: config.backend,
                device: config.device,
                onnxruntime_library: config
                    .onnxruntime_library
                    .clone()
                    .unwrap_or_else(|| BackendConfig::default_onnxruntime_library(&config.models_dir)),
                threads: config.intra_op_threads,
            },
            age: wanted.contains(Plugin::Age),
            gender: wanted.contains(Plugin::Gender),
            landmarks106: wanted.contains(Plugin::Landmarks2d106),
            mask: wanted.contains(Plugin::Mask),
            ..EngineConfig::default()
        };
        let engine = tokio::task::spawn_blocking(move || Engine::load(engine_config))
            .await
            .context("model loading panicked")?
            .context("cannot load the models")?;
        tracing::info!(
            backend = engine.backend().name(),
            version = %engine.backend().version(),
            device = engine.backend().device().as_str(),
            "inference backend ready"
        );
        if wanted.contains(Plugin::Mask) && engine.mask().is_none() {
            tracing::warn!(
                file = %config.models_dir.join(visage_inference::mask::MODEL_FILE).display(),
                "the face-mask model is missing, so the mask plugin is not offered (scripts/fetch-models.sh fetches it)"
            );
        }
        let offered = PluginSet::offered(wanted, &engine);
        let status = status_of(&engine, offered);
        let workers = Semaphore::new(config.workers);
        let listener =
            TcpListener::bind(config.listen).await.with_context(|| format!("cannot listen on {}", config.listen))?;
        let mut metrics = MetricsBuilder::new();
        let core_metrics = CoreMetrics::register(&mut metrics);
        let state = Arc::new(AppState {
            config,
            engine,
            offered,
            workers,
            queued: Default::default(),
            status,
            metrics: core_metrics,
        });
        CoreMetrics::watch_queue(&mut metrics, &state);
        let metrics = metrics.build();
        let router = routes::router(Arc::clone(&state)).merge(metrics.routes()).merge(health(&state).routes());
        // No overall timeout: the inference queue is bounded instead (INFERENCE_QUEUE).
        let drain = visage_http::layers::DrainLimits {
            max_bytes: state.config.max_request_size.max(visage_http::layers::DrainLimits::default().max_bytes),
            ..Default::default()
        };
        let options = visage_http::layers::Options { metrics: Some(metrics), drain, ..Default::default() };
        Ok(Server::new(listener, visage_http::layers::standard(router, options))?)
    }
}

/// Ready once serving (the port opens when the models are loaded) while the inference queue has
/// room: a full queue turns requests away, so a balancer should send them elsewhere.
fn health(state: &Arc<AppState>) -> Health {
    let state = Arc::downgrade(state);
    Health::new().check("inference_queue", move || {
        let state = state.upgrade();
        async move {
            let state = state.ok_or("stopping")?;
            let waiting = state.queued.load(std::sync::atomic::Ordering::Relaxed);
            if waiting >= state.config.max_queued && state.workers.available_permits() == 0 {
                return Err(format!("full: {waiting} requests waiting"));
            }
            Ok(())
        }
    })
}

fn status_of(engine: &Engine, offered: PluginSet) -> CoreStatus {
    let mut available_plugins =
        std::collections::BTreeMap::from([("detector".to_string(), engine.detector_version().to_string())]);
    for plugin in offered.iter() {
        available_plugins.insert(plugin.slug().to_string(), plugin_version(engine, plugin).to_string());
    }
    CoreStatus {
        status: "OK".to_string(),
        build_version: env!("CARGO_PKG_VERSION").to_string(),
        calculator_version: engine.calculator_version().to_string(),
        similarity_coefficients: engine.similarity_coefficients(),
        available_plugins,
        inference: Some(InferenceInfo {
            backend: engine.backend().name().to_string(),
            version: engine.backend().version(),
            device: engine.backend().device().as_str().to_string(),
        }),
    }
}
