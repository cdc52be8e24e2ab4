//! The error table and body.
//!
//! Every error a client sees is `{"message": "...", "code": n}` with an HTTP status fixed by the
//! code (one row of [`ErrorCode`]); a few answers override the status (an unknown route is 404 with
//! code 0, an oversized body is 413 with code 0). Constructors for the messages used in more than
//! one place live here so their wording stays identical across services.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An HTTP status code, kept as a number so this crate needs no HTTP library without `http`.
pub type Status = u16;

/// CompreFace's error codes with their HTTP statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// Anything unexpected.
    Undefined,
    EmptyRequiredField,
    /// No service with this API key and type.
    ModelNotFound,
    IncorrectPredictionCount,
    MissingHeader,
    /// Unsupported file type or undecodable base64.
    UnavailableFileExtension,
    ValidationFailed,
    MigrationInProgress,
    NoFaceFound,
    TooManyFaces,
    WritingNotAllowed,
    MissingParameter,
    MissingPart,
    MissingPathVariable,
    /// A value that breaks a pattern rule (a subject name with `;`, `/` or `\`).
    IncorrectArgument,
    WrongEmbeddingCount,
    FacesServiceUnavailable,
    SubjectNotFound,
    SubjectAlreadyExists,
    ImageNotFound,
}

impl ErrorCode {
    /// Every code, for tables and tests.
    pub const ALL: [ErrorCode; 20] = [
        Self::Undefined,
        Self::EmptyRequiredField,
        Self::ModelNotFound,
        Self::IncorrectPredictionCount,
        Self::MissingHeader,
        Self::UnavailableFileExtension,
        Self::ValidationFailed,
        Self::MigrationInProgress,
        Self::NoFaceFound,
        Self::TooManyFaces,
        Self::WritingNotAllowed,
        Self::MissingParameter,
        Self::MissingPart,
        Self::MissingPathVariable,
        Self::IncorrectArgument,
        Self::WrongEmbeddingCount,
        Self::FacesServiceUnavailable,
        Self::SubjectNotFound,
        Self::SubjectAlreadyExists,
        Self::ImageNotFound,
    ];

    /// The numeric code and the HTTP status it answers with.
    pub const fn row(self) -> (u32, Status) {
        match self {
            Self::Undefined => (0, 400),
            Self::EmptyRequiredField => (5, 400),
            Self::ModelNotFound => (10, 404),
            Self::IncorrectPredictionCount => (12, 400),
            Self::MissingHeader => (20, 400),
            Self::UnavailableFileExtension => (21, 400),
            Self::ValidationFailed => (26, 400),
            Self::MigrationInProgress => (27, 400),
            Self::NoFaceFound => (28, 400),
            Self::TooManyFaces => (31, 400),
            Self::WritingNotAllowed => (32, 405),
            Self::MissingParameter => (33, 400),
            Self::MissingPart => (34, 400),
            Self::MissingPathVariable => (35, 400),
            Self::IncorrectArgument => (36, 400),
            Self::WrongEmbeddingCount => (37, 400),
            Self::FacesServiceUnavailable => (41, 500),
            Self::SubjectNotFound => (42, 404),
            Self::SubjectAlreadyExists => (43, 400),
            Self::ImageNotFound => (44, 404),
        }
    }

    pub const fn code(self) -> u32 {
        self.row().0
    }

    pub const fn status(self) -> Status {
        self.row().1
    }

    /// The code for a number, if it is one of ours.
    pub fn from_code(code: u32) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.code() == code)
    }
}

/// The JSON body of every error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub message: String,
    pub code: u32,
}

