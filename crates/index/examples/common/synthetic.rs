//! Synthetic face-like embeddings for the benches and the `recall` example. They are not real
//! faces; they imitate the geometry of face embeddings:
//!
//! * an identity (a person) is a random unit vector plus a component shared by everybody
//!   (real embeddings are not centred), so two different people have cosine ≈ 0.1 ± 0.05;
//! * a face is its identity plus isotropic noise of norm σ ∈ [0.55, 1.15], renormalised, so two
//!   faces of one person have cosine 0.4–0.8;
//! * a gallery holds 1 to 8 faces per identity.
//!
//! [`Generator::isotropic`] makes a harder set: identities are plain random unit vectors (two
//! people have cosine 0 ± 0.044 in 512-d, so a query has no far-away majority to discard cheaply),
//! with the same noise, and exactly 10 faces per identity.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Weight of the shared component in an identity before normalisation.
const SHARED: f32 = 0.45;
const NOISE: std::ops::Range<f32> = 0.55..1.15;
const MAX_FACES_PER_IDENTITY: usize = 8;
/// Identities generated from one seed; blocks run in parallel.
const BLOCK_IDENTITIES: usize = 2_048;

pub struct Generator {
    pub dim: usize,
    shared: Vec<f32>,
    /// Weight of `shared` in an identity.
    shared_weight: f32,
    /// Faces per identity: random in `1..=MAX_FACES_PER_IDENTITY`, or this many.
    faces_per_identity: Option<usize>,
}

/// Faces in one flat `n × dim` matrix, with the identity behind each face.
pub struct Gallery {
    pub vectors: Vec<f32>,
    pub identities: Vec<u32>,
    pub centres: Vec<Vec<f32>>,
}

impl Generator {
    /// Face-like embeddings (see the module documentation).
    pub fn new(dim: usize, seed: u64) -> Self {
        let shared = random_unit(&mut StdRng::seed_from_u64(seed), dim);
        Self { dim, shared, shared_weight: SHARED, faces_per_identity: None }
    }

    /// Isotropic Gaussian identities, 10 faces each (see the module documentation).
    pub fn isotropic(dim: usize, seed: u64) -> Self {
        Self { shared_weight: 0.0, faces_per_identity: Some(10), ..Self::new(dim, seed) }
    }

    /// `face-like` or `isotropic`.
    pub fn name(&self) -> &'static str {
        if self.shared_weight == 0.0 {
            "isotropic"
        } else {
            "face-like"
        }
    }

    pub fn identity(&self, rng: &mut StdRng) -> Vec<f32> {
        let own = random_unit(rng, self.dim);
        normalised(own.iter().zip(&self.shared).map(|(o, s)| o + self.shared_weight * s).collect())
    }

    pub fn face(&self, identity: &[f32], rng: &mut StdRng) -> Vec<f32> {
        let sigma = rng.gen_range(NOISE);
        let noise = random_unit(rng, self.dim);
        normalised(identity.iter().zip(&noise).map(|(c, n)| c + sigma * n).collect())
    }

    /// About `n` faces (exactly `n`), generated on all cores, reproducible from `seed`.
    pub fn gallery(&self, n: usize, seed: u64) -> Gallery {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut counts = Vec::new();
        let mut total = 0;
        while total < n {
            let c = self.faces_per_identity.unwrap_or_else(|| rng.gen_range(1..=MAX_FACES_PER_IDENTITY)).min(n - total);
            counts.push(c);
            total += c;
        }
        let blocks: Vec<&[usize]> = counts.chunks(BLOCK_IDENTITIES).collect();
        let mut vectors = vec![0.0; n * self.dim];
        let mut slices = Vec::new();
        let mut rest = vectors.as_mut_slice();
        for block in &blocks {
            let (head, tail) = rest.split_at_mut(block.iter().sum::<usize>() * self.dim);
            slices.push(head);
            rest = tail;
        }
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        let mut work: Vec<(usize, &[usize], &mut [f32])> =
            blocks.iter().zip(slices).enumerate().map(|(i, (b, s))| (i, *b, s)).collect();
        let per_thread = work.len().div_ceil(threads).max(1);
        let centres: Vec<Vec<f32>> = std::thread::scope(|scope| {
            let handles: Vec<_> = work
                .chunks_mut(per_thread)
                .map(|part| {
                    scope.spawn(move || {
                        let mut centres = Vec::new();
                        for (index, counts, out) in part.iter_mut() {
                            let mut rng = StdRng::seed_from_u64(seed ^ ((*index as u64 + 1) << 32));
                            let mut rows = out.chunks_exact_mut(self.dim);
                            for &count in counts.iter() {
                                let centre = self.identity(&mut rng);
                                for row in rows.by_ref().take(count) {
                                    row.copy_from_slice(&self.face(&centre, &mut rng));
                                }
                                centres.push(centre);
                            }
                        }
                        centres
                    })
                })
                .collect();
            handles.into_iter().flat_map(|h| h.join().expect("generator thread")).collect()
        });
        let identities = counts.iter().enumerate().flat_map(|(i, &c)| std::iter::repeat_n(i as u32, c)).collect();
        Gallery { vectors, identities, centres }
    }
}

fn random_unit(rng: &mut StdRng, dim: usize) -> Vec<f32> {
    let mut v = Vec::with_capacity(dim + 1);
    while v.len() < dim {
        // Box–Muller: two standard normal values from two uniform ones.
        let (u1, u2) = (1.0 - rng.gen::<f32>(), rng.gen::<f32>());
        let r = (-2.0 * u1.ln()).sqrt();
        let (s, c) = (std::f32::consts::TAU * u2).sin_cos();
        v.extend([r * c, r * s]);
    }
    v.truncate(dim);
    normalised(v)
}

fn normalised(v: Vec<f32>) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.into_iter().map(|x| x / norm).collect()
}
