//! Test support: a real Postgres for every test process and a fresh database for every test.
//!
//! [`TestDatabase::create`] makes a database with a random name on
//! - the server of `DATABASE_URL` (or `POSTGRES_URL`) when one is set, else
//! - a throwaway cluster that the first call starts with `scripts/postgres.sh` in a temporary
//!   directory, on a free port; it stops and deletes itself when the test process exits, however
//!   the process ends,
//!
//! and applies the migrations to it. Tests never share a database, so they run in parallel and
//! in any order.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;
use std::str::FromStr;
use std::sync::OnceLock;

use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, Executor, PgConnection};
use uuid::Uuid;

use crate::{Service, ServiceType, Store};

/// A migrated database of its own for one test.
#[derive(Debug, Clone)]
pub struct TestDatabase {
    pub name: String,
    /// Options connecting to this database.
    pub options: PgConnectOptions,
    /// Its URL, for services configured by URL.
    pub url: String,
    pub store: Store,
}

impl TestDatabase {
    /// A new database with the schema applied.
    ///
    /// # Panics
    /// When no server can be found or started, or the database cannot be made: a test cannot
    /// go on without one, and the message says why.
    pub async fn create() -> Self {
        let server_url = server_url();
        let server = PgConnectOptions::from_str(server_url).expect("the Postgres URL does not parse");
        let name = format!("visage_test_{}", Uuid::new_v4().simple());
        let mut admin = PgConnection::connect_with(&server.clone().database("postgres"))
            .await
            .unwrap_or_else(|e| panic!("cannot connect to the test Postgres at {server_url}: {e}"));
        admin
            .execute(format!(r#"CREATE DATABASE "{name}""#).as_str())
            .await
            .unwrap_or_else(|e| panic!("cannot create database {name}: {e}"));
        admin.close().await.ok();
        let options = server.database(&name);
        let store = Store::connect(options.clone(), 10)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to database {name}: {e}"));
        store.migrate().await.unwrap_or_else(|e| panic!("migrating {name} failed: {e}"));
        let url = with_database(server_url, &name);
        Self { name, options, url, store }
    }
}

impl TestDatabase {
    /// The database's pool, for tests that write or check rows with SQL of their own.
    pub fn pool(&self) -> &sqlx::PgPool {
        &self.store.pool
    }

    /// A new service of this type, in an application of its own, with a random API key.
    pub async fn create_service(&self, service_type: ServiceType) -> Service {
        let app_id = Uuid::new_v4();
        let name = format!("test-{}", app_id.simple());
        sqlx::query("INSERT INTO apps (id, name) VALUES ($1, $2)")
            .bind(app_id)
            .bind(&name)
            .execute(&self.store.pool)
            .await
            .expect("cannot create a test application");
        let service =
            Service { id: Uuid::new_v4(), app_id, name, service_type, api_key: Uuid::new_v4(), match_threshold: None };
        sqlx::query("INSERT INTO models (id, app_id, name, type, api_key) VALUES ($1, $2, $3, $4, $5)")
            .bind(service.id)
            .bind(app_id)
            .bind(&service.name)
            .bind(service_type.letter())
            .bind(service.api_key)
            .execute(&self.store.pool)
            .await
            .expect("cannot create a test service");
        service
    }

    /// Analyses the collection tables now (empty) and turns their autovacuum off, so that every
    /// later plan sees statistics of empty tables: the worst case, as right after a bulk load.
    pub async fn keep_empty_statistics(&self) {
        for table in ["faces", "subjects", "images"] {
            let pool = &self.store.pool;
            sqlx::query(&format!("ALTER TABLE {table} SET (autovacuum_enabled = false)"))
                .execute(pool)
                .await
                .expect("cannot turn autovacuum off");
            sqlx::query(&format!("ANALYZE {table}")).execute(pool).await.expect("cannot analyse");
        }
    }

    /// Writes `subjects` × `per_subject` faces (512-d embeddings, a 4-byte image each) into a
    /// service with three bulk statements, as a large import would.
    pub async fn write_bulk_collection(&self, model: Uuid, subjects: i64, per_subject: i64) {
        let pool = &self.store.pool;
        sqlx::query("INSERT INTO subjects (model_id, name) SELECT $1, 'subject ' || g FROM generate_series(1, $2) g")
            .bind(model)
            .bind(subjects)
            .execute(pool)
            .await
            .expect("cannot write the subjects");
        sqlx::query(
            "INSERT INTO faces (model_id, subject_id, embedding, dimension, calculator) \
             SELECT $1, s.id, decode(repeat(md5(s.id::text || f::text), 128), 'hex'), 512, 'bulk' \
             FROM subjects s CROSS JOIN generate_series(1, $2) f WHERE s.model_id = $1",
        )
        .bind(model)
        .bind(per_subject)
        .execute(pool)
        .await
        .expect("cannot write the faces");
        let images =
            "INSERT INTO images (face_id, content) SELECT id, '\\x00010203'::bytea FROM faces WHERE model_id = $1";
        sqlx::query(images).bind(model).execute(pool).await.expect("cannot write the images");
    }
}

/// The test server's URL: the configured one, or that of the cluster this process started.
fn server_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        for var in ["DATABASE_URL", "POSTGRES_URL"] {
            if let Ok(url) = std::env::var(var) {
                if !url.trim().is_empty() {
                    return url;
                }
            }
        }
        start_cluster()
    })
}

/// A file of this repository. Found from the running package's directory (cargo sets
/// `CARGO_MANIFEST_DIR` for tests), so a test binary built from a checkout elsewhere still uses
/// the files of the checkout that runs it.
fn repository_file(relative: &str) -> PathBuf {
    let compiled = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").join(relative);
    let Some(dir) = std::env::var_os("CARGO_MANIFEST_DIR") else {
        return compiled;
    };
    PathBuf::from(dir).ancestors().map(|a| a.join(relative)).find(|p| p.exists()).unwrap_or(compiled)
}

/// Starts a private cluster for this process and returns its URL.
fn start_cluster() -> String {
    let script = repository_file("scripts/postgres.sh");
    let mut last_error = String::new();
    // A port found free can be taken by someone else before the server binds it: try again.
    for _ in 0..3 {
        let dir = std::env::temp_dir().join(format!("visage-pg-{}-{}", std::process::id(), Uuid::new_v4().simple()));
        let output = Command::new("bash")
            .arg(&script)
            .arg("start")
            .env_remove("DATABASE_URL")
            .env_remove("POSTGRES_URL")
            .env("VISAGE_PG_DIR", &dir)
            .env("VISAGE_PG_PORT", free_port().to_string())
            .env("VISAGE_PG_FAST", "1")
            .env("VISAGE_PG_WATCH_PID", std::process::id().to_string())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
        if output.status.success() {
            let stdout = String::from_utf8_lossy(&output.stdout);
            if let Some(url) = stdout.lines().rev().find(|l| l.starts_with("postgres://")) {
                return url.to_string();
            }
        }
        last_error = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        std::fs::remove_dir_all(&dir).ok();
    }
    panic!("could not start a test Postgres with {}:\n{last_error}", script.display());
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("no free local port")
}

/// `url` with its database (the path) replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_end..].find('/') {
        Some(slash) => &base[..authority_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn replaces_the_database_of_a_url() {
        assert_eq!(with_database("postgres://u:p@h:1/visage", "t1"), "postgres://u:p@h:1/t1");
        assert_eq!(with_database("postgres://u@h:1", "t1"), "postgres://u@h:1/t1");
        assert_eq!(with_database("postgres://h/db?sslmode=disable", "t1"), "postgres://h/t1?sslmode=disable");
    }
}
