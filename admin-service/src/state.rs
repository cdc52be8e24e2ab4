//! What every request handler shares.

use std::sync::Arc;

use visage_store::Store;

use crate::config::Settings;
use crate::mail::Mailer;
use crate::password::Hashing;

/// The state behind every route; cloning it is cheap.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Store,
    pub settings: Arc<Settings>,
    /// `None` when e-mail is off.
    pub mailer: Option<Mailer>,
    /// The gate of password hashing (one per CPU at once, a short queue, then 503).
    pub hashing: Arc<Hashing>,
}
