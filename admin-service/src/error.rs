//! What admin-service answers when something goes wrong.
//!
//! Two shapes, as CompreFace's admin answers: `{message, code}` for the API's errors
//! ([`ApiError`], the shared table), and the OAuth2 shape `{error, error_description}` for login
//! and for requests without a valid session.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use visage_common::{ApiError, ErrorCode};
use visage_store::StoreError;

use crate::dto::OAuthErrorDto;

/// An error of the admin API.
#[derive(Debug)]
pub enum Error {
    Api(ApiError),
    OAuth { status: StatusCode, error: &'static str, description: String },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// 401 for a request without a valid session (Spring Security's answer).
    pub fn unauthorized() -> Self {
        Self::OAuth {
            status: StatusCode::UNAUTHORIZED,
            error: "unauthorized",
            description: "Full authentication is required to access this resource".to_string(),
        }
    }

    /// 401 for a request without the OAuth client's credentials.
    pub fn bad_client() -> Self {
        Self::OAuth {
            status: StatusCode::UNAUTHORIZED,
            error: "unauthorized",
            description: "Bad client credentials".to_string(),
        }
    }

    /// 400 `invalid_grant` (bad credentials, disabled user, bad refresh token).
    pub fn invalid_grant(description: &str) -> Self {
        Self::OAuth { status: StatusCode::BAD_REQUEST, error: "invalid_grant", description: description.to_string() }
    }

    /// 400 for a token request that is not a password or refresh grant.
    pub fn unsupported_grant(grant: &str) -> Self {
        Self::OAuth {
            status: StatusCode::BAD_REQUEST,
            error: "unsupported_grant_type",
            description: format!("Unsupported grant type: {grant}"),
        }
    }

    pub fn of(code: ErrorCode) -> Self {
        Self::Api(ApiError::of(code))
    }

    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::Api(ApiError::new(code, message))
    }

    /// Code 9: the caller's role does not allow this.
    pub fn forbidden() -> Self {
        Self::of(ErrorCode::InsufficientPrivileges)
    }
}

impl From<ApiError> for Error {
    fn from(e: ApiError) -> Self {
        Self::Api(e)
    }
}

impl From<StoreError> for Error {
    /// Domain errors keep their meaning; database failures are logged here, where their cause
    /// is still known, and reach the client as the generic code 0.
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::EmailTaken => Self::of(ErrorCode::EmailAlreadyRegistered),
            StoreError::NameTaken => Self::of(ErrorCode::NameIsNotUnique),
            StoreError::InvalidText => Self::Api(ApiError::validation(err.to_string())),
            _ => {
                tracing::error!(error = ?err, "database operation failed");
                Self::Api(ApiError::unexpected())
            }
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        match self {
            Self::Api(e) => e.into_response(),
            Self::OAuth { status, error, description } => {
                (status, Json(OAuthErrorDto { error, error_description: description })).into_response()
            }
        }
    }
}
