//! An import job: the archive's photos enrolled one by one, in the background, with the
//! progress written to the database.
//!
//! A blocking thread reads the archive ([`archive::read`]) and hands each photo over through a
//! channel of [`CHANNEL`] places; [`CONCURRENCY`] photos are enrolled at once, as
//! `POST /recognition/faces` enrols one ([`crate::routes::faces::enrol`]); outcomes are counted in
//! archive order. Memory holds at most `CHANNEL + CONCURRENCY + 1` photos, whatever the archive.
//!
//! Every [`FLUSH_EVERY`] the counters and the newly reported entries are written
//! ([`Store::update_import_job`]): that write is also the job's heartbeat. A reader that finds
//! no heartbeat for [`INTERRUPTED_AFTER`] marks the job failed (the process stopped); a runner
//! that finds its job so marked stops too. At the end the collection is settled, so that this
//! process recognises every new face once the job says `done`, and the job is closed.

use std::fs::File;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use tokio::sync::mpsc;
use uuid::Uuid;
use visage_common::{ApiError, ErrorCode};
use visage_store::jobs::{JobProgress, ReportKind, ReportedEntry};
use visage_store::{Store, StoreError};

use super::archive::{self, Event, Photo};
use crate::routes::faces::{enrol, EnrolOptions};
use crate::routes::subjects::validate_name;
use crate::state::AppState;
use crate::upload::Image;

/// Photos enrolled at once.
pub const CONCURRENCY: usize = 2;
/// Photos read ahead of the enrolment.
const CHANNEL: usize = 2;
/// How often progress (and the heartbeat) is written.
pub const FLUSH_EVERY: Duration = Duration::from_secs(1);
/// A running job without a heartbeat for this long was left by a process that stopped.
pub const INTERRUPTED_AFTER: Duration = Duration::from_secs(60);
/// Entries of each kind listed in the report; the rest are counted.
pub const REPORT_LIMIT: u64 = 1000;
/// Attempts at a photo while core-service is unavailable, and the pause after each failure.
const CORE_ATTEMPTS: u32 = 3;
const CORE_RETRY_PAUSE: Duration = Duration::from_secs(2);
/// Entry names and reasons are cut to this many characters in the report.
const REPORT_TEXT: usize = 500;

/// The import's parameters: those of enrolment (`det_prob_threshold`, `min_quality`).
pub type Options = EnrolOptions;

/// What became of one event.
#[derive(Debug)]
enum Outcome {
    Total(u64),
    Stored {
        subject_created: bool,
    },
    SubjectsCreated(u64),
    Failed {
        entry: String,
        reason: String,
    },
    /// A problem with the manifest's subjects: listed with the failures, not counted (the
    /// manifest is no photo).
    Noted {
        entry: String,
        reason: String,
    },
    Skipped {
        entry: String,
        reason: String,
    },
    Fatal(String),
}

/// Runs job `job` of service `model_id` over `archive` to its end.
pub async fn run(state: AppState, job: Uuid, model_id: Uuid, archive: File, options: Options) {
    let (sender, receiver) = mpsc::channel(CHANNEL);
    let max_file_size = state.settings.max_file_size;
    let reader = visage_http::spawn_blocking(move || archive::read(archive, max_file_size, &sender));
    let events = futures::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|event| (event, receiver))
    });
    let mut outcomes = Box::pin(events.map(|event| handle(&state, model_id, event, options)).buffered(CONCURRENCY));
    let mut report = Report::default();
    let mut flush = tokio::time::interval(FLUSH_EVERY);
    let error = loop {
        tokio::select! {
            outcome = outcomes.next() => match outcome {
                Some(outcomes) => {
                    if let Some(error) = outcomes.into_iter().find_map(|outcome| report.apply(outcome)) {
                        break Some(error);
                    }
                }
                None => break None,
            },
            _ = flush.tick() => {
                if !report.flush(&state.store, job).await {
                    tracing::warn!(%job, "import stopped: the job was marked interrupted");
                    return;
                }
            }
        }
    };
    // Dropping the stream drops the receiver: a reader still running stops at its next entry.
    drop(outcomes);
    let error = match reader.await {
        Err(e) if error.is_none() => {
            tracing::error!(error = %e, "the archive reader failed");
            Some("The archive reader failed".to_string())
        }
        _ => error,
    };
    state.collections.settle(model_id).await;
    let progress = report.progress.clone();
    let entries = std::mem::take(&mut report.pending);
    match state.store.finish_import_job(job, error.as_deref(), &progress, &entries).await {
        Ok(_) => tracing::info!(%job, ?progress, error, "import finished"),
        Err(e) => tracing::error!(error = ?e, %job, "import finished, but its end cannot be recorded"),
    }
}

/// What one event comes to (a photo enrolled, subjects created, or nothing to do).
fn handle(state: &AppState, model_id: Uuid, event: Event, options: Options) -> BoxFuture<'static, Vec<Outcome>> {
    match event {
        Event::Plan { total, subjects, manifest } => {
            let store = state.store.clone();
            async move {
                let mut outcomes = vec![Outcome::Total(total)];
                outcomes.extend(create_subjects(&store, model_id, subjects, manifest.unwrap_or_default()).await);
                outcomes
            }
            .boxed()
        }
        Event::Photo(photo) => {
            let state = state.clone();
            async move { vec![enrol_photo(&state, model_id, photo, options).await] }.boxed()
        }
        Event::Skipped { entry, reason } => futures::future::ready(vec![Outcome::Skipped { entry, reason }]).boxed(),
        Event::Failed { entry, reason } => futures::future::ready(vec![Outcome::Failed { entry, reason }]).boxed(),
        Event::Fatal(message) => futures::future::ready(vec![Outcome::Fatal(message)]).boxed(),
    }
}

