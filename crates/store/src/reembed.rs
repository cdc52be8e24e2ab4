//! Recomputing embeddings when core's embedder changes (api-service's `/migrate`): the faces
//! computed by another embedder that still have their image, and the update of one face.

use uuid::Uuid;

use crate::{embedding, Store, StoreError};

/// A face whose embedding can be recomputed from its stored image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct Outdated {
    pub model_id: Uuid,
    pub image_id: Uuid,
}

impl Store {
    /// Every face of any service computed by an embedder other than `calculator` that has its
    /// image stored, oldest first. Faces stored without their image cannot be recomputed and are
    /// left out.
    pub async fn outdated_faces(&self, calculator: &str) -> Result<Vec<Outdated>, StoreError> {
        let faces = sqlx::query_as(
            "SELECT f.model_id, f.id AS image_id FROM faces f \
             WHERE (f.calculator < $1 OR f.calculator > $1) AND EXISTS (SELECT 1 FROM images i WHERE i.face_id = f.id) \
             ORDER BY f.seq",
        )
        .bind(calculator)
        .fetch_all(&self.pool)
        .await?;
        Ok(faces)
    }

    /// Replaces a face's embedding and the name of the embedder that computed it; `false` if
    /// the face is gone.
    pub async fn replace_embedding(
        &self,
        model_id: Uuid,
        image_id: Uuid,
        values: &[f32],
        calculator: &str,
    ) -> Result<bool, StoreError> {
        let dimension = i32::try_from(values.len())
            .map_err(|_| StoreError::Database(sqlx::Error::Protocol("embedding too long".into())))?;
        let done = sqlx::query(
            "UPDATE faces SET embedding = $3, dimension = $4, calculator = $5 WHERE model_id = $1 AND id = $2",
        )
        .bind(model_id)
        .bind(image_id)
        .bind(embedding::to_bytes(values))
        .bind(dimension)
        .bind(calculator)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
