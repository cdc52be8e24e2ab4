use admin_service::{cli, compreface, Application, Settings};
use visage_http::telemetry;

const USAGE: &str = "usage: admin-service                       serve the admin API
       admin-service reset-password EMAIL  set a new password (first line of standard input,
                                           or a generated one that is printed)
       admin-service create-owner EMAIL [--password-file FILE]
                                           make the first account, the installation's OWNER
                                           (password: the file's first line, else standard
                                           input, else a generated one that is printed)
       admin-service import-compreface --from URL [--core URL] [--max-faces N]
                                           move a CompreFace 1.x installation in: users, apps,
                                           services with their API keys, subjects, statistics;
                                           faces re-embedded from their stored photos
           --from URL       CompreFace's database, postgres://user:password@host:port/db
           --core URL       core-service (default: CORE_URL, else http://localhost:3000)
           --max-faces N    re-embed at most N photos in this run; the next run goes on
       Visage's database comes from DATABASE_URL (or POSTGRES_URL) as when serving.
       import-compreface can be run again at any time: it adds what is missing, nothing twice.";

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
        ["create-owner", ..] => {
            let settings = Settings::from_env()?;
            match cli::create_owner(&settings, &args[1..]).await {
                Ok(message) => {
                    println!("{message}");
                    Ok(())
                }
                Err(e) => {
                    eprintln!("admin-service create-owner: {e:#}");
                    std::process::exit(1);
                }
            }
        }
        ["import-compreface", ..] => {
            let options = cli::import_options(&args[1..]).unwrap_or_else(|e| {
                eprintln!("admin-service import-compreface: {e}\n\n{USAGE}");
                std::process::exit(2);
            });
            let settings = Settings::from_env()?;
            match compreface::import(settings.database, &options).await {
                Ok(summary) => {
                    print!("{summary}");
                    Ok(())
                }
                Err(e) => {
                    eprintln!("admin-service import-compreface: {e}");
                    std::process::exit(1);
                }
            }
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
