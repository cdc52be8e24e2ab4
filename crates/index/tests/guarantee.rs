//! The search's guarantee at scale: among a million stored faces, every face at or above the
//! guaranteed cosine is found. For each query, a few faces are placed just above the threshold
//! and a crowd of decoys just below it: more decoys than the search re-ranks on its best effort,
//! and close enough that the one-bit estimates mix them up with the faces above.

use std::collections::HashSet;

use uuid::Uuid;
use visage_index::{Collection, Limit, SubjectId};

const DIM: usize = 512;
const FACES: usize = 1_000_000;
const QUERIES: usize = 12;
/// Per query: faces at cosine in `[T, T + 0.01)`, and decoys in `[T - 0.05, T - 0.001]` (the
/// gap is wider than the `f16` rounding of stored faces, which can move a cosine by 1e-4).
const ABOVE: usize = 40;
const BELOW: usize = 1_500;
/// The cosine where w600k_mbf's similarity is 0.5, which api-service guarantees.
const THRESHOLD: f32 = 1.0 - 1.11 * 1.11 / 2.0;

/// SplitMix64 with Box–Muller normals: fast enough to fill a million 512-d vectors.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn uniform(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// A random unit vector (isotropic).
    fn unit(&mut self) -> Vec<f32> {
        let mut v = Vec::with_capacity(DIM);
        while v.len() < DIM {
            let (u1, u2) = (1.0 - self.uniform(), self.uniform());
            let r = (-2.0 * u1.ln()).sqrt();
            let (s, c) = (std::f32::consts::TAU * u2).sin_cos();
            v.extend([r * c, r * s]);
        }
        normalised(v)
    }

    /// A unit vector at exactly `cosine` to the unit vector `q`.
    fn at_cosine(&mut self, q: &[f32], cosine: f32) -> Vec<f32> {
        let u = self.unit();
        let along: f32 = u.iter().zip(q).map(|(a, b)| a * b).sum();
        let orthogonal = normalised(u.iter().zip(q).map(|(a, b)| a - along * b).collect());
        let side = (1.0 - cosine * cosine).sqrt();
        q.iter().zip(&orthogonal).map(|(a, b)| cosine * a + side * b).collect()
    }
}

fn normalised(v: Vec<f32>) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.into_iter().map(|x| x / norm).collect()
}

#[test]
fn faces_at_or_above_the_threshold_are_never_missed_among_a_million() {
    let mut rng = Rng(11);
    let queries: Vec<Vec<f32>> = (0..QUERIES).map(|_| rng.unit()).collect();
    // The planted faces go to random rows among the background faces.
    let mut planted = Vec::new();
    let mut above: Vec<HashSet<Uuid>> = vec![HashSet::new(); QUERIES];
    for (qi, q) in queries.iter().enumerate() {
        for i in 0..ABOVE + BELOW {
            let cosine = if i < ABOVE {
                THRESHOLD + 0.01 * i as f32 / ABOVE as f32
            } else {
                THRESHOLD - 0.001 - 0.049 * (i - ABOVE) as f32 / BELOW as f32
            };
            let id = Uuid::from_u128(((qi as u128 + 1) << 64) | i as u128);
            if i < ABOVE {
                above[qi].insert(id);
            }
            planted.push((rng.next() % FACES as u64, id, rng.at_cosine(q, cosine)));
        }
    }
    planted.sort_by_key(|p| p.0);

    let mut collection = Collection::new(DIM).unwrap();
    let mut planted = planted.into_iter().peekable();
    let mut batch: Vec<(Uuid, SubjectId, Vec<f32>)> = Vec::new();
    for row in 0..FACES as u64 {
        while let Some((_, id, v)) = planted.next_if(|p| p.0 == row) {
            batch.push((id, 1, v));
        }
        batch.push((Uuid::from_u128(u128::from(row) + 1), 0, rng.unit()));
        if batch.len() >= 65_536 {
            collection.insert_many(&batch).unwrap();
            batch.clear();
        }
    }
    collection.insert_many(&batch).unwrap();
    assert_eq!(collection.len(), FACES + QUERIES * (ABOVE + BELOW));

    // All queries in one call (one pass over the codes), then each alone: the same answers.
    let together = collection.search_guaranteed(&queries, Limit::Top(ABOVE), THRESHOLD).unwrap();
    for (qi, (q, found)) in queries.iter().zip(&together).enumerate() {
        let ids: HashSet<Uuid> = found.iter().map(|n| n.face).collect();
        // Background faces are at cosine 0 ± 0.044: the planted ones are the 40 nearest.
        assert_eq!(ids, above[qi], "query {qi}: every face at or above the threshold, and only those");
        let alone = collection.search_guaranteed(&[q], Limit::Top(ABOVE), THRESHOLD).unwrap();
        assert_eq!(&alone[0], found, "query {qi}");
        // The nearest alone: the planted face at THRESHOLD + 0.01·39/40.
        let best = &collection.search_guaranteed(&[q], Limit::Top(1), THRESHOLD).unwrap()[0][0];
        let cosine = 1.0 - best.distance * best.distance / 2.0;
        assert!((cosine - (THRESHOLD + 0.01 * 39.0 / 40.0)).abs() < 1e-3, "query {qi}: best at {cosine}");
    }
    // Asking for more: the decoys below the threshold follow, nearest first.
    let more = collection.search_guaranteed(&queries[..1], Limit::Top(ABOVE + 10), THRESHOLD).unwrap();
    assert!(more[0][ABOVE..].iter().all(|n| n.face.as_u128() >> 64 == 1));
    assert!(more[0].windows(2).all(|w| w[0].distance <= w[1].distance));
}
