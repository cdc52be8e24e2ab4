//! Images arriving with a request, and the parameters that come with them.
//!
//! An image request is either
//! - `multipart/form-data`: image parts (`file`, or `source_image` and `target_image`) and any
//!   text fields, which join the query string's parameters; or
//! - `application/json`: `{"file": "<base64>"}` (or `source_image`/`target_image`), parameters in
//!   the query string only; unknown fields are ignored.
//!
//! Other content types are a 415. Sizes are enforced while the body is read: a body above
//! `max_request_size` or an image above `max_file_size` is a 413 that names the limit. Each
//! image is checked when a handler asks for it ([`ImageUpload::image`]), after the handler's
//! parameter checks, as CompreFace orders them: a missing part is 34 (a missing JSON field 5),
//! undecodable base64 is 21 `Provided value is not Base64`, content that is not a supported
//! image format is 21 `File [<name>] has an unavailable extension`.

use axum::extract::multipart::Field;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header::CONTENT_TYPE;
use bytes::{Bytes, BytesMut};
use serde::Deserialize;
use visage_common::params::Params;
use visage_common::upload::decode_base64;
use visage_common::ApiError;
use visage_imaging::{sniff_format, ImageFormat};

use crate::state::AppState;
use visage_http::extract::{malformed_json, require_json, unsupported_media_type};
use visage_http::multipart_error;

/// Names of the parts (and JSON fields) that carry images.
pub const IMAGE_PARTS: [&str; 3] = ["file", "source_image", "target_image"];

/// A request's images and parameters.
#[derive(Debug)]
pub struct ImageUpload {
    /// The query string's parameters, then the multipart text fields.
    pub params: Params,
    body: Body,
}

#[derive(Debug)]
enum Body {
    Multipart(Vec<FilePart>),
    Json(Base64Images),
}

#[derive(Debug)]
struct FilePart {
    name: String,
    file_name: Option<String>,
    bytes: Bytes,
}

#[derive(Debug, Default, Deserialize)]
struct Base64Images {
    file: Option<String>,
    source_image: Option<String>,
    target_image: Option<String>,
}

/// One image, checked to be of a supported format.
#[derive(Debug, Clone)]
pub struct Image {
    /// The client's file name (the field name for JSON uploads).
    pub file_name: String,
    pub bytes: Bytes,
    pub format: ImageFormat,
}

impl ImageUpload {
    /// The image sent as `name` (one of [`IMAGE_PARTS`]).
    pub fn image(&self, name: &str, max_file_size: u64) -> Result<Image, ApiError> {
        let (file_name, bytes) = match &self.body {
            Body::Multipart(parts) => {
                let part = parts.iter().find(|p| p.name == name).ok_or_else(|| ApiError::missing_part(name))?;
                (part.file_name.clone().unwrap_or_default(), part.bytes.clone())
            }
            Body::Json(images) => {
                let value = match name {
                    "source_image" => &images.source_image,
                    "target_image" => &images.target_image,
                    _ => &images.file,
                };
                let text = value.as_deref().ok_or_else(|| ApiError::empty_field(json_field_label(name)))?;
                let bytes = decode_base64(text)?;
                if bytes.len() as u64 > max_file_size {
                    return Err(ApiError::too_large("file", max_file_size));
                }
                (name.to_string(), Bytes::from(bytes))
            }
        };
        Image::checked(file_name, bytes)
    }
}

impl Image {
    /// `bytes` as an image: 21 when they are empty or of no supported format.
    pub fn checked(file_name: String, bytes: Bytes) -> Result<Self, ApiError> {
        if bytes.is_empty() {
            return Err(ApiError::bad_image(format!("File [{file_name}] is empty")));
        }
        let format = sniff_format(&bytes)
            .ok_or_else(|| ApiError::bad_image(format!("File [{file_name}] has an unavailable extension")))?;
        Ok(Self { file_name, bytes, format })
    }
}

/// The Java field name CompreFace's "cannot be empty" message uses for a JSON image field.
fn json_field_label(name: &str) -> &'static str {
    match name {
        "source_image" => "sourceImageBase64",
        "target_image" => "targetImageBase64",
        _ => "content",
    }
}

impl FromRequest<AppState> for ImageUpload {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ApiError> {
        let mut params = Params::from_query(request.uri().query());
        let content_type = request.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        let max_request = state.settings.max_request_size;
        if content_type.trim_start().to_ascii_lowercase().starts_with("multipart/form-data") {
            let mut multipart = Multipart::from_request(request, state)
                .await
                .map_err(|e| ApiError::validation(format!("The multipart body is malformed: {}", e.body_text())))?;
            let mut files = Vec::new();
            while let Some(field) = multipart.next_field().await.map_err(|e| multipart_error(&e, max_request))? {
                let name = field.name().unwrap_or_default().to_string();
                if IMAGE_PARTS.contains(&name.as_str()) {
                    let file_name = field.file_name().map(str::to_string);
                    let bytes = read_file(field, state.settings.max_file_size, max_request).await?;
                    files.push(FilePart { name, file_name, bytes });
                } else if !name.is_empty() {
                    let value = field.text().await.map_err(|e| multipart_error(&e, max_request))?;
                    params.push(name, value);
                }
            }
            return Ok(Self { params, body: Body::Multipart(files) });
        }
        require_json(request.headers()).map_err(|_| unsupported_media_type(content_type))?;
        let limit = usize::try_from(max_request).unwrap_or(usize::MAX);
        let bytes = axum::body::to_bytes(request.into_body(), limit)
            .await
            .map_err(|_| ApiError::too_large("request", max_request))?;
        let images: Base64Images = serde_json::from_slice(&bytes).map_err(|e| malformed_json(&e))?;
        Ok(Self { params, body: Body::Json(images) })
    }
}

/// Reads one image part, stopping as soon as it passes `max_file_size`.
async fn read_file(mut field: Field<'_>, max_file_size: u64, max_request: u64) -> Result<Bytes, ApiError> {
    let mut bytes = BytesMut::new();
    while let Some(chunk) = field.chunk().await.map_err(|e| multipart_error(&e, max_request))? {
        if (bytes.len() + chunk.len()) as u64 > max_file_size {
            return Err(ApiError::too_large("file", max_file_size));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes.freeze())
}

/// The JSON body of an image call, as the document shows it: `{"file": "<base64>"}`.
#[derive(Debug, utoipa::ToSchema)]
#[schema(example = json!({"file": "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP..."}))]
pub struct Base64Image {
    /// The image, base64-encoded (a `data:` prefix is not expected).
    #[schema(content_encoding = "base64")]
    pub file: String,
}

/// The multipart body of the calls that find faces in one image: the image as part `file`, and
/// the call's parameters, which may also come as form fields.
#[derive(Debug, utoipa::ToSchema)]
pub struct ImageForm {
    /// The image: JPEG, PNG, BMP, GIF, TIFF, ICO or WebP.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
    /// As the query parameter.
    pub limit: Option<u64>,
    /// As the query parameter.
    pub det_prob_threshold: Option<f64>,
    /// As the query parameter.
    pub face_plugins: Option<String>,
    /// As the query parameter.
    pub status: Option<bool>,
}
