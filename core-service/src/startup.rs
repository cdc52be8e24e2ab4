//! Building and running the service: load the models, bind the listener, serve.

use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use visage_common::face::CoreStatus;
use visage_http::Server;
use visage_inference::engine::{Engine, EngineConfig};
use visage_inference::model::{IntraOpPool, ModelError};

use crate::config::Config;
use crate::plugins::{plugin_version, PluginModels};
use crate::routes;

/// Everything a request handler needs.
pub struct AppState {
    pub config: Config,
    pub engine: Engine,
    pub models: PluginModels,
    /// One permit per request allowed to run inference at once.
    pub workers: Semaphore,
    /// Requests waiting for a permit.
    pub queued: std::sync::atomic::AtomicUsize,
    /// `/status`, fixed once the models are loaded.
    pub status: CoreStatus,
    /// Threads that the networks of a request running alone spread their work over.
    pub intra_op: Option<IntraOpPool>,
}

/// Builds core-service: [`Application::build`] answers the bound [`Server`].
pub struct Application;

impl Application {
    /// Loads the models (on a blocking thread) and binds the listener; port 0 picks a free port.
    pub async fn build(config: Config) -> anyhow::Result<Server> {
        let engine_config = EngineConfig {
            models_dir: config.models_dir.clone(),
            detector: config.detector,
            embedder: config.embedder,
            max_detect_size: config.max_detect_size,
            ..EngineConfig::default()
        };
        let (models_dir, wanted) = (config.models_dir.clone(), config.plugins);
        let (engine, models) = tokio::task::spawn_blocking(move || {
            Ok::<_, ModelError>((Engine::load(engine_config)?, PluginModels::load(&models_dir, wanted)?))
        })
        .await
        .context("model loading panicked")?
        .context("cannot load the models")?;
        let status = status_of(&engine, &models);
        let workers = Semaphore::new(config.workers);
        let listener =
            TcpListener::bind(config.listen).await.with_context(|| format!("cannot listen on {}", config.listen))?;
        let intra_op = IntraOpPool::new(config.intra_op_threads);
        let state =
            Arc::new(AppState { config, engine, models, workers, queued: Default::default(), status, intra_op });
        // No overall timeout: the inference queue is bounded instead (INFERENCE_QUEUE).
        let router = visage_http::layers::standard(routes::router(state), visage_http::layers::Options::default());
        Ok(Server::new(listener, router)?)
    }
}

fn status_of(engine: &Engine, models: &PluginModels) -> CoreStatus {
    let mut available_plugins =
        std::collections::BTreeMap::from([("detector".to_string(), engine.detector_version().to_string())]);
    for plugin in models.offered().iter() {
        available_plugins.insert(plugin.slug().to_string(), plugin_version(engine, plugin).to_string());
    }
    CoreStatus {
        status: "OK".to_string(),
        build_version: env!("CARGO_PKG_VERSION").to_string(),
        calculator_version: engine.calculator_version().to_string(),
        similarity_coefficients: engine.similarity_coefficients(),
        available_plugins,
    }
}
