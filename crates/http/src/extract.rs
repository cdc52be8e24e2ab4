//! Extractors whose rejections are `{message, code}` errors, never axum's plain text.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use serde::de::DeserializeOwned;
use uuid::Uuid;
use visage_common::params::Params;
use visage_common::{ApiError, ErrorCode};

/// The query string's parameters, the CompreFace way (see `visage_common::params`).
pub struct Query(pub Params);

impl<S: Send + Sync> FromRequestParts<S> for Query {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        Ok(Self(Params::from_query(parts.uri.query())))
    }
}

/// A path parameter; a segment that does not decode is a 400 code 26 instead of axum's text.
pub struct PathParam<T>(pub T);

impl<T, S> FromRequestParts<S> for PathParam<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| Self(value))
            .map_err(|e| ApiError::validation(e.body_text()))
    }
}

/// A JSON body of type `T`; unknown fields are ignored (as long as `T` does not deny them). The
/// body is limited by the router's `DefaultBodyLimit`; a larger one is a 413.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        require_json(request.headers())?;
        let bytes = Bytes::from_request(request, state).await.map_err(|e| body_error(&e))?;
        serde_json::from_slice(&bytes).map(Self).map_err(|e| malformed_json(&e))
    }
}

/// A body that could not be read: 413 when it is over the limit.
pub fn body_error(e: &BytesRejection) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(ErrorCode::Undefined, "The request exceeds its maximum allowed size").with_status(413)
    } else {
        ApiError::validation(format!("The request body cannot be read: {}", e.body_text()))
    }
}

/// 415 unless the request says it is JSON.
pub fn require_json(headers: &HeaderMap) -> Result<(), ApiError> {
    let content_type = content_type(headers);
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if essence.eq_ignore_ascii_case("application/json") || essence.to_ascii_lowercase().ends_with("+json") {
        Ok(())
    } else {
        Err(unsupported_media_type(content_type))
    }
}

/// The request's `Content-Type`, empty when absent.
pub fn content_type(headers: &HeaderMap) -> &str {
    headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// 415 for a body of a type the route does not read.
pub fn unsupported_media_type(content_type: &str) -> ApiError {
    let shown = if content_type.is_empty() { "none" } else { content_type };
    ApiError::new(ErrorCode::Undefined, format!("Content type '{shown}' not supported")).with_status(415)
}

/// 400 code 26 for a body that is not the JSON the route expects.
pub fn malformed_json(e: &serde_json::Error) -> ApiError {
    ApiError::validation(format!("The request body is not valid JSON for this request: {e}"))
}

/// A UUID from a path segment or a body, 400 code 26 naming `what` otherwise.
pub fn parse_uuid(what: &str, text: &str) -> Result<Uuid, ApiError> {
    Uuid::try_parse(text.trim()).map_err(|_| {
        let shown: String = text.chars().take(64).collect();
        ApiError::validation(format!("Parameter '{what}' must be a UUID, got '{shown}'"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_checked() {
        assert!(parse_uuid("image_id", "b5e2a3e2-0000-4000-8000-000000000001").is_ok());
        let err = parse_uuid("image_id", "nope").unwrap_err();
        assert_eq!(
            (err.code, err.message.as_str()),
            (ErrorCode::ValidationFailed, "Parameter 'image_id' must be a UUID, got 'nope'")
        );
    }

    #[test]
    fn only_json_content_types_pass() {
        let mut headers = HeaderMap::new();
        assert_eq!(require_json(&headers).unwrap_err().status(), 415);
        headers.insert(CONTENT_TYPE, "application/json; charset=utf-8".parse().unwrap());
        assert!(require_json(&headers).is_ok());
        headers.insert(CONTENT_TYPE, "application/problem+json".parse().unwrap());
        assert!(require_json(&headers).is_ok());
        headers.insert(CONTENT_TYPE, "text/plain".parse().unwrap());
        assert_eq!(require_json(&headers).unwrap_err().message, "Content type 'text/plain' not supported");
    }
}
