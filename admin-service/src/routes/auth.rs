//! Login, token refresh and logout: CompreFace's OAuth2 endpoint `/oauth/token`.
//!
//! | call | answer |
//! |---|---|
//! | `POST /oauth/token` with `grant_type=password&username=…&password=…` | the token JSON, and the `CFSESSION` (access token, 40 min) and `REFRESH_TOKEN` (14 days) cookies |
//! | `POST /oauth/token` with `grant_type=refresh_token` (token from the cookie or `refresh_token`) | new tokens and cookies; the old ones end |
//! | `DELETE /oauth/token` | ends the session of the cookie or bearer token; clears the cookies |
//!
//! Token requests carry the OAuth client's credentials as `Authorization: Basic` (CompreFace's
//! `CommonClientId:password`); their parameters come from the query string and from the body,
//! urlencoded or multipart (CompreFace's UI sends multipart). A wrong e-mail or password is
//! 400 `{"error":"invalid_grant","error_description":"Bad credentials"}`, in the same time
//! whether the e-mail exists or not. After ten failed logins for an address within 15 minutes,
//! its logins are refused (429) until the 15 minutes have passed.

use axum::extract::{FromRequest, Multipart, RawQuery, Request, State};
use axum::http::header::{AUTHORIZATION, CACHE_CONTROL, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::Duration;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use visage_common::error::ErrorBody;
use visage_common::params::Params;
use visage_http::extract::content_type;
use visage_store::accounts::SessionTokens;
use visage_store::User;

use crate::auth::{access_token, cookie, REFRESH_COOKIE, SESSION_COOKIE};
use crate::dto::{OAuthErrorDto, TokenDto};
use crate::error::{Error, Result};
use crate::password::Verified;
use crate::state::AppState;
use crate::throttle;
use crate::tokens;

/// The OAuth client CompreFace's UI and SDKs identify as.
pub const CLIENT_ID: &str = "CommonClientId";
pub const CLIENT_SECRET: &str = "password";
/// How long an access token (and the session cookie) lives: 40 minutes, as CompreFace.
pub const ACCESS_TTL_SECONDS: i64 = 2400;
/// How long a refresh token lives: 14 days.
pub const REFRESH_TTL_SECONDS: i64 = 14 * 24 * 3600;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(token, logout))
}

/// The parameters of a token request, from the form body (or the query string).
#[derive(ToSchema)]
#[schema(example = json!({"grant_type": "password", "username": "anna@example.com", "password": "correct-horse-battery"}))]
#[allow(dead_code)]
struct TokenForm {
    /// `password` (a login) or `refresh_token`.
    grant_type: String,
    /// The login's e-mail address (`password` grant).
    username: Option<String>,
    /// The login's password (`password` grant).
    password: Option<String>,
    /// The refresh token (`refresh_token` grant); the `REFRESH_TOKEN` cookie otherwise.
    refresh_token: Option<String>,
    /// `all` (CompreFace's clients send it; every token has it).
    scope: Option<String>,
}

/// A failed token request: OAuth2's shape, or the `{message, code}` of a body that cannot be
/// read.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum TokenError {
    OAuth(OAuthErrorDto),
    Api(ErrorBody),
}

