//! Users: registration (with e-mail confirmation and the sign-up policy), password reset, the
//! caller's profile and password, global roles, user search and deletion.

use axum::extract::State;
use axum::http::header::LOCATION;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Duration;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use visage_common::{ApiError, ErrorCode};
use visage_http::extract::{JsonBody, PathParam, Query};
use visage_store::accounts::{NewUser, Redeemed, TokenKind};
use visage_store::services::DEMO_RECOGNITION_API_KEY;
use visage_store::{Role, User};

use crate::auth::{is_admin, parse_id, AuthUser, GlobalAdmin};
use crate::config::SignUp;
use crate::dto::{AutocompleteDto, DemoModelDto, InvitationDto, RoleName, UserDto, UserRoleDto};
use crate::error::{Error, Result};
use crate::password::Verified;
use crate::state::AppState;
use crate::throttle;
use crate::{tokens, validation};

/// How long a registration confirmation link lives.
const CONFIRM_TTL_HOURS: i64 = 1;
/// How long a password reset link lives.
const RESET_TTL_MINUTES: i64 = 15;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(confirm))
        .routes(routes!(forgot_password))
        .routes(routes!(reset_password))
        .routes(routes!(demo_model))
        .routes(routes!(me))
        .routes(routes!(global_admin))
        .routes(routes!(update))
        .routes(routes!(change_password))
        .routes(routes!(roles))
        .routes(routes!(global_roles))
        .routes(routes!(assignable_global_roles))
        .routes(routes!(set_global_role))
        .routes(routes!(autocomplete))
        .routes(routes!(invite))
        .routes(routes!(invites))
        .routes(routes!(delete_user))
        .routes(routes!(set_password))
}

/// A new user.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "email": "anna@example.com", "password": "correct-horse-battery", "firstName": "Anna",
    "lastName": "Smith", "isAllowStatistics": false
}))]
struct Registration {
    /// The login; at most 254 characters.
    #[schema(required = true, value_type = String)]
    email: Option<String>,
    /// 8 to 255 characters.
    #[schema(required = true, value_type = String)]
    password: Option<String>,
    /// At most 50 characters.
    first_name: Option<String>,
    /// At most 50 characters.
    last_name: Option<String>,
    /// CompreFace's consent to usage statistics (stored, never sent anywhere).
    is_allow_statistics: Option<bool>,
}

/// Sign up
///
/// 201 when the user can log in, 200 when a confirmation e-mail went out (the user is enabled by
/// its link, valid 1 hour). The first user of an installation takes the demo user over and
/// becomes the global OWNER; after that, the sign-up policy (`SIGN_UP`, ours) may refuse
/// (403 code 48): `invite` admits only invited addresses, `closed` nobody.
#[utoipa::path(
    post, path = "/user/register", operation_id = "register", tag = "users", security(()),
    request_body = Registration,
    responses(
        (status = 201, description = "Registered: the user can log in (no body)"),
        (status = 200, description = "Registered: a confirmation e-mail went out (no body)"),
    ),
    extensions(("x-error-codes" = json!([5, 26, 22, 48, 4, 29]))),
)]
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
    let password_hash = state.hashing.hash(password).await?;
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
    let retire_demo_keys = state.settings.demo_keys == crate::config::DemoKeys::UntilTakeover;
    match state.store.create_user_with_token(&new, first_user, retire_demo_keys, stored_token, send).await? {
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

/// Confirm a registration
///
/// The link of the confirmation e-mail: enables the user and sends the browser to the login page.
#[utoipa::path(
    get, path = "/user/registration/confirm", operation_id = "confirmRegistration", tag = "users", security(()),
    params(("token" = String, Query, description = "The token of the e-mailed link")),
    responses(
        (status = 302, description = "Confirmed: to the login page (no body)",
            headers(("location" = String, description = "`<public URL>/login`"))),
    ),
    extensions(("x-error-codes" = json!([25]))),
)]
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

/// `{"email"}`.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"email": "ben@example.com"}))]
struct EmailBody {
    #[schema(required = true, value_type = String)]
    email: Option<String>,
}

