//! Deletions that answer at once: marking what goes, and purging it in the background
//! (`migrations/20261208000002_background_deletions.sql`).
//!
//! Deleting an application, a service, every subject of a collection, or a subject with more
//! than [`INLINE_FACES`] faces marks the rows (`deleted_at`) in one short transaction and records
//! a row in `deletions`. From the commit on, every read of the store leaves marked rows out, the
//! marked names are free again, and the triggers have told the api-service replicas to drop them
//! from memory (`drop` for a service, `subjects` or `clear` for subjects). Smaller deletions
//! delete their rows at once, through the foreign keys' cascades.
//!
//! A purge ([`Store::spawn_purger`], run by every api-service and admin-service process) takes a
//! deletion under a session advisory lock held on a connection of its own: one process purges a
//! given deletion at a time, and a process that stops (even killed) lets its deletions go at
//! once, for any other process, or itself after a restart, to take them up where they stopped.
//! Each batch is a transaction that deletes at most [`FACES_PER_BATCH`] faces with their images,
//! then their subjects once empty, and counts its progress in the deletion's row; between
//! batches the purger pauses as long as the batch took, so that the other collections' requests
//! keep their latency. The service
//! (or application) row goes last, with whatever its cascades still find.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::{Connection, PgConnection};
use uuid::Uuid;

use crate::{Store, StoreError};

/// Collections (or subjects) with at most this many faces are deleted at once, in the request.
pub const INLINE_FACES: i64 = 1_000;
/// Faces deleted per purge transaction.
pub const FACES_PER_BATCH: i64 = 2_000;
/// Subjects whose faces one purge transaction deletes.
const SUBJECTS_PER_BATCH: i64 = 200;
/// The first key of the purge's advisory locks (the second is the deletion's hash).
const PURGE_LOCK_CLASS: i32 = 0x7669_7370; // "visp"
/// How often an idle purger looks for deletions.
const POLL: Duration = Duration::from_secs(1);
/// After each batch the purger pauses for as long as the batch took: the database spends at
/// most half its time on a purge, and the requests of other collections keep their latency.
const PAUSE_PER_BATCH_TIME: f64 = 1.0;

/// What a deletion removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeletionKind {
    /// An application with its services.
    App,
    /// A service with its collection.
    Service,
    /// The marked subjects of a service.
    Subjects,
}

impl DeletionKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::App => "app",
            Self::Service => "service",
            Self::Subjects => "subjects",
        }
    }

    fn parse(kind: &str) -> Option<Self> {
        match kind {
            "app" => Some(Self::App),
            "service" => Some(Self::Service),
            "subjects" => Some(Self::Subjects),
            _ => None,
        }
    }
}

