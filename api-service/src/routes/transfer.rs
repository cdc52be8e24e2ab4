//! `/recognition/import` and `/recognition/export`: a recognition collection in and out as an
//! archive of photos by subject (how it works: [`crate::transfer`]).
//!
//! | call | answer |
//! |---|---|
//! | `POST /recognition/import?det_prob_threshold=&min_quality=` + a zip, tar or tar.gz of `subject/photo` files, as multipart part `file` or as the whole body (any other content type) | 202 with the job (below) and `Location: /api/v1/recognition/import/{id}`; the photos are enrolled in the background. Over `MAX_IMPORT_SIZE` → 413; no archive → 400 code 21; no part `file` → 34 |
//! | `GET /recognition/import/{id}` | the job: `{"id", "status": "running"/"done"/"failed", "error"?, "total"?, "seen", "done", "failed", "skipped", "remaining"?, "failures": [{"entry", "reason"}], "failures_not_listed", "skipped_entries": [{"entry", "reason"}], "skipped_not_listed", "added"?: {"subjects", "faces"}, "created_at", "finished_at"?}`; another service's or an unknown id → 404 code 0 |
//! | `GET /recognition/export` | a zip: `manifest.json` and `<subject>/<image_id>.<ext>` for every stored image, streamed |
//!
//! The counters: `total` files in the archive (once known; an honoured manifest is not
//! counted), `seen` of them handled so far, `done` enrolled, `failed` (not an image, no face or
//! several, too large, a bad subject name…), `skipped` (not a photo in a subject folder),
//! `remaining` = `total` − `seen`. The first 1000 failures and the first 1000 skipped entries are
//! listed with their reasons; `*_not_listed` count the others. `added` comes at the end: the
//! subjects the import created and the faces it stored. `error` says why a job failed as a whole
//! (an archive that cannot be read on, or `interrupted…` when the process running it stopped:
//! a job without a heartbeat for a minute).
//!
//! While `/migrate` runs, an import is refused (405 code 32) and photos met meanwhile fail.
//! The upload is spooled to a temporary file (in `TMPDIR`), deleted when the job ends.

use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_TYPE, LOCATION};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, SecondsFormat, Utc};
use futures::StreamExt;
use serde::Serialize;
use tokio::io::AsyncWriteExt;
use tracing::Instrument;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use visage_common::error::ErrorBody;
use visage_common::params::Params;
use visage_common::{ApiError, ErrorCode};
use visage_http::multipart_error;
use visage_store::jobs::{ImportJob, JobStatus, ReportKind};

use crate::auth::{ApiKey, Recognition};
use crate::error::store_error;
use crate::migration::WritesAllowed;
use crate::params::PathParam;
use crate::state::AppState;
use crate::transfer::archive::{self, SNIFF_BYTES};
use crate::transfer::{export, import};

/// Bytes of a multipart upload besides the archive: the boundaries, headers and text fields.
const FORM_OVERHEAD: u64 = 1 << 20;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(start_import))
        // The upload is counted against MAX_IMPORT_SIZE while it is spooled, not held in memory.
        .layer(DefaultBodyLimit::disable())
        .routes(routes!(job))
        .routes(routes!(export))
}

/// The multipart body of `POST /recognition/import`: the archive as part `file`, and the call's
/// parameters, which may also come as form fields.
#[derive(Debug, ToSchema)]
pub struct ImportForm {
    /// A zip, tar or tar.gz of `subject/photo` files.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
    pub det_prob_threshold: Option<f64>,
    pub min_quality: Option<f64>,
}

