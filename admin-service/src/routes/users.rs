//! Users: registration (with e-mail confirmation and the sign-up policy), password reset, the
//! caller's profile and password, global roles, user search and deletion.

use axum::extract::State;
use axum::http::header::LOCATION;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use chrono::Duration;
use serde::Deserialize;
use visage_common::{ApiError, ErrorCode};
use visage_http::extract::{JsonBody, PathParam, Query};
use visage_store::accounts::{NewUser, Redeemed, TokenKind};
use visage_store::services::DEMO_RECOGNITION_API_KEY;
use visage_store::{Role, User};

use crate::auth::{is_admin, parse_id, AuthUser, GlobalAdmin};
use crate::config::SignUp;
use crate::dto::{AutocompleteDto, UserDto, UserRoleDto};
use crate::error::{Error, Result};
use crate::password::{self, Verified};
use crate::state::AppState;
use crate::{tokens, validation};

/// How long a registration confirmation link lives.
const CONFIRM_TTL_HOURS: i64 = 1;
/// How long a password reset link lives.
const RESET_TTL_MINUTES: i64 = 15;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/user/register", post(register))
        .route("/user/registration/confirm", get(confirm))
        .route("/user/forgot-password", post(forgot_password))
        .route("/user/reset-password", put(reset_password))
        .route("/user/demo/model", get(demo_model))
        .route("/user/me", get(me))
        .route("/user/update", put(update))
        .route("/user/me/password", put(change_password))
        .route("/user/roles", get(roles))
        .route("/user/global/roles", get(global_roles))
        .route("/user/global/assign-roles", get(assignable_global_roles))
        .route("/user/global/role", put(set_global_role))
        .route("/user/autocomplete", get(autocomplete))
        .route("/user/invite", post(invite))
        .route("/user/invites", get(invites))
        .route("/user/{user_id}", delete(delete_user))
        .route("/user/{user_id}/password", put(set_password))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Registration {
    email: Option<String>,
    password: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    is_allow_statistics: Option<bool>,
}

/// `POST /user/register`: 201 when the user can log in, 200 when a confirmation e-mail went out.
async fn register(State(state): State<AppState>, JsonBody(body): JsonBody<Registration>) -> Result<StatusCode> {
    let email = validation::email(body.email.as_deref())?;
    let password = validation::new_password("password", body.password.as_deref())?;
    let first_name = validation::person_name("firstName", body.first_name.as_deref())?;
    let last_name = validation::person_name("lastName", body.last_name.as_deref())?;
    let first_user = state.store.untaken_demo_user().await?.is_some() && !state.store.has_real_users().await?;
    if !first_user {
        match state.settings.sign_up {
            SignUp::Open => {}
            SignUp::Closed => {
                return Err(Error::new(
                    ErrorCode::SignUpNotAllowed,
                    "Registration is closed: ask an administrator of this installation for an account",
                ))
            }
            SignUp::Invite if !state.store.is_invited(&email).await? => {
                return Err(Error::new(
                    ErrorCode::SignUpNotAllowed,
                    "Registration is by invitation only: ask an administrator to invite this e-mail address",
                ))
            }
            SignUp::Invite => {}
        }
    }
    if state.store.user_by_email(&email).await?.is_some() {
        return Err(Error::of(ErrorCode::EmailAlreadyRegistered));
    }
    let password_hash = password::hash(password).await?;
    let confirm = state.mailer.is_some();
    let new = NewUser {
        email: &email,
        password_hash: &password_hash,
        first_name: &first_name,
        last_name: &last_name,
        enabled: !confirm,
        allow_statistics: body.is_allow_statistics.unwrap_or(false),
    };
    let token = tokens::new_token();
    let token_hash = tokens::hash(&token);
    let link = format!("{}/admin/user/registration/confirm?token={token}", state.settings.public_url);
    let send = async {
        match &state.mailer {
            Some(mailer) => mailer.send(&email, "Confirm your registration", confirmation_mail(&link)).await,
            None => Ok(()),
        }
    };
    let stored_token =
        confirm.then_some((TokenKind::Confirm, token_hash.as_slice(), Duration::hours(CONFIRM_TTL_HOURS)));
    match state.store.create_user_with_token(&new, first_user, stored_token, send).await? {
        Ok(user) => {
            tracing::info!(user = %user.id, first_user, confirm, "user registered");
            Ok(if confirm { StatusCode::OK } else { StatusCode::CREATED })
        }
        Err(e) => {
            tracing::error!(error = %e, "the confirmation e-mail was not sent; nothing was registered");
            Err(Error::new(
                ErrorCode::MailServerError,
                "The confirmation e-mail could not be sent, please try again later",
            ))
        }
    }
}