/// Creates the manifest's subjects that the service lacks (those without faces too).
async fn create_subjects(store: &Store, model_id: Uuid, subjects: Vec<String>, manifest: String) -> Vec<Outcome> {
    let mut created = 0;
    let mut outcomes = Vec::new();
    for subject in subjects {
        let noted = |reason: String| Outcome::Noted { entry: format!("{manifest}: subject {subject}"), reason };
        if let Err(e) = validate_name(Some(&subject)) {
            outcomes.push(noted(e.message));
            continue;
        }
        match store.create_subject(model_id, &subject).await {
            Ok(_) => created += 1,
            Err(StoreError::SubjectAlreadyExists) => {}
            Err(e) => outcomes.push(noted(crate::error::store_error(e).message)),
        }
    }
    outcomes.push(Outcome::SubjectsCreated(created));
    outcomes
}

/// Enrols one photo as `POST /recognition/faces` would, retrying while core-service is down.
async fn enrol_photo(state: &AppState, model_id: Uuid, photo: Photo, options: Options) -> Outcome {
    let Photo { entry, subject, file_name, bytes } = photo;
    let failed = |e: ApiError| Outcome::Failed { entry: entry.clone(), reason: e.message };
    if let Err(e) = validate_name(Some(&subject)) {
        return failed(e);
    }
    let image = match Image::checked(file_name, bytes) {
        Ok(image) => image,
        Err(e) => return failed(e),
    };
    let mut attempt = 1;
    loop {
        if state.migration.is_running() {
            return failed(ApiError::new(
                ErrorCode::WritingNotAllowed,
                "Write operations during migration aren't allowed",
            ));
        }
        match enrol(state, model_id, &subject, &image, options).await {
            Ok(added) => return Outcome::Stored { subject_created: added.subject_created },
            Err(e) if e.code == ErrorCode::FacesServiceUnavailable && attempt < CORE_ATTEMPTS => {
                tracing::warn!(error = %e, entry, attempt, "import retries a photo: core-service failed");
                attempt += 1;
                tokio::time::sleep(CORE_RETRY_PAUSE).await;
            }
            Err(e) => return failed(e),
        }
    }
}

/// A job's counters and the entries reported since they were last written.
#[derive(Debug, Default)]
struct Report {
    progress: JobProgress,
    failed_listed: u64,
    skipped_listed: u64,
    /// The place in the report of the next entry listed.
    next: i32,
    pending: Vec<ReportedEntry>,
}

impl Report {
    /// Counts an outcome; the job's error when it ends the job.
    fn apply(&mut self, outcome: Outcome) -> Option<String> {
        let p = &mut self.progress;
        match outcome {
            Outcome::Total(total) => p.total = Some(total),
            Outcome::SubjectsCreated(n) => p.subjects_added += n,
            Outcome::Stored { subject_created } => {
                p.seen += 1;
                p.done += 1;
                p.subjects_added += u64::from(subject_created);
            }
            Outcome::Failed { entry, reason } => {
                p.seen += 1;
                p.failed += 1;
                self.list(ReportKind::Failed, entry, reason);
            }
            Outcome::Noted { entry, reason } => self.list(ReportKind::Failed, entry, reason),
            Outcome::Skipped { entry, reason } => {
                p.seen += 1;
                p.skipped += 1;
                self.list(ReportKind::Skipped, entry, reason);
            }
            Outcome::Fatal(message) => return Some(message),
        }
        None
    }

    /// Lists an entry, or counts it once its kind has [`REPORT_LIMIT`] listed.
    fn list(&mut self, kind: ReportKind, entry: String, reason: String) {
        let p = &mut self.progress;
        let (listed, unlisted) = match kind {
            ReportKind::Failed => (&mut self.failed_listed, &mut p.failed_unlisted),
            ReportKind::Skipped => (&mut self.skipped_listed, &mut p.skipped_unlisted),
        };
        if *listed >= REPORT_LIMIT {
            *unlisted += 1;
            return;
        }
        *listed += 1;
        self.pending.push(ReportedEntry { n: self.next, kind, entry: cut(entry), reason: cut(reason) });
        self.next += 1;
    }

    /// Writes the progress and the pending entries; `false` when the job is no longer running.
    /// A failed write is logged and tried again at the next flush.
    async fn flush(&mut self, store: &Store, job: Uuid) -> bool {
        match store.update_import_job(job, &self.progress, &self.pending).await {
            Ok(running) => {
                self.pending.clear();
                running
            }
            Err(e) => {
                tracing::warn!(error = ?e, %job, "import progress not written");
                true
            }
        }
    }
}

/// At most [`REPORT_TEXT`] characters.
fn cut(text: String) -> String {
    match text.char_indices().nth(REPORT_TEXT) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text,
    }
}