/// A deletion in progress.
#[derive(Debug, Clone, PartialEq)]
pub struct Deletion {
    pub id: Uuid,
    pub kind: DeletionKind,
    pub app_id: Uuid,
    pub model_id: Option<Uuid>,
    /// The name of the application or service.
    pub name: String,
    /// Rows to delete in all; `None` until a process has taken the deletion.
    pub subjects: Option<i64>,
    pub faces: Option<i64>,
    pub subjects_done: i64,
    pub faces_done: i64,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

impl Deletion {
    /// How far the purge has come, 0 to 100, by faces (by subjects when there are no faces).
    pub fn percent(&self) -> u8 {
        let ratio = match (self.faces, self.subjects) {
            (Some(faces), _) if faces > 0 => self.faces_done as f64 / faces as f64,
            (_, Some(subjects)) if subjects > 0 => self.subjects_done as f64 / subjects as f64,
            (Some(_), Some(_)) => 1.0,
            _ => 0.0,
        };
        (ratio * 100.0).floor().clamp(0.0, 99.0) as u8
    }
}

#[derive(sqlx::FromRow)]
struct DeletionRow {
    id: Uuid,
    kind: String,
    app_id: Uuid,
    model_id: Option<Uuid>,
    name: String,
    subjects: Option<i64>,
    faces: Option<i64>,
    subjects_done: i64,
    faces_done: i64,
    created_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<DeletionRow> for Deletion {
    type Error = StoreError;

    fn try_from(r: DeletionRow) -> Result<Self, StoreError> {
        let kind = DeletionKind::parse(&r.kind).ok_or_else(|| {
            StoreError::Database(sqlx::Error::Decode(format!("unknown deletion kind {:?}", r.kind).into()))
        })?;
        Ok(Self {
            id: r.id,
            kind,
            app_id: r.app_id,
            model_id: r.model_id,
            name: r.name,
            subjects: r.subjects,
            faces: r.faces,
            subjects_done: r.subjects_done,
            faces_done: r.faces_done,
            created_at: r.created_at,
            started_at: r.started_at,
            updated_at: r.updated_at,
        })
    }
}

const SELECT_DELETIONS: &str = "SELECT id, kind, app_id, model_id, name, subjects, faces, subjects_done, faces_done, \
     created_at, started_at, updated_at FROM deletions";

type Tx<'t> = sqlx::Transaction<'t, sqlx::Postgres>;

/// Records that the marked subjects of `model_id` are to be purged (one row per service, which
/// the purge keeps until no marked subject is left). Locks the row, so that a purge finishing it
/// concurrently waits for this transaction and then sees the new marks.
async fn record_subjects(tx: &mut Tx<'_>, model_id: Uuid) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO deletions (kind, app_id, model_id, name) \
         SELECT 'subjects', app_id, id, name FROM models WHERE id = $1 \
         ON CONFLICT (model_id) WHERE kind = 'subjects' DO UPDATE SET updated_at = now()",
    )
    .bind(model_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Whether `model_ids` hold more than [`INLINE_FACES`] faces, or more than as many subjects:
/// too many to delete inside a request.
async fn too_many(tx: &mut Tx<'_>, model_ids: &[Uuid]) -> Result<bool, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM (SELECT 1 FROM faces WHERE model_id = ANY($1) LIMIT $2 + 1) f) > $2 \
             OR (SELECT count(*) FROM (SELECT 1 FROM subjects WHERE model_id = ANY($1) LIMIT $2 + 1) s) > $2",
    )
    .bind(model_ids)
    .bind(INLINE_FACES)
    .fetch_one(&mut **tx)
    .await?)
}

/// The faces of the service's unmarked subjects (or of `subject` alone).
async fn count_live_faces(tx: &mut Tx<'_>, model_id: Uuid, subject: Option<Uuid>) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM faces f WHERE f.model_id = $1 AND ($2::uuid IS NULL OR f.subject_id = $2) \
         AND NOT EXISTS (SELECT 1 FROM subjects s WHERE s.id = f.subject_id AND s.model_id = $1 \
                         AND s.deleted_at IS NOT NULL)",
    )
    .bind(model_id)
    .bind(subject)
    .fetch_one(&mut **tx)
    .await?)
}

