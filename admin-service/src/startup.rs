//! Building and running the service: connect and migrate the database, apply the demo-key
//! setting, bind the listener, serve.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::extract::DefaultBodyLimit;
use axum::Router;
use tokio::net::TcpListener;
use visage_http::health::Health;
use visage_http::metrics::MetricsBuilder;
use visage_http::{layers, Server};
use visage_store::Store;

use crate::config::Settings;
use crate::mail::Mailer;
use crate::routes;
use crate::state::AppState;

/// The largest request body the admin reads (JSON and login forms are small).
const MAX_BODY: usize = 64 * 1024;

/// Builds admin-service: [`Application::build`] answers the bound [`Server`].
pub struct Application;

impl Application {
    /// Connects to the database, applies pending migrations and binds the listener (port 0
    /// picks a free port).
    pub async fn build(settings: Settings) -> anyhow::Result<Server> {
        let store = Store::open(settings.database.clone(), settings.db_max_connections).await?;
        Self::build_with_store(settings, store).await
    }

    /// Like [`Application::build`] on a store that is connected and migrated already.
    pub async fn build_with_store(settings: Settings, store: Store) -> anyhow::Result<Server> {
        let mailer = settings.mail.as_ref().map(Mailer::new).transpose().context("cannot set up e-mail")?;
        if settings.sign_up == crate::config::SignUp::Open && settings.mail.is_none() {
            tracing::warn!(
                "SIGN_UP=open without a mail server: anyone who reaches the UI can register an account \
                 without confirming an e-mail address (SIGN_UP=invite admits invited addresses only)"
            );
        }
        if settings.demo_keys == crate::config::DemoKeys::Retire {
            let retired = store.retire_demo_keys().await.context("cannot retire the demo API keys")?;
            if retired > 0 {
                tracing::info!(retired, "DEMO_KEYS=retire: the demo services got random API keys");
            }
        }
        // Deletions marked by any process are purged by whichever takes them first.
        store.spawn_purger();
        let listener = TcpListener::bind(settings.listen)
            .await
            .with_context(|| format!("cannot listen on {}", settings.listen))?;
        let state = AppState {
            store,
            settings: Arc::new(settings),
            mailer,
            hashing: Arc::new(crate::password::Hashing::for_this_machine()),
        };
        Ok(Server::new(listener, app(state))?)
    }
}

/// The routes with the body limit and the standard layers (with the request metrics), and at the
/// root `/metrics` (requests, database pool) and `/health/live`, `/health/ready` (the database).
/// No CORS: the UI is served from the same origin, and the session cookie must not be usable
/// from others.
pub fn app(state: AppState) -> Router {
    let mut metrics = MetricsBuilder::new();
    let store = state.store.clone();
    metrics.database_pool(move || store.pool_state());
    let metrics = metrics.build();
    let health = Health::new().database({
        let store = state.store.clone();
        move || {
            let store = store.clone();
            async move { store.ping().await.map_err(|e| e.to_string()) }
        }
    });
    let router =
        routes::router(state).layer(DefaultBodyLimit::max(MAX_BODY)).merge(metrics.routes()).merge(health.routes());
    let options = layers::Options {
        timeout: Some(Duration::from_secs(30)),
        metrics: Some(metrics),
        ..layers::Options::default()
    };
    layers::standard(router, options)
}
