//! Session advisory locks: a job that must run once per database at a time (an import from
//! CompreFace, a `/migrate` run) holds one on a connection of its own for as long as it runs.
//! Closing that connection releases it, and so does the end of the process, however it ends.

use sqlx::{Connection, PgConnection};

use crate::{Store, StoreError};

/// The jobs that take a lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    /// admin-service's `import-compreface`.
    CompreFaceImport,
    /// api-service's `/migrate` (recomputing embeddings).
    Migration,
}

impl Job {
    /// The lock's key ("visageim", "visagemg" in ASCII).
    const fn key(self) -> i64 {
        match self {
            Self::CompreFaceImport => 0x7669_7361_6765_696d,
            Self::Migration => 0x7669_7361_6765_6d67,
        }
    }
}

/// A held lock. Released by [`SessionLock::release`] or when dropped (the connection closes).
#[derive(Debug)]
pub struct SessionLock(PgConnection);

impl SessionLock {
    /// Releases the lock (closing the session releases its advisory locks).
    pub async fn release(self) -> Result<(), StoreError> {
        self.0.close().await?;
        Ok(())
    }
}

impl Store {
    /// Takes `job`'s lock on a connection of its own; `None` while another session holds it.
    pub async fn try_lock(&self, job: Job) -> Result<Option<SessionLock>, StoreError> {
        let mut connection = self.pool.acquire().await?.detach();
        let locked: bool =
            sqlx::query_scalar("SELECT pg_try_advisory_lock($1)").bind(job.key()).fetch_one(&mut connection).await?;
        if !locked {
            let _ = connection.close().await;
            return Ok(None);
        }
        Ok(Some(SessionLock(connection)))
    }
}
