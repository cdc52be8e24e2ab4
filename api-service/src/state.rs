//! What every request handler shares.

use std::sync::Arc;

use visage_store::Store;

use crate::config::Settings;
use crate::core_client::CoreClient;

/// The state behind every route; cloning it is cheap.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Store,
    pub core: Arc<CoreClient>,
    pub settings: Arc<Settings>,
}
