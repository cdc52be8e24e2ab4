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
#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    pub id: Uuid,
    pub app_id: Uuid,
    pub name: String,
    pub service_type: ServiceType,
    pub api_key: Uuid,
    /// Recognitions leave out stored faces less similar than this; `None`: no threshold
    /// (CompreFace's answers).
    pub match_threshold: Option<f64>,
}

#[derive(sqlx::FromRow)]
struct ServiceRow {
    id: Uuid,
    app_id: Uuid,
    name: String,
    #[sqlx(rename = "type")]
    service_type: String,
    api_key: Uuid,
    match_threshold: Option<f64>,
}

impl TryFrom<ServiceRow> for Service {
    type Error = StoreError;

    fn try_from(row: ServiceRow) -> Result<Self, StoreError> {
        let service_type = ServiceType::from_letter(&row.service_type).ok_or_else(|| {
            StoreError::Database(sqlx::Error::Decode(format!("unknown service type {:?}", row.service_type).into()))
        })?;
        Ok(Self {
            id: row.id,
            app_id: row.app_id,
            name: row.name,
            service_type,
            api_key: row.api_key,
            match_threshold: row.match_threshold,
        })
    }
}

impl Store {
    /// The service with this API key, whatever its type.
    pub async fn find_service_by_api_key(&self, api_key: Uuid) -> Result<Option<Service>, StoreError> {
        sqlx::query_as::<_, ServiceRow>(
            "SELECT id, app_id, name, type, api_key, match_threshold FROM models WHERE api_key = $1 AND deleted_at IS NULL",
        )
        .bind(api_key)
        .fetch_optional(&self.pool)
        .await?
        .map(Service::try_from)
        .transpose()
    }
}

/// A service as the admin shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceInfo {
    pub service: Service,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

#[derive(sqlx::FromRow)]
struct ServiceInfoRow {
    #[sqlx(flatten)]
    service: ServiceRow,
    created_at: chrono::DateTime<chrono::Utc>,
}

impl TryFrom<ServiceInfoRow> for ServiceInfo {
    type Error = StoreError;

    fn try_from(row: ServiceInfoRow) -> Result<Self, StoreError> {
        Ok(Self { service: Service::try_from(row.service)?, created_at: row.created_at })
    }
}

macro_rules! select_services {
    () => {
        "SELECT id, app_id, name, type, api_key, match_threshold, created_at FROM models"
    };
}

impl Store {
    /// The recognition services that hold at least one face (what an api-service replica loads
    /// before it takes requests), in no given order.
    pub async fn collections_to_load(&self) -> Result<Vec<Uuid>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT m.id FROM models m WHERE m.type = 'R' AND m.deleted_at IS NULL \
             AND EXISTS (SELECT 1 FROM faces f WHERE f.model_id = m.id)",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// The application's services: recognition, detection, verification, each by name.
    pub async fn services_of_app(&self, app_id: Uuid) -> Result<Vec<ServiceInfo>, StoreError> {
        let rows: Vec<ServiceInfoRow> = sqlx::query_as(
            "SELECT id, app_id, name, type, api_key, match_threshold, created_at FROM models WHERE app_id = $1 AND deleted_at IS NULL \
             ORDER BY CASE type WHEN 'R' THEN 0 WHEN 'D' THEN 1 ELSE 2 END, lower(name), name",
        )
        .bind(app_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(ServiceInfo::try_from).collect()
    }

    pub async fn service(&self, id: Uuid) -> Result<Option<ServiceInfo>, StoreError> {
        let row: Option<ServiceInfoRow> =
            sqlx::query_as(concat!(select_services!(), " WHERE id = $1 AND deleted_at IS NULL"))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        row.map(ServiceInfo::try_from).transpose()
    }

    /// Creates a service with a random API key and this match threshold (recognition services);
    /// [`StoreError::NameTaken`] if the application has a service of this name.
    pub async fn create_service(
        &self,
        app_id: Uuid,
        name: &str,
        service_type: ServiceType,
        match_threshold: Option<f64>,
    ) -> Result<ServiceInfo, StoreError> {
        let row: ServiceInfoRow = sqlx::query_as(
            "INSERT INTO models (id, app_id, name, type, api_key, match_threshold) VALUES ($1, $2, $3, $4, $5, $6) \
             RETURNING id, app_id, name, type, api_key, match_threshold, created_at",
        )
        .bind(Uuid::new_v4())
        .bind(app_id)
        .bind(name)
        .bind(service_type.letter())
        .bind(Uuid::new_v4())
        .bind(match_threshold)
        .fetch_one(&self.pool)
        .await?;
        ServiceInfo::try_from(row)
    }

    pub async fn rename_service(&self, id: Uuid, name: &str) -> Result<Option<ServiceInfo>, StoreError> {
        let row: Option<ServiceInfoRow> = sqlx::query_as(
            "UPDATE models SET name = $2 WHERE id = $1 AND deleted_at IS NULL RETURNING id, app_id, name, type, api_key, match_threshold, created_at",
        )
        .bind(id)
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        row.map(ServiceInfo::try_from).transpose()
    }

    /// Sets the service's match threshold (`None`: no threshold).
    pub async fn set_match_threshold(
        &self,
        id: Uuid,
        match_threshold: Option<f64>,
    ) -> Result<Option<ServiceInfo>, StoreError> {
        let row: Option<ServiceInfoRow> = sqlx::query_as(
            "UPDATE models SET match_threshold = $2 WHERE id = $1 AND deleted_at IS NULL \
             RETURNING id, app_id, name, type, api_key, match_threshold, created_at",
        )
        .bind(id)
        .bind(match_threshold)
        .fetch_optional(&self.pool)
        .await?;
        row.map(ServiceInfo::try_from).transpose()
    }

    /// Gives the service a new random API key; its collection stays. The old key stops working
    /// at once (every request looks its key up).
    pub async fn regenerate_service_key(&self, id: Uuid) -> Result<Option<ServiceInfo>, StoreError> {
        let row: Option<ServiceInfoRow> = sqlx::query_as(
            "UPDATE models SET api_key = $2 WHERE id = $1 AND deleted_at IS NULL RETURNING id, app_id, name, type, api_key, match_threshold, created_at",
        )
        .bind(id)
        .bind(Uuid::new_v4())
        .fetch_optional(&self.pool)
        .await?;
        row.map(ServiceInfo::try_from).transpose()
    }

    /// Gives every service still holding a demo API key a random one (`DEMO_KEYS=false`); the
    /// collections stay. Returns how many keys changed.
    pub async fn retire_demo_keys(&self) -> Result<u64, StoreError> {
        let mut conn = self.pool.acquire().await?;
        retire_demo_keys_in(&mut conn).await
    }

    /// Whether any service still answers to a demo API key.
    pub async fn demo_keys_active(&self) -> Result<bool, StoreError> {
        Ok(sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM models WHERE api_key = ANY($1) AND deleted_at IS NULL)")
            .bind([DEMO_RECOGNITION_API_KEY, DEMO_DETECTION_API_KEY, DEMO_VERIFICATION_API_KEY])
            .fetch_one(&self.pool)
            .await?)
    }

