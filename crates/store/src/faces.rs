//! Stored faces: an embedding, the embedder that computed it, its subject and optionally the
//! image it came from. A face's id is the public `image_id`.

use chrono::{DateTime, Utc};
use futures::stream::{BoxStream, StreamExt, TryStreamExt};
use uuid::Uuid;

use crate::{embedding, Store, StoreError};

/// A face to store.
#[derive(Debug, Clone, Copy)]
pub struct NewFace<'a> {
    /// The subject's name; the subject is created when the service has none by that name.
    pub subject: &'a str,
    pub embedding: &'a [f32],
    /// The embedder's name and version.
    pub calculator: &'a str,
    /// The original image, when images are kept.
    pub image: Option<&'a [u8]>,
    /// Where the face is in the image, when it was detected in one.
    pub face_box: Option<FaceBox>,
}

/// Where a face is in its photo: pixels of the upright photo (EXIF orientation applied, as
/// core-service decodes it), the upper bounds exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FaceBox {
    pub x_min: i32,
    pub y_min: i32,
    pub x_max: i32,
    pub y_max: i32,
}

impl FaceBox {
    /// A box that the database takes (`faces_box_check`): not negative, not empty; `None` else.
    pub fn new(x_min: i64, y_min: i64, x_max: i64, y_max: i64) -> Option<Self> {
        let coordinate = |v: i64| i32::try_from(v).ok().filter(|v| *v >= 0);
        let face_box = Self {
            x_min: coordinate(x_min)?,
            y_min: coordinate(y_min)?,
            x_max: coordinate(x_max)?,
            y_max: coordinate(y_max)?,
        };
        (face_box.x_min < face_box.x_max && face_box.y_min < face_box.y_max).then_some(face_box)
    }

    /// The box of four nullable columns: all set and well-formed, else `None`.
    pub(crate) fn from_columns(
        x_min: Option<i32>,
        y_min: Option<i32>,
        x_max: Option<i32>,
        y_max: Option<i32>,
    ) -> Option<Self> {
        Self::new(x_min?.into(), y_min?.into(), x_max?.into(), y_max?.into())
    }

    /// The four columns `box_x_min`, `box_y_min`, `box_x_max`, `box_y_max` of an optional box.
    pub(crate) fn columns(face_box: Option<Self>) -> [Option<i32>; 4] {
        match face_box {
            Some(b) => [Some(b.x_min), Some(b.y_min), Some(b.x_max), Some(b.y_max)],
            None => [None; 4],
        }
    }
}

/// A face as people look at it: its subject, its box, when it was stored and whether its photo
/// is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaceDetails {
    pub image_id: Uuid,
    pub subject: String,
    pub face_box: Option<FaceBox>,
    pub created_at: DateTime<Utc>,
    pub has_image: bool,
}

#[derive(sqlx::FromRow)]
struct FaceDetailsRow {
    image_id: Uuid,
    subject: String,
    box_x_min: Option<i32>,
    box_y_min: Option<i32>,
    box_x_max: Option<i32>,
    box_y_max: Option<i32>,
    created_at: DateTime<Utc>,
    has_image: bool,
}

/// A stored photo with the box of its face, for thumbnails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FacePhoto {
    /// `None` when the face was stored without its photo.
    pub image: Option<Vec<u8>>,
    pub face_box: Option<FaceBox>,
}

#[derive(sqlx::FromRow)]
struct FacePhotoRow {
    image: Option<Vec<u8>>,
    box_x_min: Option<i32>,
    box_y_min: Option<i32>,
    box_x_max: Option<i32>,
    box_y_max: Option<i32>,
}

/// A stored face, and whether storing it created its subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddedFace {
    pub face: FaceRef,
    pub subject_created: bool,
}

/// A face as the public API names it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct FaceRef {
    pub image_id: Uuid,
    pub subject: String,
}

/// One page of a service's faces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FacePage {
    pub faces: Vec<FaceRef>,
    /// Faces matching the filter across all pages.
    pub total: u64,
}

/// A face with its embedding, as the search index and verification need it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredFace {
    pub model_id: Uuid,
    pub image_id: Uuid,
    pub subject_id: Uuid,
    pub subject: String,
    pub embedding: Vec<f32>,
    pub calculator: String,
}

#[derive(sqlx::FromRow)]
struct StoredFaceRow {
    model_id: Uuid,
    image_id: Uuid,
    subject_id: Uuid,
    subject: String,
    embedding: Vec<u8>,
    calculator: String,
}

impl TryFrom<StoredFaceRow> for StoredFace {
    type Error = StoreError;

