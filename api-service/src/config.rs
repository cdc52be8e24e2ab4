//! api-service settings: defaults, overridden by the environment.
//!
//! CompreFace's variable names are accepted beside ours, so an existing `.env` keeps working.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `API_HOST` | `0.0.0.0` | listen address |
//! | `API_PORT` (or `SERVER_PORT`) | `8080` | listen port |
//! | `DATABASE_URL`, `POSTGRES_URL` + `POSTGRES_USER`/`POSTGRES_PASSWORD` | see `visage_store::config` | the database |
//! | `DB_MAX_CONNECTIONS` | `10` | connection pool size |
//! | `CORE_URL` (or `PYTHON_URL`) | `http://localhost:3000` | core-service: one URL or several (commas); a host name stands for all its addresses (replicas, see `core_client::replicas`) |
//! | `PRELOAD` | `true` | load every collection with faces before opening the port |
//! | `CONNECTION_TIMEOUT` | `10000` | ms to connect to core |
//! | `READ_TIMEOUT` | `60000` | ms for a whole core call |
//! | `SAVE_IMAGES_TO_DB` | `true` | keep the images faces come from |
//! | `MAX_FILE_SIZE` | `5MB` | largest image |
//! | `MAX_REQUEST_SIZE` | `10MB` | largest request body |
//! | `MAX_IMPORT_SIZE` | `2GB` | largest archive `POST /recognition/import` takes (each photo in it: `MAX_FILE_SIZE`) |
//! | `MAX_EMBEDDINGS` | `1000` | most embeddings one call of the embedding endpoints takes |
//! | `MAX_MATCHES` | `10000` | most stored faces one recognition answers, over all its faces or embeddings (`prediction_count` above it, or `-1` on a collection that would pass it, is refused) |

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use sqlx::postgres::PgConnectOptions;
use visage_common::config::{first_var, parse_bool, parse_from_str, parse_size, var_or, ConfigError};

/// Everything api-service is configured with.
#[derive(Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    pub database: PgConnectOptions,
    pub db_max_connections: u32,
    /// Base URLs of core-service's replicas (commas between them).
    pub core_url: String,
    /// Load every collection before taking requests.
    pub preload: bool,
    pub core_connect_timeout: Duration,
    pub core_timeout: Duration,
    pub save_images_to_db: bool,
    pub max_file_size: u64,
    pub max_request_size: u64,
    /// Largest archive a collection import takes.
    pub max_import_size: u64,
    /// Most embeddings one call takes.
    pub max_embeddings: usize,
    /// Most matches one recognition answers, all faces or embeddings together.
    pub max_matches: usize,
}

impl Settings {
    /// The defaults with `database` as the database.
    pub fn with_database(database: PgConnectOptions) -> Self {
        Self {
            listen: SocketAddr::from(([0, 0, 0, 0], 8080)),
            database,
            db_max_connections: 10,
            core_url: "http://localhost:3000".to_string(),
            preload: true,
            core_connect_timeout: Duration::from_secs(10),
            core_timeout: Duration::from_secs(60),
            save_images_to_db: true,
            max_file_size: 5 << 20,
            max_request_size: 10 << 20,
            max_import_size: 2 << 30,
            max_embeddings: 1000,
            max_matches: 10_000,
        }
    }

    /// The defaults overridden by the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        let d = Self::with_database(visage_store::config::database_from_env()?);
        let host: IpAddr = var_or(&["API_HOST"], d.listen.ip(), parse_from_str)?;
        let port: u16 = var_or(&["API_PORT", "SERVER_PORT"], d.listen.port(), parse_from_str)?;
        let millis = |v: &str| v.parse::<u64>().map(Duration::from_millis).map_err(|e| e.to_string());
        Ok(Self {
            listen: SocketAddr::new(host, port),
            db_max_connections: var_or(&["DB_MAX_CONNECTIONS"], d.db_max_connections, parse_from_str)?,
            core_url: first_var(&["CORE_URL", "PYTHON_URL"])
                .map_or(d.core_url, |(_, url)| url.trim_end_matches('/').to_string()),
            preload: var_or(&["PRELOAD"], d.preload, parse_bool)?,
            core_connect_timeout: var_or(&["CONNECTION_TIMEOUT"], d.core_connect_timeout, millis)?,
            core_timeout: var_or(&["READ_TIMEOUT"], d.core_timeout, millis)?,
            save_images_to_db: var_or(&["SAVE_IMAGES_TO_DB"], d.save_images_to_db, parse_bool)?,
            max_file_size: var_or(&["MAX_FILE_SIZE"], d.max_file_size, parse_size)?,
            max_request_size: var_or(&["MAX_REQUEST_SIZE"], d.max_request_size, parse_size)?,
            max_import_size: var_or(&["MAX_IMPORT_SIZE"], d.max_import_size, parse_size)?,
            max_embeddings: var_or(&["MAX_EMBEDDINGS"], d.max_embeddings, parse_from_str)?,
            max_matches: var_or(&["MAX_MATCHES"], d.max_matches, parse_from_str)?,
            ..d
        })
    }
}

impl fmt::Debug for Settings {
    /// Everything but the database credentials.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("listen", &self.listen)
            .field("database", &visage_store::config::describe(&self.database))
            .field("db_max_connections", &self.db_max_connections)
            .field("core_url", &self.core_url)
            .field("preload", &self.preload)
            .field("core_connect_timeout", &self.core_connect_timeout)
            .field("core_timeout", &self.core_timeout)
            .field("save_images_to_db", &self.save_images_to_db)
            .field("max_file_size", &self.max_file_size)
            .field("max_request_size", &self.max_request_size)
            .field("max_import_size", &self.max_import_size)
            .field("max_embeddings", &self.max_embeddings)
            .field("max_matches", &self.max_matches)
            .finish()
    }
}