/// Import a collection
///
/// Ours: enrols, in the background, every photo of an archive (zip, tar or tar.gz) of
/// `subject/photo` files, as `POST /recognition/faces` would, each photo's folder naming its
/// subject; an archive made by `GET /recognition/export` is taken as it was exported. The
/// answer is the job, to follow at its `Location`. The archive comes as multipart part `file` or
/// as the whole body (any other content type), up to `MAX_IMPORT_SIZE`.
#[utoipa::path(
    post, path = "/recognition/import", operation_id = "startImport", tag = "transfer",
    params(
        ("det_prob_threshold" = Option<f64>, Query, description = "The detector's minimal certainty for a face, 0 to 1 (default core's)"),
        ("min_quality" = Option<f64>, Query, description = "Refuse faces whose quality (the `quality` plugin) is lower, 0 to 1: they count as failed"),
    ),
    request_body(
        description = "The archive, as multipart part `file` or as the whole body",
        content((ImportForm = "multipart/form-data"), ("application/zip"), ("application/x-tar"), ("application/gzip"), ("*/*")),
    ),
    responses(
        (status = 202, description = "The import started", body = JobJson,
            headers(("Location" = String, description = "The job: `/api/v1/recognition/import/{id}`")),
            example = json!({"id": "5f0c1d2e-3a4b-4c5d-8e6f-7a8b9c0d1e2f", "status": "running", "seen": 0, "done": 0, "failed": 0, "skipped": 0, "failures": [], "failures_not_listed": 0, "skipped_entries": [], "skipped_not_listed": 0, "created_at": "2026-11-30T12:00:00.000Z"})),
        (status = 413, description = "The archive is over `MAX_IMPORT_SIZE` (code 0)", body = ErrorBody,
            example = json!({"message": "The archive exceeds its maximum allowed size of 1073741824 bytes", "code": 0})),
        (status = 500, description = "The archive cannot be stored for the import (code 0)", body = ErrorBody,
            example = json!({"message": "The archive cannot be stored for the import", "code": 0})),
    ),
    extensions(("x-error-codes" = json!([0, 21, 26, 32, 34]))),
)]
async fn start_import(
    key: ApiKey<Recognition>,
    _: WritesAllowed,
    State(state): State<AppState>,
    request: Request,
) -> Result<Response, ApiError> {
    let upload = spool(request, &state).await?;
    let options = import::Options::read(&upload.params)?;
    if upload.size == 0 {
        return Err(ApiError::bad_image("The archive is empty"));
    }
    if archive::sniff(&upload.head).is_none() {
        return Err(ApiError::bad_image("The file is not a zip or tar archive"));
    }
    let model_id = key.model_id();
    let id = state.store.create_import_job(model_id).await.map_err(store_error)?;
    let job = find_job(&state, model_id, id).await?;
    tracing::info!(job = %id, bytes = upload.size, "import started");
    let file = upload.into_std().await;
    tokio::spawn(import::run(state, id, model_id, file, options).instrument(tracing::info_span!("import", job = %id)));
    let location = format!("/api/v1/recognition/import/{id}");
    Ok((StatusCode::ACCEPTED, [(LOCATION, location)], Json(job)).into_response())
}

/// An import's progress
///
/// Ours: the state of an import job of this service: its counters, the entries that failed or
/// were skipped with their reasons, and at the end what it added.
#[utoipa::path(
    get, path = "/recognition/import/{id}", operation_id = "getImportJob", tag = "transfer",
    params(("id" = String, Path, description = "The job's id, from the import's answer", example = "5f0c1d2e-3a4b-4c5d-8e6f-7a8b9c0d1e2f")),
    responses(
        (status = 200, description = "The job", body = JobJson),
        (status = 404, description = "No import job of this service has this id (code 0)", body = ErrorBody,
            examples(("code 0" = (summary = "Import job not found",
                value = json!({"message": "Import job 5f0c1d2e-3a4b-4c5d-8e6f-7a8b9c0d1e2f not found", "code": 0}))))),
    ),
    extensions(("x-error-codes" = json!([0]))),
)]
async fn job(
    key: ApiKey<Recognition>,
    State(state): State<AppState>,
    PathParam(id): PathParam<String>,
) -> Result<Json<JobJson>, ApiError> {
    let job_id = Uuid::try_parse(id.trim()).map_err(|_| job_not_found(&id))?;
    find_job(&state, key.model_id(), job_id).await.map(Json)
}

