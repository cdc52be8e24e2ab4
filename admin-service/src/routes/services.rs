//! Face services ("models") of an application: list, create, read with the collection's size,
//! rename or set the match threshold, clone with the collection, new API key, delete with the
//! collection, statistics.
//!
//! A recognition service's `matchThreshold` (ours) is the similarity below which recognitions
//! leave a stored face out; new ones get [`DEFAULT_MATCH_THRESHOLD`], `null` means none
//! (CompreFace's answers). Other services have none and do not show the field.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{Months, Utc};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use visage_common::similarity::DEFAULT_MATCH_THRESHOLD;
use visage_common::{ApiError, ErrorCode};
use visage_http::extract::{JsonBody, PathParam};
use visage_store::{ServiceInfo, ServiceType};

use crate::auth::{parse_id, AppAccess, AppPolicy, ManageServices, ReadApp};
use crate::dto::{parse_type, ModelDto, ServiceTypeName, StatisticDto};
use crate::error::{Error, Result};
use crate::routes::apps::{NameBody, APP_CODES, APP_ID};
use crate::state::AppState;
use crate::validation;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(create))
        .routes(routes!(read, change, clone, remove))
        .routes(routes!(regenerate_key))
        .routes(routes!(statistics))
}

/// The service's path parameter.
const MODEL_ID: &str = "The service's id";

#[derive(Deserialize)]
struct ModelPath {
    #[allow(dead_code)]
    app_id: String,
    model_id: String,
}

/// The path's service, which must belong to the path's application: 404 code 10 for an unknown
/// service, 404 code 3 for another application's.
async fn service_of<P: AppPolicy>(state: &AppState, access: &AppAccess<P>, path: &ModelPath) -> Result<ServiceInfo> {
    let id = parse_id("modelId", &path.model_id)?;
    let service = state
        .store
        .service(id)
        .await?
        .ok_or_else(|| Error::new(ErrorCode::ModelNotFound, format!("Model {id} not found")))?;
    if service.service.app_id != access.app.id {
        return Err(Error::of(ErrorCode::ModelDoesNotBelongToApp));
    }
    Ok(service)
}

/// The service with its collection's size (recognition services only).
async fn with_counts(state: &AppState, service: &ServiceInfo) -> Result<ModelDto> {
    let mut dto = ModelDto::from(service);
    if service.service.service_type == ServiceType::Recognition {
        let (subjects, faces) = state.store.collection_counts(service.service.id).await?;
        dto.subject_count = Some(subjects);
        dto.image_count = Some(faces);
    }
    Ok(dto)
}

/// List an application's services
///
/// By name, without the collections' sizes. Any member, and global OWNER and ADMINISTRATOR.
#[utoipa::path(
    get, path = "/app/{app_id}/models", operation_id = "listServices", tag = "services",
    params(("app_id" = Uuid, Path, description = APP_ID)),
    responses((status = 200, description = "The services", body = Vec<ModelDto>, example = json!([
        {"id": "5a8c3e1f-7b2d-4e9a-a6c4-1d3f5b7e9c20", "name": "Door camera",
            "apiKey": "00000000-0000-0000-0000-000000000002", "type": "RECOGNITION",
            "createdDate": "2026-01-31T09:15:00", "matchThreshold": 0.5},
        {"id": "6b9d4f2a-8c3e-4fab-b7d5-2e4a6c8f0d31", "name": "Age and gender",
            "apiKey": "00000000-0000-0000-0000-000000000003", "type": "DETECTION",
            "createdDate": "2026-02-02T14:40:12"}
    ]))),
    extensions(("x-error-codes" = json!(APP_CODES))),
)]
async fn list(State(state): State<AppState>, access: AppAccess<ReadApp>) -> Result<Json<Vec<ModelDto>>> {
    let services = state.store.services_of_app(access.app.id).await?;
    Ok(Json(services.iter().map(ModelDto::from).collect()))
}

