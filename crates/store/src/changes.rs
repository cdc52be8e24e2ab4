//! The collection change log (`migrations/20261207000002_collection_changes.sql`): every change
//! the triggers notify on [`CHANNEL`] is also written to `collection_changes` in its transaction,
//! with the transaction's id. An api-service replica learns from `mark` notifications up to which
//! transaction it has heard everything, and after a lost listening connection reads the changes
//! from there instead of reloading its collections.

use std::time::Duration;

use sqlx::postgres::{PgListener, PgPoolOptions};
use uuid::Uuid;

use crate::{Store, StoreError};

/// The channel the collection triggers notify on.
pub const CHANNEL: &str = "visage_collections";

/// One logged change: the payload of one notification.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LoggedChange {
    pub model_id: Uuid,
    pub op: String,
    pub ids: Vec<Uuid>,
}

/// A connection listening on [`CHANNEL`], on a one-connection pool of its own (it never
/// competes with queries for a connection).
pub struct ChangeListener(PgListener);

/// What [`ChangeListener::recv`] heard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Heard {
    /// A notification's payload.
    Payload(String),
    /// The connection was lost and made again: what was sent meanwhile is lost.
    Reconnected,
}

impl ChangeListener {
    /// The next notification; an error when the connection failed (make a new listener).
    pub async fn recv(&mut self) -> Result<Heard, StoreError> {
        Ok(match self.0.try_recv().await? {
            Some(notification) => Heard::Payload(notification.payload().to_string()),
            None => Heard::Reconnected,
        })
    }
}

impl Store {
    /// A new connection listening for collection changes.
    pub async fn listen_collections(&self) -> Result<ChangeListener, StoreError> {
        let pool = PgPoolOptions::new().max_connections(1).connect_lazy_with(self.connect_options());
        let mut listener = PgListener::connect_with(&pool).await?;
        listener.listen(CHANNEL).await?;
        Ok(ChangeListener(listener))
    }

    /// Notifies `{"op": "mark", "xmin": X}` on [`CHANNEL`], X being the oldest transaction still
    /// running when the statement began. The mark is queued at commit, after the notifications
    /// of every transaction below X: a listener that receives it has received those.
    pub async fn send_collection_mark(&self) -> Result<(), StoreError> {
        sqlx::query(
            "SELECT pg_notify($1, json_build_object('op', 'mark', \
             'xmin', pg_snapshot_xmin(pg_current_snapshot())::text)::text)",
        )
        .bind(CHANNEL)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The changes written by transactions from `xmin` on (a mark's), oldest first; at most
    /// `limit`.
    pub async fn collection_changes_since(&self, xmin: &str, limit: i64) -> Result<Vec<LoggedChange>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT model_id, op, ids FROM collection_changes WHERE xid >= $1::xid8 ORDER BY seq LIMIT $2",
        )
        .bind(xmin)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Deletes the changes logged more than `age` ago; how many.
    pub async fn purge_collection_changes(&self, age: Duration) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM collection_changes WHERE created_at < now() - make_interval(secs => $1)")
            .bind(age.as_secs_f64())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    /// Notifies `payload` on [`CHANNEL`] (a write's `sync`, see api-service's collections).
    pub async fn notify_collections(&self, payload: &str) -> Result<(), StoreError> {
        sqlx::query("SELECT pg_notify($1, $2)").bind(CHANNEL).bind(payload).execute(&self.pool).await?;
        Ok(())
    }
}
