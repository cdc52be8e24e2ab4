//! End-to-end tests that drive the running services over HTTP.
//!
//! The helpers start the real services in-process: [`core::url`] one core-service per test
//! process with the models of `models/`, and `api_service::testing::TestApp` (feature
//! `testing`) an api-service over a fresh database per test; [`front_door::FrontDoor`] the real
//! nginx configuration in front of them.

pub mod core;
pub mod front_door;
