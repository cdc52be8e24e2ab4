//! Two-bit codes of stored faces and four-bit codes of queries.
//!
//! Every vector is first turned by a fixed random rotation (three rounds of random sign flips,
//! each followed by a fast Walsh–Hadamard transform, over the dimension padded with zeros to a
//! power of two `P`). This spreads the energy of the embedding evenly over the coordinates, so each
//! coordinate carries about the same information and behaves like a Gaussian variable.
//!
//! A stored face keeps two bits per rotated coordinate: its sign, and a second bit that tells a
//! large magnitude from a small one. For a stored unit vector `x` with rotated form `x'`, a
//! reconstruction `ō` (the signs, or the four-level two-bit values) and a query `q` with rotated
//! form `q'`, `<ō, q'> / <ō, x'>` estimates `<x, q>` without bias (the RaBitQ estimator and its
//! extension to more bits). Its error is about normal with standard deviation
//! `sqrt(1 − <x, q>²) · sqrt(1 − a²) / (a · sqrt(P − 1))`, where `a` is the cosine between `x'`
//! and `ō` (about 0.80 for the signs, 0.94 for two bits): 0.034 and 0.016 for 512-d faces.
//! The scan estimates every face from the signs; the faces that might be near a threshold are
//! refined with the second bits, and the candidates are then compared exactly.
//!
//! The query side is quantised to four bits per coordinate: as a table of sums per group of four
//! coordinates for the scan, and as four bit planes for the refinement. The transform is left
//! unnormalised: the common scale cancels in the estimate.

use crate::kernels;
use crate::rows::RowCode;

const ROUNDS: usize = 3;
/// The rotation is the same in every process, so codes never need to be rebuilt.
const SEED: u64 = 0x5649_5341_4745_0001;
/// Bits per coordinate of a quantised query.
pub(crate) const QUERY_BITS: usize = 4;
/// The step of the optimal uniform four-level quantiser of a standard normal variable, in
/// standard deviations (Max, 1960).
const FINE_STEP: f32 = 0.9957;

/// A fixed pseudo-random rotation of `dim`-dimensional vectors into `padded` dimensions.
pub(crate) struct Rotation {
    padded: usize,
    /// `ROUNDS` rows of `padded` random signs.
    signs: Vec<f32>,
}

impl Rotation {
    pub(crate) fn new(dim: usize) -> Self {
        let padded = dim.next_power_of_two().max(64);
        let mut state = SEED;
        let signs = (0..ROUNDS * padded).map(|_| if splitmix64(&mut state) >> 63 == 0 { 1.0 } else { -1.0 }).collect();
        Self { padded, signs }
    }

    /// Coordinates after rotation: the dimension rounded up to a power of two, at least 64.
    pub(crate) fn padded(&self) -> usize {
        self.padded
    }

    /// `u64` words in one code.
    pub(crate) fn words(&self) -> usize {
        self.padded / 64
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.signs.capacity() * size_of::<f32>()
    }

    /// Writes the rotated `x` into `out` (`padded` values).
    fn apply(&self, x: &[f32], out: &mut [f32]) {
        out[..x.len()].copy_from_slice(x);
        out[x.len()..].fill(0.0);
        for signs in self.signs.chunks_exact(self.padded) {
            for (v, s) in out.iter_mut().zip(signs) {
                *v *= s;
            }
            kernels::walsh_hadamard(out);
        }
    }

    /// Encodes the unit vector `x` into `code` and returns its alignments `(a1, a2)`: the cosine
    /// between the rotated `x` and its one-bit and two-bit reconstructions, which set the error
    /// of the estimates (see [`crate::collection`]). `scratch` holds `padded` values.
    ///
    /// The two-bit code quantises each rotated coordinate to one of `±0.5·Δ, ±1.5·Δ` (`Δ` the
    /// step of the uniform four-level quantiser that is optimal for Gaussian coordinates): the
    /// first bit is the sign, the second is set for `+1.5·Δ` and `−0.5·Δ`, so that the level is
    /// `(2·sign + second − 1.5)·Δ`.
    pub(crate) fn encode(&self, x: &[f32], scratch: &mut [f32], code: &mut RowCode) -> (f32, f32) {
        self.apply(x, scratch);
        let (squares, l1) = sums16(scratch, |v| (v * v, v.abs()));
        let step = FINE_STEP * (squares / self.padded as f32).sqrt();
        let (big, _) = sums16(scratch, |v| (if v.abs() > step { v.abs() } else { 0.0 }, 0.0));
        // `fine` first marks `|v| > step` ("large").
        kernels::sign_bits(scratch, &mut code.signs);
        kernels::magnitude_bits(scratch, step, &mut code.fine);
        let (mut ones, mut many) = (0, 0);
        for (sign, fine) in code.signs.iter().zip(code.fine.iter_mut()) {
            ones += sign.count_ones();
            many += fine.count_ones();
            // From `large` to the second bit: set where the sign and `large` agree.
            *fine = !(sign ^ *fine);
        }
        // The level `(2·sign + second − 1.5)` has the sign of `v` and magnitude 1.5 where `v` is
        // large, 0.5 elsewhere.
        let fine_dot = 0.5 * l1 + big;
        let fine_norm = 0.25 * self.padded as f32 + 2.0 * many as f32;
        code.factor = 1.0 / l1;
        code.fine_factor = 1.0 / fine_dot;
        code.ones = ones as u16;
        let norm = squares.sqrt();
        (l1 / ((self.padded as f32).sqrt() * norm), fine_dot / (fine_norm.sqrt() * norm))
    }
}

