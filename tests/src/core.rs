//! A real core-service for the tests of this process.
//!
//! Loading the models takes seconds, so the first caller starts one core-service on a free port
//! on a runtime of its own (each `#[tokio::test]` has its own runtime, which ends with the
//! test) and every test of the process shares it. It serves until the process exits.

use std::path::PathBuf;
use std::sync::{mpsc, OnceLock};

use core_service::{Application, Config};

/// The base URL of the shared core-service, starting it on first use.
///
/// # Panics
/// When the models are missing (`scripts/fetch-models.sh` fetches them) or the service does
/// not start: the tests that need it cannot run.
pub fn url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(start)
}

/// Where the models are: `MODELS_DIR`, else the repository's `models/`.
pub fn models_dir() -> PathBuf {
    std::env::var_os("MODELS_DIR").map(PathBuf::from).unwrap_or_else(|| {
        // The checkout that runs the tests (cargo sets the variable), which may not be the
        // one this library was compiled in.
        let dir = std::env::var_os("CARGO_MANIFEST_DIR")
            .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
        dir.ancestors()
            .map(|a| a.join("models"))
            .find(|m| m.join("README.md").exists())
            .unwrap_or_else(|| dir.join("../models"))
    })
}

fn start() -> String {
    spawn_with(|_| {})
}

/// Another core-service with the default test configuration changed by `adjust`, serving until
/// the process exits (it loads the models again: use it for settings the shared one lacks).
pub fn spawn_with(adjust: impl FnOnce(&mut Config)) -> String {
    let mut config = Config { listen: ([127, 0, 0, 1], 0).into(), models_dir: models_dir(), ..Config::default() };
    adjust(&mut config);
    let (port_tx, port_rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("core-service".into())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("no runtime");
            runtime.block_on(async move {
                match Application::build(config).await {
                    Ok(app) => {
                        let _ = port_tx.send(Ok(app.port()));
                        if let Err(e) = app.run_until(std::future::pending()).await {
                            eprintln!("core-service stopped: {e}");
                        }
                    }
                    Err(e) => {
                        let _ = port_tx.send(Err(format!("{e:#}")));
                    }
                }
            });
        })
        .expect("cannot start the core-service thread");
    match port_rx.recv() {
        Ok(Ok(port)) => format!("http://127.0.0.1:{port}"),
        Ok(Err(e)) => panic!("core-service does not start (models in {}?): {e}", models_dir().display()),
        Err(_) => panic!("core-service thread ended before it started"),
    }
}