/// Log in or refresh the session
///
/// CompreFace's OAuth2 token endpoint. `grant_type=password` with `username` (the e-mail) and
/// `password` logs in; `grant_type=refresh_token` with `refresh_token` (else the `REFRESH_TOKEN`
/// cookie) renews the session, after which the old tokens no longer work. The parameters come
/// from the form body (`application/x-www-form-urlencoded`, or multipart as CompreFace's UI
/// sends it) or the query string, which wins, except `password`: a password in the URL (which
/// proxies and browsers log) is refused with 400 `invalid_request`. The request carries the OAuth client as HTTP
/// Basic: `Authorization: Basic Q29tbW9uQ2xpZW50SWQ6cGFzc3dvcmQ=` (`CommonClientId:password`).
///
/// The answer sets the cookies `CFSESSION` (the access token, `Path=/admin`, 40 minutes) and
/// `REFRESH_TOKEN` (`Path=/admin/oauth/token`, 14 days), both HttpOnly. A wrong e-mail or
/// password is 400 `invalid_grant` `Bad credentials`. After 5 failed logins of an account (20
/// from one client address) each further attempt must wait a delay that doubles with every
/// failure (1 s, 2 s, 4 s, … up to 15 minutes); one inside the delay is refused with 429 without
/// looking at the password. Nothing is locked: the right password works once the delay has
/// passed. The counts live in the database, shared by every admin-service instance.
#[utoipa::path(
    post, path = "/oauth/token", operation_id = "token", tag = "login", security(("client" = [])),
    params(
        ("grant_type" = Option<String>, Query, description = "`password` or `refresh_token`, if not in the body"),
        ("scope" = Option<String>, Query, description = "`all` (ignored)"),
    ),
    request_body(description = "The token request", content(
        (TokenForm = "application/x-www-form-urlencoded"),
        (TokenForm = "multipart/form-data"),
    )),
    responses(
        (status = 200, description = "The tokens; also set as the `CFSESSION` and `REFRESH_TOKEN` cookies", body = TokenDto,
            headers(("set-cookie" = String, description = "`CFSESSION=<access token>; Path=/admin; Max-Age=2400; HttpOnly; SameSite=Lax`, \
                and `REFRESH_TOKEN=<refresh token>; Path=/admin/oauth/token; Max-Age=1209600; HttpOnly; SameSite=Lax`"))),
        (status = 400, description = "The login or refresh failed, or the grant type is not supported", body = TokenError,
            examples(
                ("Bad credentials" = (value = json!({"error": "invalid_grant", "error_description": "Bad credentials"}))),
                ("User is disabled" = (summary = "Registration not confirmed yet",
                    value = json!({"error": "invalid_grant", "error_description": "User is disabled"}))),
                ("Invalid refresh token" = (value = json!({"error": "invalid_grant", "error_description": "Invalid refresh token"}))),
                ("Unsupported grant type" = (value = json!({"error": "unsupported_grant_type", "error_description": "Unsupported grant type: client_credentials"}))),
                ("Password in the URL" = (value = json!({"error": "invalid_request", "error_description": "The password goes in the request body, not in the URL"}))),
            )),
        (status = 401, description = "No or wrong OAuth client credentials", body = OAuthErrorDto,
            example = json!({"error": "unauthorized", "error_description": "Bad client credentials"})),
        (status = 429, description = "Too many failed logins for this address", body = OAuthErrorDto,
            example = json!({"error": "invalid_grant", "error_description": "Too many failed logins: try again in 16 s"})),
    ),
    extensions(("x-error-codes" = json!([26]))),
)]
async fn token(State(state): State<AppState>, RawQuery(query): RawQuery, request: Request) -> Result<Response> {
    check_client(request.headers())?;
    let client = throttle::client_address(request.headers(), request.extensions());
    // A password in the URL ends up in logs and browser history: refused, whatever it is.
    if Params::from_query(query.as_deref()).first("password").is_some() {
        return Err(Error::OAuth {
            status: StatusCode::BAD_REQUEST,
            error: "invalid_request",
            description: "The password goes in the request body, not in the URL".to_string(),
        });
    }
    let headers = request.headers().clone();
    let params = parameters(query.as_deref(), request, &state).await?;
    let grant = params.first("grant_type").unwrap_or_default();
    let user = match grant.trim() {
        "password" => login(&state, &params, &client).await?,
        "refresh_token" => {
            let refresh = params
                .first("refresh_token")
                .filter(|t| !t.trim().is_empty())
                .or_else(|| cookie(&headers, REFRESH_COOKIE));
            return refresh_session(&state, refresh).await;
        }
        other => return Err(Error::unsupported_grant(other)),
    };
    new_session(&state, &user).await
}

/// `Authorization: Basic base64(CommonClientId:password)`.
fn check_client(headers: &HeaderMap) -> Result<()> {
    let credentials = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .and_then(|(_, encoded)| STANDARD.decode(encoded.trim()).ok())
        .and_then(|bytes| String::from_utf8(bytes).ok());
    match credentials.as_deref().and_then(|c| c.split_once(':')) {
        Some((id, secret)) if id == CLIENT_ID && secret == CLIENT_SECRET => Ok(()),
        _ => Err(Error::bad_client()),
    }
}

/// The query string's parameters, then the body's (urlencoded or multipart); each is read with
/// `first`, so the query string wins where both have one.
async fn parameters(query: Option<&str>, request: Request, state: &AppState) -> Result<Params> {
    let mut params = Params::from_query(query);
    let kind = content_type(request.headers()).to_ascii_lowercase();
    if kind.starts_with("multipart/form-data") {
        let mut multipart = Multipart::from_request(request, state)
            .await
            .map_err(|e| Error::Api(visage_common::ApiError::validation(e.body_text())))?;
        while let Some(field) = multipart.next_field().await.map_err(|e| visage_http::multipart_error(&e, 1 << 16))? {
            let name = field.name().unwrap_or_default().to_string();
            let value = field.text().await.map_err(|e| visage_http::multipart_error(&e, 1 << 16))?;
            params.push(name, value);
        }
    } else if kind.starts_with("application/x-www-form-urlencoded") {
        let bytes = axum::body::to_bytes(request.into_body(), 1 << 16)
            .await
            .map_err(|_| Error::Api(visage_common::ApiError::too_large("request", 1 << 16)))?;
        let body = Params::from_query(Some(&String::from_utf8_lossy(&bytes)));
        for name in ["grant_type", "username", "password", "refresh_token", "scope"] {
            if let Some(value) = body.first(name) {
                params.push(name, value);
            }
        }
    }
    Ok(params)
}

