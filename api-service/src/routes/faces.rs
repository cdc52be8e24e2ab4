//! `/recognition/faces`: the faces of a recognition service's collection.
//!
//! | call | answer |
//! |---|---|
//! | `POST /recognition/faces?subject=&det_prob_threshold=&min_quality=` + image | 201 `{"image_id","subject"}`; exactly one face: none → 28, several → 31; with `min_quality` (ours, 0–1), a face of lower quality (core's `quality` plugin) → 49 naming the reasons |
//! | `GET /recognition/faces?page=&size=&subject=` | one page of `{"image_id","subject"}` with totals |
//! | `DELETE /recognition/faces?subject=` | `{"deleted": n}`: the subject with its faces; without `subject` the whole collection |
//! | `DELETE /recognition/faces/{image_id}` | `{"image_id","subject"}`; unknown → 44 |
//! | `POST /recognition/faces/delete` `["id", …]` | the deleted `[{"image_id","subject"}]`; unknown ids skipped |
//! | `GET /recognition/faces/{image_id}/img` | the stored image; an empty body when there is none |
//! | `GET /recognition/faces/{image_id}/thumbnail?size=` (ours) | a `size`² JPEG (32–512, default 160) of the face: its box with a 40 % margin, or the photo's centred square for a face stored without its box; unknown or without a photo → 404 code 44 |
//! | `GET /recognition/faces/{image_id}/details` (ours) | `{"image_id", "subject", "box": {"x_min", "y_min", "x_max", "y_max"} or null, "created_at", "has_image"}`; unknown → 44 |
//!
//! While `/migrate` runs, the writes are 405 code 32; after each write the service's in-memory
//! collection is brought up to date before the answer (`Collections::settle`).

use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::SecondsFormat;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use visage_common::error::ErrorBody;
use visage_common::face::Face;
use visage_common::params::Params;
use visage_common::similarity::{l2_normalized, round5};
use visage_common::{ApiError, ErrorCode};
use visage_store::{AddedFace, FaceBox, FaceRef, NewFace};

use crate::auth::{ApiKey, Recognition};
use crate::core_client::FindFaces;
use crate::error::store_error;
use crate::migration::WritesAllowed;
use crate::params::{page_request, parse_uuid, required_text, JsonBody, PathParam, Query};
use crate::state::AppState;
use crate::thumbnails;
use crate::upload::{Base64Image, Image, ImageUpload};

/// Page size when none is asked for, and the largest one served (Spring Data's).
const DEFAULT_PAGE_SIZE: u64 = 20;
const MAX_PAGE_SIZE: u64 = 2000;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(add, list, delete_by_subject))
        .routes(routes!(delete_many))
        .routes(routes!(delete_one))
        .routes(routes!(image))
        .routes(routes!(thumbnail))
        .routes(routes!(details))
}

/// A face as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"image_id": "3913ba28-5b1b-4d0e-a6de-ef3f4a4ec8f6", "subject": "Anna Smith"}))]
pub struct FaceJson {
    /// The face's id (also its stored image's).
    pub image_id: Uuid,
    pub subject: String,
}

/// The multipart body of `POST /recognition/faces`: the photo as part `file`, and the call's
/// parameters, which may also come as form fields.
#[derive(Debug, ToSchema)]
pub struct AddFaceForm {
    /// A photo with exactly one face: JPEG, PNG, BMP, GIF, TIFF, ICO or WebP.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
    pub subject: Option<String>,
    pub det_prob_threshold: Option<f64>,
    pub min_quality: Option<f64>,
}

/// `{"deleted": n}`: how many faces were deleted.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"deleted": 3}))]
pub struct DeletedFaces {
    pub deleted: u64,
}

/// The ids of the faces to delete.
#[derive(ToSchema)]
#[schema(example = json!(["3913ba28-5b1b-4d0e-a6de-ef3f4a4ec8f6", "a3b51c6e-7f0d-4c2a-9b1e-5d6f7a8b9c0d"]))]
#[allow(dead_code)] // the document's schema of `delete_many`'s body
struct ImageIds(Vec<String>);

impl From<FaceRef> for FaceJson {
    fn from(face: FaceRef) -> Self {
        Self { image_id: face.image_id, subject: face.subject }
    }
}

