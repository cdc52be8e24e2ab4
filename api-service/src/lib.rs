//! api-service: the public REST API of Visage (`/api/v1`, CompreFace-compatible).
//!
//! The library holds everything; `main.rs` reads [`Settings`] and runs [`Application`], which
//! tests start the same way on port 0.
//!
//! - [`config`]: settings from defaults and the environment (CompreFace's variable names too).
//! - [`startup`]: database connection and migration, the listener, middleware, serving (on `visage_http`'s foundation).
//! - [`auth`]: the `x-api-key` extractor, typed by service kind (`ApiKey<Recognition>`).
//! - [`params`]: query parameters, JSON bodies and path ids with CompreFace's parsing rules.
//! - [`upload`]: images from multipart or base64 JSON, with size limits and format checks.
//! - [`error`]: the store's errors as API errors.
//! - [`core_client`]: calls to core-service (`/find_faces`, cached `/status`) and their errors.
//! - [`collections`]: the recognition services' faces in memory, searched by recognition and
//!   kept equal to the database across processes (Postgres `LISTEN/NOTIFY`).
//! - [`processing`]: parameters of the image endpoints and how core's faces are shown.
//! - [`migration`]: `/migrate`, recomputing embeddings of another embedder.
//! - [`thumbnails`]: square face thumbnails of stored photos, a few at a time.
//! - [`transfer`]: a collection in and out as an archive of photos: the background import
//!   and the streamed export.
//! - [`routes`]: one module per resource.
//! - `testing` (feature `testing`): the real service on a free port over a fresh database.
//!
//! Every error a client sees is `{"message", "code"}` (`visage_common::ApiError`); database
//! failures are logged with their cause and answered with the generic code 0.

pub mod auth;
pub mod collections;
pub mod config;
pub mod core_client;
pub mod error;
pub mod migration;
pub mod params;
pub mod processing;
pub mod routes;
pub mod startup;
pub mod state;
#[cfg(feature = "testing")]
pub mod testing;
pub mod thumbnails;
pub mod transfer;
pub mod upload;

pub use config::Settings;
pub use startup::Application;