/// Ask for a password reset link
///
/// E-mails a link to the reset page (valid 15 minutes), or writes it to the service's log when
/// there is no mail server. The answer is the same whether the address is registered or not.
/// At most 3 requests per e-mail address and 10 per client address within an hour: more are
/// answered 429.
#[utoipa::path(
    post, path = "/user/forgot-password", operation_id = "forgotPassword", tag = "users", security(()),
    request_body = EmailBody,
    responses(
        (status = 200, description = "Done, whether the address is registered or not (no body)"),
        (status = 429, description = "Too many requests for this address or from this client", body = visage_common::error::ErrorBody,
            example = json!({"message": "Too many password reset requests: try again later", "code": 0})),
    ),
    extensions(("x-error-codes" = json!([5, 22, 26, 29]))),
)]
async fn forgot_password(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    extensions: axum::http::Extensions,
    JsonBody(body): JsonBody<EmailBody>,
) -> Result<StatusCode> {
    let email = validation::email(body.email.as_deref())?;
    let client = throttle::client_address(&headers, &extensions);
    if !throttle::forgot_allowed(&state.store, &email, &client).await? {
        return Err(Error::Api(
            ApiError::new(ErrorCode::Undefined, "Too many password reset requests: try again later").with_status(429),
        ));
    }
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

/// `{"password"}`: a new password.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"password": "another-horse-battery"}))]
struct PasswordBody {
    /// 8 to 255 characters.
    #[schema(required = true, value_type = String)]
    password: Option<String>,
}

/// Reset a password
///
/// With the token of the e-mailed link: sets the password of the link's user (which also
/// confirms the address) and ends the user's sessions.
#[utoipa::path(
    put, path = "/user/reset-password", operation_id = "resetPassword", tag = "users", security(()),
    params(("token" = String, Query, description = "The token of the e-mailed link")),
    request_body = PasswordBody,
    responses((status = 200, description = "The password is set (no body)")),
    extensions(("x-error-codes" = json!([5, 26, 30]))),
)]
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
    let hash = state.hashing.hash(password).await?;
    state.store.set_password_hash(user, &hash, true).await?;
    state.store.end_user_sessions(user).await?;
    Ok(StatusCode::OK)
}

/// The demo service's key
///
/// The API key of the demo recognition service, while nobody has signed up yet (the demo page
/// uses it); after that 404 with code 404, as CompreFace answers.
#[utoipa::path(
    get, path = "/user/demo/model", operation_id = "demoModel", tag = "users", security(()),
    responses((status = 200, description = "The demo key", body = DemoModelDto)),
    extensions(("x-error-codes" = json!([404]))),
)]
async fn demo_model(State(state): State<AppState>) -> Result<Json<DemoModelDto>> {
    let demo_user = state.store.untaken_demo_user().await?;
    let demo_service = state.store.find_service_by_api_key(DEMO_RECOGNITION_API_KEY).await?;
    match (demo_user, demo_service) {
        (Some(_), Some(service)) => Ok(Json(DemoModelDto { api_key: service.api_key })),
        _ => Err(Error::of(ErrorCode::DemoModelNotAvailable)),
    }
}

/// The caller's profile
#[utoipa::path(
    get, path = "/user/me", operation_id = "me", tag = "users",
    responses((status = 200, description = "The caller", body = UserDto)),
)]
async fn me(AuthUser(user): AuthUser) -> Json<UserDto> {
    Json(UserDto::from(&user))
}

/// Whether the caller is a global administrator
///
/// 204 for a logged-in global OWNER or ADMINISTRATOR, 403 for any other user, 401 without a
/// valid session. The front door asks it (nginx `auth_request`, with the request's
/// `Authorization` header and cookies) before it passes on `POST /api/v1/migrate`, which
/// recomputes every stored face.
#[utoipa::path(
    get, path = "/user/me/global-admin", operation_id = "isGlobalAdmin", tag = "users",
    responses(
        (status = 204, description = "A global OWNER or ADMINISTRATOR"),
        (status = 403, description = "Another user"),
    ),
)]
async fn global_admin(user: std::result::Result<AuthUser, crate::error::Error>) -> StatusCode {
    match user {
        Ok(user) if user.is_global_admin() => StatusCode::NO_CONTENT,
        Ok(_) => StatusCode::FORBIDDEN,
        Err(_) => StatusCode::UNAUTHORIZED,
    }
}

/// `{"firstName", "lastName"}`: each optional, at most 50 characters.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"firstName": "Anna", "lastName": "Smith-Jones"}))]
struct NamesBody {
    first_name: Option<String>,
    last_name: Option<String>,
}

/// Change the caller's name
///
/// The first and last name; one left out stays as it is.
#[utoipa::path(
    put, path = "/user/update", operation_id = "updateMe", tag = "users",
    request_body = NamesBody,
    responses((status = 200, description = "The caller as changed", body = UserDto)),
    extensions(("x-error-codes" = json!([26]))),
)]
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

/// `{"oldPassword", "newPassword"}`.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"oldPassword": "correct-horse-battery", "newPassword": "another-horse-battery"}))]
struct ChangePassword {
    /// The current password.
    #[schema(required = true, value_type = String)]
    old_password: Option<String>,
    /// 8 to 255 characters.
    #[schema(required = true, value_type = String)]
    new_password: Option<String>,
}

