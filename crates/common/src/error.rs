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

/// Declares [`ErrorCode`] from one table: each row is a variant, its numeric code, the HTTP status
/// it answers with, and its default message. Adding an error is one line.
macro_rules! error_codes {
    ($( $(#[$doc:meta])* $name:ident = $code:literal, $status:literal, $message:literal; )*) => {
        /// CompreFace's error codes (public and admin API) with their HTTP statuses.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $( $(#[$doc])* $name, )*
        }

        impl ErrorCode {
            /// Every code, for tables and tests.
            pub const ALL: &'static [ErrorCode] = &[$( Self::$name, )*];

            /// The numeric code and the HTTP status it answers with.
            pub const fn row(self) -> (u32, Status) {
                match self {
                    $( Self::$name => ($code, $status), )*
                }
            }

            /// The message used when a caller gives none.
            pub const fn default_message(self) -> &'static str {
                match self {
                    $( Self::$name => $message, )*
                }
            }
        }
    };
}

error_codes! {
    /// Anything unexpected.
    Undefined = 0, 400, "Something went wrong, please try again";
    /// Admin: a user who is no member of the application.
    AppAccessDenied = 1, 403, "Access to the application is denied";
    AppNotFound = 2, 404, "Application not found";
    ModelDoesNotBelongToApp = 3, 404, "The service does not belong to the application";
    EmailAlreadyRegistered = 4, 400, "This e-mail is already registered";
    EmptyRequiredField = 5, 400, "A required field is empty";
    /// Admin: the caller's role does not allow the action.
    InsufficientPrivileges = 9, 400, "Insufficient privileges";
    /// No service with this API key and type (public API); no service with this id (admin).
    ModelNotFound = 10, 404, "Service not found";
    IncorrectPredictionCount = 12, 400, "prediction_count must be positive or -1";
    SelfRoleChange = 14, 400, "Users cannot change their own role";
    UserDoesNotExist = 16, 404, "User does not exist";
    NameIsNotUnique = 17, 400, "The name is not unique";
    IncorrectUserPassword = 18, 400, "The password is incorrect";
    UserAlreadyHasAccessToApp = 19, 400, "The user already has access to the application";
    MissingHeader = 20, 400, "A required header is missing";
    /// Unsupported file type or undecodable base64.
    UnavailableFileExtension = 21, 400, "The file has an unavailable extension";
    InvalidEmailFormat = 22, 400, "Invalid e-mail format";
    RegistrationTokenExpired = 25, 403, "The confirmation link is invalid or has expired";
    ValidationFailed = 26, 400, "Validation failed";
    MigrationInProgress = 27, 400, "Migration is already in progress";
    NoFaceFound = 28, 400, "No face is found in the given image";
    MailServerError = 29, 500, "The e-mail could not be sent";
    InvalidResetPasswordToken = 30, 400, "The password reset link is invalid or has expired";
    TooManyFaces = 31, 400, "More than one face in the source image";
    WritingNotAllowed = 32, 405, "Writing is not allowed while the migration runs";
    MissingParameter = 33, 400, "A required parameter is missing";
    MissingPart = 34, 400, "A required part is missing";
    MissingPathVariable = 35, 400, "A required path variable is missing";
    /// A value that breaks a pattern rule (a subject name with `;`, `/` or `\`).
    IncorrectArgument = 36, 400, "Incorrect argument";
    WrongEmbeddingCount = 37, 400, "Unexpected number of embeddings";
    FacesServiceUnavailable = 41, 500, "The core service is unavailable";
    SubjectNotFound = 42, 404, "Subject not found";
    SubjectAlreadyExists = 43, 400, "Subject already exists";
    ImageNotFound = 44, 404, "Image not found";
    /// Admin (ours): registration refused by the sign-up policy (`SIGN_UP=invite|closed`).
    SignUpNotAllowed = 48, 403, "Registration is closed";
    /// Ours: enrolment with `min_quality` refused a face whose quality is lower.
    LowFaceQuality = 49, 400, "The face's quality is too low";
    /// Ours: a call asking for more work or a longer answer than the service's limits allow
    /// (`MAX_EMBEDDINGS`, `MAX_MATCHES`).
    LimitExceeded = 50, 400, "The request exceeds a limit of the service";
    /// Admin: the demo service is gone (CompreFace answers with the status as its code).
    DemoModelNotAvailable = 404, 404, "The Demo model is not available any more!";
}

impl ErrorCode {
    pub const fn code(self) -> u32 {
        self.row().0
    }

    pub const fn status(self) -> Status {
        self.row().1
    }

    /// The code for a number, if it is one of ours.
    pub fn from_code(code: u32) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.code() == code)
    }
}

/// The JSON body of every error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"message": "Subject not found", "code": 42}))]
pub struct ErrorBody {
    /// What went wrong, for people.
    pub message: String,
    /// The error code, for programs (CompreFace's table; 48 and 49 are ours).
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

    /// The code with its default message.
    pub fn of(code: ErrorCode) -> Self {
        Self::new(code, code.default_message())
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
        for &code in ErrorCode::ALL {
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
        assert_eq!(ErrorCode::InsufficientPrivileges.row(), (9, 400));
        assert_eq!(ErrorCode::MailServerError.row(), (29, 500));
        assert_eq!(ErrorCode::RegistrationTokenExpired.row(), (25, 403));
        assert_eq!(ApiError::of(ErrorCode::DemoModelNotAvailable).body().code, 404);
    }

    #[test]
    fn body_serialises_message_then_code() {
        let json = serde_json::to_string(&ApiError::no_face().body()).unwrap();
        assert_eq!(json, r#"{"message":"No face is found in the given image","code":28}"#);
        assert_eq!(ApiError::missing_part("file").message, "Required part file is missing");
        assert_eq!(ApiError::missing_parameter("subject").message, "Required parameter subject is missing");
    }
}
