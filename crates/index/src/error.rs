//! Errors of the index: all of them come from bad input, none from internal failures.

use uuid::Uuid;

/// Why an operation on a [`Collection`](crate::Collection) was refused. A refused operation leaves
/// the collection unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IndexError {
    /// The dimension given to [`Collection::new`](crate::Collection::new) is zero or too large.
    #[error("embedding dimension must be between 1 and {max}, got {0}", max = crate::MAX_DIM)]
    InvalidDimension(usize),
    /// An embedding does not have the collection's dimension.
    #[error("embedding has {actual} values, but this collection holds {expected}-dimensional embeddings")]
    DimensionMismatch { expected: usize, actual: usize },
    /// An embedding contains NaN or an infinite value.
    #[error("embedding contains NaN or infinite values")]
    NonFinite,
    /// An embedding is all zeros, so it has no direction to compare.
    #[error("embedding is a zero vector")]
    ZeroVector,
    /// A face with this id is already stored (or the id appears twice in one batch).
    #[error("face {0} is already in the collection")]
    DuplicateFace(Uuid),
    /// No face with this id is stored.
    #[error("face {0} is not in the collection")]
    UnknownFace(Uuid),
    /// A collection addresses its rows with `u32`.
    #[error("a collection holds at most {} faces", u32::MAX)]
    TooManyFaces,
}
