//! Types shared by the services.
//!
//! - [`config`]: parsing settings from the environment (CompreFace's value forms included).
//! - [`error`]: CompreFace's error codes as one table (code, HTTP status) and the `{message, code}`
//!   body every service answers with.
//! - [`face`]: the JSON of detected faces and of core-service's responses, used by core-service to
//!   write them and by api-service to read them.
//! - [`params`]: query and form parameters the way CompreFace reads them.
//! - [`similarity`]: the distance-to-similarity curve with per-model coefficients.
//! - `shutdown` (feature `http`): the signal the services stop on.
//! - [`upload`]: base64 images, decoded as leniently as CompreFace accepts them.

pub mod config;
pub mod error;
pub mod face;
pub mod params;
#[cfg(feature = "http")]
pub mod shutdown;
pub mod similarity;
pub mod upload;

pub use error::{ApiError, ErrorCode};
