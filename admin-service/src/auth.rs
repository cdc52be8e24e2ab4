//! Who is calling, and what their roles let them do, as extractors: a handler that takes
//! [`AuthUser`] cannot run without a session, one that takes `AppAccess<ManageApp>` cannot run
//! unless the caller may manage the application in its path.
//!
//! A session is the access token of a login, sent as the `CFSESSION` cookie (what CompreFace's
//! UI does) or as `Authorization: Bearer <token>` (for scripts).
//!
//! The rules (CompreFace's, `docs/User-Roles-System.md` upstream):
//!
//! | policy | global OWNER / ADMINISTRATOR | app OWNER | app ADMINISTRATOR | app USER | no member |
//! |---|---|---|---|---|---|
//! | [`ReadApp`] | yes | yes | yes | yes | 403 code 1 |
//! | [`ManageServices`] | yes | yes | yes | 400 code 9 | 403 code 1 |
//! | [`ManageApp`] | yes | yes | 400 code 9 | 400 code 9 | 403 code 1 |
//!
//! [`GlobalAdmin`] admits a global OWNER or ADMINISTRATOR (else 400 code 9).

use std::marker::PhantomData;

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use uuid::Uuid;
use visage_common::ErrorCode;
use visage_store::{App, Role, User};

use crate::error::Error;
use crate::state::AppState;
use crate::tokens;

/// The session cookie (the access token).
pub const SESSION_COOKIE: &str = "CFSESSION";
/// The refresh token's cookie.
pub const REFRESH_COOKIE: &str = "REFRESH_TOKEN";

/// A logged-in, enabled user.
#[derive(Debug, Clone)]
pub struct AuthUser(pub User);

impl AuthUser {
    /// Global OWNER or ADMINISTRATOR.
    pub fn is_global_admin(&self) -> bool {
        is_admin(self.0.global_role)
    }
}

pub fn is_admin(role: Role) -> bool {
    matches!(role, Role::Owner | Role::Administrator)
}

/// The access token a request carries: the bearer token, else the session cookie.
pub fn access_token(headers: &HeaderMap) -> Option<String> {
    let bearer = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| {
        let (scheme, token) = v.trim().split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_string())
    });
    bearer.filter(|t| !t.is_empty()).or_else(|| cookie(headers, SESSION_COOKIE))
}

/// The value of cookie `name`.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().trim_matches('"').to_string())
        .filter(|v| !v.is_empty())
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        if let Some(user) = parts.extensions.get::<AuthUser>() {
            return Ok(user.clone());
        }
        let token = access_token(&parts.headers).ok_or_else(Error::unauthorized)?;
        let user = state.store.session_user(&tokens::hash(&token)).await?.ok_or_else(Error::unauthorized)?;
        let user = AuthUser(user);
        parts.extensions.insert(user.clone());
        Ok(user)
    }
}

/// A global OWNER or ADMINISTRATOR.
#[derive(Debug, Clone)]
pub struct GlobalAdmin(pub User);

impl FromRequestParts<AppState> for GlobalAdmin {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let user = AuthUser::from_request_parts(parts, state).await?;
        if user.is_global_admin() {
            Ok(Self(user.0))
        } else {
            Err(Error::forbidden())
        }
    }
}

/// What a caller may do in an application, given its global role and its role there.
pub trait AppPolicy: Send + Sync + 'static {
    /// Among members (and non-members who are global OWNER or ADMINISTRATOR).
    fn allows(app_role: Option<Role>) -> bool;
}

/// Reading an application, its services, members and statistics.
pub struct ReadApp;
/// Creating, renaming, cloning, deleting services and renewing their keys.
pub struct ManageServices;
/// Renaming or deleting the application, renewing its key, inviting members, changing roles.
pub struct ManageApp;

impl AppPolicy for ReadApp {
    fn allows(role: Option<Role>) -> bool {
        role.is_some()
    }
}

