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
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, SecondsFormat, Utc};
use futures::StreamExt;
use serde::Serialize;
use tokio::io::AsyncWriteExt;
use tracing::Instrument;
use uuid::Uuid;
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

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/recognition/import", post(start_import))
        // The upload is counted against MAX_IMPORT_SIZE while it is spooled, not held in memory.
        .layer(DefaultBodyLimit::disable())
        .route("/recognition/import/{id}", get(job))
        .route("/recognition/export", get(export))
}

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

async fn export(key: ApiKey<Recognition>, State(state): State<AppState>) -> Result<Response, ApiError> {
    let snapshot = state.store.export_snapshot(key.model_id()).await.map_err(store_error)?;
    let headers = [(CONTENT_TYPE, "application/zip"), (CONTENT_DISPOSITION, "attachment; filename=\"collection.zip\"")];
    Ok((headers, export::zip_body(snapshot)).into_response())
}

/// An import job as the API shows it.
#[derive(Debug, Serialize)]
struct JobJson {
    id: Uuid,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    total: Option<u64>,
    seen: u64,
    done: u64,
    failed: u64,
    skipped: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    remaining: Option<u64>,
    failures: Vec<EntryJson>,
    failures_not_listed: u64,
    skipped_entries: Vec<EntryJson>,
    skipped_not_listed: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    added: Option<AddedJson>,
    created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    finished_at: Option<String>,
}

#[derive(Debug, Serialize)]
struct EntryJson {
    entry: String,
    reason: String,
}

#[derive(Debug, Serialize)]
struct AddedJson {
    subjects: u64,
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