/// Two sums over `values`, each in 16 independent lanes so that the loop vectorises.
#[inline(always)]
fn sums16(values: &[f32], terms: impl Fn(f32) -> (f32, f32)) -> (f32, f32) {
    let (mut a, mut b) = ([0f32; 16], [0f32; 16]);
    for sixteen in values.chunks_exact(16) {
        for (i, &v) in sixteen.iter().enumerate() {
            let (x, y) = terms(v);
            a[i] += x;
            b[i] += y;
        }
    }
    (a.iter().sum(), b.iter().sum())
}

/// A query quantised for the code scan.
///
/// The rotated query `q'` is quantised to `q̃ = lo + step·u` with four-bit levels `u`. With `b`
/// the sign bits of a stored face, `Σ b·q̃ = lo·ones + step·Σ b·u`; the scan computes `Σ b·u`
/// four coordinates at a time from `lut`. The one-bit estimate of `<x, q>` is then
/// `factor · (2·Σ b·q̃ − Σ q̃)` and the two-bit one `fine_factor · (2·Σ b·q̃ + Σ c·q̃ − 1.5·Σ q̃)`,
/// `c` the second bits, whose `Σ c·u` comes from the bit planes of `u` and `popcount`.
pub(crate) struct QueryCode {
    /// For each position (four coordinates), 16 entries: entry `n` is the sum of the levels of
    /// the coordinates whose bit is set in `n`.
    pub(crate) lut: Vec<u8>,
    /// `QUERY_BITS` planes of `words` words: plane `k` holds bit `k` of every level.
    pub(crate) planes: Vec<u64>,
    pub(crate) words: usize,
    pub(crate) lo: f32,
    pub(crate) step: f32,
    /// `Σ q̃`.
    pub(crate) sum: f32,
    /// `‖q̃ − q'‖ / ‖q'‖`: the share of the query the quantisation changed.
    pub(crate) residual: f32,
}

impl QueryCode {
    /// Quantises the unit vector `q` (the collection's dimension).
    pub(crate) fn new(rotation: &Rotation, q: &[f32]) -> Self {
        let mut rotated = vec![0.0; rotation.padded()];
        rotation.apply(q, &mut rotated);
        let (lo, hi) = rotated.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        let top = ((1 << QUERY_BITS) - 1) as f32;
        let step = if hi > lo { (hi - lo) / top } else { 1.0 };
        let words = rotation.words();
        let mut planes = vec![0u64; QUERY_BITS * words];
        let mut levels = vec![0u8; rotation.padded()];
        let (mut level_sum, mut residual, mut norm) = (0u32, 0f64, 0f64);
        for (j, (&v, level)) in rotated.iter().zip(levels.iter_mut()).enumerate() {
            // In range by construction; the clamp only guards rounding at the top level.
            let u = ((v - lo) / step).round().clamp(0.0, top) as u8;
            *level = u;
            level_sum += u32::from(u);
            for (k, plane) in planes.chunks_exact_mut(words).enumerate() {
                plane[j / 64] |= u64::from((u >> k) & 1) << (j % 64);
            }
            let error = f64::from(lo + step * f32::from(u) - v);
            residual += error * error;
            norm += f64::from(v) * f64::from(v);
        }
        let lut = levels
            .chunks_exact(4)
            .flat_map(|four| {
                (0..16usize)
                    .map(move |n| four.iter().enumerate().filter(|(t, _)| n >> t & 1 == 1).map(|(_, u)| u).sum())
            })
            .collect();
        Self {
            lut,
            planes,
            words,
            lo,
            step,
            sum: rotation.padded() as f32 * lo + step * level_sum as f32,
            residual: (residual / norm.max(f64::MIN_POSITIVE)).sqrt() as f32,
        }
    }

    /// Positions (groups of four coordinates) per code.
    pub(crate) fn positions(&self) -> usize {
        16 * self.words
    }