/// A new service.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"name": "Door camera", "type": "RECOGNITION", "matchThreshold": 0.5}))]
struct NewService {
    /// 1 to 50 characters, none of `;`, `/`, `\`; unique among the application's services.
    #[schema(required = true, value_type = String)]
    name: Option<String>,
    /// `RECOGNITION`, `DETECTION` or `VERIFY` (`VERIFICATION` and any letter case too).
    #[serde(rename = "type")]
    #[schema(required = true, value_type = ServiceTypeName)]
    service_type: Option<String>,
    /// Recognition services only (ours): the similarity below which recognitions leave a stored
    /// face out. Absent: the default; `null`: none.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<f64>, minimum = 0.0, maximum = 1.0)]
    match_threshold: Option<Option<f64>>,
}

/// `{name?, matchThreshold?}`: at least one of them.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"name": "Front door camera", "matchThreshold": 0.6}))]
struct ServiceChange {
    /// The new name; needed unless `matchThreshold` is given.
    name: Option<String>,
    /// Recognition services only (ours). Absent: unchanged; `null`: none.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<f64>, minimum = 0.0, maximum = 1.0)]
    match_threshold: Option<Option<f64>>,
}

/// Tells a field given as `null` (`Some(None)`) from an absent one (`None`, the default).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Option<Option<f64>>, D::Error> {
    Option::<f64>::deserialize(d).map(Some)
}

/// A match threshold as sent: a similarity in [0, 1] (or `null`), for recognition services only.
fn match_threshold(service_type: ServiceType, value: Option<f64>) -> Result<Option<f64>> {
    if service_type != ServiceType::Recognition && value.is_some() {
        return Err(ApiError::validation("Only recognition services have a match threshold").into());
    }
    match value {
        Some(t) if !(0.0..=1.0).contains(&t) => {
            Err(ApiError::validation(format!("matchThreshold must be between 0 and 1, got {t}")).into())
        }
        value => Ok(value),
    }
}

/// Create a service
///
/// Of type `RECOGNITION`, `DETECTION` or `VERIFY`, with a new API key. A recognition service
/// gets the default match threshold (ours) unless the body says otherwise. The application's
/// OWNER and ADMINISTRATORs, and global OWNER and ADMINISTRATOR.
#[utoipa::path(
    post, path = "/app/{app_id}/model", operation_id = "createService", tag = "services",
    params(("app_id" = Uuid, Path, description = APP_ID)),
    request_body = NewService,
    responses((status = 201, description = "The new service", body = ModelDto, example = json!({
        "id": "5a8c3e1f-7b2d-4e9a-a6c4-1d3f5b7e9c20", "name": "Door camera",
        "apiKey": "1e3b5d7f-9a2c-4e6b-8d0f-2a4c6e8b0d13", "type": "RECOGNITION",
        "createdDate": "2026-01-31T09:15:00", "matchThreshold": 0.5
    }))),
    extensions(("x-error-codes" = json!([26, 2, 1, 9, 5, 17]))),
)]
async fn create(
    State(state): State<AppState>,
    access: AppAccess<ManageServices>,
    JsonBody(body): JsonBody<NewService>,
) -> Result<(StatusCode, Json<ModelDto>)> {
    let name = validation::entity_name("Model", body.name.as_deref())?;
    let type_text = validation::required("type", body.service_type.as_deref())?;
    let service_type = parse_type(&type_text).ok_or_else(|| {
        ApiError::validation(format!("Service type '{type_text}' is not one of RECOGNITION, DETECTION, VERIFY"))
    })?;
    let default = (service_type == ServiceType::Recognition).then_some(DEFAULT_MATCH_THRESHOLD);
    let threshold = match_threshold(service_type, body.match_threshold.unwrap_or(default))?;
    let service = state.store.create_service(access.app.id, &name, service_type, threshold).await?;
    Ok((StatusCode::CREATED, Json(ModelDto::from(&service))))
}