    fn try_from(row: StoredFaceRow) -> Result<Self, StoreError> {
        let embedding = embedding::from_bytes(&row.embedding).ok_or_else(|| {
            StoreError::Database(sqlx::Error::Decode(format!("embedding of face {} is truncated", row.image_id).into()))
        })?;
        Ok(Self {
            model_id: row.model_id,
            image_id: row.image_id,
            subject_id: row.subject_id,
            subject: row.subject,
            embedding,
            calculator: row.calculator,
        })
    }
}

/// The columns of [`StoredFaceRow`] from `faces f JOIN subjects s`.
macro_rules! stored_face_select {
    ($($rest:literal),*) => {
        concat!(
            "SELECT f.model_id, f.id AS image_id, f.subject_id, s.name AS subject, f.embedding, f.calculator \
             FROM faces f JOIN subjects s ON s.id = f.subject_id AND s.deleted_at IS NULL ",
            $($rest),*
        )
    };
}

impl Store {
    /// Stores a face in one transaction: its subject when new, the embedding, the image.
    /// Returns the new image id and the subject's name as stored.
    pub async fn add_face(&self, model_id: Uuid, face: NewFace<'_>) -> Result<FaceRef, StoreError> {
        Ok(self.add_face_detailed(model_id, face).await?.face)
    }

