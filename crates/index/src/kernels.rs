//! The hot loops: `f16 × f32` dot products, the code-scan estimate and the Walsh–Hadamard transform.
//!
//! Each kernel runs at the [`Simd`] level chosen once per process from the CPU's features:
//! AVX-512 (with VPOPCNTDQ), AVX2 (with FMA, F16C and POPCNT), or portable code elsewhere (with
//! the POPCNT instruction where the CPU has it; on ARM, the compiler's auto-vectorisation of the
//! portable loops is what runs).
//! `VISAGE_SIMD=avx2` or `portable` caps the level, to measure or test a lower one on a CPU that
//! has more. Every kernel is tested against the portable one.

use std::sync::OnceLock;

use half::{f16, slice::HalfFloatSliceExt};

use crate::quant::QueryCode;
use crate::rows::BLOCK;

/// The instruction sets the kernels use, widest last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Simd {
    Portable,
    /// AVX2 with FMA, F16C and POPCNT.
    Avx2,
    /// AVX-512F with VPOPCNTDQ (and the AVX2 set).
    Avx512,
}

impl Simd {
    pub fn as_str(self) -> &'static str {
        match self {
            Simd::Portable => "portable",
            Simd::Avx2 => "avx2",
            Simd::Avx512 => "avx512",
        }
    }

    /// The widest level this CPU supports.
    pub fn detected() -> Simd {
        #[cfg(target_arch = "x86_64")]
        {
            let avx2 = is_x86_feature_detected!("avx2")
                && is_x86_feature_detected!("fma")
                && is_x86_feature_detected!("f16c")
                && is_x86_feature_detected!("popcnt");
            if avx2 && is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("avx512vpopcntdq") {
                return Simd::Avx512;
            }
            if avx2 {
                return Simd::Avx2;
            }
        }
        Simd::Portable
    }

    /// The level the kernels run at: [`detected`](Self::detected), lowered by `VISAGE_SIMD`
    /// (`avx2`, `portable`) when that is set. Read once per process.
    pub fn current() -> Simd {
        static LEVEL: OnceLock<Simd> = OnceLock::new();
        *LEVEL.get_or_init(|| {
            let cap = match std::env::var("VISAGE_SIMD").ok().as_deref().map(str::trim) {
                Some("portable") => Simd::Portable,
                Some("avx2") => Simd::Avx2,
                _ => Simd::Avx512,
            };
            Simd::detected().min(cap)
        })
    }
}

