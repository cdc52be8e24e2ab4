//! `admin-service import-compreface`: moves a CompreFace 1.x installation into Visage.
//!
//! ```text
//! admin-service import-compreface --from postgres://postgres:postgres@localhost:5432/frs \
//!                                 [--core http://localhost:3000] [--max-faces N]
//! ```
//!
//! Visage's own database is the configured one ([`crate::Settings`]: `DATABASE_URL` or
//! `POSTGRES_URL`); core-service is `--core`, by default api-service's `CORE_URL` (`PYTHON_URL`),
//! else `http://localhost:3000`.
//!
//! What comes over, under CompreFace's ids, keys and names, so that clients keep working
//! unchanged:
//! - users with their bcrypt password hashes (their next login replaces them with argon2 ones),
//!   names, global roles and whether they are enabled; CompreFace's demo user, while nobody took
//!   it over, is left out (its password is public);
//! - applications with their members and roles;
//! - services of every type with their API keys; recognition services without a match
//!   threshold, so they answer as CompreFace did;
//! - subjects; faces under their `image_id`, with their photos; request statistics, per day.
//!
//! Faces are re-embedded: CompreFace's embeddings come from other models, so every stored photo
//! goes through core-service again (`faces.rs`). Faces CompreFace stored without their photo
//! (`save_images_to_db=false`, and its demo faces) cannot be, and photos in which core-service
//! finds no face are left out: the summary counts and names both. Sessions, pending registration
//! confirmations and password reset links are not carried over: users log in again.
//!
//! How it runs ([`import`]):
//! 1. CompreFace's database is read, never written: its schema is checked (a database that is not
//!    CompreFace's is refused), then its accounts, applications, services, subjects and
//!    statistics are read from one snapshot and translated (`plan.rs`); what cannot be imported
//!    as it is (names Visage takes for one) is refused. Then core-service's `/status`.
//!    Any of these failing ends the import with one message, and nothing was written.
//! 2. Ours is migrated, and locked against a second import running at once. The rows of step 1
//!    are written in one transaction, upserted on CompreFace's ids
//!    (`visage_store::compreface`); rows of ours that they collide with (an e-mail address held
//!    by another user, a taken name or API key, a second global OWNER) are all reported and
//!    nothing is written.
//! 3. The faces that ours lacks are re-embedded and stored one transaction each, with progress
//!    on standard error; the [`Summary`] is the result.
//!
//! A second run changes nothing; a run interrupted anywhere is finished by the next one, which
//! ends in the same state as an uninterrupted run (step 2 wrote all or nothing, step 3 whole
//! faces, and only missing faces are re-embedded).

mod faces;
mod plan;
mod summary;

use std::fmt::Write as _;
use std::str::FromStr;
use std::time::Duration;

use visage_store::compreface::{CompreFace, Conflict};
use visage_store::config::{describe, PgConnectOptions};
use visage_store::{Store, StoreError};

pub use summary::{Count, FaceCounts, SkipReason, SkippedFace, Summary};

/// How long connecting to CompreFace's database may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// What to import from where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportOptions {
    /// CompreFace's database: `postgres://user:password@host:port/database`
    /// (`jdbc:postgresql://…?user=…&password=…` too).
    pub from: String,
    /// core-service's base URL.
    pub core_url: String,
    /// Re-embed at most this many photos in this run (an import in steps); the rest are left for
    /// the next run.
    pub max_faces: Option<u64>,
}

/// Why an import stopped. Every variant but [`ImportError::Core`] and [`ImportError::Target`]
/// during the faces stops it before anything was written.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// `--from` is no database URL, its database cannot be reached or read, or it is not
    /// CompreFace's.
    #[error("{0}")]
    Source(String),
    /// CompreFace holds rows that cannot be imported as they are.
    #[error("{}", listed("nothing was imported: CompreFace's database holds what Visage cannot take as it is", .0))]
    Invalid(Vec<String>),
    /// Rows of ours collide with CompreFace's.
    #[error("{}", listed("nothing was imported: Visage's database has rows that collide with CompreFace's", .0))]
    Conflicts(Vec<Conflict>),
    /// core-service cannot be reached or failed.
    #[error("{0}")]
    Core(String),
    /// Our database cannot be opened or written.
    #[error("{0}")]
    Target(String),
    #[error("another import-compreface is running on this database; wait for it to end")]
    Busy,
}

fn listed<T: std::fmt::Display>(head: &str, items: &[T]) -> String {
    let mut text = format!("{head} ({}):", items.len());
    for item in items {
        let _ = write!(text, "\n  - {item}");
    }
    text
}

