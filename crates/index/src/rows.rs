//! Chunked row storage: per face an `f16` vector and a two-bit code of it (see [`crate::quant`]):
//! the sign bits, laid out for table-lookup scanning, and the second bits, read only for the faces
//! whose estimate from the sign bits needs refining.
//!
//! Rows live in chunks of [`CHUNK_ROWS`] faces. A collection up to that size is one contiguous
//! matrix; a larger one adds chunks, so an insert never copies the collection, a removal never
//! leaves a hole (the last row moves into it), and spare capacity is at most one chunk.
//!
//! Vectors and second bits are row-major. The sign bits are grouped in blocks of [`BLOCK`] rows
//! and stored position-major inside a block: for each group of four coordinates (a *position*),
//! 16 bytes hold the four bits of rows 0–15 in their low nibbles and those of rows 16–31 in their
//! high nibbles. One 16-entry table lookup per byte lane (`vpshufb`, `tbl`) then scores a
//! position for 32 faces at once. Per-row scalars (the code's factors and number of ones) are
//! padded to whole blocks like the codes; padding rows are never reported.

use std::ops::Range;

use half::f16;

/// Faces per chunk.
pub(crate) const CHUNK_ROWS: usize = 1 << 14;
/// The smallest allocation of a chunk, in rows.
const MIN_ROWS: usize = 32;
/// Rows per code block.
pub(crate) const BLOCK: usize = 32;

/// Rows rounded up to whole blocks.
fn padded(rows: usize) -> usize {
    rows.next_multiple_of(BLOCK)
}

/// Bytes of sign bits per block of `words`-word codes (64 bits per row and word).
pub(crate) fn block_bytes(words: usize) -> usize {
    BLOCK * words * 8
}

/// Writes the sign bits `code` of row `slot` (counted from the start of `codes`, which starts at a
/// block) into blocked storage.
pub(crate) fn put_code(codes: &mut [u8], slot: usize, code: &[u64]) {
    let bytes = block_bytes(code.len());
    let block = &mut codes[(slot / BLOCK) * bytes..][..bytes];
    let (lane, shift) = (slot % 16, if slot % BLOCK >= 16 { 4 } else { 0 });
    for (p, byte) in block.iter_mut().skip(lane).step_by(16).enumerate() {
        let nibble = ((code[p / 16] >> (4 * (p % 16))) & 0xf) as u8;
        *byte = (*byte & !(0xf << shift)) | (nibble << shift);
    }
}

/// Reads back the sign bits of row `slot` written by [`put_code`].
pub(crate) fn get_code(codes: &[u8], slot: usize, code: &mut [u64]) {
    let bytes = block_bytes(code.len());
    let block = &codes[(slot / BLOCK) * bytes..][..bytes];
    let (lane, shift) = (slot % 16, if slot % BLOCK >= 16 { 4 } else { 0 });
    code.fill(0);
    for (p, byte) in block.iter().skip(lane).step_by(16).enumerate() {
        code[p / 16] |= u64::from((byte >> shift) & 0xf) << (4 * (p % 16));
    }
}

/// What the code of one row consists of (see [`crate::quant::Rotation::encode`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct RowCode {
    /// Sign bits, one per rotated coordinate.
    pub(crate) signs: Vec<u64>,
    /// Second bits of the two-bit code.
    pub(crate) fine: Vec<u64>,
    /// Correction factor of the one-bit estimate.
    pub(crate) factor: f32,
    /// Correction factor of the two-bit estimate.
    pub(crate) fine_factor: f32,
    /// Number of sign bits set.
    pub(crate) ones: u16,
}

impl RowCode {
    pub(crate) fn new(words: usize) -> Self {
        Self { signs: vec![0; words], fine: vec![0; words], ..Self::default() }
    }
}

#[derive(Default)]
struct Chunk {
    rows: usize,
    vectors: Vec<f16>,
    /// `padded(rows)` sign codes, blocked.
    codes: Vec<u8>,
    /// `padded(rows)` of each per-row value.
    factors: Vec<f32>,
    ones: Vec<u16>,
    fine_factors: Vec<f32>,
    /// `padded(rows)` second-bit codes, row-major.
    fine: Vec<u64>,
}

