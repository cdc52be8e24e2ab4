//! Logging: one `tracing` subscriber for the process, filtered by `RUST_LOG` (default `info`).

use std::sync::Once;

use tracing_subscriber::EnvFilter;

/// Installs the subscriber, logging to standard output.
pub fn init() {
    install(false);
}

/// Installs the subscriber so that the test harness captures the logs of each test.
pub fn init_for_tests() {
    install(true);
}

/// The first call installs; later ones (tests start many services in one process) do nothing.
fn install(for_tests: bool) {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
        let builder = tracing_subscriber::fmt().with_env_filter(filter);
        // Fails only when another subscriber is installed already, which is fine.
        let _ = if for_tests { builder.with_test_writer().try_init() } else { builder.try_init() };
    });
}
