//! Reading a CompreFace 1.x database (read-only sessions): its schema's presence, its accounts,
//! applications, services, subjects and statistics from one snapshot, and its faces page by page.

use std::collections::HashSet;
use std::time::Duration;

use chrono::{NaiveDate, NaiveDateTime};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Connection, PgConnection};
use uuid::Uuid;

use crate::StoreError;

/// The tables and columns of CompreFace's schema that the import reads.
const REQUIRED_SCHEMA: &[(&str, &[&str])] = &[
    (
        "user",
        &[
            "id",
            "email",
            "password",
            "first_name",
            "last_name",
            "enabled",
            "guid",
            "global_role",
            "allow_statistics",
            "reg_time",
        ],
    ),
    ("app", &["id", "name", "guid", "api_key"]),
    ("user_app_role", &["app_id", "user_id", "role"]),
    ("model", &["id", "name", "guid", "app_id", "api_key", "type", "created_date"]),
    ("subject", &["id", "api_key", "subject_name"]),
    ("embedding", &["id", "subject_id", "img_id"]),
    ("img", &["id", "content"]),
    ("model_statistic", &["model_id", "request_count", "created_date"]),
];

/// A CompreFace user as its database holds it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SourceUser {
    pub id: i64,
    pub guid: String,
    pub email: String,
    /// `{bcrypt}$2a$…` (or a bare `$2a$…` for the demo user).
    pub password: String,
    pub first_name: String,
    pub last_name: String,
    pub enabled: bool,
    /// `O`, `A` or `U`.
    pub global_role: Option<String>,
    pub allow_statistics: bool,
    pub reg_time: Option<NaiveDateTime>,
}

/// A CompreFace application.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SourceApp {
    pub id: i64,
    pub guid: String,
    pub name: String,
    pub api_key: String,
}

/// A member of a CompreFace application.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SourceRole {
    pub app_id: i64,
    pub user_id: i64,
    /// `O`, `A` or `U`.
    pub role: String,
}

/// A CompreFace service ("model").
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SourceModel {
    pub id: i64,
    pub guid: String,
    pub app_id: i64,
    pub name: String,
    pub api_key: String,
    /// `R`, `D` or `V`.
    pub model_type: String,
    pub created_date: Option<NaiveDateTime>,
}

/// A subject of a CompreFace recognition service, which it names by API key.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SourceSubject {
    pub id: Uuid,
    pub api_key: String,
    pub name: String,
}

/// A CompreFace service's requests on one day (its hourly rows summed).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SourceStatistic {
    pub model_id: i64,
    pub day: NaiveDate,
    pub requests: i64,
}

/// Everything of a CompreFace database but its faces, read from one snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceAccounts {
    pub users: Vec<SourceUser>,
    pub apps: Vec<SourceApp>,
    pub roles: Vec<SourceRole>,
    pub models: Vec<SourceModel>,
    pub subjects: Vec<SourceSubject>,
    pub statistics: Vec<SourceStatistic>,
}

/// A stored face of CompreFace (an `embedding` row).
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct SourceFace {
    /// The `image_id` CompreFace's clients know.
    pub id: Uuid,
    pub subject_id: Uuid,
    /// Its photo; `None` when CompreFace kept none (`save_images_to_db=false`, or its demo faces).
    pub img_id: Option<Uuid>,
}

/// How many faces a CompreFace database holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SourceFaceCounts {
    pub total: u64,
    /// Those without a photo.
    pub without_image: u64,
}

/// A CompreFace database, read-only.
#[derive(Debug, Clone)]
pub struct CompreFace {
    pool: PgPool,
}

impl CompreFace {
    /// Connects (a few connections: the import reads photos while core-service works), with
    /// every session read-only.
    pub async fn connect(options: PgConnectOptions) -> Result<Self, StoreError> {
        let options = options.options([("default_transaction_read_only", "on")]);
        // One connection first: its error says why (refused, unknown host, authentication, no
        // such database), where a pool retries until its timeout and says only that.
        PgConnection::connect_with(&options).await?.close().await?;
        let pool =
            PgPoolOptions::new().max_connections(4).acquire_timeout(Duration::from_secs(10)).connect_lazy_with(options);
        Ok(Self { pool })
    }

