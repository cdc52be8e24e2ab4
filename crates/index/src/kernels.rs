//! The hot loops: `f16 × f32` dot products, the code scan's table lookups, the two-bit refinement
//! and the Walsh–Hadamard transform.
//!
//! Each kernel runs at the [`Simd`] level chosen once per process from the CPU's features:
//! AVX-512 (with VPOPCNTDQ), AVX2 (with FMA, F16C and POPCNT), NEON on ARM (always present on
//! AArch64), or portable code elsewhere. `VISAGE_SIMD=avx2` or `portable` caps the level, to
//! measure or test a lower one on a CPU that has more. Every kernel is tested against the
//! portable one, bit for bit.

use std::sync::OnceLock;

use half::{f16, slice::HalfFloatSliceExt};

use crate::quant::QueryCode;
use crate::rows::{block_bytes, BLOCK};

/// The instruction sets the kernels use, widest last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Simd {
    Portable,
    /// NEON (Advanced SIMD), part of every AArch64 CPU.
    Neon,
    /// AVX2 with FMA, F16C and POPCNT.
    Avx2,
    /// AVX-512F with VPOPCNTDQ (and the AVX2 set).
    Avx512,
}

impl Simd {
    pub fn as_str(self) -> &'static str {
        match self {
            Simd::Portable => "portable",
            Simd::Neon => "neon",
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
        #[cfg(target_arch = "aarch64")]
        return Simd::Neon;
        #[allow(unreachable_code)]
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

/// Asks the CPU to start loading data that will be read soon: every 64-byte line `data` touches
/// (a hint; no effect on results). Re-ranking and refinement read rows in random order, so the
/// hardware prefetchers cannot guess them.
pub(crate) fn prefetch<T>(data: &[T]) {
    #[cfg(not(target_arch = "x86_64"))]
    let _ = data;
    #[cfg(target_arch = "x86_64")]
    {
        let (start, bytes) = (data.as_ptr().cast::<u8>(), size_of_val(data));
        // The lines of the first and the last byte, and every line between.
        let lines = if bytes == 0 { 0 } else { (start as usize + bytes - 1) / 64 - start as usize / 64 + 1 };
        for line in 0..lines {
            // SAFETY: a prefetch never faults, and the address is in a line of `data`; SSE is part
            // of x86-64.
            let at = start.wrapping_add(line * 64).min(start.wrapping_add(bytes - 1));
            unsafe { std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(at.cast()) };
        }
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

/// For each stored face of whole code blocks (see [`crate::rows`]): `levels[i] = Σ b·u` of its
/// sign bits and the query's levels, and `out[i]` the one-bit estimate of `<x, q>`.
pub(crate) fn estimate(
    codes: &[u8],
    ones: &[u16],
    factors: &[f32],
    query: &QueryCode,
    levels: &mut [u32],
    out: &mut [f32],
) {
    let rows = out.len();
    debug_assert!(rows.is_multiple_of(BLOCK));
    assert!(codes.len() == rows / BLOCK * block_bytes(query.words));
    assert!(ones.len() == rows && factors.len() == rows && levels.len() == rows);
    assert!(query.lut.len() == 16 * query.positions());
    match Simd::current() {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the level was detected and the slice lengths checked above.
        Simd::Avx2 | Simd::Avx512 => unsafe { x86::estimate_avx2(codes, ones, factors, query, levels, out) },
        #[cfg(target_arch = "aarch64")]
        // SAFETY: NEON is part of AArch64; lengths checked above.
        Simd::Neon => unsafe { neon::estimate_neon(codes, ones, factors, query, levels, out) },
        _ => estimate_portable(codes, ones, factors, query, levels, out),
    }
}

fn estimate_portable(
    codes: &[u8],
    ones: &[u16],
    factors: &[f32],
    query: &QueryCode,
    levels: &mut [u32],
    out: &mut [f32],
) {
    let positions = query.positions();
    for (block, sums) in codes.chunks_exact(positions * 16).zip(levels.chunks_exact_mut(BLOCK)) {
        let mut acc = [0u32; BLOCK];
        for (bytes, table) in block.chunks_exact(16).zip(query.lut.chunks_exact(16)) {
            for (i, &b) in bytes.iter().enumerate() {
                acc[i] += u32::from(table[usize::from(b & 0xf)]);
                acc[i + 16] += u32::from(table[usize::from(b >> 4)]);
            }
        }
        sums.copy_from_slice(&acc);
    }
    finish(query, levels, ones, factors, out);
}

/// The estimates from the level sums; shared by every kernel so that all give the same floats.
#[inline(always)]
fn finish(query: &QueryCode, levels: &[u32], ones: &[u16], factors: &[f32], out: &mut [f32]) {
    for (((o, &l), &n), &f) in out.iter_mut().zip(levels).zip(ones).zip(factors) {
        *o = query.estimate(l, n, f);
    }
}

/// The two-bit estimate of `<x, q>` for one stored face: its second bits `fine`, the `levels`
/// the scan found for it, its number of sign bits set and its two-bit factor.
pub(crate) fn refine(fine: &[u64], levels: u32, ones: u16, fine_factor: f32, query: &QueryCode) -> f32 {
    assert!(fine.len() == query.words && query.planes.len() >= 4 * query.words);
    let (fine_ones, fine_levels) = match Simd::current() {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the level was detected; lengths checked above.
        Simd::Avx512 => unsafe { x86::fine_sums_avx512(fine, &query.planes) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the level was detected (AVX2 implies POPCNT here).
        Simd::Avx2 => unsafe { x86::fine_sums_popcnt(fine, &query.planes) },
        _ => fine_sums(fine, &query.planes),
    };
    query.fine_estimate(levels, ones, fine_ones, fine_levels, fine_factor)
}

/// `(Σ c, Σ c·u)` for second bits `c` and the query's level planes.
#[inline(always)]
fn fine_sums(fine: &[u64], planes: &[u64]) -> (u32, u32) {
    let w = fine.len();
    let (mut ones, mut levels) = (0, 0);
    for (i, &c) in fine.iter().enumerate() {
        ones += c.count_ones();
        for k in 0..4 {
            levels += (c & planes[k * w + i]).count_ones() << k;
        }
    }
    (ones, levels)
}

/// Bit `i` of `out` is set where `values[i] > 0` (`values.len() == 64 · out.len()`).
pub(crate) fn sign_bits(values: &[f32], out: &mut [u64]) {
    assert_eq!(values.len(), 64 * out.len());
    match Simd::current() {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the level was detected; lengths checked above.
        Simd::Avx2 | Simd::Avx512 => unsafe { x86::bits_avx2::<false>(values, 0.0, out) },
        _ => bits_portable(values, out, |v| v > 0.0),
    }
}

/// Bit `i` of `out` is set where `|values[i]| > step`.
pub(crate) fn magnitude_bits(values: &[f32], step: f32, out: &mut [u64]) {
    assert_eq!(values.len(), 64 * out.len());
    match Simd::current() {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as above.
        Simd::Avx2 | Simd::Avx512 => unsafe { x86::bits_avx2::<true>(values, step, out) },
        _ => bits_portable(values, out, |v| v.abs() > step),
    }
}

fn bits_portable(values: &[f32], out: &mut [u64], set: impl Fn(f32) -> bool) {
    for (word, values) in out.iter_mut().zip(values.chunks_exact(64)) {
        *word = values.iter().enumerate().fold(0, |w, (i, &v)| w | (u64::from(set(v)) << i));
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

    /// Two positions of 32 faces per 256-bit load: the low nibbles (rows 0–15) and the high ones
    /// (rows 16–31) index the two positions' 16-entry tables (`vpshufb`, one table per 128-bit
    /// lane). Four loads are summed in bytes (at most 4 · 60), then widened into 16-bit sums per
    /// row and lane (at most 60 · P / 8, which fits for P ≤ 8192), added up per row at the end.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn estimate_avx2(
        codes: &[u8],
        ones: &[u16],
        factors: &[f32],
        query: &QueryCode,
        levels: &mut [u32],
        out: &mut [f32],
    ) {
        let positions = query.positions();
        let lut = query.lut.as_ptr();
        let nibble = _mm256_set1_epi8(0x0f);
        let zero = _mm256_setzero_si256();
        for (b, sums) in levels.chunks_exact_mut(32).enumerate() {
            // SAFETY (all loads and stores): the caller checked that `codes` holds `positions · 16`
            // bytes per block of 32 rows and `lut` 16 per position; `positions` is even.
            let block = codes.as_ptr().add(b * positions * 16);
            // Rows 0–7, 8–15, 16–23, 24–31; even positions in the low lane, odd in the high.
            let mut acc = [zero; 4];
            let mut p = 0;
            while p < positions {
                let end = (p + 8).min(positions);
                let (mut low, mut high) = (zero, zero);
                while p < end {
                    let v = _mm256_loadu_si256(block.add(p * 16).cast());
                    let table = _mm256_loadu_si256(lut.add(p * 16).cast());
                    let lo = _mm256_and_si256(v, nibble);
                    let hi = _mm256_and_si256(_mm256_srli_epi16::<4>(v), nibble);
                    low = _mm256_add_epi8(low, _mm256_shuffle_epi8(table, lo));
                    high = _mm256_add_epi8(high, _mm256_shuffle_epi8(table, hi));
                    p += 2;
                }
                acc[0] = _mm256_add_epi16(acc[0], _mm256_unpacklo_epi8(low, zero));
                acc[1] = _mm256_add_epi16(acc[1], _mm256_unpackhi_epi8(low, zero));
                acc[2] = _mm256_add_epi16(acc[2], _mm256_unpacklo_epi8(high, zero));
                acc[3] = _mm256_add_epi16(acc[3], _mm256_unpackhi_epi8(high, zero));
            }
            for (g, a) in acc.iter().enumerate() {
                let even = _mm256_cvtepu16_epi32(_mm256_castsi256_si128(*a));
                let odd = _mm256_cvtepu16_epi32(_mm256_extracti128_si256::<1>(*a));
                _mm256_storeu_si256(sums.as_mut_ptr().add(8 * g).cast(), _mm256_add_epi32(even, odd));
            }
        }
        super::finish(query, levels, ones, factors, out);
    }

    #[target_feature(enable = "popcnt")]
    pub(super) unsafe fn fine_sums_popcnt(fine: &[u64], planes: &[u64]) -> (u32, u32) {
        super::fine_sums(fine, planes)
    }

    /// Eight words of second bits per 512-bit register: one `vpopcntq` per plane and register.
    #[target_feature(enable = "avx512f,avx512vpopcntdq,popcnt")]
    pub(super) unsafe fn fine_sums_avx512(fine: &[u64], planes: &[u64]) -> (u32, u32) {
        let w = fine.len();
        let (mut ones, mut levels) = (_mm512_setzero_si512(), _mm512_setzero_si512());
        let mut i = 0;
        while i + 8 <= w {
            // SAFETY: `i + 8 <= w`; `planes` holds four planes of `w` words (checked by the caller).
            let c = _mm512_loadu_si512(fine.as_ptr().add(i).cast());
            ones = _mm512_add_epi64(ones, _mm512_popcnt_epi64(c));
            for k in 0..4 {
                let plane = _mm512_loadu_si512(planes.as_ptr().add(k * w + i).cast());
                let count = _mm512_popcnt_epi64(_mm512_and_si512(c, plane));
                levels = _mm512_add_epi64(levels, _mm512_sllv_epi64(count, _mm512_set1_epi64(k as i64)));
            }
            i += 8;
        }
        let (mut o, mut l) = (_mm512_reduce_add_epi64(ones) as u32, _mm512_reduce_add_epi64(levels) as u32);
        // Codes of 64–256 dimensions have fewer than 8 words.
        for (j, &c) in fine.iter().enumerate().skip(i) {
            o += c.count_ones();
            for k in 0..4 {
                l += (c & planes[k * w + j]).count_ones() << k;
            }
        }
        (o, l)
    }

    /// Eight comparisons per `vcmpps` and `vmovmskps`: `v > bar`, or `|v| > bar` when `ABS`.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn bits_avx2<const ABS: bool>(values: &[f32], bar: f32, out: &mut [u64]) {
        let bar = _mm256_set1_ps(bar);
        let magnitude = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fff_ffff));
        for (word, values) in out.iter_mut().zip(values.chunks_exact(64)) {
            let mut bits = 0u64;
            for (j, eight) in values.chunks_exact(8).enumerate() {
                // SAFETY: `eight` holds 8 values.
                let mut v = _mm256_loadu_ps(eight.as_ptr());
                if ABS {
                    v = _mm256_and_ps(v, magnitude);
                }
                let mask = _mm256_movemask_ps(_mm256_cmp_ps::<_CMP_GT_OQ>(v, bar)) as u8;
                bits |= u64::from(mask) << (8 * j);
            }
            *word = bits;
        }
    }

    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn walsh_hadamard_avx2(x: &mut [f32]) {
        super::walsh_hadamard_portable(x);
    }
}

#[cfg(target_arch = "aarch64")]
mod neon {
    use std::arch::aarch64::*;

    use crate::quant::QueryCode;

    /// Positions whose 16-bit sums are added into the 32-bit ones: 1 024 · 60 fits in 16 bits.
    const FLUSH: usize = 1024;

    /// The AVX2 kernel's scheme on 128-bit registers: one position of 32 faces per load, the low
    /// nibbles (rows 0–15) and the high ones (rows 16–31) looked up in the position's table
    /// (`tbl`), four loads summed in bytes, then widened into 16-bit and 32-bit sums per row.
    #[target_feature(enable = "neon")]
    pub(super) unsafe fn estimate_neon(
        codes: &[u8],
        ones: &[u16],
        factors: &[f32],
        query: &QueryCode,
        levels: &mut [u32],
        out: &mut [f32],
    ) {
        let positions = query.positions();
        let lut = query.lut.as_ptr();
        let nibble = vdupq_n_u8(0x0f);
        for (b, sums) in levels.chunks_exact_mut(32).enumerate() {
            // SAFETY (all loads and stores): the caller checked that `codes` holds `positions · 16`
            // bytes per block of 32 rows and `lut` 16 per position; `sums` holds 32 values.
            let block = codes.as_ptr().add(b * positions * 16);
            let mut total = [vdupq_n_u32(0); 8];
            let mut p = 0;
            while p < positions {
                let flush = (p + FLUSH).min(positions);
                // Rows 0–7, 8–15, 16–23, 24–31.
                let mut acc = [vdupq_n_u16(0); 4];
                while p < flush {
                    let end = (p + 4).min(flush);
                    let (mut low, mut high) = (vdupq_n_u8(0), vdupq_n_u8(0));
                    while p < end {
                        let v = vld1q_u8(block.add(p * 16));
                        let table = vld1q_u8(lut.add(p * 16));
                        low = vaddq_u8(low, vqtbl1q_u8(table, vandq_u8(v, nibble)));
                        high = vaddq_u8(high, vqtbl1q_u8(table, vshrq_n_u8::<4>(v)));
                        p += 1;
                    }
                    acc[0] = vaddw_u8(acc[0], vget_low_u8(low));
                    acc[1] = vaddw_high_u8(acc[1], low);
                    acc[2] = vaddw_u8(acc[2], vget_low_u8(high));
                    acc[3] = vaddw_high_u8(acc[3], high);
                }
                for (g, a) in acc.iter().enumerate() {
                    total[2 * g] = vaddw_u16(total[2 * g], vget_low_u16(*a));
                    total[2 * g + 1] = vaddw_high_u16(total[2 * g + 1], *a);
                }
            }
            for (g, t) in total.iter().enumerate() {
                vst1q_u32(sums.as_mut_ptr().add(4 * g), *t);
            }
        }
        super::finish(query, levels, ones, factors, out);
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

    type EstimateKernel = fn(&[u8], &[u16], &[f32], &QueryCode, &mut [u32], &mut [f32]);

    /// Every kernel available on this CPU, with the portable one first.
    fn estimate_kernels() -> Vec<(&'static str, EstimateKernel)> {
        let mut kernels: Vec<(&'static str, EstimateKernel)> =
            vec![("portable", estimate_portable), ("dispatched", estimate)];
        #[cfg(target_arch = "x86_64")]
        if Simd::detected() >= Simd::Avx2 {
            // SAFETY: the level was detected; the test passes lengths as `estimate` checks them.
            kernels.push(("avx2", |c, o, f, q, l, e| unsafe { x86::estimate_avx2(c, o, f, q, l, e) }));
        }
        #[cfg(target_arch = "aarch64")]
        // SAFETY: as above; NEON is part of AArch64.
        kernels.push(("neon", |c, o, f, q, l, e| unsafe { neon::estimate_neon(c, o, f, q, l, e) }));
        kernels
    }

    fn random_query(words: usize, seed: u64) -> QueryCode {
        let rotation = crate::quant::Rotation::new(64 * words);
        let q: Vec<f32> = (0..64 * words as u64).map(|i| ((i * 7919 + seed) % 101) as f32 - 50.0).collect();
        let norm = q.iter().map(|x| x * x).sum::<f32>().sqrt();
        QueryCode::new(&rotation, &q.iter().map(|x| x / norm).collect::<Vec<_>>())
    }

    #[test]
    fn estimate_kernels_agree() {
        for words in [1, 2, 8, 16] {
            let query = random_query(words, 3);
            let rows = 3 * BLOCK;
            let codes: Vec<u8> =
                (0..(rows * words * 8) as u64).map(|i| (i.wrapping_mul(0xBF58_476D_1CE4_E5B9) >> 56) as u8).collect();
            let ones: Vec<u16> = (0..rows as u16).map(|i| i * 3 % 64).collect();
            let factors: Vec<f32> = (0..rows).map(|i| 0.25 * (i + 1) as f32).collect();
            let mut want = (vec![0; rows], vec![0.0; rows]);
            estimate_portable(&codes, &ones, &factors, &query, &mut want.0, &mut want.1);
            for (name, kernel) in estimate_kernels() {
                let mut got = (vec![0; rows], vec![0.0; rows]);
                kernel(&codes, &ones, &factors, &query, &mut got.0, &mut got.1);
                assert_eq!(got, want, "{name}, {words} words");
            }
            // The sums by hand for some rows, from the query's bit planes instead of its table.
            for row in [0, 15, 16, 31, 32 + 9, 2 * 32 + 20] {
                let mut code = vec![0; words];
                crate::rows::get_code(&codes, row, &mut code);
                let levels: u32 = (0..words)
                    .map(|i| (0..4).map(|k| (code[i] & query.planes[k * words + i]).count_ones() << k).sum::<u32>())
                    .sum();
                assert_eq!(want.0[row], levels, "row {row}");
                assert_eq!(want.1[row], query.estimate(levels, ones[row], factors[row]));
            }
        }
    }

    #[test]
    fn estimate_sums_do_not_overflow_at_the_largest_dimension() {
        // P = 8192: every bit set and every level 15 gives 15 · 8192 per row.
        let words = crate::MAX_DIM / 64;
        let query = QueryCode {
            lut: (0..16 * words * 16).map(|i| 15 * (i % 16).count_ones() as u8).collect(),
            planes: vec![u64::MAX; 4 * words],
            words,
            lo: 0.0,
            step: 1.0,
            sum: 0.0,
            residual: 0.0,
        };
        let rows = BLOCK;
        let (codes, ones, factors) = (vec![0xffu8; rows * words * 8], vec![0u16; rows], vec![1.0f32; rows]);
        for (name, kernel) in estimate_kernels() {
            let mut got = (vec![0; rows], vec![0.0; rows]);
            kernel(&codes, &ones, &factors, &query, &mut got.0, &mut got.1);
            assert!(got.0.iter().all(|&l| l == 15 * 8192), "{name}");
        }
    }

    #[test]
    fn bit_packing_kernels_agree() {
        let values: Vec<f32> = (0..256).map(|i| ((i * 37 % 101) as f32 - 50.0) / 10.0).collect();
        let mut want = (vec![0u64; 4], vec![0u64; 4]);
        bits_portable(&values, &mut want.0, |v| v > 0.0);
        bits_portable(&values, &mut want.1, |v| v.abs() > 2.5);
        assert_eq!(want.0[0] & 0b111, 0b100, "values -5.0, -1.3, 2.4");
        let mut got = (vec![0u64; 4], vec![0u64; 4]);
        sign_bits(&values, &mut got.0);
        magnitude_bits(&values, 2.5, &mut got.1);
        assert_eq!(got, want);
        #[cfg(target_arch = "x86_64")]
        if Simd::detected() >= Simd::Avx2 {
            let mut avx2 = (vec![0u64; 4], vec![0u64; 4]);
            // SAFETY: the level was detected; lengths match.
            unsafe {
                x86::bits_avx2::<false>(&values, 0.0, &mut avx2.0);
                x86::bits_avx2::<true>(&values, 2.5, &mut avx2.1);
            }
            assert_eq!(avx2, want);
        }
    }

    #[test]
    fn refine_kernels_agree() {
        for words in [1, 2, 4, 8, 16, 32] {
            let query = random_query(words, 5);
            let fine: Vec<u64> = (0..words as u64).map(|i| (i + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)).collect();
            let by_hand: (u32, u32) = (
                fine.iter().map(|c| c.count_ones()).sum(),
                (0..words)
                    .map(|i| (0..4).map(|k| (fine[i] & query.planes[k * words + i]).count_ones() << k).sum::<u32>())
                    .sum(),
            );
            assert_eq!(fine_sums(&fine, &query.planes), by_hand);
            #[cfg(target_arch = "x86_64")]
            {
                if Simd::detected() >= Simd::Avx2 {
                    // SAFETY: the level was detected.
                    assert_eq!(unsafe { x86::fine_sums_popcnt(&fine, &query.planes) }, by_hand);
                }
                if Simd::detected() >= Simd::Avx512 {
                    // SAFETY: as above.
                    assert_eq!(unsafe { x86::fine_sums_avx512(&fine, &query.planes) }, by_hand);
                }
            }
            let want = query.fine_estimate(100, 7, by_hand.0, by_hand.1, 0.5);
            assert_eq!(refine(&fine, 100, 7, 0.5, &query), want);
        }
    }
}
