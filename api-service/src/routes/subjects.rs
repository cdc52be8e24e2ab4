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
//!
//! While `/migrate` runs, the writes are 405 code 32; after each write the service's in-memory
//! collection is brought up to date before the answer (`Collections::settle`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use visage_common::{ApiError, ErrorCode};

use crate::auth::{ApiKey, Recognition};
use crate::error::store_error;
use crate::migration::WritesAllowed;
use crate::params::{page_request, JsonBody, PathParam, Query};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/recognition/subjects", post(create).get(list).delete(delete_all))
        .route("/recognition/subjects/{subject}", put(rename).delete(delete))
}

/// `{"subject": "name"}`, in requests and answers.
#[derive(Debug, Deserialize, Serialize)]
pub struct SubjectBody {
    pub subject: Option<String>,
}

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

/// CompreFace's whole list, or, with `search`, `page` or `size`, one page of it (for collections
/// of many thousand people).
async fn list(
    key: ApiKey<Recognition>,
    State(state): State<AppState>,
    Query(params): Query,
) -> Result<Json<serde_json::Value>, ApiError> {
    if ["search", "page", "size"].iter().all(|p| params.get(p).is_none()) {
        let subjects = state.store.list_subjects(key.model_id()).await.map_err(store_error)?;
        return Ok(Json(serde_json::json!({ "subjects": subjects })));
    }
    let (page, size) = page_request(&params, 20, 1000);
    let search = params.non_empty("search");
    let (subjects, total) =
        state.store.subjects_page(key.model_id(), search.as_deref(), page, size).await.map_err(store_error)?;
    let total = u64::try_from(total).unwrap_or(0);
    Ok(Json(serde_json::json!({
        "subjects": subjects,
        "page_number": page,
        "page_size": size,
        "total_pages": total.div_ceil(size),
        "total_elements": total,
    })))
}

async fn rename(
    key: ApiKey<Recognition>,
    _: WritesAllowed,
    State(state): State<AppState>,
    PathParam(old): PathParam<String>,
    JsonBody(body): JsonBody<SubjectBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let new = validate_name(body.subject.as_deref())?;
    let old = path_name(&old)?;
    // As CompreFace: the very same name is no change, without even looking the subject up.
    let updated = old != new && state.store.rename_subject(key.model_id(), old, new).await.map_err(store_error)?;
    if updated {
        state.collections.settle(key.model_id()).await;
    }
    Ok(Json(serde_json::json!({ "updated": updated })))
}

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

async fn delete_all(
    key: ApiKey<Recognition>,
    _: WritesAllowed,
    State(state): State<AppState>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let deleted = state.store.delete_all_subjects(key.model_id()).await.map_err(store_error)?;
    state.collections.settle(key.model_id()).await;
    Ok(Json(serde_json::json!({ "deleted": deleted })))
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
