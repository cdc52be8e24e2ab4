//! Requests per service and day, shown by the admin's statistics page.

use chrono::{NaiveDate, Utc};
use uuid::Uuid;

use crate::{Store, StoreError};

impl Store {
    /// Counts one request for the service today (UTC).
    pub async fn record_request(&self, model_id: Uuid) -> Result<(), StoreError> {
        self.add_requests(model_id, Utc::now().date_naive(), 1).await
    }

    /// Adds `count` requests to the service's total for `day`.
    pub async fn add_requests(&self, model_id: Uuid, day: NaiveDate, count: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO model_statistics (model_id, day, request_count) VALUES ($1, $2, $3) \
             ON CONFLICT (model_id, day) DO UPDATE \
             SET request_count = model_statistics.request_count + EXCLUDED.request_count",
        )
        .bind(model_id)
        .bind(day)
        .bind(count)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The service's request counts per day from `since` on, oldest first.
    pub async fn request_counts(&self, model_id: Uuid, since: NaiveDate) -> Result<Vec<(NaiveDate, i64)>, StoreError> {
        let rows = sqlx::query_as(
            "SELECT day, request_count FROM model_statistics WHERE model_id = $1 AND day >= $2 ORDER BY day",
        )
        .bind(model_id)
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows)
    }
}