fn confirmation_mail(link: &str) -> String {
    format!(
        "Welcome to Visage.\n\nPlease confirm your e-mail address by opening this link within \
         {CONFIRM_TTL_HOURS} hour:\n\n{link}\n\nIf you did not sign up, ignore this message.\n"
    )
}

fn reset_mail(link: &str) -> String {
    format!(
        "Somebody asked to reset the password of your Visage account.\n\nSet a new password by opening \
         this link within {RESET_TTL_MINUTES} minutes:\n\n{link}\n\nIf it was not you, ignore this message: \
         your password stays as it is.\n"
    )
}

/// `GET /user/registration/confirm?token=`: enables the user and sends the browser to the login.
async fn confirm(State(state): State<AppState>, Query(params): Query) -> Result<Response> {
    let token = params.non_empty("token").ok_or_else(|| Error::of(ErrorCode::RegistrationTokenExpired))?;
    match state.store.redeem_user_token(TokenKind::Confirm, &tokens::hash(token.trim())).await? {
        Some(Redeemed::Valid(user)) => {
            state.store.set_enabled(user, true).await?;
            let login = format!("{}/login", state.settings.public_url);
            Ok((StatusCode::FOUND, [(LOCATION, login)]).into_response())
        }
        _ => Err(Error::of(ErrorCode::RegistrationTokenExpired)),
    }
}

#[derive(Deserialize)]
struct EmailBody {
    email: Option<String>,
}

/// `POST /user/forgot-password`: e-mails a reset link (15 minutes), or writes it to the log when
/// there is no mail server. The answer is the same whether the address is registered or not.
async fn forgot_password(State(state): State<AppState>, JsonBody(body): JsonBody<EmailBody>) -> Result<StatusCode> {
    let email = validation::email(body.email.as_deref())?;
    let Some(user) = state.store.user_by_email(&email).await?.filter(|u| !u.is_untaken_demo()) else {
        tracing::info!("password reset asked for an unknown e-mail address");
        return Ok(StatusCode::OK);
    };
    let token = tokens::new_token();
    state
        .store
        .create_user_token(user.id, TokenKind::Reset, &tokens::hash(&token), Duration::minutes(RESET_TTL_MINUTES))
        .await?;
    let link = format!("{}/reset-password?token={token}", state.settings.public_url);
    match &state.mailer {
        Some(mailer) => mailer.send(&user.email, "Reset your password", reset_mail(&link)).await.map_err(|e| {
            tracing::error!(error = %e, "the password reset e-mail was not sent");
            Error::new(
                ErrorCode::MailServerError,
                "The password reset e-mail could not be sent, please try again later",
            )
        })?,
        None => tracing::warn!(user = %user.id, %link, "no mail server: password reset link"),
    }
    Ok(StatusCode::OK)
}

#[derive(Deserialize)]
struct PasswordBody {
    password: Option<String>,
}

/// `PUT /user/reset-password?token=`: sets the password of the link's user (which also
/// confirms the address) and ends the user's sessions.
async fn reset_password(
    State(state): State<AppState>,
    Query(params): Query,
    JsonBody(body): JsonBody<PasswordBody>,
) -> Result<StatusCode> {
    let password = validation::new_password("password", body.password.as_deref())?;
    let token = params.non_empty("token").ok_or_else(|| Error::of(ErrorCode::InvalidResetPasswordToken))?;
    let Some(Redeemed::Valid(user)) =
        state.store.redeem_user_token(TokenKind::Reset, &tokens::hash(token.trim())).await?
    else {
        return Err(Error::of(ErrorCode::InvalidResetPasswordToken));
    };
    let hash = password::hash(password).await?;
    state.store.set_password_hash(user, &hash, true).await?;
    state.store.end_user_sessions(user).await?;
    Ok(StatusCode::OK)
}