/// Add a face
///
/// Stores the one face of a photo as an example of a subject, created when the collection has
/// no subject of that name (in any letter case); the photo is stored too unless the service is
/// configured not to keep images.
#[utoipa::path(
    post, path = "/recognition/faces", operation_id = "addFace", tag = "faces",
    params(
        ("subject" = Option<String>, Query, description = "Required: the subject's name, here or as a form field (code 33 when it is in neither)", example = "Anna Smith"),
        ("det_prob_threshold" = Option<f64>, Query, description = "The detector's minimal certainty for a face, 0 to 1 (default core's)"),
        ("min_quality" = Option<f64>, Query, description = "Ours: refuse a face whose quality (the `quality` plugin) is lower, 0 to 1 (code 49)"),
    ),
    request_body(
        description = "The photo, as multipart part `file` or as base64 JSON",
        content((AddFaceForm = "multipart/form-data"), (Base64Image = "application/json")),
    ),
    responses(
        (status = 201, description = "The stored face, with the subject as spelled in the request", body = FaceJson),
        (status = 413, description = "The image or the request is over its size limit (code 0)", body = ErrorBody,
            example = json!({"message": "The file exceeds its maximum allowed size of 5242880 bytes", "code": 0})),
    ),
    extensions(("x-error-codes" = json!([0, 5, 21, 26, 28, 31, 32, 33, 34, 41, 49]))),
)]
async fn add(
    key: ApiKey<Recognition>,
    _: WritesAllowed,
    State(state): State<AppState>,
    upload: ImageUpload,
) -> Result<(StatusCode, Json<FaceJson>), ApiError> {
    let max_file_size = state.settings.max_file_size;
    let params = &upload.params;
    let subject = required_text(params, "subject", "Subject name")?;
    let options = EnrolOptions::read(params)?;
    let image = upload.image("file", max_file_size)?;
    let stored = enrol(&state, key.model_id(), &subject, &image, options).await?;
    state.collections.settle(key.model_id()).await;
    // The subject as the client spelled it, as CompreFace answers, even when it matched an
    // existing subject spelled differently.
    Ok((StatusCode::CREATED, Json(FaceJson { image_id: stored.face.image_id, subject })))
}

/// How photos are enrolled: the request's `det_prob_threshold` and `min_quality`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct EnrolOptions {
    pub det_prob_threshold: Option<f64>,
    /// Faces whose quality is lower are refused (code 49).
    pub min_quality: Option<f64>,
}

impl EnrolOptions {
    pub fn read(params: &Params) -> Result<Self, ApiError> {
        let min_quality = params.float("min_quality")?;
        if let Some(q) = min_quality.filter(|q| !(0.0..=1.0).contains(q)) {
            return Err(ApiError::validation(format!("min_quality must be between 0 and 1, got {q}")));
        }
        Ok(Self { det_prob_threshold: params.float("det_prob_threshold")?, min_quality })
    }
}

/// Stores the one face of `image` as a face of `subject` (created when the service has no
/// subject by that name): core must find exactly one face (none → 28, several → 31) of at least
/// `min_quality` (49); its normalised embedding and its box are stored, with the image when
/// images are kept.
/// What `POST /recognition/faces` and the collection import ([`super::transfer`]) do with each
/// photo; the caller settles the collection.
pub async fn enrol(
    state: &AppState,
    model_id: Uuid,
    subject: &str,
    image: &Image,
    options: EnrolOptions,
) -> Result<AddedFace, ApiError> {
    let plugins = if options.min_quality.is_some() { "calculator,quality" } else { "calculator" };
    // Two at most: enough to tell "one face" from "several".
    let request = FindFaces {
        limit: Some(2),
        det_prob_threshold: options.det_prob_threshold,
        face_plugins: Some(plugins.to_string()),
        detect_faces: Some(true),
    };
    let found = state.core.find_faces(image.bytes.clone(), &image.file_name, &request).await?;
    let face = match found.result.as_slice() {
        [] => return Err(ApiError::no_face()),
        [face] => face,
        _ => return Err(ApiError::too_many_faces()),
    };
    if let Some(min_quality) = options.min_quality {
        check_quality(face, min_quality)?;
    }
    let embedding = face
        .embedding
        .as_deref()
        .and_then(l2_normalized)
        .ok_or_else(|| ApiError::core_unavailable("core-service returned no usable embedding"))?;
    let calculator = found
        .plugins_versions
        .get("calculator")
        .ok_or_else(|| ApiError::core_unavailable("core-service did not name its embedder"))?;
    let new_face = NewFace {
        subject,
        embedding: &embedding,
        calculator,
        image: state.settings.save_images_to_db.then_some(&image.bytes[..]),
        face_box: FaceBox::new(face.bbox.x_min, face.bbox.y_min, face.bbox.x_max, face.bbox.y_max),
    };
    state.store.add_face_detailed(model_id, new_face).await.map_err(store_error)
}

