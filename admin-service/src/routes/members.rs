//! Members of an application: list, invite, change role, remove.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use visage_common::ErrorCode;
use visage_http::extract::{JsonBody, PathParam, Query};
use visage_store::{Member, Role};

use crate::auth::{is_admin, parse_id, AppAccess, ManageApp, ReadApp};
use crate::dto::{RoleName, UserRoleDto};
use crate::error::{Error, Result};
use crate::routes::apps::{APP_CODES, APP_ID};
use crate::routes::users::{role_change, user_not_found, RoleBody};
use crate::state::AppState;
use crate::validation;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(assignable))
        .routes(routes!(invite))
        .routes(routes!(set_role))
        .routes(routes!(remove))
}

/// List an application's members
///
/// The owner, the administrators, the users, each by name; with `search`, those whose e-mail or
/// name contains it.
#[utoipa::path(
    get, path = "/app/{app_id}/roles", operation_id = "listMembers", tag = "members",
    params(
        ("app_id" = Uuid, Path, description = APP_ID),
        ("search" = Option<String>, Query, description = "Only members whose e-mail or name contains this text"),
    ),
    responses((status = 200, description = "The members with their roles", body = Vec<UserRoleDto>)),
    extensions(("x-error-codes" = json!(APP_CODES))),
)]
async fn list(
    State(state): State<AppState>,
    access: AppAccess<ReadApp>,
    Query(params): Query,
) -> Result<Json<Vec<UserRoleDto>>> {
    let search = params.non_empty("search");
    let members = state.store.members(access.app.id, search.as_deref().map(str::trim)).await?;
    Ok(Json(members.iter().map(UserRoleDto::from).collect()))
}

/// The roles the caller may give
///
/// In this application: all three for its OWNER and global OWNER and ADMINISTRATOR, none for
/// others.
#[utoipa::path(
    get, path = "/app/{app_id}/assign-roles", operation_id = "assignableAppRoles", tag = "members",
    params(("app_id" = Uuid, Path, description = APP_ID)),
    responses((status = 200, description = "The roles", body = Vec<RoleName>, example = json!(["OWNER", "ADMINISTRATOR", "USER"]))),
    extensions(("x-error-codes" = json!(APP_CODES))),
)]
async fn assignable(access: AppAccess<ReadApp>) -> Json<Vec<Role>> {
    Json(if access.can::<ManageApp>() { Role::ALL.to_vec() } else { Vec::new() })
}

/// `{"userEmail", "role"}`: a registered user to add to an application.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"userEmail": "ben@example.com", "role": "USER"}))]
struct InviteBody {
    #[schema(required = true, value_type = String)]
    user_email: Option<String>,
    /// `OWNER`, `ADMINISTRATOR` or `USER` (any letter case).
    #[schema(required = true, value_type = RoleName)]
    role: Option<String>,
}

async fn member(state: &AppState, app: Uuid, user: Uuid) -> Result<Option<Member>> {
    Ok(state.store.members(app, None).await?.into_iter().find(|m| m.person.id == user))
}

/// Add a member
///
/// Adds a registered user (404 code 16 otherwise; 400 code 19 when already a member) with a role.
/// Inviting as OWNER hands the application over. The application's OWNER, and global OWNER and
/// ADMINISTRATOR.
#[utoipa::path(
    post, path = "/app/{app_id}/invite", operation_id = "addMember", tag = "members",
    params(("app_id" = Uuid, Path, description = APP_ID)),
    request_body = InviteBody,
    responses((status = 201, description = "The new member", body = UserRoleDto)),
    extensions(("x-error-codes" = json!([26, 2, 1, 9, 5, 22, 16, 19]))),
)]
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

/// Change a member's role
///
/// Not the caller's own role (14), not the owner's (9); giving OWNER makes the previous owner an
/// ADMINISTRATOR. The application's OWNER, and global OWNER and ADMINISTRATOR.
#[utoipa::path(
    put, path = "/app/{app_id}/role", operation_id = "setMemberRole", tag = "members",
    params(("app_id" = Uuid, Path, description = APP_ID)),
    request_body = RoleBody,
    responses((status = 200, description = "The member with the new role", body = UserRoleDto)),
    extensions(("x-error-codes" = json!([26, 2, 1, 9, 5, 16, 14]))),
)]
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

/// Remove a member
///
/// Members leave themselves; the application's OWNER and global OWNER and ADMINISTRATOR remove
/// others. The owner cannot be removed (hand the application over first).
#[utoipa::path(
    delete, path = "/app/{app_id}/user/{user_id}", operation_id = "removeMember", tag = "members",
    params(
        ("app_id" = Uuid, Path, description = APP_ID),
        ("user_id" = Uuid, Path, description = "The member's user id"),
    ),
    responses((status = 200, description = "Removed (no body)")),
    extensions(("x-error-codes" = json!([26, 2, 1, 9, 16]))),
)]
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
