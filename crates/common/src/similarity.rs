//! From embedding distance to the similarity clients see.
//!
//! Embeddings are L2-normalised; with `d` the Euclidean distance between two of them,
//! `similarity = (tanh((c0 − d)·c1) + 1) / 2`. The pair `[c0, c1]` belongs to an embedding model:
//! `c0` is the distance at which similarity is 0.5, `c1` how steeply it falls around it.
//! core-service reports its model's pair in `/status`; api-service applies it.

use serde::{Deserialize, Serialize};

/// The match threshold a new recognition service gets (its `matchThreshold`): recognitions leave
/// out stored faces less similar than this, so an empty answer means "unknown". Chosen for the
/// default embedder, `w600k_mbf` with its coefficients `[1.11, 5.5]`, from the false-accept and
/// false-reject rates measured in docs/similarity.md.
pub const DEFAULT_MATCH_THRESHOLD: f64 = 0.5;

/// `[c0, c1]` of one embedding model.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Coefficients(pub [f64; 2]);

impl Coefficients {
    /// Similarity in `[0, 1]` for a Euclidean distance between normalised embeddings.
    pub fn similarity(&self, distance: f64) -> f64 {
        let [c0, c1] = self.0;
        (((c0 - distance) * c1).tanh() + 1.0) / 2.0
    }

    /// Similarity for the dot product (cosine) of two normalised embeddings.
    pub fn similarity_of_dot(&self, dot: f64) -> f64 {
        self.similarity(distance_from_dot(dot))
    }

    /// The dot product (cosine) at which the similarity is `similarity` (in `(0, 1)`; clamped to
    /// the cosines of two unit vectors, `[-1, 1]`).
    pub fn dot_at(&self, similarity: f64) -> f64 {
        let [c0, c1] = self.0;
        let distance = c0 - (2.0 * similarity - 1.0).atanh() / c1;
        (1.0 - distance.clamp(0.0, 2.0).powi(2) / 2.0).clamp(-1.0, 1.0)
    }
}

/// `v / ‖v‖₂`; `None` for a zero, infinite or NaN vector, which has no direction.
pub fn l2_normalized(v: &[f32]) -> Option<Vec<f32>> {
    let norm = v.iter().map(|x| f64::from(*x) * f64::from(*x)).sum::<f64>().sqrt();
    if norm == 0.0 || !norm.is_finite() {
        return None;
    }
    Some(v.iter().map(|x| (f64::from(*x) / norm) as f32).collect())
}

/// Euclidean distance between two unit vectors with the given dot product.
pub fn distance_from_dot(dot: f64) -> f64 {
    (2.0 - 2.0 * dot).max(0.0).sqrt()
}

/// Rounds to 5 decimals, as every probability and similarity in the API is.
pub fn round5(x: f64) -> f64 {
    (x * 1e5).round() / 1e5
}

/// Serialises an `f64` rounded to 5 decimals.
pub fn serialize_round5<S: serde::Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(round5(*x))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similarity_is_one_half_at_c0_and_monotone() {
        let c = Coefficients([1.1, 6.0]);
        assert!((c.similarity(1.1) - 0.5).abs() < 1e-12);
        assert!(c.similarity(0.5) > c.similarity(1.0));
        assert!(c.similarity(0.0) > 0.99 && c.similarity(2.0) < 0.01);
        assert!((c.similarity_of_dot(1.0) - c.similarity(0.0)).abs() < 1e-12);
    }

    #[test]
    fn dot_at_inverts_similarity_of_dot() {
        let c = Coefficients([1.11, 5.5]);
        assert!((c.dot_at(0.5) - (1.0 - 1.11 * 1.11 / 2.0)).abs() < 1e-12);
        for dot in [-0.2, 0.1, 0.384, 0.7, 0.95] {
            assert!((c.dot_at(c.similarity_of_dot(dot)) - dot).abs() < 1e-9, "dot {dot}");
        }
        assert_eq!(c.dot_at(1.0), 1.0);
        assert_eq!(c.dot_at(0.0), -1.0);
    }

    #[test]
    fn normalising_gives_unit_length_or_none() {
        assert_eq!(l2_normalized(&[3.0, 4.0]), Some(vec![0.6, 0.8]));
        assert_eq!(l2_normalized(&[0.0, 0.0]), None);
        assert_eq!(l2_normalized(&[f32::NAN, 1.0]), None);
        assert_eq!(l2_normalized(&[]), None);
    }

    #[test]
    fn rounding_keeps_five_decimals() {
        assert_eq!(round5(0.123456789), 0.12346);
        assert_eq!(round5(1.0), 1.0);
        assert_eq!(distance_from_dot(1.0000001), 0.0);
    }
}