impl Chunk {
    fn resize(&mut self, rows: usize, stride: usize, words: usize) {
        let capacity = self.vectors.capacity() / stride;
        if rows > capacity {
            let target = rows.max(2 * capacity).clamp(MIN_ROWS, CHUNK_ROWS);
            self.reserve_rows(target, stride, words);
        }
        let slots = padded(rows);
        self.vectors.resize(rows * stride, f16::ZERO);
        self.codes.resize(slots * words * 8, 0);
        self.factors.resize(slots, 0.0);
        self.ones.resize(slots, 0);
        self.fine_factors.resize(slots, 0.0);
        self.fine.resize(slots * words, 0);
        self.rows = rows;
        if rows * 4 <= capacity && capacity > MIN_ROWS {
            let target = padded((rows * 2).max(MIN_ROWS));
            self.vectors.shrink_to(target * stride);
            self.codes.shrink_to(target * words * 8);
            self.factors.shrink_to(target);
            self.ones.shrink_to(target);
            self.fine_factors.shrink_to(target);
            self.fine.shrink_to(target * words);
        }
    }

    fn reserve_rows(&mut self, rows: usize, stride: usize, words: usize) {
        let slots = padded(rows);
        self.vectors.reserve_exact(rows * stride - self.vectors.len());
        self.codes.reserve_exact(slots * words * 8 - self.codes.len());
        self.factors.reserve_exact(slots - self.factors.len());
        self.ones.reserve_exact(slots - self.ones.len());
        self.fine_factors.reserve_exact(slots - self.fine_factors.len());
        self.fine.reserve_exact(slots * words - self.fine.len());
    }

    fn heap_bytes(&self) -> usize {
        self.vectors.capacity() * size_of::<f16>()
            + self.codes.capacity()
            + self.factors.capacity() * size_of::<f32>()
            + self.ones.capacity() * size_of::<u16>()
            + self.fine_factors.capacity() * size_of::<f32>()
            + self.fine.capacity() * size_of::<u64>()
    }

    fn code(&self, slot: usize, words: usize) -> RowCode {
        let mut code = RowCode::new(words);
        get_code(&self.codes, slot, &mut code.signs);
        code.fine.copy_from_slice(&self.fine[slot * words..(slot + 1) * words]);
        code.factor = self.factors[slot];
        code.fine_factor = self.fine_factors[slot];
        code.ones = self.ones[slot];
        code
    }

    fn set_code(&mut self, slot: usize, code: &RowCode) {
        let mut whole = RunMut {
            first: 0,
            lead: 0,
            vectors: &mut [],
            codes: &mut self.codes,
            factors: &mut self.factors,
            ones: &mut self.ones,
            fine_factors: &mut self.fine_factors,
            fine: &mut self.fine,
        };
        whole.set_code(slot, code);
    }
}

/// Consecutive rows inside one chunk, starting at row `first` of the collection (a multiple of
/// [`BLOCK`]): `rows` vectors, and the codes and per-row values of the blocks holding them.
pub(crate) struct Run<'a> {
    pub(crate) first: usize,
    pub(crate) rows: usize,
    pub(crate) vectors: &'a [f16],
    pub(crate) codes: &'a [u8],
    pub(crate) factors: &'a [f32],
    pub(crate) ones: &'a [u16],
    pub(crate) fine_factors: &'a [f32],
    pub(crate) fine: &'a [u64],
}

/// Consecutive rows inside one chunk, to be written. `first` may fall inside a block: the codes
/// and per-row values start at that block, `lead` rows before `first`.
pub(crate) struct RunMut<'a> {
    pub(crate) first: usize,
    pub(crate) lead: usize,
    pub(crate) vectors: &'a mut [f16],
    codes: &'a mut [u8],
    factors: &'a mut [f32],
    ones: &'a mut [u16],
    fine_factors: &'a mut [f32],
    fine: &'a mut [u64],
}

impl RunMut<'_> {
    /// Stores the code of the run's row `i` (counted from `first`).
    pub(crate) fn set_code(&mut self, i: usize, code: &RowCode) {
        let (slot, words) = (self.lead + i, code.signs.len());
        put_code(self.codes, slot, &code.signs);
        self.fine[slot * words..(slot + 1) * words].copy_from_slice(&code.fine);
        self.factors[slot] = code.factor;
        self.fine_factors[slot] = code.fine_factor;
        self.ones[slot] = code.ones;
    }
}