/// A face of at least `min_quality`, else 49 naming its quality and reasons.
fn check_quality(face: &Face, min_quality: f64) -> Result<(), ApiError> {
    let quality = face
        .quality
        .as_ref()
        .ok_or_else(|| ApiError::core_unavailable("core-service does not offer the quality plugin"))?;
    if quality.value >= min_quality {
        return Ok(());
    }
    let reasons = if quality.reasons.is_empty() { "none below 0.5".to_string() } else { quality.reasons.join(", ") };
    Err(ApiError::new(
        ErrorCode::LowFaceQuality,
        format!(
            "The face's quality {:.2} is below min_quality {min_quality} (reasons: {reasons})",
            round5(quality.value)
        ),
    ))
}

/// One page of faces with Spring Data's totals.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"faces": [{"image_id": "3913ba28-5b1b-4d0e-a6de-ef3f4a4ec8f6", "subject": "Anna Smith"}], "page_number": 0, "page_size": 20, "total_pages": 1, "total_elements": 1}))]
struct FacesPage {
    faces: Vec<FaceJson>,
    /// The page, from 0.
    page_number: u64,
    page_size: u64,
    total_pages: u64,
    /// Faces (of `subject`) in all pages.
    total_elements: u64,
}

/// List faces
///
/// One page of the collection's faces, or of one subject's.
#[utoipa::path(
    get, path = "/recognition/faces", operation_id = "listFaces", tag = "faces",
    params(
        ("page" = Option<u64>, Query, description = "The page, from 0 (default 0)"),
        ("size" = Option<u64>, Query, description = "Faces per page, 1 to 2000 (default 20)"),
        ("subject" = Option<String>, Query, description = "Only this subject's faces"),
    ),
    responses((status = 200, description = "One page of faces", body = FacesPage)),
    extensions(("x-error-codes" = json!([0]))),
)]
async fn list(
    key: ApiKey<Recognition>,
    State(state): State<AppState>,
    Query(params): Query,
) -> Result<Json<FacesPage>, ApiError> {
    let (page, size) = page_request(&params, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
    let subject = params.non_empty("subject");
    let found = state.store.list_faces(key.model_id(), subject.as_deref(), page, size).await.map_err(store_error)?;
    Ok(Json(FacesPage {
        faces: found.faces.into_iter().map(FaceJson::from).collect(),
        page_number: page,
        page_size: size,
        total_pages: found.total.div_ceil(size),
        total_elements: found.total,
    }))
}

/// Delete a subject's faces
///
/// Deletes every face of a subject, with the subject; without `subject`, every face of the
/// collection (CompreFace refuses that).
#[utoipa::path(
    delete, path = "/recognition/faces", operation_id = "deleteFacesOfSubject", tag = "faces",
    params(("subject" = Option<String>, Query, description = "The subject whose faces to delete; none: every face")),
    responses((status = 200, description = "How many faces were deleted", body = DeletedFaces)),
    extensions(("x-error-codes" = json!([0, 32]))),
)]
async fn delete_by_subject(
    key: ApiKey<Recognition>,
    _: WritesAllowed,
    State(state): State<AppState>,
    Query(params): Query,
) -> Result<Json<DeletedFaces>, ApiError> {
    let deleted = match params.non_empty("subject") {
        Some(subject) => state.store.delete_subject_faces(key.model_id(), &subject).await.map_err(store_error)?,
        // CompreFace refuses this; emptying the whole collection is what the call asks for.
        None => state.store.delete_all_faces(key.model_id()).await.map_err(store_error)?,
    };
    state.collections.settle(key.model_id()).await;
    Ok(Json(DeletedFaces { deleted }))
}

/// Delete a face
///
/// Deletes a face with its stored image.
#[utoipa::path(
    delete, path = "/recognition/faces/{image_id}", operation_id = "deleteFace", tag = "faces",
    params(("image_id" = String, Path, description = "The face's id", example = "3913ba28-5b1b-4d0e-a6de-ef3f4a4ec8f6")),
    responses((status = 200, description = "The deleted face", body = FaceJson)),
    extensions(("x-error-codes" = json!([0, 26, 32, 44]))),
)]
async fn delete_one(
    key: ApiKey<Recognition>,
    _: WritesAllowed,
    State(state): State<AppState>,
    PathParam(image_id): PathParam<String>,
) -> Result<Json<FaceJson>, ApiError> {
    let image_id = parse_uuid("image_id", &image_id)?;
    match state.store.delete_face(key.model_id(), image_id).await.map_err(store_error)? {
        Some(face) => {
            state.collections.settle(key.model_id()).await;
            Ok(Json(face.into()))
        }
        None => Err(ApiError::new(ErrorCode::ImageNotFound, format!("Image {image_id} not found"))),
    }
}

