use core_service::{Application, Config};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    visage_http::telemetry::init();
    let config = Config::from_env()?;
    let app = Application::build(config).await?;
    tracing::info!(port = app.port(), "core-service listening");
    app.run_until_stopped().await?;
    Ok(())
}