pub(crate) struct Rows {
    /// `f16` values per row: the dimension rounded up to a multiple of 16, zero-padded.
    stride: usize,
    /// Code words per row (of each of the two bit planes).
    words: usize,
    chunks: Vec<Chunk>,
    len: usize,
}

impl Rows {
    pub(crate) fn new(stride: usize, words: usize) -> Self {
        Self { stride, words, chunks: Vec::new(), len: 0 }
    }

    pub(crate) fn vector(&self, row: usize) -> &[f16] {
        let offset = (row % CHUNK_ROWS) * self.stride;
        &self.chunks[row / CHUNK_ROWS].vectors[offset..offset + self.stride]
    }

    /// Splits all rows into ranges that do not cross chunks and start at multiples of `max_rows`
    /// (itself a multiple of [`BLOCK`]) from the chunk start.
    pub(crate) fn ranges(&self, max_rows: usize) -> Vec<Range<usize>> {
        debug_assert!(max_rows.is_multiple_of(BLOCK));
        let mut ranges = Vec::new();
        for (c, chunk) in self.chunks.iter().enumerate() {
            let first = c * CHUNK_ROWS;
            ranges.extend((0..chunk.rows).step_by(max_rows).map(|s| first + s..first + (s + max_rows).min(chunk.rows)));
        }
        ranges
    }