async fn find_job(state: &AppState, model_id: Uuid, id: Uuid) -> Result<JobJson, ApiError> {
    let job = state.store.import_job(model_id, id, import::INTERRUPTED_AFTER).await.map_err(store_error)?;
    job.map(JobJson::from).ok_or_else(|| job_not_found(&id.to_string()))
}

fn job_not_found(id: &str) -> ApiError {
    let shown: String = id.chars().take(64).collect();
    ApiError::new(ErrorCode::Undefined, format!("Import job {shown} not found")).with_status(404)
}

/// Export the collection
///
/// Ours: the whole collection as a zip, streamed: `manifest.json` (subjects and faces) and
/// `<subject>/<image_id>.<ext>` for every stored image. `POST /recognition/import` takes it back.
#[utoipa::path(
    get, path = "/recognition/export", operation_id = "exportCollection", tag = "transfer",
    responses((status = 200, description = "The zip (`Content-Disposition: attachment; filename=\"collection.zip\"`)",
        content(("application/zip")))),
    extensions(("x-error-codes" = json!([0]))),
)]
async fn export(key: ApiKey<Recognition>, State(state): State<AppState>) -> Result<Response, ApiError> {
    let snapshot = state.store.export_snapshot(key.model_id()).await.map_err(store_error)?;
    let headers = [(CONTENT_TYPE, "application/zip"), (CONTENT_DISPOSITION, "attachment; filename=\"collection.zip\"")];
    Ok((headers, export::zip_body(snapshot)).into_response())
}

/// An import job as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "5f0c1d2e-3a4b-4c5d-8e6f-7a8b9c0d1e2f", "status": "done", "total": 12, "seen": 12, "done": 10, "failed": 1, "skipped": 1, "remaining": 0, "failures": [{"entry": "Ben Jones/group.jpg", "reason": "More than one face in the source image"}], "failures_not_listed": 0, "skipped_entries": [{"entry": "notes.txt", "reason": "not in a subject folder"}], "skipped_not_listed": 0, "added": {"subjects": 2, "faces": 10}, "created_at": "2026-11-30T12:00:00.000Z", "finished_at": "2026-11-30T12:00:09.512Z"}))]
struct JobJson {
    id: Uuid,
    /// `running`, `done` or `failed`.
    #[schema(value_type = String, example = "done")]
    status: &'static str,
    /// Why the job failed as a whole.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    /// The files in the archive, once known.
    #[serde(skip_serializing_if = "Option::is_none")]
    total: Option<u64>,
    /// Files handled so far.
    seen: u64,
    /// Photos enrolled.
    done: u64,
    /// Photos that could not be enrolled.
    failed: u64,
    /// Files that are not a photo in a subject folder.
    skipped: u64,
    /// `total` − `seen`, once `total` is known.
    #[serde(skip_serializing_if = "Option::is_none")]
    remaining: Option<u64>,
    /// The first 1000 failures.
    failures: Vec<EntryJson>,
    failures_not_listed: u64,
    /// The first 1000 skipped files.
    skipped_entries: Vec<EntryJson>,
    skipped_not_listed: u64,
    /// What the import added, once it ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    added: Option<AddedJson>,
    #[schema(format = DateTime)]
    created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    finished_at: Option<String>,
}

/// A file of the archive with why it failed or was skipped.
#[derive(Debug, Serialize, ToSchema)]
struct EntryJson {
    /// Its path in the archive.
    entry: String,
    reason: String,
}

/// What an import added.
#[derive(Debug, Serialize, ToSchema)]
struct AddedJson {
    /// Subjects it created.
    subjects: u64,
    /// Faces it stored.
    faces: u64,
}

impl From<ImportJob> for JobJson {
    fn from(job: ImportJob) -> Self {
        let p = job.progress;
        let (mut failures, mut skipped_entries) = (Vec::new(), Vec::new());
        for reported in job.report {
            let list = if reported.kind == ReportKind::Skipped { &mut skipped_entries } else { &mut failures };
            list.push(EntryJson { entry: reported.entry, reason: reported.reason });
        }
        let time = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Millis, true);
        Self {
            id: job.id,
            status: job.status.as_str(),
            error: job.error,
            total: p.total,
            seen: p.seen,
            done: p.done,
            failed: p.failed,
            skipped: p.skipped,
            remaining: p.total.map(|total| total.saturating_sub(p.seen)),
            failures,
            failures_not_listed: p.failed_unlisted,
            skipped_entries,
            skipped_not_listed: p.skipped_unlisted,
            added: (job.status != JobStatus::Running)
                .then_some(AddedJson { subjects: p.subjects_added, faces: p.done }),
            created_at: time(job.created_at),
            finished_at: job.finished_at.map(time),
        }
    }
}

