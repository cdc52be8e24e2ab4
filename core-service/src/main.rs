use core_service::{Application, Config};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .init();
    let config = Config::from_env()?;
    let app = Application::build(config).await?;
    tracing::info!(port = app.port(), "core-service listening");
    app.run_until_stopped().await?;
    Ok(())
}
