//! admin-service settings: defaults, overridden by the environment.
//!
//! CompreFace's variable names are accepted (`ENABLE_EMAIL_SERVER`, `EMAIL_HOST`, …), so an
//! existing `.env` keeps working.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `ADMIN_HOST` | `0.0.0.0` | listen address |
//! | `ADMIN_PORT` | `8081` | listen port |
//! | `DATABASE_URL`, `POSTGRES_URL` + `POSTGRES_USER`/`POSTGRES_PASSWORD` | see `visage_store::config` | the database |
//! | `DB_MAX_CONNECTIONS` | `5` | connection pool size |
//! | `PUBLIC_URL` (or `FRS_CRUD_HOST`) | `http://localhost:8000` | where users reach the UI: e-mailed links point there |
//! | `EMAIL_TLS` | `starttls` | `starttls`: STARTTLS required (a server without it gets nothing); `tls`: TLS from the start (port 465 by default); `none`: plain SMTP (a local relay) |
//! | `SIGN_UP` | `open` with a mail server, else `invite` | `open`: anyone registers (with a mail server they confirm their e-mail; without one a warning is logged); `invite`: only invited e-mails; `closed`: nobody after the first user (`admin-service create-owner` makes the first) |
//! | `DEMO_KEYS` | `takeover` | the well-known demo API keys (`…0002`, `…0003`, `…0004`): `takeover` — they work until the first account takes the installation over, and get random ones in the same transaction; `keep` — they keep working; `retire` (or `false`) — random ones at start-up |
//! | `ENABLE_EMAIL_SERVER` | `false` | send confirmation and password reset e-mails |
//! | `EMAIL_HOST` | | SMTP server, `host` or `host:port` |
//! | `EMAIL_PORT` | `587` | SMTP port when `EMAIL_HOST` names none |
//! | `EMAIL_USERNAME`, `EMAIL_PASSWORD` | | SMTP credentials (none: no authentication) |
//! | `EMAIL_FROM` | `EMAIL_USERNAME` | sender address |
//! | `COOKIE_SECURE` | `false` | mark the session cookies `Secure` (when served over HTTPS) |

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use visage_common::config::{first_var, parse_bool, parse_from_str, var_or, ConfigError};
use visage_store::config::PgConnectOptions;

/// Who may register.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignUp {
    /// Anyone (CompreFace's behaviour).
    Open,
    /// Only e-mail addresses a global OWNER or ADMINISTRATOR invited.
    Invite,
    /// Nobody, once the first user has taken the installation over.
    Closed,
}

impl SignUp {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Invite => "invite",
            Self::Closed => "closed",
        }
    }

    fn parse(value: &str) -> Result<Self, String> {
        match value.trim().to_ascii_lowercase().as_str() {
            "open" => Ok(Self::Open),
            "invite" => Ok(Self::Invite),
            "closed" => Ok(Self::Closed),
            _ => Err("expected open, invite or closed".to_string()),
        }
    }
}

/// What becomes of the well-known demo API keys (CompreFace's `…0002`, `…0003`, `…0004`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoKeys {
    /// They work until the first account takes the installation over, then the demo services
    /// get random keys (in the takeover's transaction).
    UntilTakeover,
    /// They keep working (CompreFace's behaviour), for an installation that only tries things.
    Keep,
    /// The demo services get random keys at start-up.
    Retire,
}

impl DemoKeys {
    fn parse(value: &str) -> Result<Self, String> {
        match value.trim().to_ascii_lowercase().as_str() {
            "takeover" | "until-takeover" => Ok(Self::UntilTakeover),
            "keep" | "true" | "on" | "yes" | "1" => Ok(Self::Keep),
            "retire" | "false" | "off" | "no" | "0" => Ok(Self::Retire),
            _ => Err("expected takeover, keep or retire".to_string()),
        }
    }
}

/// How the connection to the SMTP server is protected (`EMAIL_TLS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailTls {
    /// STARTTLS, required: a server that does not offer it gets no e-mail (and no password).
    StartTls,
    /// TLS from the first byte (SMTPS, port 465).
    Tls,
    /// None: plain SMTP, for a relay on the same host or a test server.
    None,
}

impl MailTls {
    fn parse(value: &str) -> Result<Self, String> {
        match value.trim().to_ascii_lowercase().as_str() {
            "starttls" => Ok(Self::StartTls),
            "tls" | "smtps" => Ok(Self::Tls),
            "none" | "off" => Ok(Self::None),
            _ => Err("expected starttls, tls or none".to_string()),
        }
    }
}

/// The SMTP server e-mails go through.
#[derive(Clone, PartialEq, Eq)]
pub struct MailSettings {
    pub host: String,
    pub port: u16,
    pub username: Option<String>,
    pub password: Option<String>,
    pub from: String,
    pub tls: MailTls,
}

impl fmt::Debug for MailSettings {
    /// Everything but the password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("from", &self.from)
            .finish()
    }
}

/// Everything admin-service is configured with.
#[derive(Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    pub database: PgConnectOptions,
    pub db_max_connections: u32,
    /// The UI's origin, without a trailing slash; e-mailed links start with it.
    pub public_url: String,
    pub sign_up: SignUp,
    pub demo_keys: DemoKeys,
    /// `None`: no e-mail; reset links are written to the log instead.
    pub mail: Option<MailSettings>,
    pub cookie_secure: bool,
}

