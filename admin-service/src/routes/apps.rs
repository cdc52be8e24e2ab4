//! Applications: list, create, read, rename, delete, new API key.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use visage_http::extract::JsonBody;
use visage_store::Role;

use crate::auth::{AppAccess, AuthUser, GlobalAdmin, ManageApp, ReadApp};
use crate::dto::AppDto;
use crate::error::Result;
use crate::state::AppState;
use crate::validation;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/apps", get(list))
        .route("/app", post(create))
        .route("/app/{app_id}", get(read).put(rename).delete(remove))
        .route("/app/{app_id}/apikey", put(regenerate_key))
}

#[derive(Deserialize)]
pub(crate) struct NameBody {
    pub name: Option<String>,
}

/// `GET /apps`: every application for a global OWNER or ADMINISTRATOR, else those the caller is a
/// member of; by name, each with the caller's role in it.
async fn list(State(state): State<AppState>, user: AuthUser) -> Result<Json<Vec<AppDto>>> {
    let apps = if user.is_global_admin() {
        state.store.all_apps().await?
    } else {
        state.store.apps_of_member(user.0.id).await?
    };
    let mut answer = Vec::with_capacity(apps.len());
    for app in &apps {
        let role = state.store.app_role(app.id, user.0.id).await?;
        answer.push(AppDto::new(app, role));
    }
    Ok(Json(answer))
}

/// `POST /app {name}`: global OWNER and ADMINISTRATOR; the creator owns the application.
async fn create(
    State(state): State<AppState>,
    GlobalAdmin(user): GlobalAdmin,
    JsonBody(body): JsonBody<NameBody>,
) -> Result<(StatusCode, Json<AppDto>)> {
    let name = validation::entity_name("Application", body.name.as_deref())?;
    let app = state.store.create_app(&name, user.id).await?;
    Ok((StatusCode::CREATED, Json(AppDto::new(&app, Some(Role::Owner)))))
}

async fn read(access: AppAccess<ReadApp>) -> Json<AppDto> {
    Json(AppDto::new(&access.app, access.role))
}

async fn rename(
    State(state): State<AppState>,
    access: AppAccess<ManageApp>,
    JsonBody(body): JsonBody<NameBody>,
) -> Result<Json<AppDto>> {
    let name = validation::entity_name("Application", body.name.as_deref())?;
    let app = state.store.rename_app(access.app.id, &name).await?.unwrap_or(access.app);
    Ok(Json(AppDto::new(&app, access.role)))
}

/// `DELETE /app/{id}`: the application with its services, their faces and images.
async fn remove(State(state): State<AppState>, access: AppAccess<ManageApp>) -> Result<StatusCode> {
    state.store.delete_app(access.app.id).await?;
    tracing::info!(app = %access.app.id, by = %access.user.id, "application deleted");
    Ok(StatusCode::OK)
}

async fn regenerate_key(State(state): State<AppState>, access: AppAccess<ManageApp>) -> Result<Json<AppDto>> {
    let app = state.store.regenerate_app_key(access.app.id).await?.unwrap_or(access.app);
    Ok(Json(AppDto::new(&app, access.role)))
}
