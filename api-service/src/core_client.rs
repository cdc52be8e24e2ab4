//! The client of core-service, the stateless inference service (`/find_faces`, `/status`).
//!
//! Errors come back ready for the API client:
//! - core answered 400 (no face, an unreadable image, a bad parameter): its own `{message, code}`
//!   when it sent one (so a corrupt image says so), else code 28 `No face is found in the given
//!   image`, as CompreFace reports every core 400;
//! - core unreachable, timed out, any other status, or an answer that does not parse: 500 code 41
//!   `Error during synchronization between servers: …`.
//!
//! `/status` is asked once and its first good answer kept for the life of the process, as
//! CompreFace does: it carries the similarity coefficients of the embedder, which only change
//! with a core restart on other models (and then api-service is restarted too).

use std::time::Duration;

use bytes::Bytes;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;
use tokio::sync::OnceCell;
use visage_common::error::ErrorBody;
use visage_common::face::{CoreStatus, FindFacesResponse};
use visage_common::similarity::Coefficients;
use visage_common::{ApiError, ErrorCode};

/// Parameters of one `/find_faces` call; `None` leaves a parameter out (core's default).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FindFaces {
    /// Keep at most this many faces, largest first (0: all).
    pub limit: Option<u64>,
    pub det_prob_threshold: Option<f64>,
    /// Comma-separated plugin slugs (`calculator,age`).
    pub face_plugins: Option<String>,
    pub detect_faces: Option<bool>,
}

/// A shared, pooled HTTP client of one core-service.
#[derive(Debug)]
pub struct CoreClient {
    http: reqwest::Client,
    base_url: String,
    status: OnceCell<CoreStatus>,
    failures: Family<FailureLabels, Counter>,
}

/// Why a call to core failed: `unreachable` (no connection, timed out), `status` (an answer
/// other than 200 or 400), `unreadable` (an answer that does not parse).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FailureLabels {
    kind: &'static str,
}

impl CoreClient {
    /// A client of the core at `base_url` (no trailing slash) with these timeouts.
    pub fn new(base_url: &str, connect_timeout: Duration, timeout: Duration) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder().connect_timeout(connect_timeout).timeout(timeout).build()?;
        Ok(Self {
            http,
            base_url: base_url.trim_end_matches('/').to_string(),
            status: OnceCell::new(),
            failures: Family::default(),
        })
    }

    /// Failed calls by kind (`visage_core_call_failures_total`).
    pub fn failures(&self) -> Family<FailureLabels, Counter> {
        self.failures.clone()
    }

    fn failed(&self, kind: &'static str, error: ApiError) -> ApiError {
        self.failures.get_or_create(&FailureLabels { kind }).inc();
        error
    }

    /// Whether core answers its health check (for api-service's readiness).
    pub async fn healthcheck(&self) -> Result<(), String> {
        let url = format!("{}/healthcheck", self.base_url);
        match self.http.get(&url).send().await {
            Ok(response) if response.status() == StatusCode::OK => Ok(()),
            Ok(response) => Err(format!("{url} answered {}", response.status())),
            Err(e) => Err(unreachable(e).message),
        }
    }

    /// Detects faces in `image` and runs the requested plugins on them.
    pub async fn find_faces(
        &self,
        image: Bytes,
        file_name: &str,
        request: &FindFaces,
    ) -> Result<FindFacesResponse, ApiError> {
        let length = image.len() as u64;
        let mut form = Form::new().part(
            "file",
            Part::stream_with_length(reqwest::Body::from(image), length).file_name(file_name.to_string()),
        );
        if let Some(limit) = request.limit {
            form = form.text("limit", limit.to_string());
        }
        if let Some(threshold) = request.det_prob_threshold {
            form = form.text("det_prob_threshold", threshold.to_string());
        }
        if let Some(plugins) = &request.face_plugins {
            form = form.text("face_plugins", plugins.clone());
        }
        if let Some(detect) = request.detect_faces {
            form = form.text("detect_faces", detect.to_string());
        }
        let url = format!("{}/find_faces", self.base_url);
        let response = self
            .http
            .post(&url)
            .multipart(form)
            .send()
            .await
            .map_err(|e| self.failed("unreachable", unreachable(e)))?;
        match response.status() {
            StatusCode::OK => response.json().await.map_err(|e| self.failed("unreadable", bad_answer(&url, e))),
            StatusCode::BAD_REQUEST => Err(client_error(response.bytes().await.unwrap_or_default())),
            status => Err(self.failed("status", unexpected_status("POST", &url, status))),
        }
    }

    /// core's `/status`, asked once and then kept.
    pub async fn status(&self) -> Result<&CoreStatus, ApiError> {
        self.status
            .get_or_try_init(|| async {
                let url = format!("{}/status", self.base_url);
                let response =
                    self.http.get(&url).send().await.map_err(|e| self.failed("unreachable", unreachable(e)))?;
                if response.status() != StatusCode::OK {
                    return Err(self.failed("status", unexpected_status("GET", &url, response.status())));
                }
                response.json::<CoreStatus>().await.map_err(|e| self.failed("unreadable", bad_answer(&url, e)))
            })
            .await
    }

    /// The similarity coefficients of core's embedder.
    pub async fn coefficients(&self) -> Result<Coefficients, ApiError> {
        Ok(Coefficients(self.status().await?.similarity_coefficients))
    }
}

/// core's 400: its own error when it sent one we know, else CompreFace's "no face".
fn client_error(body: Bytes) -> ApiError {
    match serde_json::from_slice::<ErrorBody>(&body) {
        Ok(ErrorBody { message, code }) => match ErrorCode::from_code(code) {
            Some(code) if code.status() == 400 && !message.is_empty() => ApiError::new(code, message),
            _ => ApiError::no_face(),
        },
        Err(_) => ApiError::no_face(),
    }
}

fn unreachable(e: reqwest::Error) -> ApiError {
    // The innermost cause says what happened (connection refused, timed out).
    let mut cause: &dyn std::error::Error = &e;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    let detail = if e.is_timeout() { "timed out".to_string() } else { cause.to_string() };
    let url = e.url().map(|u| u.as_str().to_string()).unwrap_or_default();
    tracing::warn!(error = ?e, "core-service unreachable");
    ApiError::core_unavailable(format!("{detail} [{url}]"))
}

fn unexpected_status(method: &str, url: &str, status: StatusCode) -> ApiError {
    tracing::warn!(%url, %status, "core-service failed");
    ApiError::core_unavailable(format!("[{status}] during [{method}] to [{url}]"))
}

fn bad_answer(url: &str, e: reqwest::Error) -> ApiError {
    tracing::error!(%url, error = ?e, "core-service sent an answer that does not parse");
    ApiError::core_unavailable(format!("unreadable answer from [{url}]"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_400s_keep_known_errors_and_default_to_no_face() {
        let corrupt = client_error(Bytes::from_static(br#"{"message":"The image data is corrupt: eof","code":28}"#));
        assert_eq!(
            (corrupt.code, corrupt.message.as_str()),
            (ErrorCode::NoFaceFound, "The image data is corrupt: eof")
        );
        let threshold = client_error(Bytes::from_static(br#"{"message":"bad threshold","code":26}"#));
        assert_eq!(threshold.code, ErrorCode::ValidationFailed);
        for body in [&b"<html>"[..], br#"{"message":"x","code":41}"#, br#"{"message":"","code":26}"#] {
            assert_eq!(client_error(Bytes::copy_from_slice(body)), ApiError::no_face());
        }
    }
}
