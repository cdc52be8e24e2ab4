//! admin-service: the admin API of Visage (`/admin`, CompreFace-compatible): users and login,
//! applications and their members, face services and their API keys, statistics.
//!
//! The library holds everything; `main.rs` reads [`Settings`] and runs [`Application`], which
//! tests start the same way on port 0.
//!
//! - [`config`]: settings from defaults and the environment (CompreFace's variable names too).
//! - [`startup`]: database connection and migration, the listener, middleware, serving.
//! - [`auth`]: the session extractor (`CFSESSION` cookie or bearer token) and the role policies
//!   as types (`AppAccess<ManageApp>`).
//! - [`routes`]: one module per resource.
//! - [`password`]: argon2id hashing, CompreFace's bcrypt hashes accepted and replaced.
//! - [`throttle`]: failed logins per e-mail address, refused for a while after ten.
//! - [`tokens`]: random tokens and the hashes stored in their place.
//! - [`mail`]: e-mail over SMTP.
//! - [`validation`]: checks of names, e-mail addresses and passwords.
//! - [`dto`]: the JSON answers.
//! - [`error`]: the two error shapes (`{message, code}` and OAuth2's).
//! - [`cli`]: the command-line tasks (`reset-password`, `import-compreface`).
//! - [`compreface`]: moving a CompreFace installation in: its users, applications, services with
//!   their API keys, subjects and faces (re-embedded by core-service), statistics.
//! - `testing` (feature `testing`): the real service on a free port over a fresh database.

pub mod auth;
pub mod cli;
pub mod compreface;
pub mod config;
pub mod dto;
pub mod error;
pub mod mail;
pub mod password;
pub mod routes;
pub mod startup;
pub mod state;
#[cfg(feature = "testing")]
pub mod testing;
pub mod throttle;
pub mod tokens;
pub mod validation;

pub use config::Settings;
pub use startup::Application;