    /// The one-bit estimate for a stored face with `levels = Σ b·u` (from the scan).
    #[inline(always)]
    pub(crate) fn estimate(&self, levels: u32, ones: u16, factor: f32) -> f32 {
        let signed = self.lo * f32::from(ones) + self.step * levels as f32;
        (2.0 * signed - self.sum) * factor
    }

    /// The two-bit estimate, from the scan's `levels` and the second bits' `fine_ones = Σ c` and
    /// `fine_levels = Σ c·u`.
    #[inline(always)]
    pub(crate) fn fine_estimate(
        &self,
        levels: u32,
        ones: u16,
        fine_ones: u32,
        fine_levels: u32,
        fine_factor: f32,
    ) -> f32 {
        let signed = self.lo * f32::from(ones) + self.step * levels as f32;
        let second = self.lo * fine_ones as f32 + self.step * fine_levels as f32;
        (2.0 * signed + second - 1.5 * self.sum) * fine_factor
    }
}

/// SplitMix64: a tiny, well-mixed generator, enough for a fixed set of random signs.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rows::{block_bytes, put_code, BLOCK};

    fn unit(seed: u64, dim: usize) -> Vec<f32> {
        let mut state = seed;
        let v: Vec<f32> = (0..dim).map(|_| (splitmix64(&mut state) >> 40) as f32 / (1u64 << 24) as f32 - 0.5).collect();
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.into_iter().map(|x| x / norm).collect()
    }

    #[test]
    fn rotation_preserves_angles() {
        let rotation = Rotation::new(100);
        assert_eq!(rotation.padded(), 128);
        let (a, b) = (unit(1, 100), unit(2, 100));
        let (mut ra, mut rb) = (vec![0.0; 128], vec![0.0; 128]);
        rotation.apply(&a, &mut ra);
        rotation.apply(&b, &mut rb);
        let dot = |x: &[f32], y: &[f32]| x.iter().zip(y).map(|(p, q)| p * q).sum::<f32>();
        // The unnormalised transform scales every vector by 128^1.5.
        let scale = 128f32.powi(3);
        assert!((dot(&ra, &ra) / scale - 1.0).abs() < 1e-4);
        assert!((dot(&ra, &rb) / scale - dot(&a, &b)).abs() < 1e-4);
    }

    #[test]
    fn estimates_track_the_true_dot_product() {
        let dim = 512;
        let rotation = Rotation::new(dim);
        let mut scratch = vec![0.0; rotation.padded()];
        let mut code = RowCode::new(rotation.words());
        let query = unit(7, dim);
        let qcode = QueryCode::new(&rotation, &query);
        assert!(qcode.residual > 0.01 && qcode.residual < 0.2, "residual {}", qcode.residual);
        let (mut worst, mut worst_fine) = (0f32, 0f32);
        for seed in 100..300 {
            // Stored vectors correlated with the query at various strengths.
            let noise = unit(seed, dim);
            let w = (seed % 10) as f32 / 10.0;
            let mixed: Vec<f32> = query.iter().zip(&noise).map(|(q, n)| w * q + (1.0 - w) * n).collect();
            let norm = mixed.iter().map(|x| x * x).sum::<f32>().sqrt();
            let x: Vec<f32> = mixed.iter().map(|v| v / norm).collect();
            let (a1, a2) = rotation.encode(&x, &mut scratch, &mut code);
            assert!((0.75..0.85).contains(&a1) && (0.9..0.97).contains(&a2), "alignments {a1} {a2}");
            // One face in the first row of a code block.
            let mut block = vec![0u8; block_bytes(code.signs.len())];
            put_code(&mut block, 0, &code.signs);
            let (mut ones, mut factors) = ([0u16; BLOCK], [0f32; BLOCK]);
            (ones[0], factors[0]) = (code.ones, code.factor);
            let (mut levels, mut estimate) = ([0u32; BLOCK], [0f32; BLOCK]);
            kernels::estimate(&block, &ones, &factors, &qcode, &mut levels, &mut estimate);
            let fine = kernels::refine(&code.fine, levels[0], code.ones, code.fine_factor, &qcode);
            let exact = x.iter().zip(&query).map(|(a, b)| a * b).sum::<f32>();
            worst = worst.max((estimate[0] - exact).abs());
            worst_fine = worst_fine.max((fine - exact).abs());
        }
        // Standard errors about 0.034 and 0.016 at P = 512; 200 draws stay well inside 5 sigma.
        assert!(worst < 0.17, "worst one-bit estimate error {worst}");
        assert!(worst_fine < 0.08, "worst two-bit estimate error {worst_fine}");
        assert!(worst_fine < worst, "{worst_fine} vs {worst}");
    }
}