    /// [`Store::add_face`], telling whether the subject was created.
    pub async fn add_face_detailed(&self, model_id: Uuid, face: NewFace<'_>) -> Result<AddedFace, StoreError> {
        let image_id = Uuid::new_v4();
        let new_subject_id = Uuid::new_v4();
        let mut tx = self.pool.begin().await?;
        // The no-op update makes the statement return the existing row and lock it, so that a
        // concurrent delete of the subject waits for this transaction. The row has the new id
        // only when it was inserted.
        let (subject_id, subject): (Uuid, String) = sqlx::query_as(
            "INSERT INTO subjects (id, model_id, name) VALUES ($1, $2, $3) \
             ON CONFLICT (model_id, lower(name)) WHERE deleted_at IS NULL DO UPDATE SET name = subjects.name \
             RETURNING id, name",
        )
        .bind(new_subject_id)
        .bind(model_id)
        .bind(face.subject)
        .fetch_one(&mut *tx)
        .await?;
        let dimension = i32::try_from(face.embedding.len())
            .map_err(|_| StoreError::Database(sqlx::Error::Protocol("embedding too long".into())))?;
        let [x_min, y_min, x_max, y_max] = FaceBox::columns(face.face_box);
        sqlx::query(
            "INSERT INTO faces (id, model_id, subject_id, embedding, dimension, calculator, \
                                box_x_min, box_y_min, box_x_max, box_y_max) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(image_id)
        .bind(model_id)
        .bind(subject_id)
        .bind(embedding::to_bytes(face.embedding))
        .bind(dimension)
        .bind(face.calculator)
        .bind(x_min)
        .bind(y_min)
        .bind(x_max)
        .bind(y_max)
        .execute(&mut *tx)
        .await?;
        if let Some(image) = face.image {
            sqlx::query("INSERT INTO images (face_id, content) VALUES ($1, $2)")
                .bind(image_id)
                .bind(image)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(AddedFace { face: FaceRef { image_id, subject }, subject_created: subject_id == new_subject_id })
    }

    /// Page `page` (from 0) of `size` faces, oldest first, of the whole service or of one
    /// subject (by its exact name, as CompreFace filters).
    pub async fn list_faces(
        &self,
        model_id: Uuid,
        subject: Option<&str>,
        page: u64,
        size: u64,
    ) -> Result<FacePage, StoreError> {
        let limit = i64::try_from(size).unwrap_or(i64::MAX);
        let offset = i64::try_from(page.saturating_mul(size)).unwrap_or(i64::MAX);
        let faces = sqlx::query_as(
            "SELECT f.id AS image_id, s.name AS subject FROM faces f JOIN subjects s ON s.id = f.subject_id \
             WHERE f.model_id = $1 AND s.deleted_at IS NULL AND ($2::text IS NULL OR s.name = $2) \
             ORDER BY f.seq LIMIT $3 OFFSET $4",
        )
        .bind(model_id)
        .bind(subject)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        let total: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM faces f JOIN subjects s ON s.id = f.subject_id \
             WHERE f.model_id = $1 AND s.deleted_at IS NULL AND ($2::text IS NULL OR s.name = $2)",
        )
        .bind(model_id)
        .bind(subject)
        .fetch_one(&self.pool)
        .await?;
        Ok(FacePage { faces, total: total.max(0) as u64 })
    }

    /// Deletes one face with its image; `None` if the service has no face with this id.
    pub async fn delete_face(&self, model_id: Uuid, image_id: Uuid) -> Result<Option<FaceRef>, StoreError> {
        let deleted = sqlx::query_as(
            "DELETE FROM faces f USING subjects s \
             WHERE f.model_id = $1 AND f.id = $2 AND s.id = f.subject_id AND s.deleted_at IS NULL \
             RETURNING f.id AS image_id, s.name AS subject",
        )
        .bind(model_id)
        .bind(image_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(deleted)
    }

    /// Deletes the faces with these ids, skipping unknown ones; answers in the order asked.
    pub async fn delete_faces(&self, model_id: Uuid, image_ids: &[Uuid]) -> Result<Vec<FaceRef>, StoreError> {
        let mut deleted: Vec<FaceRef> = sqlx::query_as(
            "DELETE FROM faces f USING subjects s \
             WHERE f.model_id = $1 AND f.id = ANY($2) AND s.id = f.subject_id AND s.deleted_at IS NULL \
             RETURNING f.id AS image_id, s.name AS subject",
        )
        .bind(model_id)
        .bind(image_ids)
        .fetch_all(&self.pool)
        .await?;
        deleted.sort_by_key(|face| image_ids.iter().position(|id| *id == face.image_id));
        Ok(deleted)
    }

    /// Deletes one subject (by name, in any letter case) with all its faces; returns how many
    /// faces there were (0 for an unknown subject). A subject with many faces is marked and
    /// purged in the background (see [`crate::deletions`]).
    pub async fn delete_subject_faces(&self, model_id: Uuid, subject: &str) -> Result<u64, StoreError> {
        Ok(crate::deletions::delete_subject(self, model_id, subject).await?.map_or(0, |(_, faces)| faces))
    }

    /// Empties the service's collection: every face and every subject. Returns how many faces
    /// there were. A large collection is marked and purged in the background (see
    /// [`crate::deletions`]).
    pub async fn delete_all_faces(&self, model_id: Uuid) -> Result<u64, StoreError> {
        let (_, faces) = crate::deletions::empty_collection(self, model_id, true).await?;
        Ok(faces)
    }

    /// Whether any face was computed by another embedder than `calculator`: `(of the service with
    /// API key `demo_api_key` against `demo_calculator`, of any other service against
    /// `calculator`)`.
    ///
    /// The UI asks this before every page, so it must not depend on the number of faces, whatever
    /// plan PostgreSQL chooses (sqlx prepares statements, and a generic plan does not know the
    /// calculators): a skip scan of `faces_calculator_idx` lists the few distinct calculators,
    /// one `ORDER BY … LIMIT 1` probe each; then, for each calculator that is not the expected
    /// one, one probe of the same index on each side of the demo service's id. Every step is an
    /// index range scan that stops at its first row (a store test checks the plans and the pages
    /// read on a large collection).
    pub async fn calculator_mismatches(
        &self,
        demo_api_key: Uuid,
        demo_calculator: &str,
        calculator: &str,
    ) -> Result<(bool, bool), StoreError> {
        let row = sqlx::query_as(CALCULATOR_MISMATCHES)
            .bind(demo_api_key)
            .bind(demo_calculator)
            .bind(calculator)
            .fetch_one(&self.pool)
            .await?;
        Ok(row)
    }

    /// The stored image of a face: `None` if the service has no such face, `Some(None)` if the
    /// face was stored without its image.
    pub async fn face_image(&self, model_id: Uuid, image_id: Uuid) -> Result<Option<Option<Vec<u8>>>, StoreError> {
        let row: Option<(Option<Vec<u8>>,)> = sqlx::query_as(
            "SELECT i.content FROM faces f JOIN subjects s ON s.id = f.subject_id AND s.deleted_at IS NULL \
             LEFT JOIN images i ON i.face_id = f.id WHERE f.model_id = $1 AND f.id = $2",
        )
        .bind(model_id)
        .bind(image_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(content,)| content))
    }

    /// A face's subject, box, creation time and whether its photo is stored; `None` if the
    /// service has no such face.
    pub async fn face_details(&self, model_id: Uuid, image_id: Uuid) -> Result<Option<FaceDetails>, StoreError> {
        let row: Option<FaceDetailsRow> = sqlx::query_as(
            "SELECT f.id AS image_id, s.name AS subject, f.box_x_min, f.box_y_min, f.box_x_max, f.box_y_max, \
                    f.created_at, EXISTS (SELECT 1 FROM images i WHERE i.face_id = f.id) AS has_image \
             FROM faces f JOIN subjects s ON s.id = f.subject_id AND s.deleted_at IS NULL \
             WHERE f.model_id = $1 AND f.id = $2",
        )
        .bind(model_id)
        .bind(image_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|row| FaceDetails {
            image_id: row.image_id,
            subject: row.subject,
            face_box: FaceBox::from_columns(row.box_x_min, row.box_y_min, row.box_x_max, row.box_y_max),
            created_at: row.created_at,
            has_image: row.has_image,
        }))
    }

