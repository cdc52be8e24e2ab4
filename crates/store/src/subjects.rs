//! Subjects: the names in a recognition service's collection.
//!
//! Names are unique per service without regard to letter case (`subjects_model_name_key` on
//! `(model_id, lower(name))`, among the subjects not marked for deletion); lookups by name are
//! case-insensitive too and answer with the name as it was stored. Marked subjects (see
//! [`crate::deletions`]) are left out of every read.

use uuid::Uuid;

use crate::{Store, StoreError};

/// A subject as the UI's collection lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GalleryEntry {
    pub subject: String,
    /// How many faces the subject has.
    pub faces: i64,
    /// Its first-stored face that has its photo stored, if any.
    pub image_id: Option<Uuid>,
}

#[derive(sqlx::FromRow)]
struct GalleryRow {
    total: i64,
    subject: Option<String>,
    faces: Option<i64>,
    image_id: Option<Uuid>,
}

/// [`Store::gallery_page`]'s statement: `$1` the service, `$2` the `LIKE` pattern or NULL, `$3`
/// the page size, `$4` the offset. The count comes on every row, and alone (with NULL subject)
/// on one row when the page is empty. Public for the store tests' plan check.
pub const GALLERY_PAGE: &str = "\
WITH matching AS NOT MATERIALIZED (
    SELECT id, name FROM subjects
    WHERE model_id = $1 AND deleted_at IS NULL AND ($2::text IS NULL OR lower(name) LIKE $2)
), page AS (
    SELECT id, name FROM matching ORDER BY lower(name), name LIMIT $3 OFFSET $4
)
SELECT t.total, p.name AS subject, c.faces, a.image_id
FROM (SELECT count(*) AS total FROM matching) t
LEFT JOIN page p ON true
LEFT JOIN LATERAL (
    SELECT count(*) AS faces FROM faces f WHERE f.subject_id = p.id AND f.model_id = $1
) c ON true
LEFT JOIN LATERAL (
    SELECT f.id AS image_id FROM faces f
    WHERE f.subject_id = p.id AND f.model_id = $1 AND EXISTS (SELECT 1 FROM images i WHERE i.face_id = f.id)
    ORDER BY f.seq LIMIT 1
) a ON true
ORDER BY lower(p.name), p.name";

/// How often a write that lost a race with a concurrent one is retried.
const ATTEMPTS: usize = 3;

impl Store {
    /// Creates a subject; [`StoreError::SubjectAlreadyExists`] if the name is taken.
    pub async fn create_subject(&self, model_id: Uuid, name: &str) -> Result<String, StoreError> {
        let (stored,): (String,) =
            sqlx::query_as("INSERT INTO subjects (id, model_id, name) VALUES ($1, $2, $3) RETURNING name")
                .bind(Uuid::new_v4())
                .bind(model_id)
                .bind(name)
                .fetch_one(&self.pool)
                .await?;
        Ok(stored)
    }