/// Read a service
///
/// A recognition service with its collection's size (`subjectCount`, `imageCount`). Any member,
/// and global OWNER and ADMINISTRATOR.
#[utoipa::path(
    get, path = "/app/{app_id}/model/{model_id}", operation_id = "getService", tag = "services",
    params(("app_id" = Uuid, Path, description = APP_ID), ("model_id" = Uuid, Path, description = MODEL_ID)),
    responses((status = 200, description = "The service", body = ModelDto)),
    extensions(("x-error-codes" = json!([26, 2, 1, 10, 3]))),
)]
async fn read(
    State(state): State<AppState>,
    access: AppAccess<ReadApp>,
    PathParam(path): PathParam<ModelPath>,
) -> Result<Json<ModelDto>> {
    let service = service_of(&state, &access, &path).await?;
    Ok(Json(with_counts(&state, &service).await?))
}

/// Rename a service or set its match threshold
///
/// The name, the match threshold (ours, recognition services), or both; everything is checked
/// before anything changes. The application's OWNER and ADMINISTRATORs, and global OWNER and
/// ADMINISTRATOR.
#[utoipa::path(
    put, path = "/app/{app_id}/model/{model_id}", operation_id = "changeService", tag = "services",
    params(("app_id" = Uuid, Path, description = APP_ID), ("model_id" = Uuid, Path, description = MODEL_ID)),
    request_body = ServiceChange,
    responses((status = 200, description = "The service as changed (without the collection's size)", body = ModelDto,
        example = json!({
            "id": "5a8c3e1f-7b2d-4e9a-a6c4-1d3f5b7e9c20", "name": "Front door camera",
            "apiKey": "00000000-0000-0000-0000-000000000002", "type": "RECOGNITION",
            "createdDate": "2026-01-31T09:15:00", "matchThreshold": 0.6
        }))),
    extensions(("x-error-codes" = json!([26, 2, 1, 9, 10, 3, 5, 17]))),
)]
async fn change(
    State(state): State<AppState>,
    access: AppAccess<ManageServices>,
    PathParam(path): PathParam<ModelPath>,
    JsonBody(body): JsonBody<ServiceChange>,
) -> Result<Json<ModelDto>> {
    let mut service = service_of(&state, &access, &path).await?;
    let name = match (&body.name, &body.match_threshold) {
        (None, Some(_)) => None,
        (name, _) => Some(validation::entity_name("Model", name.as_deref())?),
    };
    let threshold = body.match_threshold.map(|t| match_threshold(service.service.service_type, t)).transpose()?;
    let id = service.service.id;
    if let Some(name) = name {
        service = state.store.rename_service(id, &name).await?.unwrap_or(service);
    }
    if let Some(threshold) = threshold {
        service = state.store.set_match_threshold(id, threshold).await?.unwrap_or(service);
    }
    Ok(Json(ModelDto::from(&service)))
}

/// Clone a service
///
/// A copy under a new name, with its own API key and a copy of the collection (subjects, faces,
/// images). The application's OWNER and ADMINISTRATORs, and global OWNER and ADMINISTRATOR.
#[utoipa::path(
    post, path = "/app/{app_id}/model/{model_id}", operation_id = "cloneService", tag = "services",
    params(("app_id" = Uuid, Path, description = APP_ID), ("model_id" = Uuid, Path, description = MODEL_ID)),
    request_body(content = NameBody, example = json!({"name": "Door camera (copy)"})),
    responses((status = 201, description = "The copy, with its collection's size", body = ModelDto)),
    extensions(("x-error-codes" = json!([26, 2, 1, 9, 10, 3, 5, 17]))),
)]
async fn clone(
    State(state): State<AppState>,
    access: AppAccess<ManageServices>,
    PathParam(path): PathParam<ModelPath>,
    JsonBody(body): JsonBody<NameBody>,
) -> Result<(StatusCode, Json<ModelDto>)> {
    let service = service_of(&state, &access, &path).await?;
    let name = validation::entity_name("Model", body.name.as_deref())?;
    let copy = state
        .store
        .clone_service(service.service.id, &name)
        .await?
        .ok_or_else(|| Error::of(ErrorCode::ModelNotFound))?;
    Ok((StatusCode::CREATED, Json(with_counts(&state, &copy).await?)))
}

