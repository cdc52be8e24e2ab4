//! `/recognition/subjects`: the names of a recognition service's collection.
//!
//! | call | answer |
//! |---|---|
//! | `POST /recognition/subjects` `{"subject"}` | 201 `{"subject"}`; taken (any letter case) → 43 |
//! | `GET /recognition/subjects` | `{"subjects": [...]}`, oldest first |
//! | `GET /recognition/subjects?search=&page=&size=` (ours; any of the three) | one page of names in alphabetical order, those containing `search` (any case): `{"subjects", "page_number", "page_size", "total_pages", "total_elements"}` |
//! | `PUT /recognition/subjects/{subject}` `{"subject"}` | `{"updated": bool}`; merges into an existing name; unknown → 42 |
//! | `DELETE /recognition/subjects/{subject}` | `{"subject"}` with its faces; unknown → 42 |
//! | `DELETE /recognition/subjects` | `{"deleted": n}` subjects, with all faces |
//! | `GET /recognition/gallery?search=&page=&size=` (ours) | the same pages of subjects as the paged listing above, each `{"subject", "faces", "image_id"}`: how many faces, and the first-stored face with a stored photo (null when none) |
//!
//! While `/migrate` runs, the writes are 405 code 32; after each write the service's in-memory
//! collection is brought up to date before the answer (`Collections::settle`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use visage_common::{ApiError, ErrorCode};
use visage_store::subjects::GalleryEntry;

use crate::auth::{ApiKey, Recognition};
use crate::error::store_error;
use crate::migration::WritesAllowed;
use crate::params::{page_request, JsonBody, PathParam, Query};
use crate::state::AppState;

/// Names per page of the paged listings when none is asked for, and the most served.
const DEFAULT_PAGE_SIZE: u64 = 20;
const MAX_PAGE_SIZE: u64 = 1000;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list, delete_all))
        .routes(routes!(rename, delete))
        .routes(routes!(gallery))
}

/// `{"subject": "name"}`, in requests and answers.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"subject": "Anna Smith"}))]
pub struct SubjectBody {
    /// The subject's name: 1 to 50 characters, none of `;`, `/`, `\`.
    pub subject: Option<String>,
}

/// Every subject of the collection, oldest first.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"subjects": ["Anna Smith", "Ben Jones"]}))]
pub struct SubjectList {
    pub subjects: Vec<String>,
}

/// One page of subject names in alphabetical order.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"subjects": ["Anna Smith"], "page_number": 0, "page_size": 20, "total_pages": 1, "total_elements": 1}))]
pub struct SubjectPage {
    pub subjects: Vec<String>,
    /// The page, from 0.
    pub page_number: u64,
    pub page_size: u64,
    pub total_pages: u64,
    /// Subjects matching `search` in all pages.
    pub total_elements: u64,
}

/// The whole list, or one page of it when `search`, `page` or `size` is given.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum Subjects {
    All(SubjectList),
    Page(SubjectPage),
}

/// `{"updated": bool}`: whether a rename changed anything.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"updated": true}))]
pub struct Updated {
    pub updated: bool,
}

/// `{"deleted": n}`: how many were deleted.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"deleted": 3}))]
pub struct Deleted {
    pub deleted: u64,
}

/// Add a subject
///
/// Creates a subject without faces; faces are added with `POST /recognition/faces`, which also
/// creates a subject it does not know.
#[utoipa::path(
    post, path = "/recognition/subjects", operation_id = "addSubject", tag = "subjects",
    request_body = SubjectBody,
    responses((status = 201, description = "The subject as stored", body = SubjectBody)),
    extensions(("x-error-codes" = json!([26, 36, 43, 32]))),
)]
async fn create(
    key: ApiKey<Recognition>,
    _: WritesAllowed,
    State(state): State<AppState>,
    JsonBody(body): JsonBody<SubjectBody>,
) -> Result<(StatusCode, Json<SubjectBody>), ApiError> {
    let name = validate_name(body.subject.as_deref())?;
    let stored = state.store.create_subject(key.model_id(), name).await.map_err(store_error)?;
    Ok((StatusCode::CREATED, Json(SubjectBody { subject: Some(stored) })))
}