    /// The id and stored name of the service's subject called `name` (in any letter case), if any.
    pub async fn find_subject(&self, model_id: Uuid, name: &str) -> Result<Option<(Uuid, String)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, name FROM subjects WHERE model_id = $1 AND lower(name) = lower($2) AND deleted_at IS NULL",
        )
        .bind(model_id)
        .bind(name)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The service's subject names, oldest first.
    pub async fn list_subjects(&self, model_id: Uuid) -> Result<Vec<String>, StoreError> {
        let names = sqlx::query_scalar(
            "SELECT name FROM subjects WHERE model_id = $1 AND deleted_at IS NULL ORDER BY created_at, name",
        )
        .bind(model_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(names)
    }

    /// One page of the service's subject names in alphabetical order (any case), only those
    /// containing `search` (any case) when given, and how many names match in all.
    pub async fn subjects_page(
        &self,
        model_id: Uuid,
        search: Option<&str>,
        page: u64,
        size: u64,
    ) -> Result<(Vec<String>, i64), StoreError> {
        let pattern = search.map(|s| format!("%{}%", crate::accounts::like_escape(&s.to_lowercase())));
        let total: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM subjects WHERE model_id = $1 AND deleted_at IS NULL \
             AND ($2::text IS NULL OR lower(name) LIKE $2)",
        )
        .bind(model_id)
        .bind(&pattern)
        .fetch_one(&self.pool)
        .await?;
        let names = sqlx::query_scalar(
            "SELECT name FROM subjects WHERE model_id = $1 AND deleted_at IS NULL \
             AND ($2::text IS NULL OR lower(name) LIKE $2) \
             ORDER BY lower(name), name LIMIT $3 OFFSET $4",
        )
        .bind(model_id)
        .bind(&pattern)
        .bind(i64::try_from(size).unwrap_or(i64::MAX))
        .bind(i64::try_from(page.saturating_mul(size)).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        Ok((names, total))
    }

    /// One page of the service's subjects as [`Store::subjects_page`] pages them (the same order,
    /// search and totals), each with its number of faces and the first-stored of its faces that
    /// has its photo stored (`None` when none has). One statement: the faces of the page's
    /// subjects are counted and searched for the first with a photo through
    /// `faces_subject_model_idx` and `images_pkey`, so a page costs what its subjects' faces do,
    /// whatever the size of the collection (a store test checks the plans).
    pub async fn gallery_page(
        &self,
        model_id: Uuid,
        search: Option<&str>,
        page: u64,
        size: u64,
    ) -> Result<(Vec<GalleryEntry>, i64), StoreError> {
        let pattern = search.map(|s| format!("%{}%", crate::accounts::like_escape(&s.to_lowercase())));
        let rows: Vec<GalleryRow> = sqlx::query_as(GALLERY_PAGE)
            .bind(model_id)
            .bind(&pattern)
            .bind(i64::try_from(size).unwrap_or(i64::MAX))
            .bind(i64::try_from(page.saturating_mul(size)).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await?;
        let total = rows.first().map_or(0, |row| row.total);
        let entries = rows
            .into_iter()
            .filter_map(|row| {
                Some(GalleryEntry { subject: row.subject?, faces: row.faces.unwrap_or(0), image_id: row.image_id })
            })
            .collect();
        Ok((entries, total))
    }

    /// The names of those of these subjects the service has: `(id, name)`, any order.
    pub async fn subject_names(&self, model_id: Uuid, subject_ids: &[Uuid]) -> Result<Vec<(Uuid, String)>, StoreError> {
        let names =
            sqlx::query_as("SELECT id, name FROM subjects WHERE model_id = $1 AND id = ANY($2) AND deleted_at IS NULL")
                .bind(model_id)
                .bind(subject_ids)
                .fetch_all(&self.pool)
                .await?;
        Ok(names)
    }

    /// Renames subject `old` to `new`. When another subject already has the name `new`, the old
    /// subject's faces move to it and the old subject is removed. Returns whether anything
    /// changed (renaming to the very same name does not).
    pub async fn rename_subject(&self, model_id: Uuid, old: &str, new: &str) -> Result<bool, StoreError> {
        let mut attempt = 1;
        loop {
            match self.try_rename_subject(model_id, old, new).await {
                // A subject named `new` appeared between our lookup and our update: merge into it.
                Err(StoreError::SubjectAlreadyExists) if attempt < ATTEMPTS => attempt += 1,
                Err(e) if e.is_transient() && attempt < ATTEMPTS => attempt += 1,
                other => return other,
            }
        }
    }

    async fn try_rename_subject(&self, model_id: Uuid, old: &str, new: &str) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let source: Option<(Uuid, String)> = sqlx::query_as(
            "SELECT id, name FROM subjects WHERE model_id = $1 AND lower(name) = lower($2) AND deleted_at IS NULL \
                 FOR UPDATE",
        )
        .bind(model_id)
        .bind(old)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((source_id, source_name)) = source else {
            return Err(StoreError::SubjectNotFound(old.to_string()));
        };
        if source_name == new {
            return Ok(false);
        }
        let target: Option<Uuid> = sqlx::query_scalar(
            "SELECT id FROM subjects WHERE model_id = $1 AND lower(name) = lower($2) AND id <> $3 \
             AND deleted_at IS NULL FOR UPDATE",
        )
        .bind(model_id)
        .bind(new)
        .bind(source_id)
        .fetch_optional(&mut *tx)
        .await?;
        match target {
            Some(target_id) => {
                sqlx::query("UPDATE faces SET subject_id = $1 WHERE subject_id = $2")
                    .bind(target_id)
                    .bind(source_id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM subjects WHERE id = $1").bind(source_id).execute(&mut *tx).await?;
            }
            None => {
                sqlx::query("UPDATE subjects SET name = $1 WHERE id = $2")
                    .bind(new)
                    .bind(source_id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Deletes a subject with its faces and images; returns the name as it was stored. A subject
    /// with many faces is marked and purged in the background (see [`crate::deletions`]); its
    /// name is free at once.
    pub async fn delete_subject(&self, model_id: Uuid, name: &str) -> Result<String, StoreError> {
        match crate::deletions::delete_subject(self, model_id, name).await? {
            Some((stored, _)) => Ok(stored),
            None => Err(StoreError::SubjectNotFound(name.to_string())),
        }
    }

    /// Deletes every subject of the service with their faces and images; returns how many
    /// subjects there were. A large collection is marked and purged in the background (see
    /// [`crate::deletions`]).
    pub async fn delete_all_subjects(&self, model_id: Uuid) -> Result<u64, StoreError> {
        let (subjects, _) = crate::deletions::empty_collection(self, model_id, false).await?;
        Ok(subjects)
    }
}