/// Delete a service
///
/// With its subjects, faces, images and statistics. The application's OWNER and
/// ADMINISTRATORs, and global OWNER and ADMINISTRATOR.
#[utoipa::path(
    delete, path = "/app/{app_id}/model/{model_id}", operation_id = "deleteService", tag = "services",
    params(("app_id" = Uuid, Path, description = APP_ID), ("model_id" = Uuid, Path, description = MODEL_ID)),
    responses((status = 200, description = "Deleted (no body)")),
    extensions(("x-error-codes" = json!([26, 2, 1, 9, 10, 3]))),
)]
async fn remove(
    State(state): State<AppState>,
    access: AppAccess<ManageServices>,
    PathParam(path): PathParam<ModelPath>,
) -> Result<StatusCode> {
    let service = service_of(&state, &access, &path).await?;
    state.store.delete_service(service.service.id).await?;
    tracing::info!(service = %service.service.id, by = %access.user.id, "service deleted");
    Ok(StatusCode::OK)
}

/// Renew a service's API key
///
/// The old key stops working at once; the collection stays with the service. The
/// application's OWNER and ADMINISTRATORs, and global OWNER and ADMINISTRATOR.
#[utoipa::path(
    put, path = "/app/{app_id}/model/{model_id}/apikey", operation_id = "renewServiceKey", tag = "services",
    params(("app_id" = Uuid, Path, description = APP_ID), ("model_id" = Uuid, Path, description = MODEL_ID)),
    responses((status = 200, description = "The service with its new key and its collection's size", body = ModelDto)),
    extensions(("x-error-codes" = json!([26, 2, 1, 9, 10, 3]))),
)]
async fn regenerate_key(
    State(state): State<AppState>,
    access: AppAccess<ManageServices>,
    PathParam(path): PathParam<ModelPath>,
) -> Result<Json<ModelDto>> {
    let service = service_of(&state, &access, &path).await?;
    let renewed = state.store.regenerate_service_key(service.service.id).await?.unwrap_or(service);
    Ok(Json(with_counts(&state, &renewed).await?))
}

/// A service's statistics
///
/// The public API's requests per day over the last six months, newest first; days without
/// requests are left out. Any member, and global OWNER and ADMINISTRATOR.
#[utoipa::path(
    get, path = "/app/{app_id}/model/{model_id}/statistics", operation_id = "serviceStatistics", tag = "services",
    params(("app_id" = Uuid, Path, description = APP_ID), ("model_id" = Uuid, Path, description = MODEL_ID)),
    responses((status = 200, description = "Requests per day", body = Vec<StatisticDto>, example = json!([
        {"requestCount": 154, "createdDate": "2026-01-31"}, {"requestCount": 12, "createdDate": "2026-01-30"}
    ]))),
    extensions(("x-error-codes" = json!([26, 2, 1, 10, 3]))),
)]
async fn statistics(
    State(state): State<AppState>,
    access: AppAccess<ReadApp>,
    PathParam(path): PathParam<ModelPath>,
) -> Result<Json<Vec<StatisticDto>>> {
    let service = service_of(&state, &access, &path).await?;
    let today = Utc::now().date_naive();
    let since = today.checked_sub_months(Months::new(6)).unwrap_or(today);
    let mut days = state.store.request_counts(service.service.id, since).await?;
    days.reverse();
    Ok(Json(days.into_iter().map(|(day, count)| StatisticDto { request_count: count, created_date: day }).collect()))
}
