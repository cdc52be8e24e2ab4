//! Deletions in progress: applications, services and subjects that were deleted (they are gone
//! for every call already) and whose rows are being purged in the background, with how far the
//! purge has come. Small deletions happen at once and never show here.

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use visage_store::{Deletion, DeletionKind};

use crate::auth::{AppAccess, GlobalAdmin, ReadApp};
use crate::dto::local_date_time;
use crate::error::Result;
use crate::routes::apps::{APP_CODES, APP_ID};
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(of_app)).routes(routes!(all))
}

/// What is being deleted.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DeletionKindName {
    /// An application with its services.
    Application,
    /// A service with its collection.
    Service,
    /// Subjects of a service (a whole collection emptied, or subjects with many faces).
    Subjects,
}

/// A deletion whose rows are being purged.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Deletion, example = json!({
    "id": "2f1c0b7e-51a4-4f0e-9a53-6d1e2c3b4a59", "kind": "SERVICE",
    "appId": "5a8c3e1f-7b2d-4e9a-a6c4-1d3f5b7e9c20", "serviceId": "6b9d4f2a-8c3e-4fab-b7d5-2e4a6c8f0d31",
    "name": "Door camera", "subjects": 100000, "faces": 1000000, "subjectsDone": 41800,
    "facesDone": 418000, "percent": 41, "createdDate": "2026-02-02T14:40:12",
    "startedDate": "2026-02-02T14:40:13"
}))]
pub struct DeletionDto {
    pub id: Uuid,
    pub kind: DeletionKindName,
    pub app_id: Uuid,
    /// The service (kinds `SERVICE` and `SUBJECTS`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_id: Option<Uuid>,
    /// The application's or the service's name.
    pub name: String,
    /// Subjects and faces to delete in all; `null` until a process has started the purge.
    pub subjects: Option<i64>,
    pub faces: Option<i64>,
    pub subjects_done: i64,
    pub faces_done: i64,
    /// How far the purge has come, 0 to 99 (a finished deletion is no longer listed).
    pub percent: u8,
    /// ISO local date-time (UTC).
    pub created_date: String,
    pub started_date: Option<String>,
}

impl From<&Deletion> for DeletionDto {
    fn from(d: &Deletion) -> Self {
        Self {
            id: d.id,
            kind: match d.kind {
                DeletionKind::App => DeletionKindName::Application,
                DeletionKind::Service => DeletionKindName::Service,
                DeletionKind::Subjects => DeletionKindName::Subjects,
            },
            app_id: d.app_id,
            service_id: d.model_id,
            name: d.name.clone(),
            subjects: d.subjects,
            faces: d.faces,
            subjects_done: d.subjects_done,
            faces_done: d.faces_done,
            percent: d.percent(),
            created_date: local_date_time(d.created_at),
            started_date: d.started_at.map(local_date_time),
        }
    }
}

/// List an application's deletions in progress
///
/// Its services and subjects that were deleted and are being purged in the background, oldest
/// first. Any member, and global OWNER and ADMINISTRATOR.
#[utoipa::path(
    get, path = "/app/{app_id}/deletions", operation_id = "listAppDeletions", tag = "services",
    params(("app_id" = Uuid, Path, description = APP_ID)),
    responses((status = 200, description = "The deletions in progress", body = Vec<DeletionDto>)),
    extensions(("x-error-codes" = json!(APP_CODES))),
)]
async fn of_app(State(state): State<AppState>, access: AppAccess<ReadApp>) -> Result<Json<Vec<DeletionDto>>> {
    let deletions = state.store.deletions(Some(access.app.id)).await?;
    Ok(Json(deletions.iter().map(DeletionDto::from).collect()))
}

/// List every deletion in progress
///
/// Applications, services and subjects that were deleted and are being purged in the
/// background, oldest first. Global OWNER and ADMINISTRATOR only.
#[utoipa::path(
    get, path = "/deletions", operation_id = "listDeletions", tag = "applications",
    responses((status = 200, description = "The deletions in progress", body = Vec<DeletionDto>)),
    extensions(("x-error-codes" = json!([9]))),
)]
async fn all(State(state): State<AppState>, _admin: GlobalAdmin) -> Result<Json<Vec<DeletionDto>>> {
    let deletions = state.store.deletions(None).await?;
    Ok(Json(deletions.iter().map(DeletionDto::from).collect()))
}