/// `<a, b>` for a stored row and a query; both have a length that is a multiple of 16.
pub(crate) fn dot(a: &[f16], b: &[f32]) -> f32 {
    debug_assert!(a.len() == b.len() && a.len().is_multiple_of(16));
    match Simd::current() {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the level was detected; lengths are checked by the callers (debug-asserted).
        Simd::Avx512 => unsafe { x86::dot_avx512(a, b) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as above.
        Simd::Avx2 => unsafe { x86::dot_avx2(a, b) },
        _ => dot_portable(a, b),
    }
}

/// Asks the CPU to start loading a stored row that will be read soon (a hint; no effect on
/// results). Re-ranking reads rows in random order, so the hardware prefetchers cannot guess them.
pub(crate) fn prefetch(row: &[f16]) {
    #[cfg(target_arch = "x86_64")]
    for line in row.chunks(32) {
        // SAFETY: a prefetch never faults and the pointer is inside `row`; SSE is part of x86-64.
        unsafe { std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(line.as_ptr().cast()) };
    }
}

fn dot_portable(a: &[f16], b: &[f32]) -> f32 {
    let mut acc = [0f32; 16];
    let mut row = [0f32; 16];
    for (ca, cb) in a.chunks_exact(16).zip(b.chunks_exact(16)) {
        ca.convert_to_f32_slice(&mut row);
        for ((s, x), y) in acc.iter_mut().zip(&row).zip(cb) {
            *s += x * y;
        }
    }
    acc.iter().sum()
}

/// Estimates `<x, q>` for each stored face of whole code blocks (see [`crate::rows`]):
/// `out.len()` rows (a multiple of [`BLOCK`]), their codes of `query.words` words and factors.
pub(crate) fn estimate(codes: &[u64], factors: &[f32], query: &QueryCode, out: &mut [f32]) {
    debug_assert!(out.len().is_multiple_of(BLOCK));
    assert!(codes.len() == out.len() * query.words && factors.len() == out.len());
    assert!(query.planes.len() >= 4 * query.words);
    match Simd::current() {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the level was detected and the slice lengths checked above.
        Simd::Avx512 => unsafe { x86::estimate_avx512(codes, factors, query, out) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as above.
        Simd::Avx2 => unsafe { x86::estimate_avx2(codes, factors, query, out) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the feature was detected.
        _ if is_x86_feature_detected!("popcnt") => unsafe { x86::estimate_popcnt(codes, factors, query, out) },
        _ => estimate_portable(codes, factors, query, out),
    }
}

#[inline(always)]
fn estimate_portable(codes: &[u64], factors: &[f32], query: &QueryCode, out: &mut [f32]) {
    let w = query.words;
    let planes: Vec<&[u64]> = query.planes.chunks_exact(w).collect();
    let blocks = codes.chunks_exact(BLOCK * w).zip(factors.chunks_exact(BLOCK)).zip(out.chunks_exact_mut(BLOCK));
    for ((block, factors), out) in blocks {
        for (r, (est, factor)) in out.iter_mut().zip(factors).enumerate() {
            let (mut levels, mut bits) = (0u32, 0u32);
            for i in 0..w {
                let c = block[i * BLOCK + r];
                bits += c.count_ones();
                for (k, plane) in planes.iter().enumerate() {
                    levels += (c & plane[i]).count_ones() << k;
                }
            }
            *est = (query.scale * levels as f32 + query.per_bit * bits as f32 + query.bias) * factor;
        }
    }
}

/// In-place unnormalised Walsh–Hadamard transform of a power-of-two length slice.
pub(crate) fn walsh_hadamard(x: &mut [f32]) {
    match Simd::current() {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the level was detected.
        Simd::Avx2 | Simd::Avx512 => unsafe { x86::walsh_hadamard_avx2(x) },
        _ => walsh_hadamard_portable(x),
    }
}

#[inline(always)]
fn walsh_hadamard_portable(x: &mut [f32]) {
    debug_assert!(x.len().is_power_of_two());
    // The first three stages as one radix-8 butterfly, so the short strides do not pay the loop
    // overhead of the generic stage below.
    if x.len() >= 8 {
        for b in x.chunks_exact_mut(8) {
            let (a0, a1, a2, a3) = (b[0] + b[1], b[0] - b[1], b[2] + b[3], b[2] - b[3]);
            let (a4, a5, a6, a7) = (b[4] + b[5], b[4] - b[5], b[6] + b[7], b[6] - b[7]);
            let (c0, c1, c2, c3) = (a0 + a2, a1 + a3, a0 - a2, a1 - a3);
            let (c4, c5, c6, c7) = (a4 + a6, a5 + a7, a4 - a6, a5 - a7);
            b.copy_from_slice(&[c0 + c4, c1 + c5, c2 + c6, c3 + c7, c0 - c4, c1 - c5, c2 - c6, c3 - c7]);
        }
    }
    let mut h = if x.len() >= 8 { 8 } else { 1 };
    while h < x.len() {
        for block in x.chunks_exact_mut(2 * h) {
            let (a, b) = block.split_at_mut(h);
            for (u, v) in a.iter_mut().zip(b.iter_mut()) {
                let (p, q) = (*u, *v);
                *u = p + q;
                *v = p - q;
            }
        }
        h *= 2;
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use half::f16;

    use crate::quant::QueryCode;

    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn dot_avx512(a: &[f16], b: &[f32]) -> f32 {
        let n = a.len();
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        let mut acc = [_mm512_setzero_ps(); 4];
        let mut i = 0;
        // SAFETY (all loads): `i + 16 <= n` for every 16-lane load and both slices have length `n`.
        while i + 64 <= n {
            for (j, s) in acc.iter_mut().enumerate() {
                let o = i + 16 * j;
                let x = _mm512_cvtph_ps(_mm256_loadu_si256(pa.add(o).cast()));
                *s = _mm512_fmadd_ps(x, _mm512_loadu_ps(pb.add(o)), *s);
            }
            i += 64;
        }
        while i + 16 <= n {
            let x = _mm512_cvtph_ps(_mm256_loadu_si256(pa.add(i).cast()));
            acc[0] = _mm512_fmadd_ps(x, _mm512_loadu_ps(pb.add(i)), acc[0]);
            i += 16;
        }
        _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3])))
    }

    #[target_feature(enable = "avx2,fma,f16c")]
    pub(super) unsafe fn dot_avx2(a: &[f16], b: &[f32]) -> f32 {
        let n = a.len();
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        let mut acc = [_mm256_setzero_ps(); 4];
        let mut i = 0;
        // SAFETY (all loads): `i + 8 <= n` for every 8-lane load and both slices have length `n`.
        while i + 32 <= n {
            for (j, s) in acc.iter_mut().enumerate() {
                let o = i + 8 * j;
                let x = _mm256_cvtph_ps(_mm_loadu_si128(pa.add(o).cast()));
                *s = _mm256_fmadd_ps(x, _mm256_loadu_ps(pb.add(o)), *s);
            }
            i += 32;
        }
        while i + 8 <= n {
            let x = _mm256_cvtph_ps(_mm_loadu_si128(pa.add(i).cast()));
            acc[0] = _mm256_fmadd_ps(x, _mm256_loadu_ps(pb.add(i)), acc[0]);
            i += 8;
        }
        let s = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
        let s = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
        let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        _mm_cvtss_f32(_mm_add_ss(s, _mm_shuffle_ps(s, s, 1)))
    }

    /// One 512-bit load holds one code word of the 8 faces of a block: four `AND`+`popcount`
    /// against the broadcast query planes and one `popcount` give the 8 estimates side by side.
    #[target_feature(enable = "avx512f,avx512vpopcntdq,fma")]
    pub(super) unsafe fn estimate_avx512(codes: &[u64], factors: &[f32], query: &QueryCode, out: &mut [f32]) {
        let w = query.words;
        let planes = query.planes.as_ptr();
        let scale = _mm256_set1_ps(query.scale);
        let per_bit = _mm256_set1_ps(query.per_bit);
        let bias = _mm256_set1_ps(query.bias);
        for (b, (out, factors)) in out.chunks_exact_mut(8).zip(factors.chunks_exact(8)).enumerate() {
            // SAFETY (all loads and stores): the caller checked that `codes` holds `8 * w` words
            // per block of `out`; `planes` holds `4 * w` words; each chunk holds 8 values.
            let block = codes.as_ptr().add(b * 8 * w);
            let mut ones = [_mm512_setzero_si512(); 4];
            let mut bits = _mm512_setzero_si512();
            for i in 0..w {
                let c = _mm512_loadu_si512(block.add(i * 8).cast());
                for (k, count) in ones.iter_mut().enumerate() {
                    let plane = _mm512_set1_epi64(*planes.add(k * w + i) as i64);
                    *count = _mm512_add_epi64(*count, _mm512_popcnt_epi64(_mm512_and_si512(c, plane)));
                }
                bits = _mm512_add_epi64(bits, _mm512_popcnt_epi64(c));
            }
            let levels = _mm512_add_epi64(
                _mm512_add_epi64(ones[0], _mm512_slli_epi64::<1>(ones[1])),
                _mm512_add_epi64(_mm512_slli_epi64::<2>(ones[2]), _mm512_slli_epi64::<3>(ones[3])),
            );
            // Counts stay far below 2^31: narrow to 32 bits, then to float.
            let levels = _mm256_cvtepi32_ps(_mm512_cvtepi64_epi32(levels));
            let bits = _mm256_cvtepi32_ps(_mm512_cvtepi64_epi32(bits));
            let raw = _mm256_fmadd_ps(scale, levels, _mm256_fmadd_ps(per_bit, bits, bias));
            _mm256_storeu_ps(out.as_mut_ptr(), _mm256_mul_ps(raw, _mm256_loadu_ps(factors.as_ptr())));
        }
    }

    /// The portable loop compiled with the `popcnt` instruction (CPUs without AVX2).
    #[target_feature(enable = "popcnt")]
    pub(super) unsafe fn estimate_popcnt(codes: &[u64], factors: &[f32], query: &QueryCode, out: &mut [f32]) {
        super::estimate_portable(codes, factors, query, out);
    }

    /// Bytewise population count by a 16-entry table per nibble (`vpshufb`).
    #[inline(always)]
    unsafe fn popcount_bytes(v: __m256i, table: __m256i, nibble: __m256i) -> __m256i {
        let low = _mm256_and_si256(v, nibble);
        let high = _mm256_and_si256(_mm256_srli_epi16::<4>(v), nibble);
        _mm256_add_epi8(_mm256_shuffle_epi8(table, low), _mm256_shuffle_epi8(table, high))
    }

    /// Two 256-bit loads hold one code word of the 8 faces of a block (4 each). Per word and
    /// half: four `AND`s with the broadcast query planes, bytewise population counts weighted
    /// `1, 2, 4, 8` and summed in bytes (at most 120 per byte), then `vpsadbw` into the 64-bit
    /// lane of each face; the code's own bits likewise.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn estimate_avx2(codes: &[u64], factors: &[f32], query: &QueryCode, out: &mut [f32]) {
        let w = query.words;
        let planes = query.planes.as_ptr();
        let table = _mm256_setr_epi8(
            0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
        );
        let nibble = _mm256_set1_epi8(0x0f);
        let zero = _mm256_setzero_si256();
        let scale = _mm256_set1_ps(query.scale);
        let per_bit = _mm256_set1_ps(query.per_bit);
        let bias = _mm256_set1_ps(query.bias);
        let even = _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6);
        for (b, (out, factors)) in out.chunks_exact_mut(8).zip(factors.chunks_exact(8)).enumerate() {
            // SAFETY (all loads and stores): the caller checked that `codes` holds `8 * w` words
            // per block of `out` and `planes` at least `4 * w`; each chunk holds 8 values.
            let block = codes.as_ptr().add(b * 8 * w);
            let mut levels = [zero; 2];
            let mut bits = [zero; 2];
            for i in 0..w {
                let p0 = _mm256_set1_epi64x(*planes.add(i) as i64);
                let p1 = _mm256_set1_epi64x(*planes.add(w + i) as i64);
                let p2 = _mm256_set1_epi64x(*planes.add(2 * w + i) as i64);
                let p3 = _mm256_set1_epi64x(*planes.add(3 * w + i) as i64);
                for h in 0..2 {
                    let c = _mm256_loadu_si256(block.add(i * 8 + 4 * h).cast());
                    let c0 = popcount_bytes(_mm256_and_si256(c, p0), table, nibble);
                    let c1 = popcount_bytes(_mm256_and_si256(c, p1), table, nibble);
                    let c2 = popcount_bytes(_mm256_and_si256(c, p2), table, nibble);
                    let c3 = popcount_bytes(_mm256_and_si256(c, p3), table, nibble);
                    // c0 + 2·(c1 + 2·(c2 + 2·c3))
                    let t = _mm256_add_epi8(c2, _mm256_add_epi8(c3, c3));
                    let t = _mm256_add_epi8(c1, _mm256_add_epi8(t, t));
                    let t = _mm256_add_epi8(c0, _mm256_add_epi8(t, t));
                    levels[h] = _mm256_add_epi64(levels[h], _mm256_sad_epu8(t, zero));
                    bits[h] = _mm256_add_epi64(bits[h], _mm256_sad_epu8(popcount_bytes(c, table, nibble), zero));
                }
            }
            // Counts stay far below 2^31: keep the low 32 bits of each lane, rows 0–3 then 4–7.
            let narrow = |v: [__m256i; 2]| {
                let (lo, hi) = (_mm256_permutevar8x32_epi32(v[0], even), _mm256_permutevar8x32_epi32(v[1], even));
                _mm256_cvtepi32_ps(_mm256_permute2x128_si256::<0x20>(lo, hi))
            };
            let raw = _mm256_fmadd_ps(scale, narrow(levels), _mm256_fmadd_ps(per_bit, narrow(bits), bias));
            _mm256_storeu_ps(out.as_mut_ptr(), _mm256_mul_ps(raw, _mm256_loadu_ps(factors.as_ptr())));
        }
    }

    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn walsh_hadamard_avx2(x: &mut [f32]) {
        super::walsh_hadamard_portable(x);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(len: usize, seed: u32) -> (Vec<f16>, Vec<f32>) {
        let a = (0..len).map(|i| f16::from_f32(((i as u32 * 7 + seed) % 23) as f32 / 23.0 - 0.5)).collect();
        let b = (0..len).map(|i| ((i as u32 * 13 + seed) % 17) as f32 / 17.0 - 0.4).collect();
        (a, b)
    }

    fn reference(a: &[f16], b: &[f32]) -> f64 {
        a.iter().zip(b).map(|(x, y)| f64::from(x.to_f32()) * f64::from(*y)).sum()
    }

    #[test]
    fn dot_kernels_agree_with_f64() {
        for len in [16, 48, 64, 112, 512] {
            let (a, b) = data(len, 3);
            let want = reference(&a, &b);
            assert!((f64::from(dot(&a, &b)) - want).abs() < 1e-4, "len {len}");
            assert!((f64::from(dot_portable(&a, &b)) - want).abs() < 1e-4, "len {len}");
            #[cfg(target_arch = "x86_64")]
            if Simd::detected() >= Simd::Avx2 {
                // SAFETY: features detected, equal lengths that are multiples of 16.
                let got = unsafe { x86::dot_avx2(&a, &b) };
                assert!((f64::from(got) - want).abs() < 1e-4, "len {len}");
            }
            #[cfg(target_arch = "x86_64")]
            if Simd::detected() >= Simd::Avx512 {
                // SAFETY: as above.
                let got = unsafe { x86::dot_avx512(&a, &b) };
                assert!((f64::from(got) - want).abs() < 1e-4, "len {len}");
            }
        }
    }

    #[test]
    fn walsh_hadamard_matches_its_definition() {
        // H[i][j] = (-1)^popcount(i & j).
        for n in [1usize, 2, 4, 8, 16, 64] {
            let x: Vec<f32> = (0..n).map(|i| (i * i % 7) as f32 - 3.0).collect();
            let mut fast = x.clone();
            walsh_hadamard(&mut fast);
            for (i, got) in fast.iter().enumerate() {
                let want: f32 =
                    x.iter().enumerate().map(|(j, v)| if (i & j).count_ones() % 2 == 0 { *v } else { -v }).sum();
                assert_eq!(*got, want, "n {n}, row {i}");
            }
        }
    }

    #[test]
    fn estimate_kernels_agree() {
        let words = 16;
        let query = QueryCode {
            planes: (0..4 * words as u64).map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15)).collect(),
            words,
            scale: 0.5,
            per_bit: -0.25,
            bias: 3.0,
        };
        let rows = 2 * BLOCK;
        let codes: Vec<u64> = (0..(rows * words) as u64).map(|i| i.wrapping_mul(0xBF58_476D_1CE4_E5B9)).collect();
        let factors: Vec<f32> = (0..rows).map(|i| 0.25 * (i + 1) as f32).collect();
        let mut want = vec![0.0; rows];
        estimate_portable(&codes, &factors, &query, &mut want);
        let mut got = vec![0.0; rows];
        estimate(&codes, &factors, &query, &mut got);
        assert_eq!(got, want);
        #[cfg(target_arch = "x86_64")]
        {
            let detected = Simd::detected();
            if detected >= Simd::Avx2 {
                let mut avx2 = vec![0.0; rows];
                // SAFETY: the level was detected; lengths as `estimate` checks them.
                unsafe { x86::estimate_avx2(&codes, &factors, &query, &mut avx2) };
                assert_eq!(avx2, want);
            }
            if detected >= Simd::Avx512 {
                let mut avx512 = vec![0.0; rows];
                // SAFETY: as above.
                unsafe { x86::estimate_avx512(&codes, &factors, &query, &mut avx512) };
                assert_eq!(avx512, want);
            }
        }
        // Spot-check the portable kernel by hand for row 9 (second block, second row).
        let word = |i: usize| codes[BLOCK * words + i * BLOCK + 1];
        let levels: u32 = (0..words)
            .map(|i| (0..4).map(|k| (word(i) & query.planes[k * words + i]).count_ones() << k).sum::<u32>())
            .sum();
        let bits: u32 = (0..words).map(|i| word(i).count_ones()).sum();
        assert_eq!(want[9], (0.5 * levels as f32 - 0.25 * bits as f32 + 3.0) * 2.5);
    }
}