/// Delete faces
///
/// Deletes the faces of the given ids, skipping unknown ones.
#[utoipa::path(
    post, path = "/recognition/faces/delete", operation_id = "deleteFaces", tag = "faces",
    request_body(content = ImageIds, description = "The ids of the faces to delete"),
    responses((status = 200, description = "The deleted faces", body = Vec<FaceJson>,
        example = json!([{"image_id": "3913ba28-5b1b-4d0e-a6de-ef3f4a4ec8f6", "subject": "Anna Smith"}]))),
    extensions(("x-error-codes" = json!([0, 26, 32]))),
)]
async fn delete_many(
    key: ApiKey<Recognition>,
    _: WritesAllowed,
    State(state): State<AppState>,
    JsonBody(ids): JsonBody<Vec<String>>,
) -> Result<Json<Vec<FaceJson>>, ApiError> {
    let ids = ids.iter().map(|id| parse_uuid("image_id", id)).collect::<Result<Vec<_>, _>>()?;
    let deleted = state.store.delete_faces(key.model_id(), &ids).await.map_err(store_error)?;
    state.collections.settle(key.model_id()).await;
    Ok(Json(deleted.into_iter().map(FaceJson::from).collect()))
}

/// A face's image
///
/// The image stored with a face, cacheable for a year by the client alone (`private`: no shared
/// cache keeps a face); an empty body when the face has none or
/// is unknown.
#[utoipa::path(
    get, path = "/recognition/faces/{image_id}/img", operation_id = "downloadFaceImage", tag = "faces",
    params(("image_id" = String, Path, description = "The face's id", example = "3913ba28-5b1b-4d0e-a6de-ef3f4a4ec8f6")),
    responses((status = 200, description = "The image as stored, of its own type (`Cache-Control: private, max-age=31536000`); an empty `application/octet-stream` body when there is none",
        content(
            ("image/jpeg"), ("image/png"), ("image/webp"), ("image/bmp"),
            ("image/gif"), ("image/tiff"), ("image/x-icon"), ("application/octet-stream"),
        ))),
    extensions(("x-error-codes" = json!([0, 26]))),
)]
async fn image(
    key: ApiKey<Recognition>,
    State(state): State<AppState>,
    PathParam(image_id): PathParam<String>,
) -> Result<Response, ApiError> {
    let image_id = parse_uuid("image_id", &image_id)?;
    let content = state.store.face_image(key.model_id(), image_id).await.map_err(store_error)?.flatten();
    Ok(image_response(content))
}

/// A stored image for browsers and clients: its bytes with their type, cacheable for a year
/// (an image id never changes its content); an empty body when there is no image.
pub fn image_response(content: Option<Vec<u8>>) -> Response {
    let content = content.unwrap_or_default();
    let mime = visage_imaging::sniff_format(&content).map_or("application/octet-stream", |f| f.to_mime_type());
    ([(CONTENT_TYPE, mime), (CACHE_CONTROL, "private, max-age=31536000")], content).into_response()
}

/// A face's thumbnail
///
/// Ours: a square JPEG of the face, for lists and galleries: the face's box enlarged by 40 % of
/// its longer side on each side, shifted to stay inside the photo (and no larger than its shorter
/// side), resized to `size` × `size`. A face stored before boxes were kept shows the photo's
/// centred square. Cacheable for a year by the client alone, as the image is.
#[utoipa::path(
    get, path = "/recognition/faces/{image_id}/thumbnail", operation_id = "downloadFaceThumbnail", tag = "faces",
    params(
        ("image_id" = String, Path, description = "The face's id", example = "3913ba28-5b1b-4d0e-a6de-ef3f4a4ec8f6"),
        ("size" = Option<u32>, Query, description = "The side in pixels, 32 to 512 (default 160)", example = 160),
    ),
    responses(
        (status = 200, description = "A `size` × `size` JPEG (`Cache-Control: private, max-age=31536000, immutable`)",
            content(("image/jpeg"))),
        (status = 404, description = "No such face, or its photo is not stored (code 44)", body = ErrorBody,
            example = json!({"message": "Image 3913ba28-5b1b-4d0e-a6de-ef3f4a4ec8f6 is not stored", "code": 44})),
    ),
    extensions(("x-error-codes" = json!([0, 26, 44]))),
)]
async fn thumbnail(
    key: ApiKey<Recognition>,
    State(state): State<AppState>,
    PathParam(image_id): PathParam<String>,
    Query(params): Query,
) -> Result<Response, ApiError> {
    let image_id = parse_uuid("image_id", &image_id)?;
    let size = thumbnail_size(&params)?;
    let jpeg = state.thumbnails.make(&state.store, key.model_id(), image_id, size).await?;
    Ok(([(CONTENT_TYPE, "image/jpeg"), (CACHE_CONTROL, "private, max-age=31536000, immutable")], jpeg).into_response())
}