/// Change the caller's password
///
/// Needs the current password (400 code 18 when wrong). This session goes on; every other
/// session of the caller ends (whoever else was logged in with the old password is out).
#[utoipa::path(
    put, path = "/user/me/password", operation_id = "changeMyPassword", tag = "users",
    request_body = ChangePassword,
    responses((status = 200, description = "The password is changed (no body)")),
    extensions(("x-error-codes" = json!([5, 26, 18]))),
)]
async fn change_password(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    headers: axum::http::HeaderMap,
    JsonBody(body): JsonBody<ChangePassword>,
) -> Result<StatusCode> {
    let old = body.old_password.unwrap_or_default();
    let new = validation::new_password("newPassword", body.new_password.as_deref())?;
    if state.hashing.verify(old, Some(user.password_hash.clone())).await? == Verified::No {
        return Err(Error::of(ErrorCode::IncorrectUserPassword));
    }
    let hash = state.hashing.hash(new).await?;
    state.store.set_password_hash(user.id, &hash, false).await?;
    // Whoever else was logged in with the old password is out; this session goes on.
    let current = crate::auth::access_token(&headers).unwrap_or_default();
    state.store.end_other_sessions(user.id, &tokens::hash(&current)).await?;
    Ok(StatusCode::OK)
}

/// List users with their global roles
///
/// Every user of the installation with its global role, for a global OWNER or ADMINISTRATOR;
/// any other user gets their own entry alone (CompreFace's UI learns the caller's own role
/// there), so a plain account cannot list everyone's e-mail address.
#[utoipa::path(
    get, path = "/user/roles", operation_id = "listUserRoles", tag = "users",
    responses((status = 200, description = "The users", body = Vec<UserRoleDto>)),
)]
async fn roles(State(state): State<AppState>, caller: AuthUser) -> Result<Json<Vec<UserRoleDto>>> {
    // Every user's e-mail address is for global administrators; anyone else sees themselves.
    if !caller.is_global_admin() {
        return Ok(Json(vec![UserRoleDto::from(&caller.0)]));
    }
    let users = state.store.list_users().await?;
    Ok(Json(users.iter().filter(|u| !u.is_untaken_demo()).map(UserRoleDto::from).collect()))
}

/// The global roles
#[utoipa::path(
    get, path = "/user/global/roles", operation_id = "globalRoles", tag = "users",
    responses((status = 200, description = "OWNER, ADMINISTRATOR, USER", body = Vec<RoleName>,
        example = json!(["OWNER", "ADMINISTRATOR", "USER"]))),
)]
async fn global_roles(_: AuthUser) -> Json<[Role; 3]> {
    Json(Role::ALL)
}

/// The global roles the caller may give
///
/// The global OWNER all three, an ADMINISTRATOR the lower two, a USER none.
#[utoipa::path(
    get, path = "/user/global/assign-roles", operation_id = "assignableGlobalRoles", tag = "users",
    responses((status = 200, description = "The roles", body = Vec<RoleName>,
        example = json!(["ADMINISTRATOR", "USER"]))),
)]
async fn assignable_global_roles(AuthUser(user): AuthUser) -> Json<Vec<Role>> {
    Json(match user.global_role {
        Role::Owner => Role::ALL.to_vec(),
        Role::Administrator => vec![Role::Administrator, Role::User],
        Role::User => Vec::new(),
    })
}

/// `{"userId", "role"}`: a user's new role.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"userId": "7d6b1a6e-3c52-4a0b-9a57-0e6c3e0f2b11", "role": "ADMINISTRATOR"}))]
pub(crate) struct RoleBody {
    #[schema(required = true, value_type = uuid::Uuid)]
    pub user_id: Option<String>,
    /// `OWNER`, `ADMINISTRATOR` or `USER` (any letter case).
    #[schema(required = true, value_type = RoleName)]
    pub role: Option<String>,
}

/// Parses `{userId, role}`.
pub(crate) fn role_change(user_id: Option<&str>, role: Option<&str>) -> Result<(uuid::Uuid, Role)> {
    let user_id = parse_id("userId", &validation::required("userId", user_id)?)?;
    let role_text = validation::required("role", role)?;
    let role = Role::parse(&role_text)
        .ok_or_else(|| ApiError::validation(format!("Role '{role_text}' is not one of OWNER, ADMINISTRATOR, USER")))?;
    Ok((user_id, role))
}

/// Change a user's global role
///
/// Global OWNER and ADMINISTRATOR change others' roles; nobody their own (14) or the owner's
/// (9); only the OWNER gives OWNER, and becomes ADMINISTRATOR doing so.
#[utoipa::path(
    put, path = "/user/global/role", operation_id = "setGlobalRole", tag = "users",
    request_body = RoleBody,
    responses((status = 200, description = "The user with the new role", body = UserRoleDto)),
    extensions(("x-error-codes" = json!([9, 5, 26, 14, 16]))),
)]
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

