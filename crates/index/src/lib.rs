//! In-memory embedding search for face recognition: the faces of one recognition service form a
//! [`Collection`], searched for the nearest stored faces of each query embedding.
//!
//! # What is stored
//!
//! Per face, for `d`-dimensional embeddings (`P` = `d` rounded up to a power of two, at least 64):
//! the embedding normalised to unit length as `f16` (`2d` bytes), a two-bit code of it (`P / 4`
//! bytes) with two `f32` correction factors and a 2-byte count, the face id (`Uuid`, 16 bytes),
//! a caller-chosen [`SubjectId`] (4 bytes) and an id → row hash entry (5 to 10 bytes). For 512-d
//! embeddings that is about 1 190 bytes per face, 1.19 GB for a million faces, which
//! [`Collection::heap_bytes`] reports. Rows live in chunks of 16 384 faces: an insert never
//! copies the collection, and a removal moves the last row into the hole; both are O(1).
//!
//! # Search
//!
//! Results carry the Euclidean distance `sqrt(max(0, 2 - 2·cos))` between the unit-length query
//! and the stored face; the caller maps it to a similarity.
//!
//! * Up to [`EXACT_SEARCH_MAX_FACES`] faces, every stored vector is compared with every query
//!   (`f16` × `f32` dot products, `f32` sums): an exhaustive search.
//! * Larger collections are scanned through their codes first. A code holds, after a fixed random
//!   rotation (random sign flips and Walsh–Hadamard transforms), the sign of each coordinate and
//!   a second bit for its magnitude. The scan estimates every face's cosine from the signs alone
//!   (the RaBitQ estimator; standard error about `0.77 / sqrt(P)`, 0.034 for 512-d), four
//!   coordinates per table lookup, 32 faces per instruction, on every core for large
//!   collections. It reads `P / 8 + 6` bytes per face instead of `4d`.
//! * With a guaranteed cosine ([`Collection::search_guaranteed`]), faces whose estimate is within
//!   [`CONFIDENCE`] standard errors of it are refined with their second bits (standard error
//!   about 0.016 for 512-d), and every refined estimate within that many standard errors of it
//!   is re-ranked exactly from the `f16` vectors. The margins come from the worst code stored
//!   and the query's own quantisation, so they hold for any data.
//! * The other candidates are re-ranked exactly in order of decreasing estimate, at most `k +`
//!   [`RERANK_CANDIDATES`], until the best estimate left is [`CONFIDENCE`] standard errors below
//!   the k-th best exact score found. A query with a clear match (a known person) costs little
//!   more than the scan.
//! * All queries of one call (the faces of one image) share one pass over the data.
//!
//! # Accuracy
//!
//! Distances are exact up to the `f16` rounding of the stored vectors: the cosine is off by at
//! most a few `1e-5`. Exhaustive search therefore returns the true nearest faces, except between
//! faces whose distances differ by less than that. Above [`EXACT_SEARCH_MAX_FACES`], a face at or
//! above the guaranteed cosine that belongs in the answer is missed only if an estimate of it is
//! more than [`CONFIDENCE`] standard errors too low (probability about 1e-9; the random rotation
//! makes the error of a face that was not crafted against it about normal). Below the guaranteed
//! cosine the search is a best effort: when the nearest faces are all far (an unknown person, or
//! the 5th neighbour of a known one), the best match is one of thousands of faces at about the
//! same low cosine and may be missed. `docs/benchmarks.md` and `examples/recall.rs` measure both,
//! and `tests/guarantee.rs` checks the guarantee among a million faces.
//!
//! # Concurrency and errors
//!
//! Searches take `&self` and updates `&mut self`; the caller shares a collection behind a lock.
//! A wrong dimension, NaN, infinity or a zero vector is an [`IndexError`], never a panic, and a
//! refused update leaves the collection's contents unchanged.

mod collection;
mod error;
mod kernels;
mod quant;
mod rows;
mod topk;

pub use collection::{
    Collection, Component, Limit, Neighbor, SubjectId, CONFIDENCE, EXACT_SEARCH_MAX_FACES, RERANK_CANDIDATES,
};
pub use error::IndexError;
pub use kernels::Simd;

/// The largest embedding dimension a collection accepts.
pub const MAX_DIM: usize = 8_192;
