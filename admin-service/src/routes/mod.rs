//! The routes of `/admin`, one module per resource.
//!
//! - [`auth`] serves `/oauth/token` (login, refresh, logout)
//! - [`users`] serves `/user/…` (registration, password reset, profile, global roles, deletion)
//! - [`apps`] serves `/apps`, `/app`, `/app/{id}`, `/app/{id}/apikey`
//! - [`members`] serves `/app/{id}/roles`, `/assign-roles`, `/invite`, `/role`, `/user/{userId}`
//! - [`services`] serves `/app/{id}/models`, `/app/{id}/model…` (services, keys, statistics)
//! - [`system`] serves `/status`, `/config`
//!
//! Each handler carries its OpenAPI description (`#[utoipa::path]`) and each module registers its
//! handlers with utoipa-axum's `routes!`, which takes the path from that description: whatever is
//! served is documented. [`AdminDoc`] adds what the whole API shares (the ways to log in, the
//! tags); the finished document and Swagger UI are at `/admin/openapi.json` and `/admin/docs`.
//!
//! Whatever no route serves is a JSON 404 (code 0).

pub mod apps;
pub mod auth;
pub mod deletions;
pub mod members;
pub mod services;
pub mod system;
pub mod users;

use axum::Router;
use serde_json::{json, Value};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, Flow, HttpAuthScheme, HttpBuilder, OAuth2, Password, Scopes, SecurityScheme,
};
use utoipa::{Modify, OpenApi, PartialSchema, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use visage_http::docs;
use visage_http::fallback::{method_not_allowed, no_route};

use crate::auth::SESSION_COOKIE;
use crate::dto::OAuthErrorDto;
use crate::state::AppState;

/// What the admin API's document says of the whole API.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Visage admin API",
        description = "Users, applications, their members and face services with their API keys, compatible \
            with CompreFace's `/admin`. The face calls themselves are the public API's (`/api/v1`), made with a \
            service's API key.\n\n\
            **Logging in.** `POST /admin/oauth/token` is an OAuth2 password grant: the form \
            `grant_type=password&username=<e-mail>&password=<password>` with the OAuth client CompreFace's UI \
            and SDKs use, sent as HTTP Basic: `Authorization: Basic Q29tbW9uQ2xpZW50SWQ6cGFzc3dvcmQ=` \
            (`CommonClientId:password`). The answer carries the access token (40 minutes) and a refresh \
            token (14 days), also set as the cookies `CFSESSION` and `REFRESH_TOKEN`. The other calls take the \
            access token as `Authorization: Bearer <token>` or as the `CFSESSION` cookie (as the web UI does); \
            without a valid one they answer 401 `{\"error\": \"unauthorized\", \"error_description\": ...}`.\n\n\
            In this page: **Authorize**, then under `oauth2` your e-mail and password, client_id \
            `CommonClientId`, client_secret `password` (sent as the Basic header); or paste a token under `bearer`.\n\n\
            Roles, global and per application: OWNER, ADMINISTRATOR, USER. Errors are `{\"message\", \"code\"}`; \
            each call lists its codes.",
        license(name = "Apache-2.0"),
    ),
    modifiers(&AdminSecurity),
    security(("oauth2" = []), ("bearer" = []), ("session" = [])),
    tags(
        (name = "login", description = "Logging in and out: OAuth2 tokens and the session cookie"),
        (name = "users", description = "Registration, password reset, profiles, global roles, invitations"),
        (name = "applications", description = "Applications and their keys"),
        (name = "members", description = "The users of an application and their roles there"),
        (name = "services", description = "Face services (recognition, detection, verification), their API keys and statistics"),
        (name = "system", description = "State and settings of the installation, open to everyone"),
    ),
)]
pub struct AdminDoc;

/// The OAuth2 scheme (password flow), which CompreFace's clients and Swagger UI's Authorize
/// button use to log in.
pub const OAUTH2: &str = "oauth2";
/// The access token as `Authorization: Bearer`.
pub const BEARER: &str = "bearer";
/// The access token as the `CFSESSION` cookie.
pub const SESSION: &str = "session";
/// The OAuth client's credentials of `POST /oauth/token` (HTTP Basic).
pub const CLIENT: &str = "client";

/// The schemes: the OAuth2 password flow, the bearer token, the session cookie, and the OAuth
/// client of the token calls.
struct AdminSecurity;