/// Search users
///
/// For a global OWNER or ADMINISTRATOR, up to 20 users whose e-mail or name starts with the
/// query (any letter case); for anyone else, the user whose e-mail address is the query (any
/// letter case), if any: adding a member takes the whole address. None for an empty query.
#[utoipa::path(
    get, path = "/user/autocomplete", operation_id = "autocompleteUsers", tag = "users",
    params(("query" = Option<String>, Query, description = "The beginning of an e-mail address or a name")),
    responses((status = 200, description = "The users found", body = AutocompleteDto)),
)]
async fn autocomplete(
    State(state): State<AppState>,
    caller: AuthUser,
    Query(params): Query,
) -> Result<Json<AutocompleteDto>> {
    let query = params.get("query").unwrap_or_default();
    let found = if query.trim().is_empty() {
        Vec::new()
    } else if caller.is_global_admin() {
        state.store.search_users(query.trim(), 20).await?
    } else {
        // Others find a user by the whole e-mail address only: no listing of addresses by prefix.
        state.store.user_by_email(query.trim()).await?.filter(|u| !u.is_untaken_demo()).into_iter().collect()
    };
    let results: Vec<UserDto> = found.iter().map(UserDto::from).collect();
    Ok(Json(AutocompleteDto { length: results.len(), query, results }))
}

/// Invite an e-mail address
///
/// Ours: lets the address register while the sign-up policy is `invite`. Global OWNER and
/// ADMINISTRATOR only.
#[utoipa::path(
    post, path = "/user/invite", operation_id = "inviteEmail", tag = "users",
    request_body = EmailBody,
    responses((status = 201, description = "Invited", body = InvitationDto)),
    extensions(("x-error-codes" = json!([9, 5, 22, 26, 4]))),
)]
async fn invite(
    State(state): State<AppState>,
    GlobalAdmin(caller): GlobalAdmin,
    JsonBody(body): JsonBody<EmailBody>,
) -> Result<(StatusCode, Json<InvitationDto>)> {
    let email = validation::email(body.email.as_deref())?;
    if state.store.user_by_email(&email).await?.is_some() {
        return Err(Error::of(ErrorCode::EmailAlreadyRegistered));
    }
    state.store.invite(&email, caller.id).await?;
    Ok((StatusCode::CREATED, Json(InvitationDto { email })))
}

/// List invitations
///
/// Ours: the invited addresses that have not registered yet. Global OWNER and ADMINISTRATOR only.
#[utoipa::path(
    get, path = "/user/invites", operation_id = "listInvitations", tag = "users",
    responses((status = 200, description = "The addresses", body = Vec<String>, example = json!(["ben@example.com"]))),
    extensions(("x-error-codes" = json!([9]))),
)]
async fn invites(State(state): State<AppState>, _: GlobalAdmin) -> Result<Json<Vec<String>>> {
    Ok(Json(state.store.pending_invitations().await?))
}

/// Delete a user
///
/// Never the global owner; a global USER deletes only itself. The user's applications pass to
/// the deleter (`replacer=deleter`, the default) or to the global owner (`replacer=owner`, and
/// always when users delete themselves). The user's sessions end with it.
#[utoipa::path(
    delete, path = "/user/{user_id}", operation_id = "deleteUser", tag = "users",
    params(
        ("user_id" = Uuid, Path, description = "The user's id"),
        ("replacer" = Option<String>, Query, description = "Who gets the user's applications: `deleter` (default) or `owner`"),
    ),
    responses((status = 200, description = "Deleted (no body)")),
    extensions(("x-error-codes" = json!([26, 16, 9]))),
)]
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

/// Set a user's password
///
/// Ours: a global OWNER or ADMINISTRATOR sets a user's password without e-mail (an
/// ADMINISTRATOR cannot set the OWNER's). The user is enabled (its address counts as confirmed)
/// and its sessions end.
#[utoipa::path(
    put, path = "/user/{user_id}/password", operation_id = "setUserPassword", tag = "users",
    params(("user_id" = Uuid, Path, description = "The user's id")),
    request_body = PasswordBody,
    responses((status = 200, description = "The password is set (no body)")),
    extensions(("x-error-codes" = json!([9, 5, 26, 16]))),
)]
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
    let hash = state.hashing.hash(password).await?;
    state.store.set_password_hash(target.id, &hash, true).await?;
    state.store.end_user_sessions(target.id).await?;
    tracing::info!(user = %target.id, by = %caller.id, "password set by an administrator");
    Ok(StatusCode::OK)
}
