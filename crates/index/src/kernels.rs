//! The hot loops: `f16 × f32` dot products, the code-scan estimate and the Walsh–Hadamard transform.
//!
//! Each kernel picks the widest instruction set the CPU has at run time (AVX-512 with
//! VPOPCNTDQ, AVX2 with F16C and FMA, POPCNT) and falls back to portable code elsewhere.

use half::{f16, slice::HalfFloatSliceExt};

use crate::quant::QueryCode;
use crate::rows::BLOCK;

/// `<a, b>` for a stored row and a query; both have a length that is a multiple of 16.
pub(crate) fn dot(a: &[f16], b: &[f32]) -> f32 {
    debug_assert!(a.len() == b.len() && a.len().is_multiple_of(16));
    #[cfg(target_arch = "x86_64")]
    {
        if is_x86_feature_detected!("avx512f") {
            // SAFETY: the feature was detected; lengths are checked by the callers (debug-asserted).
            return unsafe { x86::dot_avx512(a, b) };
        }
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") && is_x86_feature_detected!("f16c") {
            // SAFETY: as above.
            return unsafe { x86::dot_avx2(a, b) };
        }
    }
    dot_portable(a, b)
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
    #[cfg(target_arch = "x86_64")]
    {
        if is_x86_feature_detected!("avx512f")
            && is_x86_feature_detected!("avx512vpopcntdq")
            && is_x86_feature_detected!("fma")
        {
            // SAFETY: the features were detected and the slice lengths checked above.
            return unsafe { x86::estimate_avx512(codes, factors, query, out) };
        }
        if is_x86_feature_detected!("popcnt") {
            // SAFETY: the feature was detected.
            return unsafe { x86::estimate_popcnt(codes, factors, query, out) };
        }
    }
    estimate_portable(codes, factors, query, out);
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
    #[cfg(target_arch = "x86_64")]
    {
        if is_x86_feature_detected!("avx2") {
            // SAFETY: the feature was detected.
            return unsafe { x86::walsh_hadamard_avx2(x) };
        }
    }
    walsh_hadamard_portable(x);
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

    #[target_feature(enable = "popcnt")]
    pub(super) unsafe fn estimate_popcnt(codes: &[u64], factors: &[f32], query: &QueryCode, out: &mut [f32]) {
        super::estimate_portable(codes, factors, query, out);
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
            if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") && is_x86_feature_detected!("f16c") {
                // SAFETY: features detected, equal lengths that are multiples of 16.
                let got = unsafe { x86::dot_avx2(&a, &b) };
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
        // Spot-check the portable kernel by hand for row 9 (second block, second row).
        let word = |i: usize| codes[BLOCK * words + i * BLOCK + 1];
        let levels: u32 = (0..words)
            .map(|i| (0..4).map(|k| (word(i) & query.planes[k * words + i]).count_ones() << k).sum::<u32>())
            .sum();
        let bits: u32 = (0..words).map(|i| word(i).count_ones()).sum();
        assert_eq!(want[9], (0.5 * levels as f32 - 0.25 * bits as f32 + 3.0) * 2.5);
    }
}
