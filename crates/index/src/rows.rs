//! Chunked row storage: per face an `f16` vector, a one-bit code and a code correction factor.
//!
//! Rows live in chunks of [`CHUNK_ROWS`] faces. A collection up to that size is one contiguous
//! matrix; a larger one adds chunks, so an insert never copies the collection, a removal never
//! leaves a hole (the last row moves into it), and spare capacity is at most one chunk.
//!
//! Vectors are row-major. Codes and factors are grouped in blocks of [`BLOCK`] rows, and inside
//! a block the codes are word-major (word `w` of the 8 rows is contiguous), so that one 512-bit
//! load holds one word of 8 faces and the code scan needs no horizontal sums. The last block of a
//! chunk is padded; padding rows are never reported.

use std::ops::Range;

use half::f16;

/// Faces per chunk.
pub(crate) const CHUNK_ROWS: usize = 1 << 14;
/// The smallest allocation of a chunk, in rows.
const MIN_ROWS: usize = 16;
/// Rows per code block.
pub(crate) const BLOCK: usize = 8;

/// Rows rounded up to whole blocks.
fn padded(rows: usize) -> usize {
    rows.next_multiple_of(BLOCK)
}

/// Index of word `w` of row `row` in block-major, word-major storage of `words`-word codes.
pub(crate) fn code_slot(row: usize, w: usize, words: usize) -> usize {
    (row / BLOCK) * BLOCK * words + w * BLOCK + row % BLOCK
}

#[derive(Default)]
struct Chunk {
    rows: usize,
    vectors: Vec<f16>,
    /// `padded(rows)` codes, blocked.
    codes: Vec<u64>,
    /// `padded(rows)` factors.
    factors: Vec<f32>,
}

impl Chunk {
    fn resize(&mut self, rows: usize, stride: usize, words: usize) {
        let capacity = self.vectors.capacity() / stride;
        if rows > capacity {
            let target = rows.max(2 * capacity).clamp(MIN_ROWS, CHUNK_ROWS);
            self.reserve_rows(target, stride, words);
        }
        self.vectors.resize(rows * stride, f16::ZERO);
        self.codes.resize(padded(rows) * words, 0);
        self.factors.resize(padded(rows), 0.0);
        self.rows = rows;
        if rows * 4 <= capacity && capacity > MIN_ROWS {
            let target = padded((rows * 2).max(MIN_ROWS));
            self.vectors.shrink_to(target * stride);
            self.codes.shrink_to(target * words);
            self.factors.shrink_to(target);
        }
    }

    fn reserve_rows(&mut self, rows: usize, stride: usize, words: usize) {
        self.vectors.reserve_exact(rows * stride - self.vectors.len());
        self.codes.reserve_exact(padded(rows) * words - self.codes.len());
        self.factors.reserve_exact(padded(rows) - self.factors.len());
    }

    fn heap_bytes(&self) -> usize {
        self.vectors.capacity() * size_of::<f16>()
            + self.codes.capacity() * size_of::<u64>()
            + self.factors.capacity() * size_of::<f32>()
    }
}

/// Consecutive rows inside one chunk, starting at row `first` of the collection (a multiple of
/// [`BLOCK`]): `rows` vectors, and the codes and factors of the blocks holding them.
pub(crate) struct Run<'a> {
    pub(crate) first: usize,
    pub(crate) rows: usize,
    pub(crate) vectors: &'a [f16],
    pub(crate) codes: &'a [u64],
    pub(crate) factors: &'a [f32],
}

/// Consecutive rows inside one chunk, to be written. `first` may fall inside a block: the codes
/// and factors start at that block, `lead` rows before `first`.
pub(crate) struct RunMut<'a> {
    pub(crate) first: usize,
    pub(crate) lead: usize,
    pub(crate) vectors: &'a mut [f16],
    pub(crate) codes: &'a mut [u64],
    pub(crate) factors: &'a mut [f32],
}

