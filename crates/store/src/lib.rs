//! Postgres access for the Visage services.
//!
//! One schema serves the whole system (see `migrations/` at the repository root); api-service and
//! admin-service both run [`Store::migrate`] at start-up. sqlx's migrator holds a Postgres
//! advisory lock while it works, so services starting together on one database apply each
//! migration exactly once.
//!
//! Only this crate speaks SQL: the services call its functions (the pool is private), including
//! the advisory locks of long-running jobs ([`locks`]), the notifications and the listening
//! connection of the collections ([`changes`]) and the database's health ([`Store::ping`]).
//! `docs/schema.md` describes the tables, their keys and what the triggers still do.
//!
//! Queries are plain `sqlx::query`/`query_as` strings checked by the tests against a real
//! database, not compile-time macros: builds need no database and no offline query cache.
//! Every value travels as a bind parameter, so names with quotes, semicolons or any unicode are
//! just data.
//!
//! - [`accounts`]: users, sessions, one-time tokens, invitations (admin-service).
//! - [`apps`]: applications and their members (admin-service).
//! - [`bulk`]: a whole collection for the search index, lean: raw embeddings, names apart.
//! - [`compreface`]: reading a CompreFace database ([`compreface::source`]) and writing what it
//!   holds into ours under its ids ([`compreface::import`]; admin-service's `import-compreface`).
//! - [`config`]: the database location from the environment (CompreFace's variables too).
//! - [`services`]: face services ("models"), their API keys, and the admin's operations on them
//!   (create, rename, clone with the collection, new key).
//! - [`deletions`]: deleting applications, services and subjects: at once when small, else
//!   marked and purged in the background by any process, with their progress.
//! - [`locks`]: session advisory locks of jobs that run once per database.
//! - [`subjects`]: the names in a recognition collection: create, list, rename (merging into an
//!   existing name), delete.
//! - [`faces`]: stored faces with their embeddings and images: add (one transaction), list by
//!   page, delete, stream for the search index.
//! - [`export`]: a whole collection page by page from one snapshot, for export.
//! - [`jobs`]: collection imports running in the background, their progress and report.
//! - [`reembed`]: faces computed by another embedder, and replacing their embeddings (`/migrate`).
//! - [`statistics`]: requests per service and day.
//! - [`embedding`]: the byte encoding of embeddings.
//! - `testing` (feature `testing`): a throwaway Postgres and a fresh database per test.

pub mod accounts;
pub mod apps;
pub mod attempts;
pub mod bulk;
pub mod changes;
pub mod compreface;
pub mod config;
pub mod deletions;
pub mod embedding;
mod error;
pub mod export;
pub mod faces;
pub mod jobs;
pub mod locks;
pub mod reembed;
pub mod services;
pub mod statistics;
pub mod subjects;
#[cfg(feature = "testing")]
pub mod testing;

use std::time::Duration;

use sqlx::migrate::{MigrateError, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

pub use accounts::{Role, User};
pub use apps::{App, Member, Person};
pub use deletions::{Deletion, DeletionKind};
pub use error::StoreError;
pub use faces::{AddedFace, FaceBox, FaceDetails, FacePage, FacePhoto, FaceRef, NewFace, StoredFace};
pub use services::{Service, ServiceInfo, ServiceType};

/// The schema migrations, embedded from `migrations/` at build time.
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations");

/// Why [`Store::open`] failed.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot connect to {0}")]
    Connect(String, #[source] sqlx::Error),
    #[error("cannot migrate the database")]
    Migrate(#[source] MigrateError),
}

/// A handle on the database: cheap to clone, shared by every request.
#[derive(Debug, Clone)]
pub struct Store {
    pool: PgPool,
}

impl Store {
    /// Connects a pool of at most `max_connections` to the database.
    ///
    /// Connections are made on first use; the first query waits at most `acquire_timeout` for one.
    pub async fn connect(options: PgConnectOptions, max_connections: u32) -> Result<Self, sqlx::Error> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        Ok(Self { pool })
    }

    /// Connects and applies pending migrations: what every service does at start-up.
    pub async fn open(options: PgConnectOptions, max_connections: u32) -> Result<Self, OpenError> {
        let store = Self::connect(options.clone(), max_connections)
            .await
            .map_err(|e| OpenError::Connect(config::describe(&options), e))?;
        store.migrate().await.map_err(OpenError::Migrate)?;
        Ok(store)
    }

    /// Whether the database answers a query (the readiness check).
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// The pool's connections: `(open, idle, maximum)` (metrics).
    pub fn pool_state(&self) -> (u32, usize, u32) {
        (self.pool.size(), self.pool.num_idle(), self.pool.options().get_max_connections())
    }

    /// Options connecting to this store's database.
    pub(crate) fn connect_options(&self) -> PgConnectOptions {
        self.pool.connect_options().as_ref().clone()
    }

    /// Applies the migrations this build knows and the database lacks.
    pub async fn migrate(&self) -> Result<(), MigrateError> {
        MIGRATOR.run(&self.pool).await
    }
}