/// `size`: 32 to 512, 160 when absent or blank; else 26.
fn thumbnail_size(params: &Params) -> Result<u32, ApiError> {
    let (min, max) = (thumbnails::MIN_SIZE, thumbnails::MAX_SIZE);
    match params.int("size")? {
        None => Ok(thumbnails::DEFAULT_SIZE),
        Some(size) => u32::try_from(size)
            .ok()
            .filter(|size| (min..=max).contains(size))
            .ok_or_else(|| ApiError::validation(format!("size must be between {min} and {max}, got {size}"))),
    }
}

/// Where a face is in its photo: pixels of the upright photo (EXIF orientation applied), the
/// upper bounds exclusive, as detection answers give boxes.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"x_min": 120, "y_min": 64, "x_max": 258, "y_max": 235}))]
pub struct BoxJson {
    pub x_min: i32,
    pub y_min: i32,
    pub x_max: i32,
    pub y_max: i32,
}

impl From<FaceBox> for BoxJson {
    fn from(b: FaceBox) -> Self {
        Self { x_min: b.x_min, y_min: b.y_min, x_max: b.x_max, y_max: b.y_max }
    }
}

/// A face for people to look at.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "image_id": "3913ba28-5b1b-4d0e-a6de-ef3f4a4ec8f6", "subject": "Anna Smith",
    "box": {"x_min": 120, "y_min": 64, "x_max": 258, "y_max": 235},
    "created_at": "2026-12-08T09:30:00.000Z", "has_image": true
}))]
pub struct FaceDetailsJson {
    pub image_id: Uuid,
    pub subject: String,
    /// Where the face is in its photo; null for faces stored before boxes were kept.
    #[serde(rename = "box")]
    #[schema(nullable)]
    pub face_box: Option<BoxJson>,
    /// When the face was stored (RFC 3339, UTC).
    pub created_at: String,
    /// Whether its photo is stored (`.../img` and `.../thumbnail` serve it).
    pub has_image: bool,
}

/// A face's details
///
/// Ours: the face's subject, its box in the photo, when it was stored and whether its photo is
/// stored.
#[utoipa::path(
    get, path = "/recognition/faces/{image_id}/details", operation_id = "getFaceDetails", tag = "faces",
    params(("image_id" = String, Path, description = "The face's id", example = "3913ba28-5b1b-4d0e-a6de-ef3f4a4ec8f6")),
    responses(
        (status = 200, description = "The face", body = FaceDetailsJson),
        (status = 404, description = "No such face (code 44)", body = ErrorBody,
            example = json!({"message": "Image 3913ba28-5b1b-4d0e-a6de-ef3f4a4ec8f6 not found", "code": 44})),
    ),
    extensions(("x-error-codes" = json!([0, 26, 44]))),
)]
async fn details(
    key: ApiKey<Recognition>,
    State(state): State<AppState>,
    PathParam(image_id): PathParam<String>,
) -> Result<Json<FaceDetailsJson>, ApiError> {
    let image_id = parse_uuid("image_id", &image_id)?;
    let Some(face) = state.store.face_details(key.model_id(), image_id).await.map_err(store_error)? else {
        return Err(ApiError::new(ErrorCode::ImageNotFound, format!("Image {image_id} not found")));
    };
    Ok(Json(FaceDetailsJson {
        image_id: face.image_id,
        subject: face.subject,
        face_box: face.face_box.map(BoxJson::from),
        created_at: face.created_at.to_rfc3339_opts(SecondsFormat::Millis, true),
        has_image: face.has_image,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbnail_sizes_are_checked() {
        let size = |q: &str| thumbnail_size(&Params::from_query(Some(q)));
        assert_eq!(size(""), Ok(160));
        assert_eq!(size("size=%20"), Ok(160));
        assert_eq!(size("size=32"), Ok(32));
        assert_eq!(size("size=512"), Ok(512));
        for bad in ["size=31", "size=513", "size=0", "size=-5", "size=abc", "size=1.5", "size=99999999999999999999"] {
            let err = size(bad).unwrap_err();
            assert_eq!(err.code, ErrorCode::ValidationFailed, "{bad}");
        }
        assert_eq!(size("size=9999").unwrap_err().message, "size must be between 32 and 512, got 9999");
    }
}