    /// A face's stored photo with the box of the face; `None` if the service has no such face.
    pub async fn face_photo(&self, model_id: Uuid, image_id: Uuid) -> Result<Option<FacePhoto>, StoreError> {
        let row: Option<FacePhotoRow> = sqlx::query_as(
            "SELECT i.content AS image, f.box_x_min, f.box_y_min, f.box_x_max, f.box_y_max \
             FROM faces f JOIN subjects s ON s.id = f.subject_id AND s.deleted_at IS NULL \
             LEFT JOIN images i ON i.face_id = f.id WHERE f.model_id = $1 AND f.id = $2",
        )
        .bind(model_id)
        .bind(image_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|row| FacePhoto {
            image: row.image,
            face_box: FaceBox::from_columns(row.box_x_min, row.box_y_min, row.box_x_max, row.box_y_max),
        }))
    }

    /// One face with its embedding.
    pub async fn get_face(&self, model_id: Uuid, image_id: Uuid) -> Result<Option<StoredFace>, StoreError> {
        sqlx::query_as::<_, StoredFaceRow>(stored_face_select!("WHERE f.model_id = $1 AND f.id = $2"))
            .bind(model_id)
            .bind(image_id)
            .fetch_optional(&self.pool)
            .await?
            .map(StoredFace::try_from)
            .transpose()
    }

    /// The faces among `image_ids` that the service has, with their embeddings (any order).
    pub async fn faces_by_ids(&self, model_id: Uuid, image_ids: &[Uuid]) -> Result<Vec<StoredFace>, StoreError> {
        sqlx::query_as::<_, StoredFaceRow>(stored_face_select!("WHERE f.model_id = $1 AND f.id = ANY($2)"))
            .bind(model_id)
            .bind(image_ids)
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(StoredFace::try_from)
            .collect()
    }

    /// Every face of these subjects of the service, with their embeddings (any order).
    pub async fn faces_of_subjects(&self, model_id: Uuid, subject_ids: &[Uuid]) -> Result<Vec<StoredFace>, StoreError> {
        sqlx::query_as::<_, StoredFaceRow>(stored_face_select!("WHERE f.model_id = $1 AND f.subject_id = ANY($2)"))
            .bind(model_id)
            .bind(subject_ids)
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(StoredFace::try_from)
            .collect()
    }

    /// Every stored face with its embedding: of one service in insertion order, or of all
    /// services in storage order. Rows stream from one query as they arrive, for loading the
    /// search index.
    pub fn stream_faces(&self, model_id: Option<Uuid>) -> BoxStream<'_, Result<StoredFace, StoreError>> {
        let rows = match model_id {
            Some(model_id) => {
                sqlx::query_as::<_, StoredFaceRow>(stored_face_select!("WHERE f.model_id = $1 ORDER BY f.seq"))
                    .bind(model_id)
                    .fetch(&self.pool)
            }
            // Storage order: a sequential scan is the fastest way through a large table.
            None => sqlx::query_as::<_, StoredFaceRow>(stored_face_select!()).fetch(&self.pool),
        };
        rows.map_err(StoreError::from).and_then(|row| async move { StoredFace::try_from(row) }).boxed()
    }
}

/// [`Store::calculator_mismatches`]'s query: `$1` the demo API key, `$2` the demo calculator, `$3`
/// the current one. Public for the store tests' plan check.
pub const CALCULATOR_MISMATCHES: &str = "\
WITH RECURSIVE demo AS MATERIALIZED (
    -- The nil id when the demo service is gone: no service has it.
    SELECT COALESCE((SELECT id FROM models WHERE api_key = $1), '00000000-0000-0000-0000-000000000000'::uuid) AS id
), calculators AS (
    (SELECT calculator FROM faces ORDER BY calculator LIMIT 1)
    UNION ALL
    SELECT (SELECT f.calculator FROM faces f WHERE f.calculator > c.calculator ORDER BY f.calculator LIMIT 1)
    FROM calculators c WHERE c.calculator IS NOT NULL
)
SELECT
    COALESCE(bool_or(CASE WHEN c.calculator = $2 THEN false ELSE (
        SELECT f.model_id = d.id FROM faces f WHERE f.calculator = c.calculator AND f.model_id >= d.id
        ORDER BY f.calculator, f.model_id LIMIT 1) IS TRUE END), false),
    COALESCE(bool_or(CASE WHEN c.calculator = $3 THEN false ELSE (
        SELECT true FROM faces f WHERE f.calculator = c.calculator AND f.model_id < d.id
        ORDER BY f.calculator, f.model_id LIMIT 1) IS NOT NULL OR (
        SELECT true FROM faces f WHERE f.calculator = c.calculator AND f.model_id > d.id
        ORDER BY f.calculator, f.model_id LIMIT 1) IS NOT NULL END), false)
FROM calculators c, demo d
WHERE c.calculator IS NOT NULL";
