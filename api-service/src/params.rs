//! Reading what a request carries besides images: query parameters, JSON bodies, path ids.
//!
//! Parameters follow CompreFace's rules (see `visage_common::params`): the query string and,
//! for uploads, multipart form fields; repeated values joined with commas; booleans in any
//! letter case. Every malformed value is a 400 with a message naming it, never a 500.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use uuid::Uuid;
use visage_common::params::Params;
use visage_common::{ApiError, ErrorCode};

use crate::state::AppState;

/// The query string's parameters.
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

/// A JSON body of type `T`; unknown fields are ignored (as long as `T` does not deny them).
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ApiError> {
        require_json(request.headers())?;
        let limit = state.settings.max_request_size;
        let bytes = axum::body::to_bytes(request.into_body(), usize::try_from(limit).unwrap_or(usize::MAX))
            .await
            .map_err(|_| ApiError::too_large("request", limit))?;
        serde_json::from_slice(&bytes).map(Self).map_err(|e| malformed_json(&e))
    }
}

/// 415 unless the request says it is JSON.
pub fn require_json(headers: &axum::http::HeaderMap) -> Result<(), ApiError> {
    let content_type = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if essence.eq_ignore_ascii_case("application/json") || essence.to_ascii_lowercase().ends_with("+json") {
        Ok(())
    } else {
        Err(unsupported_media_type(content_type))
    }
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

/// A required, non-blank text parameter: 33 when absent, 26 `<Label> is empty; ` when blank
/// (CompreFace's constraint message, with its trailing separator).
pub fn required_text(params: &Params, name: &str, label: &str) -> Result<String, ApiError> {
    let value = params.get(name).ok_or_else(|| ApiError::missing_parameter(name))?;
    if value.trim().is_empty() {
        return Err(ApiError::validation(format!("{label} is empty; ")));
    }
    Ok(value)
}

/// Page and size as Spring Data reads them: a page below 0 or not a number is 0; a size below 1
/// or not a number is `default_size`; sizes above `max_size` are cut to it.
pub fn page_request(params: &Params, default_size: u64, max_size: u64) -> (u64, u64) {
    let number = |name| params.non_empty(name).and_then(|v| v.trim().parse::<i64>().ok());
    let page = number("page").filter(|p| *p >= 0).unwrap_or(0) as u64;
    let size = number("size").filter(|s| *s >= 1).map_or(default_size, |s| (s as u64).min(max_size));
    (page, size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_follow_spring_data() {
        let page = |q: &str| page_request(&Params::from_query(Some(q)), 20, 2000);
        assert_eq!(page(""), (0, 20));
        assert_eq!(page("page=3&size=5"), (3, 5));
        assert_eq!(page("page=-1&size=0"), (0, 20));
        assert_eq!(page("page=x&size=y"), (0, 20));
        assert_eq!(page("size=5000"), (0, 2000));
    }

    #[test]
    fn required_text_distinguishes_missing_and_blank() {
        let params = Params::from_query(Some("subject=%20&x=1"));
        assert_eq!(required_text(&params, "subject", "Subject name").unwrap_err().message, "Subject name is empty; ");
        assert_eq!(required_text(&params, "y", "Y").unwrap_err().code, ErrorCode::MissingParameter);
        assert_eq!(required_text(&params, "x", "X").unwrap(), "1");
    }

    #[test]
    fn uuids_are_checked() {
        assert!(parse_uuid("image_id", "b5e2a3e2-0000-4000-8000-000000000001").is_ok());
        let err = parse_uuid("image_id", "nope").unwrap_err();
        assert_eq!(
            (err.code, err.message.as_str()),
            (ErrorCode::ValidationFailed, "Parameter 'image_id' must be a UUID, got 'nope'")
        );
    }
}
