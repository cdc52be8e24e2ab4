//! Import jobs: the progress of a collection import that runs in the background on one
//! api-service process, readable from any process (`migrations/20261202000002_import_jobs.sql`).
//!
//! The process running a job writes its progress every second or so
//! ([`Store::update_import_job`], which is also its heartbeat) and its end
//! ([`Store::finish_import_job`]). A reader ([`Store::import_job`]) first marks the job `failed`
//! with [`INTERRUPTED`] when it is still `running` but its heartbeat is older than the reader's
//! timeout: the process running it stopped.

use std::time::Duration;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{Store, StoreError};

/// The error of a job whose process stopped before it ended.
pub const INTERRUPTED: &str = "interrupted: the api-service process running the import stopped";

/// Finished jobs are deleted this long after they end (when their service starts another one).
const KEEP_FINISHED: &str = "7 days";

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    Running,
    Done,
    Failed,
}

impl JobStatus {
    /// The stored and shown name: `running`, `done`, `failed`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed => "failed",
        }
    }

    fn parse(text: &str) -> Self {
        match text {
            "running" => Self::Running,
            "done" => Self::Done,
            _ => Self::Failed,
        }
    }
}

/// Why an archive entry is in the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportKind {
    /// An entry that should have been a face and was not stored.
    Failed,
    /// An entry that is no photo of a subject (a top-level file, a hidden file, …).
    Skipped,
}

impl ReportKind {
    const fn as_str(self) -> &'static str {
        match self {
            Self::Failed => "failed",
            Self::Skipped => "skipped",
        }
    }
}

/// One reported archive entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportedEntry {
    /// Its place in the job's report, from 0, across both kinds.
    pub n: i32,
    pub kind: ReportKind,
    /// The entry's name in the archive.
    pub entry: String,
    pub reason: String,
}

/// A job's counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobProgress {
    /// Files in the archive, once known.
    pub total: Option<u64>,
    /// Files read so far.
    pub seen: u64,
    /// Faces stored.
    pub done: u64,
    pub failed: u64,
    pub skipped: u64,
    /// Subjects the import created.
    pub subjects_added: u64,
    /// Failed and skipped entries beyond those listed in the report.
    pub failed_unlisted: u64,
    pub skipped_unlisted: u64,
}

/// A job as its readers see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportJob {
    pub id: Uuid,
    pub model_id: Uuid,
    pub status: JobStatus,
    /// Why the job failed as a whole.
    pub error: Option<String>,
    pub progress: JobProgress,
    /// The listed entries, in report order.
    pub report: Vec<ReportedEntry>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct JobRow {
    id: Uuid,
    model_id: Uuid,
    status: String,
    error: Option<String>,
    total: Option<i64>,
    seen: i64,
    done: i64,
    failed: i64,
    skipped: i64,
    subjects_added: i64,
    failed_unlisted: i64,
    skipped_unlisted: i64,
    created_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
}