impl AppPolicy for ManageServices {
    fn allows(role: Option<Role>) -> bool {
        matches!(role, Some(Role::Owner | Role::Administrator))
    }
}

impl AppPolicy for ManageApp {
    fn allows(role: Option<Role>) -> bool {
        role == Some(Role::Owner)
    }
}

/// Whether a caller with `global` and `app` roles passes policy `P`, and the error if not.
pub fn check<P: AppPolicy>(global: Role, app: Option<Role>) -> Result<(), Error> {
    if is_admin(global) || P::allows(app) {
        Ok(())
    } else if app.is_none() {
        Err(Error::of(ErrorCode::AppAccessDenied))
    } else {
        Err(Error::forbidden())
    }
}

/// The application of the path's `{app_id}`, with a caller that policy `P` admits.
pub struct AppAccess<P: AppPolicy> {
    pub user: User,
    pub app: App,
    /// The caller's role in the application (`None`: not a member, but a global admin).
    pub role: Option<Role>,
    policy: PhantomData<P>,
}

impl<P: AppPolicy> AppAccess<P> {
    /// Whether the caller could also pass policy `Q`.
    pub fn can<Q: AppPolicy>(&self) -> bool {
        check::<Q>(self.user.global_role, self.role).is_ok()
    }
}

impl<P: AppPolicy> FromRequestParts<AppState> for AppAccess<P> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let AuthUser(user) = AuthUser::from_request_parts(parts, state).await?;
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|e| Error::Api(visage_common::ApiError::validation(e.body_text())))?;
        let raw = params.iter().find(|(k, _)| *k == "app_id").map(|(_, v)| v.to_string()).unwrap_or_default();
        let app_id = parse_id("appId", &raw)?;
        let app = state.store.app(app_id).await?.ok_or_else(|| Error::of(ErrorCode::AppNotFound))?;
        let role = state.store.app_role(app.id, user.id).await?;
        check::<P>(user.global_role, role)?;
        Ok(Self { user, app, role, policy: PhantomData })
    }
}

/// A path id: a UUID, else 400 code 26 naming it.
pub fn parse_id(what: &str, text: &str) -> Result<Uuid, Error> {
    Ok(visage_http::extract::parse_uuid(what, text)?)
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn bearer_wins_over_the_cookie_and_cookies_are_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, HeaderValue::from_static("a=1; CFSESSION=cookie-token; b=2"));
        assert_eq!(access_token(&headers).as_deref(), Some("cookie-token"));
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer  bearer-token"));
        assert_eq!(access_token(&headers).as_deref(), Some("bearer-token"));
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Basic Q29tbW9uQ2xpZW50SWQ6cGFzc3dvcmQ="));
        assert_eq!(access_token(&headers).as_deref(), Some("cookie-token"));
        assert_eq!(cookie(&headers, "REFRESH_TOKEN"), None);
    }

    #[test]
    fn the_policy_table() {
        use Role::*;
        let cell = |global, app| {
            [
                check::<ReadApp>(global, app).is_ok(),
                check::<ManageServices>(global, app).is_ok(),
                check::<ManageApp>(global, app).is_ok(),
            ]
        };
        for global in [Owner, Administrator] {
            for app in [Some(Owner), Some(Administrator), Some(User), None] {
                assert_eq!(cell(global, app), [true, true, true]);
            }
        }
        assert_eq!(cell(User, Some(Owner)), [true, true, true]);
        assert_eq!(cell(User, Some(Administrator)), [true, true, false]);
        assert_eq!(cell(User, Some(User)), [true, false, false]);
        assert_eq!(cell(User, None), [false, false, false]);
        assert!(matches!(check::<ReadApp>(User, None), Err(Error::Api(e)) if e.code == ErrorCode::AppAccessDenied));
        assert!(
            matches!(check::<ManageApp>(User, Some(User)), Err(Error::Api(e)) if e.code == ErrorCode::InsufficientPrivileges)
        );
    }
}
