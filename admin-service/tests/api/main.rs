//! admin-service over HTTP against a real Postgres: login, users, applications, members,
//! services, the role matrix, e-mail over a real SMTP server, bad input, and the OpenAPI document.
//! One binary.

mod apps;
mod auth;
mod bad_input;
mod email;
mod helpers;
mod openapi;
mod operations;
mod roles;
mod services;
mod users;