/// List subjects
///
/// CompreFace's whole list, oldest first; with `search`, `page` or `size` (ours), one page of
/// names in alphabetical order, for collections of many thousand people.
#[utoipa::path(
    get, path = "/recognition/subjects", operation_id = "listSubjects", tag = "subjects",
    params(
        ("search" = Option<String>, Query, description = "Only names containing this text, in any letter case"),
        ("page" = Option<u64>, Query, description = "The page, from 0 (default 0)"),
        ("size" = Option<u64>, Query, description = "Names per page, 1 to 1000 (default 20)"),
    ),
    responses((status = 200, description = "The names", body = Subjects)),
)]
async fn list(
    key: ApiKey<Recognition>,
    State(state): State<AppState>,
    Query(params): Query,
) -> Result<Json<Subjects>, ApiError> {
    if ["search", "page", "size"].iter().all(|p| params.get(p).is_none()) {
        let subjects = state.store.list_subjects(key.model_id()).await.map_err(store_error)?;
        return Ok(Json(Subjects::All(SubjectList { subjects })));
    }
    let (page, size) = page_request(&params, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
    let search = params.non_empty("search");
    let (subjects, total) =
        state.store.subjects_page(key.model_id(), search.as_deref(), page, size).await.map_err(store_error)?;
    let total = u64::try_from(total).unwrap_or(0);
    Ok(Json(Subjects::Page(SubjectPage {
        subjects,
        page_number: page,
        page_size: size,
        total_pages: total.div_ceil(size),
        total_elements: total,
    })))
}

/// A subject in the gallery: its name, how many faces it has, and the face to show for it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"subject": "Anna Smith", "faces": 3, "image_id": "3913ba28-5b1b-4d0e-a6de-ef3f4a4ec8f6"}))]
pub struct GallerySubject {
    pub subject: String,
    /// How many faces the subject has.
    pub faces: u64,
    /// Its first-stored face whose photo is stored (for `.../faces/{image_id}/thumbnail`); null
    /// when it has none.
    #[schema(nullable)]
    pub image_id: Option<Uuid>,
}

impl From<GalleryEntry> for GallerySubject {
    fn from(entry: GalleryEntry) -> Self {
        Self { subject: entry.subject, faces: u64::try_from(entry.faces).unwrap_or(0), image_id: entry.image_id }
    }
}

/// One page of the gallery, with the totals of the paged subjects listing.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "subjects": [{"subject": "Anna Smith", "faces": 3, "image_id": "3913ba28-5b1b-4d0e-a6de-ef3f4a4ec8f6"},
                 {"subject": "Ben Jones", "faces": 0, "image_id": null}],
    "page_number": 0, "page_size": 20, "total_pages": 1, "total_elements": 2
}))]
pub struct GalleryPage {
    pub subjects: Vec<GallerySubject>,
    /// The page, from 0.
    pub page_number: u64,
    pub page_size: u64,
    pub total_pages: u64,
    /// Subjects matching `search` in all pages.
    pub total_elements: u64,
}

/// Subjects with their faces
///
/// Ours: the subjects as the paged `GET /recognition/subjects?search=&page=&size=` lists them
/// (alphabetical, any letter case; only names containing `search`), each with its number of
/// faces and the first-stored of its faces whose photo is stored, to show as its picture.
#[utoipa::path(
    get, path = "/recognition/gallery", operation_id = "listGallery", tag = "subjects",
    params(
        ("search" = Option<String>, Query, description = "Only names containing this text, in any letter case"),
        ("page" = Option<u64>, Query, description = "The page, from 0 (default 0)"),
        ("size" = Option<u64>, Query, description = "Subjects per page, 1 to 1000 (default 20)"),
    ),
    responses((status = 200, description = "One page of subjects", body = GalleryPage)),
    extensions(("x-error-codes" = json!([0]))),
)]
async fn gallery(
    key: ApiKey<Recognition>,
    State(state): State<AppState>,
    Query(params): Query,
) -> Result<Json<GalleryPage>, ApiError> {
    let (page, size) = page_request(&params, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
    let search = params.non_empty("search");
    let (subjects, total) =
        state.store.gallery_page(key.model_id(), search.as_deref(), page, size).await.map_err(store_error)?;
    let total = u64::try_from(total).unwrap_or(0);
    Ok(Json(GalleryPage {
        subjects: subjects.into_iter().map(GallerySubject::from).collect(),
        page_number: page,
        page_size: size,
        total_pages: total.div_ceil(size),
        total_elements: total,
    }))
}

/// Rename a subject
///
/// Renaming onto an existing name merges the two subjects' faces under that name.
#[utoipa::path(
    put, path = "/recognition/subjects/{subject}", operation_id = "renameSubject", tag = "subjects",
    params(("subject" = String, Path, description = "The subject's current name")),
    request_body = SubjectBody,
    responses((status = 200, description = "Whether anything changed", body = Updated)),
    extensions(("x-error-codes" = json!([26, 36, 42, 32]))),
)]
async fn rename(
    key: ApiKey<Recognition>,
    _: WritesAllowed,
    State(state): State<AppState>,
    PathParam(old): PathParam<String>,
    JsonBody(body): JsonBody<SubjectBody>,
) -> Result<Json<Updated>, ApiError> {
    let new = validate_name(body.subject.as_deref())?;
    let old = path_name(&old)?;
    // As CompreFace: the very same name is no change, without even looking the subject up.
    let updated = old != new && state.store.rename_subject(key.model_id(), old, new).await.map_err(store_error)?;
    if updated {
        state.collections.settle(key.model_id()).await;
    }
    Ok(Json(Updated { updated }))
}

