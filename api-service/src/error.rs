//! How the store's errors reach api-service's clients.

use visage_common::{ApiError, ErrorCode};
use visage_store::StoreError;

/// Domain errors keep their message; database failures are logged here, where their cause is
/// still known, and reach the client as the generic code 0.
pub fn store_error(err: StoreError) -> ApiError {
    match err {
        StoreError::SubjectAlreadyExists => ApiError::new(ErrorCode::SubjectAlreadyExists, err.to_string()),
        StoreError::SubjectNotFound(_) => ApiError::new(ErrorCode::SubjectNotFound, err.to_string()),
        StoreError::InvalidText => ApiError::validation(err.to_string()),
        _ => {
            tracing::error!(error = ?err, "database operation failed");
            ApiError::unexpected()
        }
    }
}
