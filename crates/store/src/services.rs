//! Face services (CompreFace's "models") and their API keys.

use std::fmt;

use uuid::Uuid;

use crate::{Store, StoreError};

/// API keys of the demo services every installation starts with (CompreFace's).
pub const DEMO_RECOGNITION_API_KEY: Uuid = Uuid::from_u128(2);
pub const DEMO_DETECTION_API_KEY: Uuid = Uuid::from_u128(3);
pub const DEMO_VERIFICATION_API_KEY: Uuid = Uuid::from_u128(4);

/// What a service does; stored as one letter, as CompreFace does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServiceType {
    Recognition,
    Detection,
    Verification,
}

impl ServiceType {
    /// The stored letter: `R`, `D` or `V`.
    pub const fn letter(self) -> &'static str {
        match self {
            Self::Recognition => "R",
            Self::Detection => "D",
            Self::Verification => "V",
        }
    }

    pub fn from_letter(letter: &str) -> Option<Self> {
        match letter {
            "R" => Some(Self::Recognition),
            "D" => Some(Self::Detection),
            "V" => Some(Self::Verification),
            _ => None,
        }
    }

    /// The name used in messages: `Recognition service with API Key … not found`.
    pub const fn display_name(self) -> &'static str {
        match self {
            Self::Recognition => "Recognition",
            Self::Detection => "Detection",
            Self::Verification => "Verification",
        }
    }
}

impl fmt::Display for ServiceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.display_name())
    }
}

/// A face service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub id: Uuid,
    pub app_id: Uuid,
    pub name: String,
    pub service_type: ServiceType,
    pub api_key: Uuid,
}

#[derive(sqlx::FromRow)]
struct ServiceRow {
    id: Uuid,
    app_id: Uuid,
    name: String,
    #[sqlx(rename = "type")]
    service_type: String,
    api_key: Uuid,
}

impl TryFrom<ServiceRow> for Service {
    type Error = StoreError;

    fn try_from(row: ServiceRow) -> Result<Self, StoreError> {
        let service_type = ServiceType::from_letter(&row.service_type).ok_or_else(|| {
            StoreError::Database(sqlx::Error::Decode(format!("unknown service type {:?}", row.service_type).into()))
        })?;
        Ok(Self { id: row.id, app_id: row.app_id, name: row.name, service_type, api_key: row.api_key })
    }
}

impl Store {
    /// The service with this API key, whatever its type.
    pub async fn find_service_by_api_key(&self, api_key: Uuid) -> Result<Option<Service>, StoreError> {
        sqlx::query_as::<_, ServiceRow>("SELECT id, app_id, name, type, api_key FROM models WHERE api_key = $1")
            .bind(api_key)
            .fetch_optional(&self.pool)
            .await?
            .map(Service::try_from)
            .transpose()
    }
}