impl Modify for AdminSecurity {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            OAUTH2,
            SecurityScheme::OAuth2(OAuth2::with_description(
                [Flow::Password(Password::new("/admin/oauth/token", Scopes::one("all", "Everything the user may do")))],
                "The password grant of `POST /admin/oauth/token`; the OAuth client is `CommonClientId` with secret \
                 `password`, sent as HTTP Basic",
            )),
        );
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The `access_token` of `POST /admin/oauth/token`"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            SESSION,
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                SESSION_COOKIE,
                "The session cookie that `POST /admin/oauth/token` sets (what the web UI sends)",
            ))),
        );
        components.add_security_scheme(
            CLIENT,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Basic)
                    .description(Some(
                        "The OAuth client: user `CommonClientId`, password `password` \
                         (`Basic Q29tbW9uQ2xpZW50SWQ6cGFzc3dvcmQ=`)",
                    ))
                    .build(),
            ),
        );
        components.schemas.insert(OAuthErrorDto::name().into_owned(), OAuthErrorDto::schema());
    }
}

/// Everything admin-service serves, under `/admin`, with its OpenAPI document and Swagger UI.
pub fn router(state: AppState) -> Router {
    let (router, doc) = documented();
    router
        .method_not_allowed_fallback(method_not_allowed)
        .merge(docs::routes("/admin", doc))
        .fallback(no_route)
        .with_state(state)
}

/// The finished OpenAPI document of `/admin`.
pub fn openapi() -> Value {
    documented().1
}

fn documented() -> (Router<AppState>, Value) {
    let (router, doc) = OpenApiRouter::with_openapi(AdminDoc::openapi()).nest("/admin", modules()).split_for_parts();
    let mut doc = docs::finish(doc, &[]);
    add_unauthorized(&mut doc);
    // The token call reads its parameters from whatever body it gets, and from the query string
    // (a refresh may have no body): the body is optional and never a 415.
    if let Some(token) = doc.pointer_mut("/paths/~1admin~1oauth~1token/post").and_then(Value::as_object_mut) {
        token["requestBody"]["required"] = json!(false);
        if let Some(responses) = token.get_mut("responses").and_then(Value::as_object_mut) {
            responses.remove("415");
        }
    }
    (router, doc)
}

fn modules() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(auth::routes())
        .merge(users::routes())
        .merge(apps::routes())
        .merge(members::routes())
        .merge(services::routes())
        .merge(deletions::routes())
        .merge(system::routes())
}

/// The 401 of a call without a valid session, on every call that needs one: the OAuth2 shape
/// (Spring Security's answer, which CompreFace's UI expects), not an error code, so it is added
/// here rather than through `x-error-codes`. A call needs a session when each of its security
/// requirements names a scheme (an empty one, `{}`, makes the session optional).
fn add_unauthorized(doc: &mut Value) {
    let global = doc.get("security").cloned().unwrap_or_else(|| json!([]));
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else { return };
    for item in paths.values_mut() {
        let Some(item) = item.as_object_mut() else { continue };
        for operation in item.values_mut() {
            let security = operation.get("security").unwrap_or(&global).clone();
            let requirements = security.as_array().cloned().unwrap_or_default();
            let needs_session = !requirements.is_empty()
                && requirements.iter().all(|r| r.as_object().is_some_and(|r| !r.is_empty()))
                && requirements.iter().any(|r| [OAUTH2, BEARER, SESSION].iter().any(|s| r.get(s).is_some()));
            if !needs_session || operation["responses"].get("401").is_some() {
                continue;
            }
            operation["responses"]["401"] = json!({
                "description": "No valid session: no token, or an unknown, expired or ended one",
                "content": { "application/json": {
                    "schema": { "$ref": format!("#/components/schemas/{}", OAuthErrorDto::name()) },
                    "example": {
                        "error": "unauthorized",
                        "error_description": "Full authentication is required to access this resource",
                    },
                }},
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    /// Every route of the modules is registered with `routes!`, from its `#[utoipa::path]`:
    /// a plain axum route would be served without being in the document.
    #[test]
    fn the_route_modules_register_their_routes_only_through_routes_macro() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/routes");
        let mut checked = 0;
        for entry in fs::read_dir(dir).expect("the routes folder") {
            let path = entry.expect("an entry").path();
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let source = fs::read_to_string(&path).expect("a route module");
            let name = path.file_name().unwrap_or_default().to_string_lossy().to_string();
            // Tests may name the forbidden forms (this one does); only the code counts.
            let code = source.split("#[cfg(test)]").next().unwrap_or_default();
            for forbidden in [".route(", ".route_service(", ".nest_service(", "axum::routing"] {
                assert!(!code.contains(forbidden), "{name} registers a route outside routes!: `{forbidden}`");
            }
            // An axum `Router` of its own would be served without the document; this file alone
            // turns the documented routes into the served one.
            if name != "mod.rs" {
                let plain = code.match_indices("Router").any(|(at, _)| !code[..at].ends_with("OpenApi"));
                assert!(!plain, "{name} builds an axum Router instead of an OpenApiRouter with routes!");
            }
            checked += 1;
        }
        assert!(checked >= 7, "only {checked} modules found in {dir}");
    }
}