impl Store {
    /// Records a new running job of the service; deletes the service's jobs that ended more than
    /// a week ago.
    pub async fn create_import_job(&self, model_id: Uuid) -> Result<Uuid, StoreError> {
        let id = Uuid::new_v4();
        let mut tx = self.pool.begin().await?;
        sqlx::query(&format!(
            "DELETE FROM import_jobs WHERE model_id = $1 AND finished_at < now() - interval '{KEEP_FINISHED}'"
        ))
        .bind(model_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO import_jobs (id, model_id, status) VALUES ($1, $2, 'running')")
            .bind(id)
            .bind(model_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Writes a running job's progress and the entries reported since the last write, and
    /// renews its heartbeat. `false` when the job is no longer running (a reader found its
    /// heartbeat too old and marked it interrupted): nothing is written then.
    pub async fn update_import_job(
        &self,
        id: Uuid,
        progress: &JobProgress,
        new_entries: &[ReportedEntry],
    ) -> Result<bool, StoreError> {
        self.write_import_job(id, JobStatus::Running, None, progress, new_entries).await
    }

    /// Ends a job: `done`, or `failed` with `error`. `false` when it had ended already.
    pub async fn finish_import_job(
        &self,
        id: Uuid,
        error: Option<&str>,
        progress: &JobProgress,
        new_entries: &[ReportedEntry],
    ) -> Result<bool, StoreError> {
        let status = if error.is_some() { JobStatus::Failed } else { JobStatus::Done };
        self.write_import_job(id, status, error, progress, new_entries).await
    }

    async fn write_import_job(
        &self,
        id: Uuid,
        status: JobStatus,
        error: Option<&str>,
        progress: &JobProgress,
        new_entries: &[ReportedEntry],
    ) -> Result<bool, StoreError> {
        let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        let mut tx = self.pool.begin().await?;
        let updated = sqlx::query(
            "UPDATE import_jobs SET status = $2, error = $3, total = $4, seen = $5, done = $6, failed = $7, \
             skipped = $8, subjects_added = $9, failed_unlisted = $10, skipped_unlisted = $11, \
             heartbeat_at = now(), finished_at = CASE WHEN $2 = 'running' THEN NULL ELSE now() END \
             WHERE id = $1 AND status = 'running'",
        )
        .bind(id)
        .bind(status.as_str())
        .bind(error.map(storable))
        .bind(progress.total.map(count))
        .bind(count(progress.seen))
        .bind(count(progress.done))
        .bind(count(progress.failed))
        .bind(count(progress.skipped))
        .bind(count(progress.subjects_added))
        .bind(count(progress.failed_unlisted))
        .bind(count(progress.skipped_unlisted))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated == 0 {
            return Ok(false);
        }
        if !new_entries.is_empty() {
            let ns: Vec<i32> = new_entries.iter().map(|e| e.n).collect();
            let kinds: Vec<&str> = new_entries.iter().map(|e| e.kind.as_str()).collect();
            let names: Vec<String> = new_entries.iter().map(|e| storable(&e.entry)).collect();
            let reasons: Vec<String> = new_entries.iter().map(|e| storable(&e.reason)).collect();
            sqlx::query(
                "INSERT INTO import_job_entries (job_id, n, kind, entry, reason) \
                 SELECT $1, * FROM unnest($2::int[], $3::text[], $4::text[], $5::text[]) \
                 ON CONFLICT (job_id, n) DO NOTHING",
            )
            .bind(id)
            .bind(&ns)
            .bind(&kinds)
            .bind(&names)
            .bind(&reasons)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// A job of the service with its report; `None` when the service has no job with this id.
    /// A job still running without a heartbeat for `interrupted_after` is marked failed
    /// ([`INTERRUPTED`]) first.
    pub async fn import_job(
        &self,
        model_id: Uuid,
        id: Uuid,
        interrupted_after: Duration,
    ) -> Result<Option<ImportJob>, StoreError> {
        sqlx::query(
            "UPDATE import_jobs SET status = 'failed', error = $3, finished_at = now() \
             WHERE id = $1 AND model_id = $2 AND status = 'running' \
             AND heartbeat_at < now() - make_interval(secs => $4)",
        )
        .bind(id)
        .bind(model_id)
        .bind(INTERRUPTED)
        .bind(interrupted_after.as_secs_f64())
        .execute(&self.pool)
        .await?;
        let row: Option<JobRow> = sqlx::query_as(
            "SELECT id, model_id, status, error, total, seen, done, failed, skipped, subjects_added, \
             failed_unlisted, skipped_unlisted, created_at, finished_at \
             FROM import_jobs WHERE id = $1 AND model_id = $2",
        )
        .bind(id)
        .bind(model_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let entries: Vec<(i32, String, String, String)> =
            sqlx::query_as("SELECT n, kind, entry, reason FROM import_job_entries WHERE job_id = $1 ORDER BY n")
                .bind(id)
                .fetch_all(&self.pool)
                .await?;
        let report = entries
            .into_iter()
            .map(|(n, kind, entry, reason)| {
                let kind = if kind == "skipped" { ReportKind::Skipped } else { ReportKind::Failed };
                ReportedEntry { n, kind, entry, reason }
            })
            .collect();
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        Ok(Some(ImportJob {
            id: row.id,
            model_id: row.model_id,
            status: JobStatus::parse(&row.status),
            error: row.error,
            progress: JobProgress {
                total: row.total.map(count),
                seen: count(row.seen),
                done: count(row.done),
                failed: count(row.failed),
                skipped: count(row.skipped),
                subjects_added: count(row.subjects_added),
                failed_unlisted: count(row.failed_unlisted),
                skipped_unlisted: count(row.skipped_unlisted),
            },
            report,
            created_at: row.created_at,
            finished_at: row.finished_at,
        }))
    }
}

/// Text Postgres can hold: archive entry names may carry the NUL character.
fn storable(text: &str) -> String {
    text.replace('\0', "\u{FFFD}")
}
