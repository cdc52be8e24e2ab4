//! End-to-end tests that drive the running services over HTTP.
