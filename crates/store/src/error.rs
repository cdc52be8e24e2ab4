//! The store's errors. Each service maps them to its own API errors.

/// What can go wrong in the store. Unique-constraint violations become domain errors by the
/// constraint's name; everything else the database reports is [`StoreError::Database`].
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A subject with this name (in any letter case) already exists in the service.
    #[error("Subject already exists")]
    SubjectAlreadyExists,
    /// No subject with this name in the service; carries the name as the client gave it.
    #[error("Subject {0} not found")]
    SubjectNotFound(String),
    /// A user with this e-mail (in any letter case) exists.
    #[error("This e-mail is already registered")]
    EmailTaken,
    /// An application with this name exists, or a service with this name in its application.
    #[error("The name is not unique")]
    NameTaken,
    /// A unique constraint without a domain meaning of its own, by constraint name.
    #[error("duplicate value for {constraint}")]
    Duplicate { constraint: String },
    /// Text Postgres cannot hold (the NUL character).
    #[error("Text values cannot contain the NUL character")]
    InvalidText,
    #[error("database error")]
    Database(#[source] sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &err {
            if db.code().as_deref() == Some("22021") {
                return Self::InvalidText;
            }
            if db.is_unique_violation() {
                return match db.constraint() {
                    Some("subjects_model_name_key") => Self::SubjectAlreadyExists,
                    Some("users_email_key") => Self::EmailTaken,
                    Some("apps_name_key" | "models_app_name_key") => Self::NameTaken,
                    Some(name) => Self::Duplicate { constraint: name.to_string() },
                    None => Self::Database(err),
                };
            }
        }
        Self::Database(err)
    }
}

impl StoreError {
    /// Whether retrying the whole transaction may succeed (a serialization failure or deadlock
    /// between concurrent writers).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Database(sqlx::Error::Database(db)) => {
                matches!(db.code().as_deref(), Some("40001" | "40P01"))
            }
            _ => false,
        }
    }
}