impl Settings {
    /// The defaults with `database` as the database.
    pub fn with_database(database: PgConnectOptions) -> Self {
        Self {
            listen: SocketAddr::from(([0, 0, 0, 0], 8081)),
            database,
            db_max_connections: 5,
            public_url: "http://localhost:8000".to_string(),
            sign_up: SignUp::Open,
            demo_keys: DemoKeys::UntilTakeover,
            mail: None,
            cookie_secure: false,
        }
    }

    /// The defaults overridden by the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        let d = Self::with_database(visage_store::config::database_from_env()?);
        let host: IpAddr = var_or(&["ADMIN_HOST"], d.listen.ip(), parse_from_str)?;
        let port: u16 = var_or(&["ADMIN_PORT"], d.listen.port(), parse_from_str)?;
        let mail = if var_or(&["ENABLE_EMAIL_SERVER"], false, parse_bool)? { Some(mail_from_env()?) } else { None };
        Ok(Self {
            listen: SocketAddr::new(host, port),
            db_max_connections: var_or(&["DB_MAX_CONNECTIONS"], d.db_max_connections, parse_from_str)?,
            public_url: first_var(&["PUBLIC_URL", "FRS_CRUD_HOST"])
                .map_or(d.public_url, |(_, url)| url.trim_end_matches('/').to_string()),
            // Open sign-up confirms e-mail addresses; without a mail server nothing would, so
            // the default is then invitations only.
            sign_up: var_or(&["SIGN_UP"], if mail.is_some() { SignUp::Open } else { SignUp::Invite }, SignUp::parse)?,
            demo_keys: var_or(&["DEMO_KEYS"], d.demo_keys, DemoKeys::parse)?,
            mail,
            cookie_secure: var_or(&["COOKIE_SECURE"], d.cookie_secure, parse_bool)?,
            ..d
        })
    }
}

fn mail_from_env() -> Result<MailSettings, ConfigError> {
    let missing = |name: &str| ConfigError {
        name: name.to_string(),
        value: String::new(),
        reason: "required when ENABLE_EMAIL_SERVER is true".to_string(),
    };
    let (_, host) = first_var(&["EMAIL_HOST"]).ok_or_else(|| missing("EMAIL_HOST"))?;
    let tls = var_or(&["EMAIL_TLS"], MailTls::StartTls, MailTls::parse)?;
    let default_port: u16 = var_or(&["EMAIL_PORT"], if tls == MailTls::Tls { 465 } else { 587 }, parse_from_str)?;
    let (host, port) = match host.rsplit_once(':') {
        Some((h, p)) if p.parse::<u16>().is_ok() => (h.to_string(), p.parse().unwrap_or(default_port)),
        _ => (host, default_port),
    };
    let username = first_var(&["EMAIL_USERNAME"]).map(|(_, v)| v);
    let password = first_var(&["EMAIL_PASSWORD"]).map(|(_, v)| v);
    let from =
        first_var(&["EMAIL_FROM"]).map(|(_, v)| v).or_else(|| username.clone()).ok_or_else(|| missing("EMAIL_FROM"))?;
    Ok(MailSettings { host, port, username, password, from, tls })
}

impl fmt::Debug for Settings {
    /// Everything but credentials.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("listen", &self.listen)
            .field("database", &visage_store::config::describe(&self.database))
            .field("db_max_connections", &self.db_max_connections)
            .field("public_url", &self.public_url)
            .field("sign_up", &self.sign_up)
            .field("demo_keys", &self.demo_keys)
            .field("mail", &self.mail)
            .field("cookie_secure", &self.cookie_secure)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The only test of this binary that reads or changes these variables.
    #[test]
    fn sign_up_is_by_invitation_without_a_mail_server_unless_chosen() {
        for name in ["SIGN_UP", "ENABLE_EMAIL_SERVER", "EMAIL_HOST", "EMAIL_FROM", "EMAIL_TLS", "EMAIL_PORT"] {
            std::env::remove_var(name);
        }
        std::env::set_var("DATABASE_URL", "postgres://visage:visage@127.0.0.1:1/visage");
        let settings = Settings::from_env().unwrap();
        assert_eq!((settings.sign_up, settings.mail.is_none()), (SignUp::Invite, true));
        std::env::set_var("ENABLE_EMAIL_SERVER", "true");
        std::env::set_var("EMAIL_HOST", "smtp.example.com");
        std::env::set_var("EMAIL_FROM", "visage@example.com");
        let settings = Settings::from_env().unwrap();
        assert_eq!(settings.sign_up, SignUp::Open);
        let mail = settings.mail.unwrap();
        assert_eq!((mail.tls, mail.port), (MailTls::StartTls, 587), "STARTTLS, required, by default");
        std::env::set_var("EMAIL_TLS", "tls");
        assert_eq!(Settings::from_env().unwrap().mail.map(|m| (m.tls, m.port)), Some((MailTls::Tls, 465)));
        std::env::set_var("EMAIL_TLS", "sometimes");
        assert!(Settings::from_env().is_err());
        std::env::remove_var("ENABLE_EMAIL_SERVER");
        std::env::remove_var("EMAIL_TLS");
        std::env::set_var("SIGN_UP", "open");
        assert_eq!(Settings::from_env().unwrap().sign_up, SignUp::Open, "chosen explicitly");
        for name in ["SIGN_UP", "EMAIL_HOST", "EMAIL_FROM", "DATABASE_URL"] {
            std::env::remove_var(name);
        }
    }
}