    /// The rows of a range returned by [`Rows::ranges`].
    pub(crate) fn run(&self, rows: Range<usize>) -> Run<'_> {
        let chunk = &self.chunks[rows.start / CHUNK_ROWS];
        let (start, end) = (rows.start % CHUNK_ROWS, rows.start % CHUNK_ROWS + rows.len());
        let words = self.words;
        Run {
            first: rows.start,
            rows: rows.len(),
            vectors: &chunk.vectors[start * self.stride..end * self.stride],
            codes: &chunk.codes[start * words * 8..padded(end) * words * 8],
            factors: &chunk.factors[start..padded(end)],
            ones: &chunk.ones[start..padded(end)],
            fine_factors: &chunk.fine_factors[start..padded(end)],
            fine: &chunk.fine[start * words..padded(end) * words],
        }
    }

    /// Appends `additional` zeroed rows and returns them as runs that end at multiples of
    /// `max_rows` (a multiple of [`BLOCK`]) from their chunk start, so no two runs share a block.
    pub(crate) fn grow(&mut self, additional: usize, max_rows: usize) -> Vec<RunMut<'_>> {
        debug_assert!(max_rows.is_multiple_of(BLOCK));
        let start = self.len;
        let (stride, words) = (self.stride, self.words);
        let mut remaining = additional;
        while remaining > 0 {
            if self.chunks.last().is_none_or(|c| c.rows == CHUNK_ROWS) {
                self.chunks.push(Chunk::default());
            }
            let last = self.chunks.len() - 1;
            let chunk = &mut self.chunks[last];
            let take = remaining.min(CHUNK_ROWS - chunk.rows);
            if chunk.rows == 0 && take == CHUNK_ROWS {
                // A full chunk from a bulk load: allocate it exactly once.
                chunk.reserve_rows(CHUNK_ROWS, stride, words);
            }
            chunk.resize(chunk.rows + take, stride, words);
            remaining -= take;
        }
        self.len += additional;

        let mut runs = Vec::new();
        for (c, chunk) in self.chunks.iter_mut().enumerate().skip(start / CHUNK_ROWS) {
            let first = c * CHUNK_ROWS;
            let mut local = start.saturating_sub(first);
            let mut lead = local % BLOCK;
            let slot = local - lead;
            let mut vectors = &mut chunk.vectors[local * stride..];
            let mut codes = &mut chunk.codes[slot * words * 8..];
            let mut factors = &mut chunk.factors[slot..];
            let mut ones = &mut chunk.ones[slot..];
            let mut fine_factors = &mut chunk.fine_factors[slot..];
            let mut fine = &mut chunk.fine[slot * words..];
            while local < chunk.rows {
                let end = ((local / max_rows + 1) * max_rows).min(chunk.rows);
                let slots = padded(end) - (local - lead);
                let (v, v_rest) = vectors.split_at_mut((end - local) * stride);
                let (k, k_rest) = codes.split_at_mut(slots * words * 8);
                let (f, f_rest) = factors.split_at_mut(slots);
                let (o, o_rest) = ones.split_at_mut(slots);
                let (g, g_rest) = fine_factors.split_at_mut(slots);
                let (b, b_rest) = fine.split_at_mut(slots * words);
                runs.push(RunMut {
                    first: first + local,
                    lead,
                    vectors: v,
                    codes: k,
                    factors: f,
                    ones: o,
                    fine_factors: g,
                    fine: b,
                });
                (vectors, codes, factors, ones, fine_factors, fine) = (v_rest, k_rest, f_rest, o_rest, g_rest, b_rest);
                (local, lead) = (end, 0);
            }
        }
        runs
    }

    /// Drops the rows from `len` on.
    pub(crate) fn truncate(&mut self, len: usize) {
        let (stride, words) = (self.stride, self.words);
        while self.len > len {
            let first = self.chunks.len().saturating_sub(1) * CHUNK_ROWS;
            let Some(chunk) = self.chunks.last_mut() else {
                break;
            };
            if len <= first {
                self.chunks.pop();
                self.len = first;
            } else {
                chunk.resize(len - first, stride, words);
                self.len = len;
            }
        }
    }

    /// Moves the last row into `row` and drops the last row.
    pub(crate) fn swap_remove(&mut self, row: usize) {
        let last = self.len - 1;
        if row != last {
            let (stride, words) = (self.stride, self.words);
            let (dst_chunk, dst) = (row / CHUNK_ROWS, row % CHUNK_ROWS);
            let (src_chunk, src) = (last / CHUNK_ROWS, last % CHUNK_ROWS);
            let code = self.chunks[src_chunk].code(src, words);
            if dst_chunk == src_chunk {
                let chunk = &mut self.chunks[src_chunk];
                chunk.vectors.copy_within(src * stride..(src + 1) * stride, dst * stride);
            } else {
                let (head, tail) = self.chunks.split_at_mut(src_chunk);
                head[dst_chunk].vectors[dst * stride..(dst + 1) * stride]
                    .copy_from_slice(&tail[0].vectors[src * stride..(src + 1) * stride]);
            }
            self.chunks[dst_chunk].set_code(dst, &code);
        }
        self.truncate(last);
    }

    pub(crate) fn clear(&mut self) {
        self.chunks = Vec::new();
        self.len = 0;
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.chunks.capacity() * size_of::<Chunk>() + self.chunks.iter().map(Chunk::heap_bytes).sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WORDS: usize = 2;

    /// A code whose every part is derived from `v`.
    fn code_of(v: f32) -> RowCode {
        let x = v as u64;
        RowCode {
            signs: (0..WORDS as u64).map(|w| (x + w).wrapping_mul(0x9E37_79B9_7F4A_7C15)).collect(),
            fine: (0..WORDS as u64).map(|w| (x + w).wrapping_mul(0xBF58_476D_1CE4_E5B9)).collect(),
            factor: v,
            fine_factor: v + 0.5,
            ones: x as u16,
        }
    }

    /// Writes a value derived from the row number into every slot of the new rows.
    fn fill(rows: &mut Rows, additional: usize, value: impl Fn(usize) -> f32) {
        for mut run in rows.grow(additional, 1024) {
            for i in 0..run.vectors.len() / 16 {
                let v = value(run.first + i);
                run.set_code(i, &code_of(v));
                run.vectors[i * 16..(i + 1) * 16].fill(f16::from_f32(v));
            }
        }
    }

    /// Vector and code of a row, all expected to carry the same value.
    fn read(rows: &Rows, row: usize) -> f32 {
        let start = row - row % 1024;
        let run = rows.run(start..(start + 1024).min(rows.len));
        let local = row - start;
        let v = run.factors[local];
        assert_eq!(run.vectors[local * 16..(local + 1) * 16], [f16::from_f32(v); 16]);
        assert_eq!(rows.vector(row), &run.vectors[local * 16..(local + 1) * 16]);
        let mut signs = vec![0; WORDS];
        get_code(run.codes, local, &mut signs);
        let want = code_of(v);
        assert_eq!(signs, want.signs, "row {row}");
        assert_eq!(&run.fine[local * WORDS..(local + 1) * WORDS], want.fine, "row {row}");
        assert_eq!((run.fine_factors[local], run.ones[local]), (want.fine_factor, want.ones), "row {row}");
        v
    }

    #[test]
    fn codes_round_trip_through_the_blocked_layout() {
        let mut codes = vec![0u8; 2 * block_bytes(WORDS)];
        let all: Vec<Vec<u64>> =
            (0..2 * BLOCK as u64).map(|r| vec![r.wrapping_mul(0x9E37_79B9_7F4A_7C15), !r << 3]).collect();
        for (slot, code) in all.iter().enumerate() {
            put_code(&mut codes, slot, code);
        }
        let mut back = vec![0; WORDS];
        for (slot, code) in all.iter().enumerate() {
            get_code(&codes, slot, &mut back);
            assert_eq!(&back, code, "slot {slot}");
        }
        // Row 17 of the first block: position 5 (bits 20..24 of word 0) in the high nibble of
        // byte 5·16 + 1.
        assert_eq!(u64::from(codes[5 * 16 + 1] >> 4), (all[17][0] >> 20) & 0xf);
    }

    #[test]
    fn grows_across_chunks_and_swap_removes() {
        let mut rows = Rows::new(16, WORDS);
        // Unaligned batches, so runs start inside blocks.
        fill(&mut rows, 10, |r| r as f32);
        fill(&mut rows, 3, |r| r as f32);
        fill(&mut rows, CHUNK_ROWS + 5, |r| (r % 2048) as f32);
        assert_eq!(rows.len, CHUNK_ROWS + 18);
        assert_eq!(rows.chunks.len(), 2);
        for row in [0, 9, 10, 12, 13, 31, 32, 1000, CHUNK_ROWS - 1, CHUNK_ROWS, CHUNK_ROWS + 17] {
            assert_eq!(read(&rows, row), (row % 2048) as f32);
        }
        let ranges = rows.ranges(1024);
        assert_eq!(ranges.iter().map(|r| r.len()).sum::<usize>(), CHUNK_ROWS + 18);
        assert!(ranges
            .iter()
            .all(|r| r.start.is_multiple_of(BLOCK) && r.start / CHUNK_ROWS == (r.end - 1) / CHUNK_ROWS));

        // The last row (value (CHUNK_ROWS + 17) % 2048 = 17) moves across chunks into row 3,
        // then a row of the first chunk moves within it.
        rows.swap_remove(3);
        assert_eq!(read(&rows, 3), 17.0);
        assert_eq!(rows.len, CHUNK_ROWS + 17);
        rows.truncate(CHUNK_ROWS);
        assert_eq!(rows.chunks.len(), 1);
        rows.swap_remove(5);
        assert_eq!(read(&rows, 5), ((CHUNK_ROWS - 1) % 2048) as f32);
        assert_eq!(read(&rows, 4), 4.0);

        rows.truncate(4);
        assert_eq!(rows.len, 4);
        assert_eq!(read(&rows, 3), 17.0);
        assert!(rows.heap_bytes() < 100 * (16 * 2 + WORDS * 16 + 10), "shrinks after mass removal");
        rows.clear();
        assert_eq!(rows.len, 0);
        assert_eq!(rows.heap_bytes(), 0);
    }

    #[test]
    fn bulk_growth_allocates_exactly() {
        let mut rows = Rows::new(16, WORDS);
        fill(&mut rows, 2 * CHUNK_ROWS + 100, |r| r as f32);
        // Vector, both code planes, two factors and the count of ones.
        let code_bytes = WORDS * 16 + 10;
        let per_row = 16 * 2 + code_bytes;
        let chunks = rows.chunks.capacity() * size_of::<Chunk>();
        // The last chunk's 100 rows are padded to whole blocks (128) for codes and their values.
        assert_eq!(rows.heap_bytes() - chunks, (2 * CHUNK_ROWS + 100) * per_row + 28 * code_bytes);
    }
}
