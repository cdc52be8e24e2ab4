//! Counted attempts (failed logins, password-reset requests), shared by every admin-service
//! instance through the database: `auth_attempts`, one row per key.

use chrono::{DateTime, Duration, Utc};

use crate::{Store, StoreError};

/// How many attempts a key has made in its current window, and when the last was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempts {
    pub key: String,
    pub count: i32,
    pub last_at: DateTime<Utc>,
}

impl Store {
    /// The counts of these keys whose last attempt is younger than `window` (others count as
    /// none).
    pub async fn attempts(&self, keys: &[String], window: Duration) -> Result<Vec<Attempts>, StoreError> {
        let rows: Vec<(String, i32, DateTime<Utc>)> = sqlx::query_as(
            "SELECT key, count, last_at FROM auth_attempts WHERE key = ANY($1) AND last_at > now() - make_interval(secs => $2)",
        )
        .bind(keys)
        .bind(window.num_milliseconds() as f64 / 1000.0)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(key, count, last_at)| Attempts { key, count, last_at }).collect())
    }

    /// Counts one more attempt for each key; a key whose last attempt is older than `window`
    /// starts again at one.
    pub async fn record_attempts(&self, keys: &[String], window: Duration) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO auth_attempts (key, count, last_at) SELECT k, 1, now() FROM unnest($1::text[]) AS k \
             ON CONFLICT (key) DO UPDATE SET last_at = now(), count = CASE \
               WHEN auth_attempts.last_at > now() - make_interval(secs => $2) THEN auth_attempts.count + 1 ELSE 1 END",
        )
        .bind(keys)
        .bind(window.num_milliseconds() as f64 / 1000.0)
        .execute(&self.pool)
        .await?;
        // Old rows go now and then, so the table stays small whatever is tried.
        sqlx::query("DELETE FROM auth_attempts WHERE last_at < now() - make_interval(secs => $1)")
            .bind(window.num_milliseconds() as f64 / 1000.0 * 2.0)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Forgets the attempts of these keys (a login succeeded).
    pub async fn clear_attempts(&self, keys: &[String]) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM auth_attempts WHERE key = ANY($1)").bind(keys).execute(&self.pool).await?;
        Ok(())
    }
}
