//! A whole recognition collection read for export, page by page, from one consistent snapshot.
//!
//! [`Store::export_snapshot`] opens a read-only `REPEATABLE READ` transaction: every page sees
//! the collection as it was when the export began, whatever is written meanwhile. Pages follow
//! keys (the subject's lower-case name, the face's `seq`) along the indexes
//! `subjects_model_name_key` and `faces_model_seq_idx`, so each page costs the same however far
//! the export has come, and memory holds one page at a time.

use sqlx::{Postgres, Transaction};
use uuid::Uuid;

use crate::{FaceBox, Store, StoreError};

/// Bytes of an image's beginning read for its listing: enough to tell its format.
const HEAD_BYTES: i32 = 32;

/// A face as the export lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedFace {
    pub seq: i64,
    pub image_id: Uuid,
    pub subject: String,
    /// The first bytes of its stored image; `None` when the image is not stored.
    pub image_head: Option<Vec<u8>>,
    /// Where the face is in the image, when known.
    pub face_box: Option<FaceBox>,
}

#[derive(sqlx::FromRow)]
struct ListedFaceRow {
    seq: i64,
    image_id: Uuid,
    subject: String,
    image_head: Option<Vec<u8>>,
    box_x_min: Option<i32>,
    box_y_min: Option<i32>,
    box_x_max: Option<i32>,
    box_y_max: Option<i32>,
}

/// A face with its stored image.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ExportedFace {
    pub seq: i64,
    pub image_id: Uuid,
    pub subject: String,
    /// `None` when the image is not stored.
    pub image: Option<Vec<u8>>,
}

/// One service's collection as it was when the snapshot was taken.
pub struct ExportSnapshot {
    tx: Transaction<'static, Postgres>,
    model_id: Uuid,
}

impl Store {
    /// A consistent read of the service's collection (one pooled connection, held until the
    /// snapshot is dropped).
    pub async fn export_snapshot(&self, model_id: Uuid) -> Result<ExportSnapshot, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut *tx).await?;
        Ok(ExportSnapshot { tx, model_id })
    }
}

impl ExportSnapshot {
    /// Up to `limit` subject names in alphabetical order (any case), after the subject whose
    /// lower-case name is `after`.
    pub async fn subjects(&mut self, after: Option<&str>, limit: i64) -> Result<Vec<String>, StoreError> {
        let names = sqlx::query_scalar(
            "SELECT name FROM subjects WHERE model_id = $1 AND deleted_at IS NULL AND ($2::text IS NULL OR lower(name) > $2) \
             ORDER BY lower(name) LIMIT $3",
        )
        .bind(self.model_id)
        .bind(after)
        .bind(limit)
        .fetch_all(&mut *self.tx)
        .await?;
        Ok(names)
    }

    /// Up to `limit` faces in insertion order after `seq` `after`, with the beginning of their
    /// images and their boxes.
    pub async fn faces(&mut self, after: i64, limit: i64) -> Result<Vec<ListedFace>, StoreError> {
        let rows: Vec<ListedFaceRow> = sqlx::query_as(
            "SELECT f.seq, f.id AS image_id, s.name AS subject, substring(i.content FROM 1 FOR $4) AS image_head, \
                    f.box_x_min, f.box_y_min, f.box_x_max, f.box_y_max \
             FROM faces f JOIN subjects s ON s.id = f.subject_id AND s.deleted_at IS NULL \
             LEFT JOIN images i ON i.face_id = f.id \
             WHERE f.model_id = $1 AND f.seq > $2 ORDER BY f.seq LIMIT $3",
        )
        .bind(self.model_id)
        .bind(after)
        .bind(limit)
        .bind(HEAD_BYTES)
        .fetch_all(&mut *self.tx)
        .await?;
        let faces = rows
            .into_iter()
            .map(|row| ListedFace {
                seq: row.seq,
                image_id: row.image_id,
                subject: row.subject,
                image_head: row.image_head,
                face_box: FaceBox::from_columns(row.box_x_min, row.box_y_min, row.box_x_max, row.box_y_max),
            })
            .collect();
        Ok(faces)
    }

    /// Up to `limit` faces in insertion order after `seq` `after`, with their images.
    pub async fn images(&mut self, after: i64, limit: i64) -> Result<Vec<ExportedFace>, StoreError> {
        let faces = sqlx::query_as(
            "SELECT f.seq, f.id AS image_id, s.name AS subject, i.content AS image \
             FROM faces f JOIN subjects s ON s.id = f.subject_id AND s.deleted_at IS NULL \
             LEFT JOIN images i ON i.face_id = f.id \
             WHERE f.model_id = $1 AND f.seq > $2 ORDER BY f.seq LIMIT $3",
        )
        .bind(self.model_id)
        .bind(after)
        .bind(limit)
        .fetch_all(&mut *self.tx)
        .await?;
        Ok(faces)
    }
}