    /// A copy of the service named `name`, in the same application, with a new API key and a
    /// copy of its subjects, faces (with their boxes) and images (one transaction).
    pub async fn clone_service(&self, id: Uuid, name: &str) -> Result<Option<ServiceInfo>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let row: Option<ServiceInfoRow> = sqlx::query_as(
            "INSERT INTO models (id, app_id, name, type, api_key, match_threshold) \
             SELECT $2, app_id, $3, type, $4, match_threshold FROM models WHERE id = $1 AND deleted_at IS NULL \
             RETURNING id, app_id, name, type, api_key, match_threshold, created_at",
        )
        .bind(id)
        .bind(Uuid::new_v4())
        .bind(name)
        .bind(Uuid::new_v4())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let copy = ServiceInfo::try_from(row)?;
        // One statement: its sub-statements see the same snapshot, so the faces' and images'
        // foreign keys are checked once the statement's rows are all written (the checks run at
        // its end). The id maps are materialised once (they call a volatile function). Marked
        // subjects and their faces are not copied.
        sqlx::query(
            "WITH s AS (SELECT id AS old_id, gen_random_uuid() AS new_id, name, created_at \
                        FROM subjects WHERE model_id = $1 AND deleted_at IS NULL), \
             ins_s AS (INSERT INTO subjects (id, model_id, name, created_at) \
                       SELECT new_id, $2, name, created_at FROM s), \
             f AS (SELECT f.id AS old_id, gen_random_uuid() AS new_id, s.new_id AS subject_id, f.embedding, \
                          f.dimension, f.calculator, f.created_at, f.seq, \
                          f.box_x_min, f.box_y_min, f.box_x_max, f.box_y_max \
                   FROM faces f JOIN s ON s.old_id = f.subject_id WHERE f.model_id = $1), \
             ins_f AS (INSERT INTO faces (id, model_id, subject_id, embedding, dimension, calculator, created_at, \
                                          box_x_min, box_y_min, box_x_max, box_y_max) \
                       SELECT new_id, $2, subject_id, embedding, dimension, calculator, created_at, \
                              box_x_min, box_y_min, box_x_max, box_y_max FROM f ORDER BY seq \
                       RETURNING id) \
             INSERT INTO images (face_id, content) \
             SELECT n.id, i.content FROM ins_f n JOIN f ON f.new_id = n.id JOIN images i ON i.face_id = f.old_id",
        )
        .bind(id)
        .bind(copy.service.id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(copy))
    }

    /// How many subjects and faces the service's collection holds.
    pub async fn collection_counts(&self, id: Uuid) -> Result<(i64, i64), StoreError> {
        Ok(sqlx::query_as(
            "SELECT (SELECT count(*) FROM subjects WHERE model_id = $1 AND deleted_at IS NULL), \
                    (SELECT count(*) FROM faces f WHERE f.model_id = $1 AND NOT EXISTS \
                       (SELECT 1 FROM subjects s WHERE s.id = f.subject_id AND s.deleted_at IS NOT NULL))",
        )
        .bind(id)
        .fetch_one(&self.pool)
        .await?)
    }
}

/// Gives the services holding the demo API keys random ones, on `conn` (inside the caller's
/// transaction when it has one); how many there were.
pub(crate) async fn retire_demo_keys_in(conn: &mut sqlx::PgConnection) -> Result<u64, StoreError> {
    let done =
        sqlx::query("UPDATE models SET api_key = gen_random_uuid() WHERE api_key = ANY($1) AND deleted_at IS NULL")
            .bind([DEMO_RECOGNITION_API_KEY, DEMO_DETECTION_API_KEY, DEMO_VERIFICATION_API_KEY])
            .execute(conn)
            .await?;
    Ok(done.rows_affected())
}