pub(crate) struct Rows {
    /// `f16` values per row: the dimension rounded up to a multiple of 16, zero-padded.
    stride: usize,
    /// Code words per row.
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
        Run {
            first: rows.start,
            rows: rows.len(),
            vectors: &chunk.vectors[start * self.stride..end * self.stride],
            codes: &chunk.codes[start * self.words..padded(end) * self.words],
            factors: &chunk.factors[start..padded(end)],
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
            let lead = local % BLOCK;
            let mut vectors = &mut chunk.vectors[local * stride..];
            let mut codes = &mut chunk.codes[(local - lead) * words..];
            let mut factors = &mut chunk.factors[local - lead..];
            let mut lead = lead;
            while local < chunk.rows {
                let end = ((local / max_rows + 1) * max_rows).min(chunk.rows);
                let blocks = padded(end) - (local - lead);
                let (v, v_rest) = vectors.split_at_mut((end - local) * stride);
                let (k, k_rest) = codes.split_at_mut(blocks * words);
                let (f, f_rest) = factors.split_at_mut(blocks);
                runs.push(RunMut { first: first + local, lead, vectors: v, codes: k, factors: f });
                (vectors, codes, factors) = (v_rest, k_rest, f_rest);
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
            if dst_chunk == src_chunk {
                let chunk = &mut self.chunks[src_chunk];
                chunk.vectors.copy_within(src * stride..(src + 1) * stride, dst * stride);
                for w in 0..words {
                    chunk.codes[code_slot(dst, w, words)] = chunk.codes[code_slot(src, w, words)];
                }
                chunk.factors[dst] = chunk.factors[src];
            } else {
                let (head, tail) = self.chunks.split_at_mut(src_chunk);
                let (to, from) = (&mut head[dst_chunk], &tail[0]);
                to.vectors[dst * stride..(dst + 1) * stride]
                    .copy_from_slice(&from.vectors[src * stride..(src + 1) * stride]);
                for w in 0..words {
                    to.codes[code_slot(dst, w, words)] = from.codes[code_slot(src, w, words)];
                }
                to.factors[dst] = from.factors[src];
            }
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

    /// Writes a value derived from the row number into every slot of the new rows.
    fn fill(rows: &mut Rows, additional: usize, value: impl Fn(usize) -> f32) {
        for run in rows.grow(additional, 1024) {
            for i in 0..run.vectors.len() / 16 {
                let v = value(run.first + i);
                run.factors[run.lead + i] = v;
                for w in 0..WORDS {
                    run.codes[code_slot(run.lead + i, w, WORDS)] = v as u64 + w as u64;
                }
                run.vectors[i * 16..(i + 1) * 16].fill(f16::from_f32(v));
            }
        }
    }

    /// Vector, code and factor of a row, all expected to carry the same value.
    fn read(rows: &Rows, row: usize) -> f32 {
        let start = row - row % 1024;
        let run = rows.run(start..(start + 1024).min(rows.len));
        let local = row - start;
        let v = run.factors[local];
        assert_eq!(run.vectors[local * 16..(local + 1) * 16], [f16::from_f32(v); 16]);
        assert_eq!(rows.vector(row), &run.vectors[local * 16..(local + 1) * 16]);
        for w in 0..WORDS {
            assert_eq!(run.codes[code_slot(local, w, WORDS)], v as u64 + w as u64, "row {row} word {w}");
        }
        v
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
        for row in [0, 9, 10, 12, 13, 1000, CHUNK_ROWS - 1, CHUNK_ROWS, CHUNK_ROWS + 17] {
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

        rows.truncate(4);
        assert_eq!(rows.len, 4);
        assert_eq!(read(&rows, 3), 17.0);
        assert!(rows.heap_bytes() < 100 * (16 * 2 + WORDS * 8 + 4), "shrinks after mass removal");
        rows.clear();
        assert_eq!(rows.len, 0);
        assert_eq!(rows.heap_bytes(), 0);
    }

    #[test]
    fn bulk_growth_allocates_exactly() {
        let mut rows = Rows::new(16, WORDS);
        fill(&mut rows, 2 * CHUNK_ROWS + 100, |r| r as f32);
        let per_row = 16 * 2 + WORDS * 8 + 4;
        let chunks = rows.chunks.capacity() * size_of::<Chunk>();
        // The last chunk's 100 rows are padded to whole blocks (104) for codes and factors.
        assert_eq!(rows.heap_bytes() - chunks, (2 * CHUNK_ROWS + 100) * per_row + 4 * (WORDS * 8 + 4));
    }
}