/// `GET /user/demo/model`: the demo recognition key while nobody has signed up yet.
async fn demo_model(State(state): State<AppState>) -> Result<Json<serde_json::Value>> {
    let demo_user = state.store.untaken_demo_user().await?;
    let demo_service = state.store.find_service_by_api_key(DEMO_RECOGNITION_API_KEY).await?;
    match (demo_user, demo_service) {
        (Some(_), Some(service)) => Ok(Json(serde_json::json!({ "apiKey": service.api_key }))),
        _ => Err(Error::of(ErrorCode::DemoModelNotAvailable)),
    }
}

async fn me(AuthUser(user): AuthUser) -> Json<UserDto> {
    Json(UserDto::from(&user))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NamesBody {
    first_name: Option<String>,
    last_name: Option<String>,
}

/// `PUT /user/update`: the caller's first and last name (each optional).
async fn update(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    JsonBody(body): JsonBody<NamesBody>,
) -> Result<Json<UserDto>> {
    // A name left out stays as it is.
    let first = match body.first_name.as_deref() {
        Some(name) => validation::person_name("firstName", Some(name))?,
        None => user.first_name.clone(),
    };
    let last = match body.last_name.as_deref() {
        Some(name) => validation::person_name("lastName", Some(name))?,
        None => user.last_name.clone(),
    };
    let updated = state.store.update_user_names(user.id, &first, &last).await?.ok_or_else(Error::unauthorized)?;
    Ok(Json(UserDto::from(&updated)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChangePassword {
    old_password: Option<String>,
    new_password: Option<String>,
}

/// `PUT /user/me/password`: needs the current password (400 code 18 when wrong).
async fn change_password(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    JsonBody(body): JsonBody<ChangePassword>,
) -> Result<StatusCode> {
    let old = body.old_password.unwrap_or_default();
    let new = validation::new_password("newPassword", body.new_password.as_deref())?;
    if password::verify(old, Some(user.password_hash.clone())).await == Verified::No {
        return Err(Error::of(ErrorCode::IncorrectUserPassword));
    }
    let hash = password::hash(new).await?;
    state.store.set_password_hash(user.id, &hash, false).await?;
    Ok(StatusCode::OK)
}

/// `GET /user/roles`: every user with the global role (any logged-in user may read it:
/// CompreFace's UI learns the caller's own role there).
async fn roles(State(state): State<AppState>, _: AuthUser) -> Result<Json<Vec<UserRoleDto>>> {
    let users = state.store.list_users().await?;
    Ok(Json(users.iter().filter(|u| !u.is_untaken_demo()).map(UserRoleDto::from).collect()))
}

async fn global_roles(_: AuthUser) -> Json<[Role; 3]> {
    Json(Role::ALL)
}

/// The global roles the caller may give: OWNER all three, ADMINISTRATOR the lower two.
async fn assignable_global_roles(AuthUser(user): AuthUser) -> Json<Vec<Role>> {
    Json(match user.global_role {
        Role::Owner => Role::ALL.to_vec(),
        Role::Administrator => vec![Role::Administrator, Role::User],
        Role::User => Vec::new(),
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RoleBody {
    user_id: Option<String>,
    role: Option<String>,
}

/// Parses `{userId, role}`.
pub(crate) fn role_change(user_id: Option<&str>, role: Option<&str>) -> Result<(uuid::Uuid, Role)> {
    let user_id = parse_id("userId", &validation::required("userId", user_id)?)?;
    let role_text = validation::required("role", role)?;
    let role = Role::parse(&role_text)
        .ok_or_else(|| ApiError::validation(format!("Role '{role_text}' is not one of OWNER, ADMINISTRATOR, USER")))?;
    Ok((user_id, role))
}

/// `PUT /user/global/role`: global OWNER and ADMINISTRATOR change others' roles; nobody their own
/// or the owner's; only the OWNER gives OWNER, and becomes ADMINISTRATOR doing so.
async fn set_global_role(
    State(state): State<AppState>,
    GlobalAdmin(caller): GlobalAdmin,
    JsonBody(body): JsonBody<RoleBody>,
) -> Result<Json<UserRoleDto>> {
    let (target_id, role) = role_change(body.user_id.as_deref(), body.role.as_deref())?;
    if target_id == caller.id {
        return Err(Error::of(ErrorCode::SelfRoleChange));
    }
    let target = find_user(&state, target_id).await?;
    if target.global_role == Role::Owner || (role == Role::Owner && caller.global_role != Role::Owner) {
        return Err(Error::forbidden());
    }
    let updated = state.store.set_global_role(target.id, role, caller.id).await?.ok_or_else(user_not_found)?;
    Ok(Json(UserRoleDto::from(&updated)))
}

async fn find_user(state: &AppState, id: uuid::Uuid) -> Result<User> {
    state.store.user_by_id(id).await?.filter(|u| !u.is_untaken_demo()).ok_or_else(user_not_found)
}

pub(crate) fn user_not_found() -> Error {
    Error::new(ErrorCode::UserDoesNotExist, "User does not exist")
}

/// `GET /user/autocomplete?query=`: users whose e-mail or name starts with the query.
async fn autocomplete(
    State(state): State<AppState>,
    _: AuthUser,
    Query(params): Query,
) -> Result<Json<AutocompleteDto>> {
    let query = params.get("query").unwrap_or_default();
    let found = if query.trim().is_empty() { Vec::new() } else { state.store.search_users(query.trim(), 20).await? };
    let results: Vec<UserDto> = found.iter().map(UserDto::from).collect();
    Ok(Json(AutocompleteDto { length: results.len(), query, results }))
}

/// `POST /user/invite` `{email}` (ours): lets the address register when `SIGN_UP=invite`.
async fn invite(
    State(state): State<AppState>,
    GlobalAdmin(caller): GlobalAdmin,
    JsonBody(body): JsonBody<EmailBody>,
) -> Result<(StatusCode, Json<serde_json::Value>)> {
    let email = validation::email(body.email.as_deref())?;
    if state.store.user_by_email(&email).await?.is_some() {
        return Err(Error::of(ErrorCode::EmailAlreadyRegistered));
    }
    state.store.invite(&email, caller.id).await?;
    Ok((StatusCode::CREATED, Json(serde_json::json!({ "email": email }))))
}

/// `GET /user/invites` (ours): invited addresses that have not registered yet.
async fn invites(State(state): State<AppState>, _: GlobalAdmin) -> Result<Json<Vec<String>>> {
    Ok(Json(state.store.pending_invitations().await?))
}

/// `DELETE /user/{id}?replacer=deleter|owner`: never the global owner; a global USER deletes
/// only itself. The user's applications pass to the deleter (`deleter`) or to the global owner
/// (`owner`, and always when users delete themselves). The user's sessions end with it.
async fn delete_user(
    State(state): State<AppState>,
    AuthUser(caller): AuthUser,
    PathParam(user_id): PathParam<String>,
    Query(params): Query,
) -> Result<StatusCode> {
    let target = find_user(&state, parse_id("userId", &user_id)?).await?;
    if target.global_role == Role::Owner || (target.id != caller.id && !is_admin(caller.global_role)) {
        return Err(Error::forbidden());
    }
    let to_deleter = match params.non_empty("replacer").as_deref().map(str::trim) {
        None | Some("deleter") => true,
        Some("owner") => false,
        Some(other) => {
            return Err(ApiError::validation(format!("replacer must be deleter or owner, not '{other}'")).into())
        }
    };
    let heir = if to_deleter && target.id != caller.id {
        caller.id
    } else {
        state.store.global_owner().await?.ok_or_else(|| Error::Api(ApiError::unexpected()))?.id
    };
    state.store.delete_user(target.id, heir).await?;
    tracing::info!(user = %target.id, by = %caller.id, heir = %heir, "user deleted");
    Ok(StatusCode::OK)
}

/// `PUT /user/{id}/password` `{password}` (ours): a global OWNER or ADMINISTRATOR sets another
/// user's password without e-mail (an ADMINISTRATOR cannot set the OWNER's). The user is
/// enabled and its sessions end.
async fn set_password(
    State(state): State<AppState>,
    GlobalAdmin(caller): GlobalAdmin,
    PathParam(user_id): PathParam<String>,
    JsonBody(body): JsonBody<PasswordBody>,
) -> Result<StatusCode> {
    let password = validation::new_password("password", body.password.as_deref())?;
    let target = find_user(&state, parse_id("userId", &user_id)?).await?;
    if target.global_role == Role::Owner && caller.global_role != Role::Owner {
        return Err(Error::forbidden());
    }
    let hash = password::hash(password).await?;
    state.store.set_password_hash(target.id, &hash, true).await?;
    state.store.end_user_sessions(target.id).await?;
    tracing::info!(user = %target.id, by = %caller.id, "password set by an administrator");
    Ok(StatusCode::OK)
}
