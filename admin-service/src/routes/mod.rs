//! The routes of `/admin`, one module per resource.
//!
//! - [`auth`] serves `/oauth/token` (login, refresh, logout)
//! - [`users`] serves `/user/…` (registration, password reset, profile, global roles, deletion)
//! - [`apps`] serves `/apps`, `/app`, `/app/{id}`, `/app/{id}/apikey`
//! - [`members`] serves `/app/{id}/roles`, `/assign-roles`, `/invite`, `/role`, `/user/{userId}`
//! - [`services`] serves `/app/{id}/models`, `/app/{id}/model…` (services, keys, statistics)
//! - [`system`] serves `/status`, `/config`
//!
//! Whatever no route serves is a JSON 404 (code 0).

pub mod apps;
pub mod auth;
pub mod members;
pub mod services;
pub mod system;
pub mod users;

use axum::Router;
use visage_http::fallback::{method_not_allowed, no_route};

use crate::state::AppState;

/// Everything admin-service serves, under `/admin`.
pub fn router(state: AppState) -> Router {
    let admin = Router::new()
        .merge(auth::routes())
        .merge(users::routes())
        .merge(apps::routes())
        .merge(members::routes())
        .merge(services::routes())
        .merge(system::routes())
        .method_not_allowed_fallback(method_not_allowed);
    Router::new().nest("/admin", admin).fallback(no_route).with_state(state)
}
