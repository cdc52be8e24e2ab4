//! Building and running the service: connect and migrate the database, apply the demo-key
//! setting, bind the listener, serve.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::extract::DefaultBodyLimit;
use axum::Router;
use tokio::net::TcpListener;
use visage_http::layers;
use visage_store::Store;

use crate::config::Settings;
use crate::mail::Mailer;
use crate::routes;
use crate::state::AppState;

/// The largest request body the admin reads (JSON and login forms are small).
const MAX_BODY: usize = 64 * 1024;

/// A bound, ready-to-serve admin-service.
pub struct Application {
    listener: TcpListener,
    router: Router,
    port: u16,
}

impl Application {
    /// Connects to the database, applies pending migrations and binds the listener (port 0
    /// picks a free port).
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let store = Store::connect(settings.database.clone(), settings.db_max_connections)
            .await
            .with_context(|| format!("cannot connect to {}", visage_store::config::describe(&settings.database)))?;
        store.migrate().await.context("cannot migrate the database")?;
        Self::build_with_store(settings, store).await
    }

    /// Like [`Application::build`] on a store that is connected and migrated already.
    pub async fn build_with_store(settings: Settings, store: Store) -> anyhow::Result<Self> {
        let mailer = settings.mail.as_ref().map(Mailer::new).transpose().context("cannot set up e-mail")?;
        if !settings.demo_keys {
            let retired = store.retire_demo_keys().await.context("cannot retire the demo API keys")?;
            if retired > 0 {
                tracing::info!(retired, "DEMO_KEYS=false: the demo services got random API keys");
            }
        }
        let listener = TcpListener::bind(settings.listen)
            .await
            .with_context(|| format!("cannot listen on {}", settings.listen))?;
        let port = listener.local_addr()?.port();
        let state = AppState { store, settings: Arc::new(settings), mailer };
        Ok(Self { listener, router: app(state), port })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until the process receives Ctrl-C or SIGTERM, then finishes requests in flight.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_until(visage_common::shutdown::shutdown_signal()).await
    }

    /// Serves until `stop` resolves.
    pub async fn run_until(self, stop: impl std::future::Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        visage_http::serve(self.listener, self.router, stop).await
    }
}

/// The routes with the body limit and the standard layers. No CORS: the UI is served from the
/// same origin, and the session cookie must not be usable from others.
pub fn app(state: AppState) -> Router {
    let router = routes::router(state).layer(DefaultBodyLimit::max(MAX_BODY));
    layers::standard(router, layers::Options { timeout: Some(Duration::from_secs(30)), cors: None })
}