/// An error as a client sees it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    /// Overrides the code's own status (404 for unknown routes, 413 for oversized bodies).
    pub status: Option<Status>,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (code {})", self.message, self.code.code())
    }
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), status: None }
    }

    pub fn with_status(mut self, status: Status) -> Self {
        self.status = Some(status);
        self
    }

    pub fn status(&self) -> Status {
        self.status.unwrap_or_else(|| self.code.status())
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody { message: self.message.clone(), code: self.code.code() }
    }

    /// Code 0 with the generic message; the cause belongs in the server log, not the answer.
    pub fn unexpected() -> Self {
        Self::new(ErrorCode::Undefined, "Something went wrong, please try again")
    }

    /// 404 code 0 for a path or method no route serves.
    pub fn no_route(method: &str, path: &str) -> Self {
        Self::new(ErrorCode::Undefined, format!("No handler found for {method} {path}")).with_status(404)
    }

    /// 404 code 0 for a known path asked with a method it does not serve (upstream's wording).
    pub fn method_not_supported(method: &str) -> Self {
        Self::new(ErrorCode::Undefined, format!("Request method '{method}' not supported")).with_status(404)
    }

    /// 413 for a request or file above the configured limit.
    pub fn too_large(what: &str, limit_bytes: u64) -> Self {
        Self::new(ErrorCode::Undefined, format!("The {what} exceeds its maximum allowed size of {limit_bytes} bytes"))
            .with_status(413)
    }

    pub fn empty_field(field: &str) -> Self {
        Self::new(ErrorCode::EmptyRequiredField, format!("Field {field} cannot be empty"))
    }

    pub fn missing_header(header: &str) -> Self {
        Self::new(ErrorCode::MissingHeader, format!("Missing header: {header}"))
    }

    pub fn missing_parameter(name: &str) -> Self {
        Self::new(ErrorCode::MissingParameter, format!("Required parameter {name} is missing"))
    }

    pub fn missing_part(name: &str) -> Self {
        Self::new(ErrorCode::MissingPart, format!("Required part {name} is missing"))
    }

    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::ValidationFailed, message)
    }

    pub fn no_face() -> Self {
        Self::new(ErrorCode::NoFaceFound, "No face is found in the given image")
    }

    pub fn too_many_faces() -> Self {
        Self::new(ErrorCode::TooManyFaces, "More than one face in the source image")
    }

    /// An upload that is not an image we can read (bad bytes, unsupported type).
    pub fn bad_image(detail: impl fmt::Display) -> Self {
        Self::new(ErrorCode::UnavailableFileExtension, detail.to_string())
    }

    pub fn invalid_base64() -> Self {
        Self::new(ErrorCode::UnavailableFileExtension, "Provided value is not Base64")
    }

    /// 500 code 41: core-service could not be reached or failed; `detail` says how.
    pub fn core_unavailable(detail: impl fmt::Display) -> Self {
        Self::new(ErrorCode::FacesServiceUnavailable, format!("Error during synchronization between servers: {detail}"))
    }
}

#[cfg(feature = "http")]
impl axum::response::IntoResponse for ApiError {
    fn into_response(self) -> axum::response::Response {
        let status =
            axum::http::StatusCode::from_u16(self.status()).unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
        (status, axum::Json(self.body())).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_round_trip() {
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::from_code(code.code()), Some(code));
        }
        let mut numbers: Vec<u32> = ErrorCode::ALL.iter().map(|c| c.code()).collect();
        numbers.sort_unstable();
        numbers.dedup();
        assert_eq!(numbers.len(), ErrorCode::ALL.len());
    }

    #[test]
    fn statuses_follow_the_table() {
        assert_eq!(ErrorCode::ModelNotFound.row(), (10, 404));
        assert_eq!(ErrorCode::WritingNotAllowed.row(), (32, 405));
        assert_eq!(ErrorCode::FacesServiceUnavailable.row(), (41, 500));
        assert_eq!(ErrorCode::SubjectAlreadyExists.row(), (43, 400));
        assert_eq!(ErrorCode::IncorrectArgument.row(), (36, 400));
        assert_eq!(ApiError::no_route("GET", "/x").status(), 404);
    }

    #[test]
    fn body_serialises_message_then_code() {
        let json = serde_json::to_string(&ApiError::no_face().body()).unwrap();
        assert_eq!(json, r#"{"message":"No face is found in the given image","code":28}"#);
        assert_eq!(ApiError::missing_part("file").message, "Required part file is missing");
        assert_eq!(ApiError::missing_parameter("subject").message, "Required parameter subject is missing");
    }
}