async fn login(state: &AppState, params: &Params, client: &str) -> Result<User> {
    let email = params.first("username").unwrap_or_default().trim().to_string();
    let password = params.first("password").unwrap_or_default();
    let turn = state.hashing.admit().await?;
    let user = if email.is_empty() { None } else { state.store.user_by_email(&email).await? };
    let keys = throttle::LoginKeys::new(user.as_ref().map(|u| u.id), &email, client);
    if let Some(wait) = throttle::login_wait(&state.store, &keys).await? {
        return Err(Error::OAuth {
            status: StatusCode::TOO_MANY_REQUESTS,
            error: "invalid_grant",
            description: format!("Too many failed logins: try again in {} s", wait.as_secs_f64().ceil().max(1.0)),
        });
    }
    let verified = turn.verify(password.clone(), user.as_ref().map(|u| u.password_hash.clone())).await?;
    let user = match (user, verified) {
        (Some(user), Verified::Yes | Verified::YesRehash) => {
            if verified == Verified::YesRehash {
                let rehashed = turn.hash(password).await?;
                state.store.set_password_hash(user.id, &rehashed, false).await?;
                tracing::info!(user = %user.id, "bcrypt password hash replaced by argon2id");
            }
            user
        }
        _ => {
            throttle::login_failed(&state.store, &keys).await?;
            return Err(Error::invalid_grant("Bad credentials"));
        }
    };
    throttle::login_succeeded(&state.store, &keys).await?;
    if !user.enabled {
        return Err(Error::invalid_grant("User is disabled"));
    }
    Ok(user)
}

async fn new_session(state: &AppState, user: &User) -> Result<Response> {
    let (access, refresh) = (tokens::new_token(), tokens::new_token());
    let (access_hash, refresh_hash) = (tokens::hash(&access), tokens::hash(&refresh));
    state.store.create_session(user.id, &session_tokens(&access_hash, &refresh_hash)).await?;
    Ok(token_answer(state, access, refresh))
}

async fn refresh_session(state: &AppState, refresh: Option<String>) -> Result<Response> {
    let refresh_old = refresh.ok_or_else(|| Error::invalid_grant("Invalid refresh token"))?;
    let (access, refresh) = (tokens::new_token(), tokens::new_token());
    let (access_hash, refresh_hash) = (tokens::hash(&access), tokens::hash(&refresh));
    let tokens = session_tokens(&access_hash, &refresh_hash);
    match state.store.refresh_session(&tokens::hash(&refresh_old), &tokens).await? {
        Some(_) => Ok(token_answer(state, access, refresh)),
        None => Err(Error::invalid_grant("Invalid refresh token")),
    }
}

fn session_tokens<'a>(access_hash: &'a [u8], refresh_hash: &'a [u8]) -> SessionTokens<'a> {
    SessionTokens {
        access_hash,
        access_ttl: Duration::seconds(ACCESS_TTL_SECONDS),
        refresh_hash,
        refresh_ttl: Duration::seconds(REFRESH_TTL_SECONDS),
    }
}

fn token_answer(state: &AppState, access: String, refresh: String) -> Response {
    let secure = state.settings.cookie_secure;
    let cookies = [
        session_cookie(SESSION_COOKIE, &access, "/admin", ACCESS_TTL_SECONDS, secure),
        session_cookie(REFRESH_COOKIE, &refresh, "/admin/oauth/token", REFRESH_TTL_SECONDS, secure),
    ];
    let body = TokenDto {
        access_token: access,
        token_type: "bearer",
        refresh_token: refresh,
        expires_in: ACCESS_TTL_SECONDS - 1,
        scope: "all",
    };
    let mut response = Json(body).into_response();
    for c in cookies {
        response.headers_mut().append(SET_COOKIE, c);
    }
    response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// An HttpOnly cookie; `max_age` 0 deletes it.
fn session_cookie(name: &str, value: &str, path: &str, max_age: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let text = format!("{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}");
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Log out
///
/// Ends the session of the bearer token or `CFSESSION` cookie (and of the `REFRESH_TOKEN`
/// cookie) and clears both cookies. Without a session it only clears the cookies.
#[utoipa::path(
    delete, path = "/oauth/token", operation_id = "logout", tag = "login",
    security((), ("oauth2" = []), ("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "Logged out (no body)",
            headers(("set-cookie" = String, description = "`CFSESSION` and `REFRESH_TOKEN` with `Max-Age=0`"))),
    ),
)]
async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Result<Response> {
    let access = access_token(&headers).map(|t| tokens::hash(&t));
    let refresh = cookie(&headers, REFRESH_COOKIE).map(|t| tokens::hash(&t));
    state.store.end_session(access.as_deref(), refresh.as_deref()).await?;
    let secure = state.settings.cookie_secure;
    let mut response = StatusCode::OK.into_response();
    response.headers_mut().append(SET_COOKIE, session_cookie(SESSION_COOKIE, "", "/admin", 0, secure));
    response.headers_mut().append(SET_COOKIE, session_cookie(REFRESH_COOKIE, "", "/admin/oauth/token", 0, secure));
    Ok(response)
}
