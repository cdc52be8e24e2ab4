use admin_service::{cli, Application, Settings};
use visage_http::telemetry;

const USAGE: &str = "usage: admin-service                       serve the admin API
       admin-service reset-password EMAIL  set a new password (first line of standard input,
                                           or a generated one that is printed)";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        [] => serve().await,
        ["reset-password", email] => {
            let settings = Settings::from_env()?;
            println!("{}", cli::reset_password(&settings, email).await?);
            Ok(())
        }
        ["-h" | "--help" | "help"] => {
            println!("{USAGE}");
            Ok(())
        }
        _ => {
            eprintln!("{USAGE}");
            std::process::exit(2);
        }
    }
}

async fn serve() -> anyhow::Result<()> {
    telemetry::init();
    let settings = Settings::from_env()?;
    tracing::info!(?settings, "starting admin-service");
    let app = Application::build(settings).await?;
    tracing::info!(port = app.port(), "admin-service listening");
    app.run_until_stopped().await?;
    Ok(())
}
