//! `/migrate`: recomputing the stored embeddings that another embedder computed, from the stored
//! images, after core-service moved to a new model.
//!
//! A migration runs in the background. Every face whose `calculator` differs from core's
//! current one and whose image is stored goes through core again (`limit=1`,
//! `face_plugins=calculator`); its embedding (normalised, as every stored embedding is) and
//! embedder name are replaced. Faces core finds no face in, or that lost their image, are left
//! as they are and logged. The database triggers tell every api-service process, whose
//! collections pick up each new embedding as it is written.
//!
//! While one runs:
//! - another `POST /migrate` is 400 code 27 `Migration already executing`, on this process
//!   (a flag) and on any other process sharing the database (a Postgres advisory lock, held
//!   for the whole run by one connection, released when it ends or when the process dies);
//! - writes to this process's collections (faces and subjects) are 405 code 32
//!   `Write operations during migration aren't allowed` ([`WritesAllowed`]), as CompreFace
//!   blocks them on the migrating instance.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use futures::StreamExt;
use visage_common::similarity::l2_normalized;
use visage_common::{ApiError, ErrorCode};
use visage_store::locks::{Job, SessionLock};
use visage_store::reembed::Outdated;
use visage_store::Store;

use crate::core_client::{CoreClient, FindFaces};
use crate::state::AppState;

/// Faces recomputed at once (core requests in flight).
const CONCURRENCY: usize = 2;

/// Whether a migration runs in this process.
#[derive(Debug, Default)]
pub struct Migration {
    running: AtomicBool,
}

impl Migration {
    pub fn is_running(&self) -> bool {
        self.running.load(Ordering::Acquire)
    }

    /// Starts a migration in the background; 27 if one is running already, here or elsewhere.
    pub async fn start(self: Arc<Self>, store: Store, core: Arc<CoreClient>) -> Result<(), ApiError> {
        if self.running.swap(true, Ordering::AcqRel) {
            return Err(already_running());
        }
        let running = Running(self);
        let (lock, calculator) = prepare(&store, &core).await?.ok_or_else(already_running)?;
        tokio::spawn(async move {
            run(&store, &core, &calculator).await;
            // Closing the connection releases the advisory lock (so does a dropped one).
            if let Err(e) = lock.release().await {
                tracing::warn!(error = %e, "closing the migration's lock connection failed");
            }
            drop(running);
        });
        Ok(())
    }
}

/// Clears the flag when the migration ends, however it ends.
struct Running(Arc<Migration>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.running.store(false, Ordering::Release);
    }
}

/// Takes the cluster-wide lock on a connection of its own and asks core for its embedder:
/// `None` when another process holds the lock.
async fn prepare(store: &Store, core: &CoreClient) -> Result<Option<(SessionLock, String)>, ApiError> {
    let calculator = core.status().await?.calculator_version.clone();
    let lock = store.try_lock(Job::Migration).await.map_err(crate::error::store_error)?;
    Ok(lock.map(|lock| (lock, calculator)))
}

/// Recomputes every outdated face, a few at a time.
async fn run(store: &Store, core: &CoreClient, calculator: &str) {
    let faces = match store.outdated_faces(calculator).await {
        Ok(faces) => faces,
        Err(e) => {
            tracing::error!(error = ?e, "migration failed: cannot list the faces to recompute");
            return;
        }
    };
    tracing::info!(faces = faces.len(), calculator, "migration started");
    let total = faces.len();
    let recomputed = futures::stream::iter(faces)
        .map(|face| recompute(store, core, face))
        .buffer_unordered(CONCURRENCY)
        .filter(|done| std::future::ready(*done))
        .count()
        .await;
    tracing::info!(recomputed, skipped = total - recomputed, "migration finished");
}

/// Recomputes one face from its image; whether it was.
async fn recompute(store: &Store, core: &CoreClient, face: Outdated) -> bool {
    let Outdated { model_id, image_id } = face;
    let image = match store.face_image(model_id, image_id).await {
        Ok(Some(Some(image))) => image,
        Ok(_) => return false,
        Err(e) => {
            tracing::warn!(error = ?e, %image_id, "migration skips a face: cannot read its image");
            return false;
        }
    };
    let request = FindFaces { limit: Some(1), face_plugins: Some("calculator".to_string()), ..FindFaces::default() };
    let found = match core.find_faces(image.into(), "recalculated", &request).await {
        Ok(found) => found,
        Err(e) => {
            tracing::warn!(error = %e, %image_id, "migration skips a face: core-service failed on its image");
            return false;
        }
    };
    let embedding = found.result.first().and_then(|f| f.embedding.as_deref()).and_then(l2_normalized);
    let (Some(embedding), Some(calculator)) = (embedding, found.plugins_versions.get("calculator")) else {
        tracing::warn!(%image_id, "migration skips a face: core-service returned no embedding");
        return false;
    };
    match store.replace_embedding(model_id, image_id, &embedding, calculator).await {
        Ok(replaced) => replaced,
        Err(e) => {
            tracing::warn!(error = ?e, %image_id, "migration skips a face: cannot store its embedding");
            false
        }
    }
}

fn already_running() -> ApiError {
    ApiError::new(ErrorCode::MigrationInProgress, "Migration already executing")
}

/// Admits a request that writes to a collection unless a migration runs in this process
/// (405 code 32). Put it after the `ApiKey` extractor: the key is checked first, as upstream.
pub struct WritesAllowed;

impl FromRequestParts<AppState> for WritesAllowed {
    type Rejection = ApiError;

    async fn from_request_parts(_: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if state.migration.is_running() {
            return Err(ApiError::new(
                ErrorCode::WritingNotAllowed,
                "Write operations during migration aren't allowed",
            ));
        }
        Ok(Self)
    }
}
