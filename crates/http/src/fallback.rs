//! Answers for requests no route serves, in the `{message, code}` shape (CompreFace's wording).

use axum::http::{Method, Uri};
use visage_common::ApiError;

/// 404 code 0 `No handler found for <method> <path>`.
pub async fn no_route(method: Method, uri: Uri) -> ApiError {
    ApiError::no_route(method.as_str(), uri.path())
}

/// 404 code 0 `Request method '<method>' not supported`, for a known path.
pub async fn method_not_allowed(method: Method) -> ApiError {
    ApiError::method_not_supported(method.as_str())
}