/// Deletes one subject: at once with up to [`INLINE_FACES`] faces, else marked for the purge.
/// Returns the stored name and how many faces it had; `None` when the service has no such
/// subject.
pub(crate) async fn delete_subject(
    store: &Store,
    model_id: Uuid,
    name: &str,
) -> Result<Option<(String, u64)>, StoreError> {
    let mut tx = store.pool.begin().await?;
    let subject: Option<(Uuid, String)> = sqlx::query_as(
        "SELECT id, name FROM subjects WHERE model_id = $1 AND lower(name) = lower($2) AND deleted_at IS NULL \
         FOR UPDATE",
    )
    .bind(model_id)
    .bind(name)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((id, stored)) = subject else {
        return Ok(None);
    };
    let faces = count_live_faces(&mut tx, model_id, Some(id)).await?;
    if faces <= INLINE_FACES {
        // The faces first, in one statement (one notification), then the subject.
        sqlx::query("DELETE FROM faces WHERE subject_id = $1 AND model_id = $2")
            .bind(id)
            .bind(model_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM subjects WHERE id = $1").bind(id).execute(&mut *tx).await?;
    } else {
        sqlx::query("UPDATE subjects SET deleted_at = now() WHERE id = $1").bind(id).execute(&mut *tx).await?;
        record_subjects(&mut tx, model_id).await?;
    }
    tx.commit().await?;
    Ok(Some((stored, faces.max(0) as u64)))
}

/// Deletes every subject of the service: at once with up to [`INLINE_FACES`] faces, else marked
/// for the purge. Returns how many subjects and (when `count_faces`) faces there were.
pub(crate) async fn empty_collection(
    store: &Store,
    model_id: Uuid,
    count_faces: bool,
) -> Result<(u64, u64), StoreError> {
    let mut tx = store.pool.begin().await?;
    let faces = if count_faces { count_live_faces(&mut tx, model_id, None).await? } else { 0 };
    let subjects = if !too_many(&mut tx, &[model_id]).await? {
        // One statement per table: one notification each.
        sqlx::query("DELETE FROM faces WHERE model_id = $1").bind(model_id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM subjects WHERE model_id = $1 AND deleted_at IS NULL")
            .bind(model_id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
    } else {
        let marked = sqlx::query("UPDATE subjects SET deleted_at = now() WHERE model_id = $1 AND deleted_at IS NULL")
            .bind(model_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        record_subjects(&mut tx, model_id).await?;
        marked
    };
    tx.commit().await?;
    Ok((subjects, faces.max(0) as u64))
}

impl Store {
    /// Deletes a service with its collection and statistics: at once when its collection has up
    /// to [`INLINE_FACES`] faces, else marked (its key stops working, its name is free, the
    /// replicas drop its collection) and purged in the background. `false` if there is no such
    /// service.
    pub async fn delete_service(&self, id: Uuid) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let marked: Option<(Uuid, String)> = sqlx::query_as(
            "UPDATE models SET deleted_at = now(), api_key = gen_random_uuid() \
             WHERE id = $1 AND deleted_at IS NULL RETURNING app_id, name",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((app_id, name)) = marked else {
            return Ok(false);
        };
        if too_many(&mut tx, &[id]).await? {
            sqlx::query("INSERT INTO deletions (kind, app_id, model_id, name) VALUES ('service', $1, $2, $3)")
                .bind(app_id)
                .bind(id)
                .bind(&name)
                .execute(&mut *tx)
                .await?;
        } else {
            sqlx::query("DELETE FROM models WHERE id = $1").bind(id).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Deletes an application with its memberships, services, their collections and statistics:
    /// at once when its collections have up to [`INLINE_FACES`] faces in all, else marked (with
    /// its services) and purged in the background. `false` if there is no such application.
    pub async fn delete_app(&self, id: Uuid) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let name: Option<String> = sqlx::query_scalar(
            "UPDATE apps SET deleted_at = now(), api_key = gen_random_uuid() \
             WHERE id = $1 AND deleted_at IS NULL RETURNING name",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(name) = name else {
            return Ok(false);
        };
        sqlx::query("DELETE FROM app_roles WHERE app_id = $1").bind(id).execute(&mut *tx).await?;
        let services: Vec<Uuid> = sqlx::query_scalar(
            "UPDATE models SET deleted_at = now(), api_key = gen_random_uuid() \
             WHERE app_id = $1 AND deleted_at IS NULL RETURNING id",
        )
        .bind(id)
        .fetch_all(&mut *tx)
        .await?;
        if too_many(&mut tx, &services).await? {
            sqlx::query("INSERT INTO deletions (kind, app_id, name) VALUES ('app', $1, $2)")
                .bind(id)
                .bind(&name)
                .execute(&mut *tx)
                .await?;
        } else {
            sqlx::query("DELETE FROM apps WHERE id = $1").bind(id).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// The deletions in progress, oldest first: of one application's services (and of the
    /// application itself), or all of them.
    pub async fn deletions(&self, app_id: Option<Uuid>) -> Result<Vec<Deletion>, StoreError> {
        let rows: Vec<DeletionRow> = sqlx::query_as(&format!(
            "{SELECT_DELETIONS} WHERE $1::uuid IS NULL OR app_id = $1 ORDER BY created_at, id"
        ))
        .bind(app_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(Deletion::try_from).collect()
    }

    /// Runs purges in the background until the process ends: every [`POLL`] the purger looks
    /// for a deletion no other process holds and purges it to the end.
    pub fn spawn_purger(&self) -> tokio::task::JoinHandle<()> {
        let store = self.clone();
        tokio::spawn(async move {
            loop {
                match store.purge_next(None).await {
                    Ok(true) => continue,
                    Ok(false) => {}
                    Err(e) => tracing::warn!(error = %e, "purging deleted rows failed; trying again"),
                }
                tokio::time::sleep(POLL).await;
            }
        })
    }

    /// Takes one deletion that no other process holds and purges it, at most `batches` batches
    /// (all of it with `None`). `false` when there was none to take.
    pub async fn purge_next(&self, batches: Option<u64>) -> Result<bool, StoreError> {
        let ids: Vec<Uuid> =
            sqlx::query_scalar("SELECT id FROM deletions ORDER BY created_at, id").fetch_all(&self.pool).await?;
        if ids.is_empty() {
            return Ok(false);
        }
        let mut conn = self.pool.acquire().await?.detach();
        for id in ids {
            let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1, hashtext($2::text))")
                .bind(PURGE_LOCK_CLASS)
                .bind(id)
                .fetch_one(&mut conn)
                .await?;
            if !locked {
                continue;
            }
            let purged = purge(&mut conn, id, batches).await;
            // Closing the session releases the lock, also when the purge failed midway.
            let _ = conn.close().await;
            purged?;
            return Ok(true);
        }
        let _ = conn.close().await;
        Ok(false)
    }

    /// Purges every deletion to the end (tests, tools); a deletion another session holds is
    /// waited for (taken over when that session ends, finished when it finishes it).
    pub async fn purge_all(&self) -> Result<(), StoreError> {
        loop {
            if self.purge_next(None).await? {
                continue;
            }
            let left: bool =
                sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM deletions)").fetch_one(&self.pool).await?;
            if !left {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Purges deletion `id` (its lock held by `conn`'s session): at most `batches` batches.
async fn purge(conn: &mut PgConnection, id: Uuid, batches: Option<u64>) -> Result<(), StoreError> {
    // Taken under the lock: the deletion may have been finished by the process that held it.
    let row: Option<DeletionRow> =
        sqlx::query_as(&format!("{SELECT_DELETIONS} WHERE id = $1")).bind(id).fetch_optional(&mut *conn).await?;
    let Some(deletion) = row.map(Deletion::try_from).transpose()? else {
        return Ok(());
    };
    count_totals(conn, &deletion).await?;
    let started = std::time::Instant::now();
    let mut done = 0;
    loop {
        if batches.is_some_and(|most| done >= most) {
            return Ok(());
        }
        done += 1;
        let model = match deletion.kind {
            DeletionKind::App => {
                let next: Option<Uuid> = sqlx::query_scalar("SELECT id FROM models WHERE app_id = $1 LIMIT 1")
                    .bind(deletion.app_id)
                    .fetch_optional(&mut *conn)
                    .await?;
                match next {
                    Some(model) => model,
                    None => {
                        finish(conn, "DELETE FROM apps WHERE id = $1", deletion.app_id).await?;
                        break;
                    }
                }
            }
            _ => deletion.model_id.unwrap_or_default(),
        };
        let only_marked = deletion.kind == DeletionKind::Subjects;
        let batch = std::time::Instant::now();
        if purge_batch(conn, id, model, only_marked).await? {
            if batches.is_none() {
                tokio::time::sleep(batch.elapsed().mul_f64(PAUSE_PER_BATCH_TIME)).await;
            }
            continue;
        }
        match deletion.kind {
            DeletionKind::App => finish(conn, "DELETE FROM models WHERE id = $1", model).await?,
            DeletionKind::Service => {
                finish(conn, "DELETE FROM models WHERE id = $1", model).await?;
                break;
            }
            DeletionKind::Subjects => {
                if finish_subjects(conn, id, model).await? {
                    break;
                }
            }
        }
    }
    tracing::info!(
        deletion = %id,
        kind = deletion.kind.as_str(),
        name = deletion.name,
        seconds = started.elapsed().as_secs_f32(),
        "deletion purged"
    );
    Ok(())
}

/// Counts what is left to delete and adds what was done (a deletion taken up again counts anew).
async fn count_totals(conn: &mut PgConnection, deletion: &Deletion) -> Result<(), StoreError> {
    let models: Vec<Uuid> = match (deletion.kind, deletion.model_id) {
        (DeletionKind::App, _) => {
            sqlx::query_scalar("SELECT id FROM models WHERE app_id = $1")
                .bind(deletion.app_id)
                .fetch_all(&mut *conn)
                .await?
        }
        (_, Some(model)) => vec![model],
        (_, None) => Vec::new(),
    };
    let only_marked = deletion.kind == DeletionKind::Subjects;
    sqlx::query(
        "UPDATE deletions SET started_at = coalesce(started_at, now()), updated_at = now(), \
             subjects = subjects_done + (SELECT count(*) FROM subjects s WHERE s.model_id = ANY($2) \
                                         AND (NOT $3 OR s.deleted_at IS NOT NULL)), \
             faces = faces_done + (SELECT count(*) FROM faces f WHERE f.model_id = ANY($2) \
                                   AND (NOT $3 OR EXISTS (SELECT 1 FROM subjects s WHERE s.id = f.subject_id \
                                                          AND s.deleted_at IS NOT NULL))) \
         WHERE id = $1",
    )
    .bind(deletion.id)
    .bind(&models)
    .bind(only_marked)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// One batch: up to [`FACES_PER_BATCH`] faces of a few subjects of `model` (its marked ones
/// when `only_marked`, else all) with their images, then those of the subjects that have no face
/// left. `false` when there was no subject left to purge.
async fn purge_batch(
    conn: &mut PgConnection,
    deletion: Uuid,
    model: Uuid,
    only_marked: bool,
) -> Result<bool, StoreError> {
    let mut tx = conn.begin().await?;
    // Nothing to notify: what goes left the collections when it was marked.
    sqlx::query("SET LOCAL visage.purging = 'on'").execute(&mut *tx).await?;
    let subjects: Vec<Uuid> = if only_marked {
        sqlx::query_scalar("SELECT id FROM subjects WHERE model_id = $1 AND deleted_at IS NOT NULL LIMIT $2")
    } else {
        sqlx::query_scalar("SELECT id FROM subjects WHERE model_id = $1 LIMIT $2")
    }
    .bind(model)
    .bind(SUBJECTS_PER_BATCH)
    .fetch_all(&mut *tx)
    .await?;
    if subjects.is_empty() {
        tx.commit().await?;
        return Ok(false);
    }
    let faces: Vec<Uuid> =
        sqlx::query_scalar("SELECT id FROM faces WHERE subject_id = ANY($1) AND model_id = $2 LIMIT $3")
            .bind(&subjects)
            .bind(model)
            .bind(FACES_PER_BATCH)
            .fetch_all(&mut *tx)
            .await?;
    sqlx::query("DELETE FROM images WHERE face_id = ANY($1)").bind(&faces).execute(&mut *tx).await?;
    sqlx::query("DELETE FROM faces WHERE id = ANY($1)").bind(&faces).execute(&mut *tx).await?;
    // The subjects left without faces go; a face written meanwhile goes with its subject through
    // the foreign key's cascade.
    let subjects_gone = sqlx::query(
        "DELETE FROM subjects s WHERE s.id = ANY($1) \
         AND NOT EXISTS (SELECT 1 FROM faces f WHERE f.subject_id = s.id AND f.model_id = s.model_id)",
    )
    .bind(&subjects)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    sqlx::query(
        "UPDATE deletions SET faces_done = faces_done + $2, subjects_done = subjects_done + $3, updated_at = now() \
         WHERE id = $1",
    )
    .bind(deletion)
    .bind(faces.len() as i64)
    .bind(subjects_gone as i64)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Deletes the emptied service or application (and, through its cascades, the deletion's row
/// and anything written meanwhile).
async fn finish(conn: &mut PgConnection, statement: &str, id: Uuid) -> Result<(), StoreError> {
    let mut tx = conn.begin().await?;
    sqlx::query("SET LOCAL visage.purging = 'on'").execute(&mut *tx).await?;
    sqlx::query(statement).bind(id).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

/// Ends a `subjects` deletion unless subjects were marked meanwhile; whether it ended. The row
/// is locked first: a transaction marking subjects locks it too (see `record_subjects`), so
/// either it committed before and its marks are seen here, or it comes after and records the
/// deletion anew.
async fn finish_subjects(conn: &mut PgConnection, id: Uuid, model: Uuid) -> Result<bool, StoreError> {
    let mut tx = conn.begin().await?;
    sqlx::query("SELECT 1 FROM deletions WHERE id = $1 FOR UPDATE").bind(id).execute(&mut *tx).await?;
    let left: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM subjects WHERE model_id = $1 AND deleted_at IS NOT NULL)")
            .bind(model)
            .fetch_one(&mut *tx)
            .await?;
    if !left {
        sqlx::query("DELETE FROM deletions WHERE id = $1").bind(id).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(!left)
}