    /// What the import needs of CompreFace's schema and this database lacks: `table "embedding"`,
    /// `column "model"."type"`; empty for a CompreFace 1.x database.
    pub async fn missing_schema(&self) -> Result<Vec<String>, StoreError> {
        let tables: Vec<&str> = REQUIRED_SCHEMA.iter().map(|(t, _)| *t).collect();
        let present: HashSet<(String, String)> = sqlx::query_as(
            "SELECT table_name::text, column_name::text FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = ANY($1)",
        )
        .bind(&tables)
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .collect();
        let mut missing = Vec::new();
        for (table, columns) in REQUIRED_SCHEMA {
            if !present.iter().any(|(t, _)| t == table) {
                missing.push(format!("table \"{table}\""));
                continue;
            }
            for column in *columns {
                if !present.contains(&(table.to_string(), column.to_string())) {
                    missing.push(format!("column \"{table}\".\"{column}\""));
                }
            }
        }
        Ok(missing)
    }

    /// Whether the database has a table of this name (in its current schema).
    pub async fn has_table(&self, table: &str) -> Result<bool, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_name = $1)",
        )
        .bind(table)
        .fetch_one(&self.pool)
        .await?)
    }

    /// Users, applications, members, services, subjects and statistics, from one snapshot.
    pub async fn accounts(&self) -> Result<SourceAccounts, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut *tx).await?;
        let users = sqlx::query_as(
            "SELECT id, guid, email, password, coalesce(first_name, '') AS first_name, \
             coalesce(last_name, '') AS last_name, coalesce(enabled, false) AS enabled, global_role, \
             coalesce(allow_statistics, false) AS allow_statistics, reg_time FROM \"user\" ORDER BY id",
        )
        .fetch_all(&mut *tx)
        .await?;
        let apps = sqlx::query_as("SELECT id, guid, name, api_key FROM app ORDER BY id").fetch_all(&mut *tx).await?;
        let roles = sqlx::query_as("SELECT app_id, user_id, role FROM user_app_role ORDER BY app_id, user_id")
            .fetch_all(&mut *tx)
            .await?;
        let models = sqlx::query_as(
            "SELECT id, guid, app_id, name, api_key, type AS model_type, created_date FROM model ORDER BY id",
        )
        .fetch_all(&mut *tx)
        .await?;
        let subjects = sqlx::query_as(
            "SELECT id, coalesce(api_key, '') AS api_key, coalesce(subject_name, '') AS name FROM subject ORDER BY id",
        )
        .fetch_all(&mut *tx)
        .await?;
        let statistics = sqlx::query_as(
            "SELECT model_id, created_date::date AS day, sum(request_count)::bigint AS requests \
             FROM model_statistic GROUP BY 1, 2 ORDER BY 1, 2",
        )
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(SourceAccounts { users, apps, roles, models, subjects, statistics })
    }

    /// How many faces there are, and how many of them have no photo. (An embedding without a
    /// subject, which CompreFace never leaves, is no face.)
    pub async fn face_counts(&self) -> Result<SourceFaceCounts, StoreError> {
        let (total, without_image): (i64, i64) = sqlx::query_as(
            "SELECT count(*), count(*) FILTER (WHERE img_id IS NULL) FROM embedding WHERE subject_id IS NOT NULL",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(SourceFaceCounts { total: total.max(0) as u64, without_image: without_image.max(0) as u64 })
    }

    /// Up to `limit` faces in id order, after `after` (from the first with `None`).
    pub async fn faces_after(&self, after: Option<Uuid>, limit: i64) -> Result<Vec<SourceFace>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, subject_id, img_id FROM embedding WHERE subject_id IS NOT NULL AND ($1::uuid IS NULL OR id > $1) \
             ORDER BY id LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The content of a photo; `None` if it is gone.
    pub async fn image(&self, img_id: Uuid) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(sqlx::query_scalar("SELECT content FROM img WHERE id = $1").bind(img_id).fetch_optional(&self.pool).await?)
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}