/// Imports CompreFace's database `options.from` into ours at `database`, re-embedding the faces
/// with the core-service at `options.core_url`. What `admin-service import-compreface` runs.
pub async fn import(database: PgConnectOptions, options: &ImportOptions) -> Result<Summary, ImportError> {
    let url = options.from.trim();
    let url = url.strip_prefix("jdbc:").unwrap_or(url);
    let expected = "expected postgres://user:password@host:port/database";
    if !["postgres://", "postgresql://"].iter().any(|scheme| url.starts_with(scheme)) {
        return Err(ImportError::Source(format!("--from is no PostgreSQL URL; {expected}")));
    }
    let from = PgConnectOptions::from_str(url)
        .map_err(|e| ImportError::Source(format!("--from is no PostgreSQL URL ({e}); {expected}")))?;
    let described = describe(&from);
    let unreachable =
        |why: String| ImportError::Source(format!("cannot connect to CompreFace's database at {described}: {why}"));
    let source = match tokio::time::timeout(CONNECT_TIMEOUT, CompreFace::connect(from)).await {
        Ok(connected) => connected.map_err(|e| unreachable(cause(&e)))?,
        Err(_) => return Err(unreachable(format!("no answer within {} seconds", CONNECT_TIMEOUT.as_secs()))),
    };
    let result = import_from(&source, &described, database, options).await;
    source.close().await;
    result
}

async fn import_from(
    source: &CompreFace,
    described: &str,
    database: PgConnectOptions,
    options: &ImportOptions,
) -> Result<Summary, ImportError> {
    let unreadable =
        |e: StoreError| ImportError::Source(format!("cannot read CompreFace's database at {described}: {}", cause(&e)));
    let missing = source.missing_schema().await.map_err(unreadable)?;
    if !missing.is_empty() {
        let older =
            missing.iter().any(|m| m.contains("\"embedding\"")) && source.has_table("face").await.unwrap_or(false);
        let hint = if older {
            " (it looks like a CompreFace older than 1.0: start CompreFace 1.x on it once, which migrates it, then \
             import)"
        } else {
            ""
        };
        return Err(ImportError::Source(format!(
            "{described} is not a CompreFace 1.x database: it has no {}{hint}",
            missing.join(", ")
        )));
    }
    eprintln!("reading CompreFace's database at {described}");
    let rows = source.accounts().await.map_err(unreadable)?;
    let plan = plan::plan(&rows).map_err(ImportError::Invalid)?;
    let core = faces::Core::new(&options.core_url)?;
    let status = core.status().await?;
    eprintln!("core-service at {} computes embeddings with {}", options.core_url, status.calculator_version);

    let target = describe(&database);
    let store = Store::open(database, 6)
        .await
        .map_err(|e| ImportError::Target(format!("cannot open Visage's database: {}", chain(&e))))?;
    let lock = store
        .try_lock_compreface_import()
        .await
        .map_err(|e| ImportError::Target(format!("cannot lock Visage's database at {target}: {}", cause(&e))))?
        .ok_or(ImportError::Busy)?;
    let result = write(source, &store, &core, &plan, options).await;
    if let Err(e) = lock.release().await {
        tracing::debug!(error = %e, "releasing the import lock failed (closing the process releases it)");
    }
    let mut summary = result?;
    summary.source = described.to_string();
    Ok(summary)
}

/// Steps 2 and 3: the accounts in one transaction, then the faces.
async fn write(
    source: &CompreFace,
    store: &Store,
    core: &faces::Core,
    plan: &plan::Plan,
    options: &ImportOptions,
) -> Result<Summary, ImportError> {
    let accounts = &plan.accounts;
    eprintln!(
        "writing {} users, {} applications, {} services, {} subjects",
        accounts.users.len(),
        accounts.apps.len(),
        accounts.services.len(),
        accounts.subjects.len()
    );
    let written = store
        .import_compreface_accounts(accounts)
        .await
        .map_err(|e| ImportError::Target(format!("writing the accounts failed, nothing was written: {}", cause(&e))))?
        .map_err(ImportError::Conflicts)?;
    let (faces, skipped_faces) = faces::import_faces(source, store, core, plan, options.max_faces).await?;
    Ok(Summary {
        source: String::new(),
        users: Count::of(accounts.users.len(), written.users),
        demo_user_skipped: plan.demo_user_skipped,
        apps: Count::of(accounts.apps.len(), written.apps),
        members: Count::of(accounts.roles.len(), written.roles),
        services: Count::of(accounts.services.len(), written.services),
        service_types: plan.service_types,
        subjects: Count::of(accounts.subjects.len(), written.subjects),
        statistics: Count::of(accounts.statistics.len(), written.statistics),
        faces,
        skipped_faces,
        removed_demo: written.removed_demo,
        notes: plan.notes.clone(),
    })
}

/// What the database said, without the store's wrapping.
fn cause(e: &StoreError) -> String {
    match e {
        StoreError::Database(inner) => chain(inner),
        other => other.to_string(),
    }
}

/// An error and its sources, `a: b: c`.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        let more = inner.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = inner.source();
    }
    text
}