/// Delete a subject
///
/// Deletes the subject with all its faces and stored images.
#[utoipa::path(
    delete, path = "/recognition/subjects/{subject}", operation_id = "deleteSubject", tag = "subjects",
    params(("subject" = String, Path, description = "The subject's name")),
    responses((status = 200, description = "The deleted subject", body = SubjectBody)),
    extensions(("x-error-codes" = json!([26, 42, 32]))),
)]
async fn delete(
    key: ApiKey<Recognition>,
    _: WritesAllowed,
    State(state): State<AppState>,
    PathParam(name): PathParam<String>,
) -> Result<Json<SubjectBody>, ApiError> {
    let stored = state.store.delete_subject(key.model_id(), path_name(&name)?).await.map_err(store_error)?;
    state.collections.settle(key.model_id()).await;
    Ok(Json(SubjectBody { subject: Some(stored) }))
}

/// Delete all subjects
///
/// Deletes every subject of the collection with all faces and stored images.
#[utoipa::path(
    delete, path = "/recognition/subjects", operation_id = "deleteAllSubjects", tag = "subjects",
    responses((status = 200, description = "How many subjects were deleted", body = Deleted)),
    extensions(("x-error-codes" = json!([32]))),
)]
async fn delete_all(
    key: ApiKey<Recognition>,
    _: WritesAllowed,
    State(state): State<AppState>,
) -> Result<Json<Deleted>, ApiError> {
    let deleted = state.store.delete_all_subjects(key.model_id()).await.map_err(store_error)?;
    state.collections.settle(key.model_id()).await;
    Ok(Json(Deleted { deleted }))
}

/// A subject name from a request body, checked as CompreFace checks it: not blank, at most 50
/// characters (UTF-16 units, as Java counts), none of `;`, `/`, `\`.
pub fn validate_name(name: Option<&str>) -> Result<&str, ApiError> {
    let name =
        name.filter(|n| !n.trim().is_empty()).ok_or_else(|| ApiError::validation("Subject name cannot be empty"))?;
    if name.encode_utf16().count() > 50 {
        return Err(ApiError::validation("Subject name size must be between 1 and 50"));
    }
    if name.contains([';', '/', '\\']) {
        return Err(ApiError::new(
            ErrorCode::IncorrectArgument,
            r"The name cannot contain the following special characters: ';', '/', '\'",
        ));
    }
    Ok(name)
}

/// A subject name from the path: only blankness is checked (CompreFace's message).
fn path_name(name: &str) -> Result<&str, ApiError> {
    if name.trim().is_empty() {
        return Err(ApiError::validation("Subject name is empty; "));
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_validated_like_compreface() {
        assert_eq!(validate_name(Some("Anna-Maria O'Neil")), Ok("Anna-Maria O'Neil"));
        assert_eq!(validate_name(Some(&"é".repeat(50))).map(str::len), Ok(100));
        let message = |n: Option<&str>| validate_name(n).unwrap_err().message;
        assert_eq!(message(None), "Subject name cannot be empty");
        assert_eq!(message(Some("  ")), "Subject name cannot be empty");
        assert_eq!(message(Some(&"x".repeat(51))), "Subject name size must be between 1 and 50");
        // An emoji is two UTF-16 units.
        assert_eq!(message(Some(&"😀".repeat(26))), "Subject name size must be between 1 and 50");
        let err = validate_name(Some("a/b")).unwrap_err();
        assert_eq!(
            (err.code.code(), err.message.as_str()),
            (36, r"The name cannot contain the following special characters: ';', '/', '\'")
        );
    }
}
