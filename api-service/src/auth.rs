//! The `x-api-key` check, as an extractor whose type says which kind of service a route needs:
//! a handler taking `ApiKey<Recognition>` cannot run without a valid recognition key.
//!
//! | request | answer |
//! |---|---|
//! | no `x-api-key` header | 400 code 20 `Missing header: x-api-key` |
//! | not a UUID | 400 code 26 `Service API key should be UUID` |
//! | no service of the route's type has it | 404 code 10 `<Type> service with API Key <key> not found` |

use std::marker::PhantomData;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use uuid::Uuid;
use visage_common::{ApiError, ErrorCode};
use visage_store::{Service, ServiceType};

use crate::error::store_error;
use crate::state::AppState;

pub const API_KEY_HEADER: &str = "x-api-key";

/// A kind of service a route belongs to.
pub trait ServiceKind: Send + Sync + 'static {
    const TYPE: ServiceType;
}

/// Routes under `/recognition`.
pub struct Recognition;
/// Routes under `/detection`.
pub struct Detection;
/// Routes under `/verification`.
pub struct Verification;

impl ServiceKind for Recognition {
    const TYPE: ServiceType = ServiceType::Recognition;
}
impl ServiceKind for Detection {
    const TYPE: ServiceType = ServiceType::Detection;
}
impl ServiceKind for Verification {
    const TYPE: ServiceType = ServiceType::Verification;
}

/// The service the request's `x-api-key` belongs to, known to be of kind `K`.
pub struct ApiKey<K: ServiceKind> {
    pub service: Service,
    kind: PhantomData<K>,
}

impl<K: ServiceKind> ApiKey<K> {
    /// The service's id, which keys its subjects and faces.
    pub fn model_id(&self) -> Uuid {
        self.service.id
    }

    /// Counts the request in the service's daily statistics (recognize, detect and verify
    /// requests are counted), without holding the response up. A failure is only logged.
    pub fn count_request(&self, state: &AppState) {
        let store = state.store.clone();
        let model_id = self.service.id;
        tokio::spawn(async move {
            if let Err(e) = store.record_request(model_id).await {
                tracing::warn!(error = ?e, %model_id, "request not counted");
            }
        });
    }
}

impl<K: ServiceKind> FromRequestParts<AppState> for ApiKey<K> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts.headers.get(API_KEY_HEADER).ok_or_else(|| ApiError::missing_header(API_KEY_HEADER))?;
        let key = header.to_str().ok().and_then(parse_key).ok_or_else(not_a_uuid)?;
        match state.store.find_service_by_api_key(key).await.map_err(store_error)? {
            Some(service) if service.service_type == K::TYPE => Ok(Self { service, kind: PhantomData }),
            _ => Err(ApiError::new(
                ErrorCode::ModelNotFound,
                format!(
                    "{} service with API Key {} not found",
                    K::TYPE.display_name(),
                    header.to_str().unwrap_or_default()
                ),
            )),
        }
    }
}

/// A key in the canonical hyphenated form (36 characters), as CompreFace accepts it.
fn parse_key(text: &str) -> Option<Uuid> {
    (text.len() == 36).then(|| Uuid::try_parse(text).ok()).flatten()
}

fn not_a_uuid() -> ApiError {
    ApiError::validation("Service API key should be UUID")
}

#[cfg(test)]
mod tests {
    use super::parse_key;

    #[test]
    fn keys_must_be_hyphenated_uuids() {
        assert!(parse_key("00000000-0000-0000-0000-000000000002").is_some());
        assert!(parse_key("00000000000000000000000000000002").is_none());
        assert!(parse_key("not-a-key").is_none());
        assert!(parse_key("").is_none());
    }
}
