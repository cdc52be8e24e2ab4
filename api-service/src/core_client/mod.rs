//! The client of core-service, the stateless inference service (`/find_faces`, `/status`).
//!
//! Errors come back ready for the API client:
//! - core answered 400 (no face, an unreadable image, a bad parameter): its own `{message, code}`
//!   when it sent one (so a corrupt image says so), else code 28 `No face is found in the given
//!   image`, as CompreFace reports every core 400;
//! - core unreachable, timed out, any other status, or an answer that does not parse: 500 code 41
//!   `Error during synchronization between servers: …`.
//!
//! Calls are spread over core's replicas ([`replicas`]); one that fails with no answer from core
//! (connection refused or reset: a replica stopped or killed) or with 502/503 is sent again to
//! the next replica, at most [`MAX_ATTEMPTS`] in all. That is safe because core keeps nothing: a
//! call sent twice has no effect but its answer. A call that timed out is not repeated (the
//! replica may be busy with it, and a second one would double the work).
//!
//! `/status` is asked once and its first good answer kept for the life of the process, as
//! CompreFace does: it carries the similarity coefficients of the embedder, which only change
//! with a core restart on other models (and then api-service is restarted too).

mod replicas;

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

pub use replicas::{BadCoreUrl, Replicas};

/// Most replicas one call is sent to.
pub const MAX_ATTEMPTS: usize = 4;

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

/// A shared, pooled HTTP client of core-service's replicas.
#[derive(Debug)]
pub struct CoreClient {
    http: reqwest::Client,
    replicas: Replicas,
    status: OnceCell<CoreStatus>,
    failures: Family<FailureLabels, Counter>,
}

/// Why a call to core failed: `unreachable` (no connection, timed out), `status` (an answer
/// other than 200 or 400), `unreadable` (an answer that does not parse); `failover`: one replica
/// failed and the call went on to the next.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FailureLabels {
    kind: &'static str,
}

impl CoreClient {
    /// A client of the core replicas `core_url` lists (see [`replicas`]) with these timeouts.
    pub fn new(core_url: &str, connect_timeout: Duration, timeout: Duration) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder().connect_timeout(connect_timeout).timeout(timeout).build()?;
        Ok(Self { http, replicas: Replicas::parse(core_url)?, status: OnceCell::new(), failures: Family::default() })
    }

    /// Failed calls by kind (`visage_core_call_failures_total`).
    pub fn failures(&self) -> Family<FailureLabels, Counter> {
        self.failures.clone()
    }

    fn failed(&self, kind: &'static str, error: ApiError) -> ApiError {
        self.failures.get_or_create(&FailureLabels { kind }).inc();
        error
    }

    /// Sends the request `build` makes for a URL to one replica after another until one
    /// answers (see the module documentation); the URL it went to and the answer. A failure is
    /// counted in the metrics when `counted` (not for health checks).
    async fn send(
        &self,
        path: &str,
        counted: bool,
        build: impl Fn(&str) -> reqwest::RequestBuilder,
    ) -> Result<(String, reqwest::Response), ApiError> {
        let failed = |kind: &'static str, error: ApiError| if counted { self.failed(kind, error) } else { error };
        let order = self.replicas.order().await;
        let attempts = order.len().min(MAX_ATTEMPTS);
        let mut last_error = None;
        for (i, base) in order.iter().take(attempts).enumerate() {
            let url = format!("{base}{path}");
            let last = i + 1 == attempts;
            match build(&url).send().await {
                Ok(response)
                    if !last
                        && matches!(response.status(), StatusCode::BAD_GATEWAY | StatusCode::SERVICE_UNAVAILABLE) =>
                {
                    self.replicas.failed(base, response.status().as_str());
                    if counted {
                        self.failures.get_or_create(&FailureLabels { kind: "failover" }).inc();
                    }
                }
                Ok(response) => {
                    self.replicas.answered(base);
                    return Ok((url, response));
                }
                Err(e) if e.is_connect() || (e.is_request() && !e.is_timeout()) => {
                    self.replicas.failed(base, &innermost(&e));
                    if counted && !last {
                        self.failures.get_or_create(&FailureLabels { kind: "failover" }).inc();
                    }
                    last_error = Some(e);
                }
                Err(e) => return Err(failed("unreachable", unreachable(e))),
            }
        }
        match last_error {
            Some(e) => Err(failed("unreachable", unreachable(e))),
            None => Err(failed("unreachable", ApiError::core_unavailable("no core-service replica"))),
        }
    }

    /// Whether a core replica answers its health check (for api-service's readiness).
    pub async fn healthcheck(&self) -> Result<(), String> {
        match self.send("/healthcheck", false, |url| self.http.get(url)).await {
            Ok((_, response)) if response.status() == StatusCode::OK => Ok(()),
            Ok((url, response)) => Err(format!("{url} answered {}", response.status())),
            Err(e) => Err(e.message),
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
        let form = || {
            let mut form = Form::new().part(
                "file",
                Part::stream_with_length(reqwest::Body::from(image.clone()), length).file_name(file_name.to_string()),
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
            form
        };
        let (url, response) = self.send("/find_faces", true, |url| self.http.post(url).multipart(form())).await?;
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
                let (url, response) = self.send("/status", true, |url| self.http.get(url)).await?;
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

/// The innermost cause of `e`: what happened (connection refused, reset).
fn innermost(e: &reqwest::Error) -> String {
    let mut cause: &dyn std::error::Error = e;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    cause.to_string()
}

fn unreachable(e: reqwest::Error) -> ApiError {
    let detail = if e.is_timeout() { "timed out".to_string() } else { innermost(&e) };
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
