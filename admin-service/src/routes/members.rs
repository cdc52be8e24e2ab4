//! Members of an application: list, invite, change role, remove.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use uuid::Uuid;
use visage_common::ErrorCode;
use visage_http::extract::{JsonBody, PathParam, Query};
use visage_store::{Member, Role};

use crate::auth::{is_admin, parse_id, AppAccess, ManageApp, ReadApp};
use crate::dto::UserRoleDto;
use crate::error::{Error, Result};
use crate::routes::users::{role_change, user_not_found};
use crate::state::AppState;
use crate::validation;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/app/{app_id}/roles", get(list))
        .route("/app/{app_id}/assign-roles", get(assignable))
        .route("/app/{app_id}/invite", post(invite))
        .route("/app/{app_id}/role", put(set_role))
        .route("/app/{app_id}/user/{user_id}", delete(remove))
}

/// `GET /app/{id}/roles[?search=]`: owner, administrators, users, each by name.
async fn list(
    State(state): State<AppState>,
    access: AppAccess<ReadApp>,
    Query(params): Query,
) -> Result<Json<Vec<UserRoleDto>>> {
    let search = params.non_empty("search");
    let members = state.store.members(access.app.id, search.as_deref().map(str::trim)).await?;
    Ok(Json(members.iter().map(UserRoleDto::from).collect()))
}

/// `GET /app/{id}/assign-roles`: the roles the caller may give in this application.
async fn assignable(access: AppAccess<ReadApp>) -> Json<Vec<Role>> {
    Json(if access.can::<ManageApp>() { Role::ALL.to_vec() } else { Vec::new() })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InviteBody {
    user_email: Option<String>,
    role: Option<String>,
}

async fn member(state: &AppState, app: Uuid, user: Uuid) -> Result<Option<Member>> {
    Ok(state.store.members(app, None).await?.into_iter().find(|m| m.person.id == user))
}

/// `POST /app/{id}/invite {userEmail, role}`: adds a registered user (404 code 16 otherwise; 400
/// code 19 when already a member). Inviting as OWNER hands the application over.
async fn invite(
    State(state): State<AppState>,
    access: AppAccess<ManageApp>,
    JsonBody(body): JsonBody<InviteBody>,
) -> Result<(StatusCode, Json<UserRoleDto>)> {
    let email = validation::email(body.user_email.as_deref())?;
    let role_text = validation::required("role", body.role.as_deref())?;
    let role = Role::parse(&role_text).ok_or_else(|| {
        visage_common::ApiError::validation(format!("Role '{role_text}' is not one of OWNER, ADMINISTRATOR, USER"))
    })?;
    let user = state.store.user_by_email(&email).await?.filter(|u| !u.is_untaken_demo()).ok_or_else(user_not_found)?;
    if state.store.app_role(access.app.id, user.id).await?.is_some() {
        return Err(Error::of(ErrorCode::UserAlreadyHasAccessToApp));
    }
    state.store.set_app_role(access.app.id, user.id, role).await?;
    let added = member(&state, access.app.id, user.id).await?.ok_or_else(user_not_found)?;
    Ok((StatusCode::CREATED, Json(UserRoleDto::from(&added))))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RoleBody {
    user_id: Option<String>,
    role: Option<String>,
}

/// `PUT /app/{id}/role {userId, role}`: not the caller's own role (14), not the owner's (9);
/// giving OWNER makes the previous owner an ADMINISTRATOR.
async fn set_role(
    State(state): State<AppState>,
    access: AppAccess<ManageApp>,
    JsonBody(body): JsonBody<RoleBody>,
) -> Result<Json<UserRoleDto>> {
    let (user_id, role) = role_change(body.user_id.as_deref(), body.role.as_deref())?;
    let current = state.store.app_role(access.app.id, user_id).await?.ok_or_else(user_not_found)?;
    if current == Role::Owner {
        return Err(Error::forbidden());
    }
    if user_id == access.user.id {
        return Err(Error::of(ErrorCode::SelfRoleChange));
    }
    state.store.set_app_role(access.app.id, user_id, role).await?;
    let changed = member(&state, access.app.id, user_id).await?.ok_or_else(user_not_found)?;
    Ok(Json(UserRoleDto::from(&changed)))
}

#[derive(Deserialize)]
struct MemberPath {
    app_id: String,
    user_id: String,
}

/// `DELETE /app/{id}/user/{userId}`: members leave themselves; the app OWNER and global OWNER or
/// ADMINISTRATOR remove others. The owner cannot be removed (hand the application over first).
async fn remove(
    State(state): State<AppState>,
    access: AppAccess<ReadApp>,
    PathParam(path): PathParam<MemberPath>,
) -> Result<StatusCode> {
    debug_assert_eq!(parse_id("appId", &path.app_id).ok(), Some(access.app.id));
    let target = parse_id("userId", &path.user_id)?;
    let role = state.store.app_role(access.app.id, target).await?.ok_or_else(user_not_found)?;
    let allowed = target == access.user.id || is_admin(access.user.global_role) || access.role == Some(Role::Owner);
    if role == Role::Owner || !allowed {
        return Err(Error::forbidden());
    }
    state.store.remove_member(access.app.id, target).await?;
    Ok(StatusCode::OK)
}
