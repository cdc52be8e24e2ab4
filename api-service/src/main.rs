use api_service::{Application, Settings};
use visage_http::telemetry;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init();
    let settings = Settings::from_env()?;
    tracing::info!(?settings, "starting api-service");
    let app = Application::build(settings).await?;
    tracing::info!(port = app.port(), "api-service listening");
    app.run_until_stopped().await?;
    Ok(())
}
