//! Reading a whole collection for the search index, with as little work per row as the database
//! allows: the face and subject ids and the raw embedding bytes, by column position, in the
//! service's insertion order (the `faces_model_seq_idx` index); the subjects' names come apart,
//! one row per subject instead of one per face. The faces of subjects marked for deletion are
//! streamed too (leaving them out would cost a join per face) and dropped by the loader, which
//! keeps only the faces of subjects it has a name for.

use futures::stream::{BoxStream, StreamExt, TryStreamExt};
use uuid::Uuid;

use crate::{Store, StoreError};

/// One face as the search index loads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbeddingRow {
    pub image_id: Uuid,
    pub subject_id: Uuid,
    /// Little-endian `f32` values (see [`crate::embedding`]).
    pub embedding: Vec<u8>,
}

impl Store {
    /// Every face of the service with its raw embedding, oldest first, streamed as rows arrive.
    pub fn stream_embeddings(&self, model_id: Uuid) -> BoxStream<'_, Result<EmbeddingRow, StoreError>> {
        sqlx::query_as::<_, (Uuid, Uuid, Vec<u8>)>(
            "SELECT id, subject_id, embedding FROM faces WHERE model_id = $1 ORDER BY seq",
        )
        .bind(model_id)
        .fetch(&self.pool)
        .map_ok(|(image_id, subject_id, embedding)| EmbeddingRow { image_id, subject_id, embedding })
        .map_err(StoreError::from)
        .boxed()
    }

    /// Every subject of the service not marked for deletion: `(id, name)`, any order.
    pub async fn subjects_with_ids(&self, model_id: Uuid) -> Result<Vec<(Uuid, String)>, StoreError> {
        let subjects = sqlx::query_as("SELECT id, name FROM subjects WHERE model_id = $1 AND deleted_at IS NULL")
            .bind(model_id)
            .fetch_all(&self.pool)
            .await?;
        Ok(subjects)
    }
}
