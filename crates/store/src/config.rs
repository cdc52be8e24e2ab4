//! Where the database is, read from the environment the way CompreFace's services read it.
//!
//! | variable | meaning |
//! |---|---|
//! | `DATABASE_URL` | `postgres://user:password@host:port/db`; wins when set |
//! | `POSTGRES_URL` | CompreFace's form `jdbc:postgresql://host:port/db`, or a `postgres://` URL |
//! | `POSTGRES_USER`, `POSTGRES_PASSWORD` | credentials for `POSTGRES_URL` (override those in it) |
//!
//! Without any of them: `postgres://postgres:postgres@localhost:5432/frs`, CompreFace's default
//! database on this machine.

use std::str::FromStr;

pub use sqlx::postgres::PgConnectOptions;
use visage_common::config::{first_var, ConfigError};

const DEFAULT_URL: &str = "postgres://postgres:postgres@localhost:5432/frs";

/// The connection options the environment describes.
pub fn database_from_env() -> Result<PgConnectOptions, ConfigError> {
    database_from(|name| first_var(&[name]).map(|(_, v)| v))
}

/// The connection options `lookup` (an environment) describes.
pub fn database_from(lookup: impl Fn(&str) -> Option<String>) -> Result<PgConnectOptions, ConfigError> {
    if let Some(url) = lookup("DATABASE_URL") {
        return parse("DATABASE_URL", &url);
    }
    let Some(url) = lookup("POSTGRES_URL") else {
        return parse("default", DEFAULT_URL);
    };
    let plain = url.strip_prefix("jdbc:").unwrap_or(&url);
    let mut options = parse("POSTGRES_URL", plain)?;
    if let Some(user) = lookup("POSTGRES_USER") {
        options = options.username(&user);
    }
    if let Some(password) = lookup("POSTGRES_PASSWORD") {
        options = options.password(&password);
    }
    Ok(options)
}

fn parse(name: &str, url: &str) -> Result<PgConnectOptions, ConfigError> {
    PgConnectOptions::from_str(url).map_err(|e| ConfigError {
        name: name.to_string(),
        // The URL may carry a password: never echo it.
        value: "<redacted>".to_string(),
        reason: e.to_string(),
    })
}

/// `host:port/database` of the options, for logs (no credentials).
pub fn describe(options: &PgConnectOptions) -> String {
    format!("{}:{}/{}", options.get_host(), options.get_port(), options.get_database().unwrap_or(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
    }

    #[test]
    fn reads_compreface_jdbc_urls_with_separate_credentials() {
        let options = database_from(env(&[
            ("POSTGRES_URL", "jdbc:postgresql://db.local:5433/frs"),
            ("POSTGRES_USER", "alice"),
            ("POSTGRES_PASSWORD", "s3cret"),
        ]))
        .unwrap();
        assert_eq!(describe(&options), "db.local:5433/frs");
        assert_eq!(options.get_username(), "alice");
    }

    #[test]
    fn database_url_wins_and_defaults_apply() {
        let options = database_from(env(&[
            ("DATABASE_URL", "postgres://bob:pw@127.0.0.1:6000/visage"),
            ("POSTGRES_URL", "jdbc:postgresql://elsewhere:1/x"),
        ]))
        .unwrap();
        assert_eq!(describe(&options), "127.0.0.1:6000/visage");
        assert_eq!(options.get_username(), "bob");
        assert_eq!(describe(&database_from(env(&[])).unwrap()), "localhost:5432/frs");
        let err = database_from(env(&[("DATABASE_URL", "postgres://u:hunter2@h:port/db")])).unwrap_err();
        assert!(!err.to_string().contains("hunter2"));
    }
}
