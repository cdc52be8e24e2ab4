//! Applications: list, create, read, rename, delete, new API key.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use visage_http::extract::JsonBody;
use visage_store::Role;

use crate::auth::{AppAccess, AuthUser, GlobalAdmin, ManageApp, ReadApp};
use crate::dto::AppDto;
use crate::error::Result;
use crate::state::AppState;
use crate::validation;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(create))
        .routes(routes!(read, rename, remove))
        .routes(routes!(regenerate_key))
}

/// The error codes of every call of one application (`AppAccess`): the path's id is no UUID (26),
/// no such application (2), the caller is no member (1).
pub(crate) const APP_CODES: [u32; 3] = [26, 2, 1];

/// `{"name"}`: an application's or a service's name.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"name": "Front door"}))]
pub(crate) struct NameBody {
    /// 1 to 50 characters, none of `;`, `/`, `\`; unique among the applications (or the
    /// application's services).
    #[schema(required = true, value_type = String)]
    pub name: Option<String>,
}

/// The application's path parameter.
pub(crate) const APP_ID: &str = "The application's id";

/// List applications
///
/// Every application for a global OWNER or ADMINISTRATOR, else those the caller is a member of;
/// by name, each with the caller's role in it.
#[utoipa::path(
    get, path = "/apps", operation_id = "listApps", tag = "applications",
    responses((status = 200, description = "The applications", body = Vec<AppDto>)),
)]
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

/// Create an application
///
/// Global OWNER and ADMINISTRATOR only; the creator owns the application.
#[utoipa::path(
    post, path = "/app", operation_id = "createApp", tag = "applications",
    request_body = NameBody,
    responses((status = 201, description = "The new application", body = AppDto)),
    extensions(("x-error-codes" = json!([9, 5, 26, 17]))),
)]
async fn create(
    State(state): State<AppState>,
    GlobalAdmin(user): GlobalAdmin,
    JsonBody(body): JsonBody<NameBody>,
) -> Result<(StatusCode, Json<AppDto>)> {
    let name = validation::entity_name("Application", body.name.as_deref())?;
    let app = state.store.create_app(&name, user.id).await?;
    Ok((StatusCode::CREATED, Json(AppDto::new(&app, Some(Role::Owner)))))
}

/// Read an application
///
/// Any member, and global OWNER and ADMINISTRATOR.
#[utoipa::path(
    get, path = "/app/{app_id}", operation_id = "getApp", tag = "applications",
    params(("app_id" = Uuid, Path, description = APP_ID)),
    responses((status = 200, description = "The application", body = AppDto)),
    extensions(("x-error-codes" = json!(APP_CODES))),
)]
async fn read(access: AppAccess<ReadApp>) -> Json<AppDto> {
    Json(AppDto::new(&access.app, access.role))
}

/// Rename an application
///
/// The application's OWNER, and global OWNER and ADMINISTRATOR.
#[utoipa::path(
    put, path = "/app/{app_id}", operation_id = "renameApp", tag = "applications",
    params(("app_id" = Uuid, Path, description = APP_ID)),
    request_body(content = NameBody, example = json!({"name": "Back door"})),
    responses((status = 200, description = "The renamed application", body = AppDto)),
    extensions(("x-error-codes" = json!([26, 2, 1, 9, 5, 17]))),
)]
async fn rename(
    State(state): State<AppState>,
    access: AppAccess<ManageApp>,
    JsonBody(body): JsonBody<NameBody>,
) -> Result<Json<AppDto>> {
    let name = validation::entity_name("Application", body.name.as_deref())?;
    let app = state.store.rename_app(access.app.id, &name).await?.unwrap_or(access.app);
    Ok(Json(AppDto::new(&app, access.role)))
}

/// Delete an application
///
/// With its services, their subjects, faces, images and statistics. The application's OWNER,
/// and global OWNER and ADMINISTRATOR.
#[utoipa::path(
    delete, path = "/app/{app_id}", operation_id = "deleteApp", tag = "applications",
    params(("app_id" = Uuid, Path, description = APP_ID)),
    responses((status = 200, description = "Deleted (no body)")),
    extensions(("x-error-codes" = json!([26, 2, 1, 9]))),
)]
async fn remove(State(state): State<AppState>, access: AppAccess<ManageApp>) -> Result<StatusCode> {
    state.store.delete_app(access.app.id).await?;
    tracing::info!(app = %access.app.id, by = %access.user.id, "application deleted");
    Ok(StatusCode::OK)
}

/// Renew an application's key
///
/// A new `apiKey` for the application itself (its services keep theirs). The application's
/// OWNER, and global OWNER and ADMINISTRATOR.
#[utoipa::path(
    put, path = "/app/{app_id}/apikey", operation_id = "renewAppKey", tag = "applications",
    params(("app_id" = Uuid, Path, description = APP_ID)),
    responses((status = 200, description = "The application with its new key", body = AppDto)),
    extensions(("x-error-codes" = json!([26, 2, 1, 9]))),
)]
async fn regenerate_key(State(state): State<AppState>, access: AppAccess<ManageApp>) -> Result<Json<AppDto>> {
    let app = state.store.regenerate_app_key(access.app.id).await?.unwrap_or(access.app);
    Ok(Json(AppDto::new(&app, access.role)))
}
