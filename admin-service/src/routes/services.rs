//! Face services ("models") of an application: list, create, read with the collection's size,
//! rename or set the match threshold, clone with the collection, new API key, delete with the
//! collection, statistics.
//!
//! A recognition service's `matchThreshold` (ours) is the similarity below which recognitions
//! leave a stored face out; new ones get [`DEFAULT_MATCH_THRESHOLD`], `null` means none
//! (CompreFace's answers). Other services have none and do not show the field.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::{Json, Router};
use chrono::{Months, Utc};
use serde::Deserialize;
use visage_common::similarity::DEFAULT_MATCH_THRESHOLD;
use visage_common::{ApiError, ErrorCode};
use visage_http::extract::{JsonBody, PathParam};
use visage_store::{ServiceInfo, ServiceType};

use crate::auth::{parse_id, AppAccess, AppPolicy, ManageServices, ReadApp};
use crate::dto::{parse_type, ModelDto, StatisticDto};
use crate::error::{Error, Result};
use crate::routes::apps::NameBody;
use crate::state::AppState;
use crate::validation;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/app/{app_id}/models", get(list))
        .route("/app/{app_id}/model", axum::routing::post(create))
        .route("/app/{app_id}/model/{model_id}", get(read).put(change).post(clone).delete(remove))
        .route("/app/{app_id}/model/{model_id}/apikey", put(regenerate_key))
        .route("/app/{app_id}/model/{model_id}/statistics", get(statistics))
}

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

async fn list(State(state): State<AppState>, access: AppAccess<ReadApp>) -> Result<Json<Vec<ModelDto>>> {
    let services = state.store.services_of_app(access.app.id).await?;
    Ok(Json(services.iter().map(ModelDto::from).collect()))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewService {
    name: Option<String>,
    #[serde(rename = "type")]
    service_type: Option<String>,
    /// Absent: the default; `null`: none.
    #[serde(default, deserialize_with = "present")]
    match_threshold: Option<Option<f64>>,
}

/// `PUT /app/{id}/model/{modelId} {name?, matchThreshold?}`: at least one of them.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ServiceChange {
    name: Option<String>,
    /// Absent: unchanged; `null`: none.
    #[serde(default, deserialize_with = "present")]
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

/// `POST /app/{id}/model {name, type, matchThreshold?}`: type RECOGNITION, DETECTION or VERIFY.
/// A recognition service gets [`DEFAULT_MATCH_THRESHOLD`] unless the body says otherwise.
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

async fn read(
    State(state): State<AppState>,
    access: AppAccess<ReadApp>,
    PathParam(path): PathParam<ModelPath>,
) -> Result<Json<ModelDto>> {
    let service = service_of(&state, &access, &path).await?;
    Ok(Json(with_counts(&state, &service).await?))
}

/// Renames the service and/or sets its match threshold; everything is checked before anything
/// changes.
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

/// `POST /app/{id}/model/{modelId} {name}`: a copy with its own key and a copy of the collection.
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

/// `DELETE /app/{id}/model/{modelId}`: with its subjects, faces, images and statistics.
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

/// `PUT /app/{id}/model/{modelId}/apikey`: a new key; the old one stops working at once, the
/// collection stays.
async fn regenerate_key(
    State(state): State<AppState>,
    access: AppAccess<ManageServices>,
    PathParam(path): PathParam<ModelPath>,
) -> Result<Json<ModelDto>> {
    let service = service_of(&state, &access, &path).await?;
    let renewed = state.store.regenerate_service_key(service.service.id).await?.unwrap_or(service);
    Ok(Json(with_counts(&state, &renewed).await?))
}

/// `GET /app/{id}/model/{modelId}/statistics`: requests per day for the last six months, newest
/// first.
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