/// An upload spooled to a temporary file.
struct Upload {
    /// The query string's parameters, then the multipart text fields.
    params: Params,
    file: tokio::fs::File,
    size: u64,
    /// Its first bytes, to tell the format.
    head: Vec<u8>,
}

impl Upload {
    async fn new(params: Params) -> Result<Self, ApiError> {
        let file = tokio::task::spawn_blocking(tempfile::tempfile)
            .await
            .map_err(|e| spool_error(&e))?
            .map_err(|e| spool_error(&e))?;
        Ok(Self { params, file: tokio::fs::File::from_std(file), size: 0, head: Vec::new() })
    }

    async fn write(&mut self, chunk: &[u8], limit: u64) -> Result<(), ApiError> {
        self.size += chunk.len() as u64;
        if self.size > limit {
            return Err(ApiError::too_large("archive", limit));
        }
        if self.head.len() < SNIFF_BYTES {
            let wanted = (SNIFF_BYTES - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..wanted]);
        }
        self.file.write_all(chunk).await.map_err(|e| spool_error(&e))
    }

    async fn into_std(mut self) -> std::fs::File {
        // Written with `write_all`, which completes every write: nothing is buffered.
        let _ = self.file.flush().await;
        self.file.into_std().await
    }
}

fn spool_error(e: &dyn std::fmt::Display) -> ApiError {
    tracing::error!(error = %e, "the import's upload cannot be spooled to a temporary file");
    ApiError::new(ErrorCode::Undefined, "The archive cannot be stored for the import").with_status(500)
}

/// Reads the upload into a temporary file, counting it against `MAX_IMPORT_SIZE` (413 past it):
/// multipart part `file`, or the whole body.
async fn spool(request: Request, state: &AppState) -> Result<Upload, ApiError> {
    let limit = state.settings.max_import_size;
    let content_type = request.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let multipart = content_type.trim_start().to_ascii_lowercase().starts_with("multipart/form-data");
    let declared = request.headers().get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    let overhead = if multipart { FORM_OVERHEAD } else { 0 };
    if declared.is_some_and(|length| length > limit.saturating_add(overhead)) {
        return Err(ApiError::too_large("archive", limit));
    }
    let mut upload = Upload::new(Params::from_query(request.uri().query())).await?;
    if !multipart {
        let mut body = request.into_body().into_data_stream();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| ApiError::validation(format!("The upload broke off: {e}")))?;
            upload.write(&chunk, limit).await?;
        }
        return Ok(upload);
    }
    let mut form = Multipart::from_request(request, state)
        .await
        .map_err(|e| ApiError::validation(format!("The multipart body is malformed: {}", e.body_text())))?;
    let (mut found, mut fields) = (false, 0u64);
    while let Some(mut field) = form.next_field().await.map_err(|e| multipart_error(&e, limit))? {
        let name = field.name().unwrap_or_default().to_string();
        let archive = name == "file" && !found;
        found |= archive;
        let mut text = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(|e| multipart_error(&e, limit))? {
            if archive {
                upload.write(&chunk, limit).await?;
            } else {
                fields += chunk.len() as u64;
                if fields > FORM_OVERHEAD {
                    return Err(ApiError::too_large("request", limit.saturating_add(FORM_OVERHEAD)));
                }
                text.extend_from_slice(&chunk);
            }
        }
        if !archive && !name.is_empty() {
            upload.params.push(name, String::from_utf8_lossy(&text).into_owned());
        }
    }
    if !found {
        return Err(ApiError::missing_part("file"));
    }
    Ok(upload)
}
