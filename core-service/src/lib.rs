//! core-service: stateless face inference over HTTP, compatible with CompreFace's
//! embedding-calculator (`/healthcheck`, `/status`, `/find_faces`, `/find_faces_base64`), with
//! `/metrics` (Prometheus) and `/health/live`, `/health/ready` for operators.
//!
//! The library holds everything; `main.rs` only reads the configuration and runs
//! [`startup::Application`], which tests start the same way on port 0.

pub mod config;
pub mod metrics;
pub mod pipeline;
pub mod plugins;
pub mod routes;
pub mod startup;

pub use config::Config;
pub use startup::Application;
