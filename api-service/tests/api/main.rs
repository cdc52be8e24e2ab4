//! api-service end to end: the real service on a free port, over HTTP, against a real Postgres
//! (a fresh database per test). Routes that need core-service for success are tested here up to
//! the core call (core down: code 41, nothing stored); their successful paths run with a real
//! core in the workspace's integration tests.

mod auth;
mod face_views;
mod faces;
mod helpers;
mod service;
mod subjects;
