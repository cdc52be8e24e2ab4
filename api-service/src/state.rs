//! What every request handler shares.

use std::sync::Arc;

use visage_store::Store;

use crate::collections::Collections;
use crate::config::Settings;
use crate::core_client::CoreClient;
use crate::migration::Migration;
use crate::thumbnails::Thumbnails;

/// The state behind every route; cloning it is cheap.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Store,
    pub core: Arc<CoreClient>,
    pub settings: Arc<Settings>,
    /// The recognition services' faces in memory.
    pub collections: Collections,
    pub migration: Arc<Migration>,
    /// Makes face thumbnails a few at a time.
    pub thumbnails: Arc<Thumbnails>,
}
