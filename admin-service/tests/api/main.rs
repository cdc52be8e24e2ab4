//! admin-service over HTTP against a real Postgres: login, users, applications, members,
//! services, the role matrix, e-mail over a real SMTP server, and bad input. One binary.

mod apps;
mod auth;
mod bad_input;
mod email;
mod helpers;
mod operations;
mod roles;
mod services;
mod users;
