//! The searchable collection of one recognition service.

use std::hash::{BuildHasher, RandomState};
use std::ops::Range;
use std::sync::OnceLock;

use half::{f16, slice::HalfFloatSliceExt};
use hashbrown::HashTable;
use uuid::Uuid;
use visage_common::similarity::distance_from_dot;

use crate::error::IndexError;
use crate::kernels;
use crate::quant::{QueryCode, Rotation};
use crate::rows::{RowCode, Rows, Run, RunMut};
use crate::topk::{for_each_at_or_above, Scored, Selection, Sure, TopK};

/// The caller's compact id of a subject (a person). Renaming or merging subjects is done by the
/// caller through [`Collection::reassign_subject`].
pub type SubjectId = u32;

/// Collections up to this many faces are always searched exhaustively.
pub const EXACT_SEARCH_MAX_FACES: usize = 8_192;
/// Besides the faces a guarantee needs, at most this many candidates with the best estimates (on
/// top of the `k` asked for) are re-ranked exactly; re-ranking usually stops much earlier (see
/// [`Collection::search`]).
pub const RERANK_CANDIDATES: usize = 512;
/// Standard deviations of an estimate's error that the search's margins cover: an estimate is that
/// far too low with probability about 1e-9.
pub const CONFIDENCE: f32 = 6.0;

/// Rows handled as one unit of work (and of thread splitting).
const RUN_ROWS: usize = 4_096;
/// Rows per step of the code scan: their codes stay in L1 cache while every query reads them.
const SCAN_ROWS: usize = 256;
/// Rows re-ranked ahead of the one being read are prefetched.
const PREFETCH_AHEAD: usize = 4;
/// Candidates ordered and re-ranked between two checks of the stopping rule.
const RERANK_STEP: usize = 256;
/// Below these row counts per thread, a second thread costs more than it saves.
const EXACT_ROWS_PER_THREAD: usize = 8_192;
const CODE_ROWS_PER_THREAD: usize = 65_536;
const ENCODE_ROWS_PER_THREAD: usize = 2_048;

/// How many of the nearest faces a search returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// At most this many faces.
    Top(usize),
    /// Every face of the collection.
    All,
}

impl Limit {
    /// Reads CompreFace's `prediction_count`: `-1` means all faces, a positive number that many;
    /// anything else is invalid (`None`).
    pub fn from_prediction_count(count: i64) -> Option<Self> {
        match count {
            -1 => Some(Limit::All),
            n if n > 0 => Some(Limit::Top(usize::try_from(n).unwrap_or(usize::MAX))),
            _ => None,
        }
    }
}

/// One stored face found by a search.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Neighbor {
    pub face: Uuid,
    pub subject: SubjectId,
    /// Euclidean distance between the unit-length query and the unit-length stored embedding,
    /// `sqrt(max(0, 2 - 2·cos))`, in `[0, 2]`.
    pub distance: f32,
}

/// An embedding element type accepted on insert: `f32`, or `f16` as stored.
pub trait Component: Copy + Send + Sync + sealed::Sealed {
    /// Converts `src` into `dst` (same length).
    fn to_f32(src: &[Self], dst: &mut [f32]);
}

impl Component for f32 {
    fn to_f32(src: &[Self], dst: &mut [f32]) {
        dst.copy_from_slice(src);
    }
}

impl Component for f16 {
    fn to_f32(src: &[Self], dst: &mut [f32]) {
        src.convert_to_f32_slice(dst);
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for half::f16 {}
}

/// The faces of one recognition service, searchable by embedding. See the crate documentation.
pub struct Collection {
    dim: usize,
    /// `dim` rounded up to a multiple of 16: the length of a stored row and a prepared query.
    stride: usize,
    rotation: Rotation,
    rows: Rows,
    ids: Vec<Uuid>,
    subjects: Vec<SubjectId>,
    /// Row of each face, hashed by the face id in `ids[row]`.
    index: HashTable<u32>,
    hasher: RandomState,
    /// The lowest one-bit and two-bit alignments of any face ever stored, which bound the error
    /// of the estimates (see [`crate::quant`]).
    alignments: (f32, f32),
}

impl Collection {
    /// An empty collection of `dim`-dimensional embeddings.
    pub fn new(dim: usize) -> Result<Self, IndexError> {
        if dim == 0 || dim > crate::MAX_DIM {
            return Err(IndexError::InvalidDimension(dim));
        }
        let rotation = Rotation::new(dim);
        let stride = dim.next_multiple_of(16);
        Ok(Self {
            dim,
            stride,
            rows: Rows::new(stride, rotation.words()),
            rotation,
            ids: Vec::new(),
            subjects: Vec::new(),
            index: HashTable::new(),
            hasher: RandomState::new(),
            alignments: (1.0, 1.0),
        })
    }

    /// The dimension of the embeddings, fixed at creation.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The number of stored faces.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether no face is stored.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Whether a face with this id is stored.
    pub fn contains(&self, face: Uuid) -> bool {
        self.row_of(face).is_some()
    }

    /// The subject of a stored face.
    pub fn subject_of(&self, face: Uuid) -> Option<SubjectId> {
        self.row_of(face).map(|row| self.subjects[row])
    }

    /// Adds one face. Its embedding is normalised to unit length before it is stored.
    pub fn insert<T: Component>(&mut self, face: Uuid, subject: SubjectId, embedding: &[T]) -> Result<(), IndexError> {
        self.insert_many(&[(face, subject, embedding)])
    }

    /// Adds faces: all of them, or none if one is refused (wrong dimension, NaN or infinite
    /// values, zero vector, or an id already stored or repeated in the batch). Large batches are
    /// encoded on all cores; this is also the bulk load.
    pub fn insert_many<T, E>(&mut self, faces: &[(Uuid, SubjectId, E)]) -> Result<(), IndexError>
    where
        T: Component,
        E: AsRef<[T]> + Sync,
    {
        if let Some((_, _, e)) = faces.iter().find(|(_, _, e)| e.as_ref().len() != self.dim) {
            return Err(IndexError::DimensionMismatch { expected: self.dim, actual: e.as_ref().len() });
        }
        let old_len = self.len();
        if old_len + faces.len() > u32::MAX as usize {
            return Err(IndexError::TooManyFaces);
        }
        reserve(&mut self.ids, faces.len());
        reserve(&mut self.subjects, faces.len());
        let (ids, hasher) = (&self.ids, &self.hasher);
        self.index.reserve(faces.len(), |&r| hasher.hash_one(ids[r as usize]));
        for &(face, subject, _) in faces {
            if self.contains(face) {
                self.truncate(old_len);
                return Err(IndexError::DuplicateFace(face));
            }
            let row = self.ids.len() as u32;
            self.ids.push(face);
            self.subjects.push(subject);
            let (ids, hasher) = (&self.ids, &self.hasher);
            self.index.insert_unique(hasher.hash_one(face), row, |&r| hasher.hash_one(ids[r as usize]));
        }

        let (dim, stride, rotation) = (self.dim, self.stride, &self.rotation);
        let mut runs = self.rows.grow(faces.len(), RUN_ROWS);
        let threads = workers(faces.len(), ENCODE_ROWS_PER_THREAD);
        let outcome = in_parallel(&mut runs, threads, |runs| {
            let mut scratch = Scratch {
                unit: vec![0.0; dim],
                rotated: vec![0.0; rotation.padded()],
                code: RowCode::new(rotation.words()),
            };
            let mut lowest = (1f32, 1f32);
            for run in runs {
                let (a1, a2) = encode_run(run, &faces[run.first - old_len..], rotation, stride, &mut scratch)?;
                lowest = (lowest.0.min(a1), lowest.1.min(a2));
            }
            Ok(lowest)
        });
        let mut lowest = self.alignments;
        for part in outcome {
            match part {
                Ok((a1, a2)) => lowest = (lowest.0.min(a1), lowest.1.min(a2)),
                Err(err) => {
                    self.truncate(old_len);
                    return Err(err);
                }
            }
        }
        self.alignments = lowest;
        Ok(())
    }

    /// Removes a face; returns its subject, or `None` if it was not stored.
    pub fn remove(&mut self, face: Uuid) -> Option<SubjectId> {
        let row = self.row_of(face)?;
        let subject = self.subjects[row];
        self.remove_row(row);
        Some(subject)
    }

    /// Removes every face of `subject`; returns how many there were.
    pub fn remove_subject(&mut self, subject: SubjectId) -> usize {
        let mut removed = 0;
        // Downwards: the row moved into a freed slot comes from above, already checked.
        for row in (0..self.len()).rev() {
            if self.subjects[row] == subject {
                self.remove_row(row);
                removed += 1;
            }
        }
        removed
    }

    /// The stored faces of `subject`, in storage order.
    pub fn faces_of(&self, subject: SubjectId) -> Vec<Uuid> {
        self.subjects.iter().zip(&self.ids).filter(|(s, _)| **s == subject).map(|(_, id)| *id).collect()
    }

    /// Moves every face of subject `from` to subject `to` (a rename or a merge); returns how many.
    pub fn reassign_subject(&mut self, from: SubjectId, to: SubjectId) -> usize {
        let mut moved = 0;
        for s in self.subjects.iter_mut().filter(|s| **s == from) {
            *s = to;
            moved += 1;
        }
        moved
    }

    /// Removes every face and releases the memory.
    pub fn clear(&mut self) {
        self.rows.clear();
        self.ids = Vec::new();
        self.subjects = Vec::new();
        self.index = HashTable::new();
    }

    /// The nearest stored faces to each query, nearest first: one list per query, each of
    /// `min(limit, len)` faces. All queries of a call (the faces of one image) share one pass
    /// over the data.
    ///
    /// Collections up to [`EXACT_SEARCH_MAX_FACES`] faces, and searches for more than a quarter
    /// of the faces, compare every stored vector. Larger collections are scanned through their
    /// codes; the best `k +` [`RERANK_CANDIDATES`] estimates are re-ranked exactly from the
    /// stored vectors in order of decreasing estimate, until the best estimate left is more than
    /// [`CONFIDENCE`] standard errors of the estimator below the k-th best exact score found. A
    /// clear match therefore costs little more than the scan; among many faces at about the same
    /// low similarity the exact best may be missed (see [`Collection::search_guaranteed`]).
    pub fn search<E: AsRef<[f32]>>(&self, queries: &[E], limit: Limit) -> Result<Vec<Vec<Neighbor>>, IndexError> {
        self.find(queries, limit, None)
    }

    /// [`search`](Self::search) with a guarantee: every stored face whose cosine similarity to the
    /// query is at least `cosine` and that belongs among the `limit` nearest is found, except with
    /// a probability of about 1e-9 per such face (an estimate [`CONFIDENCE`] standard errors too
    /// low). Every face the scan estimates near or above `cosine` is refined with its two-bit
    /// code, and every refined estimate near or above it is re-ranked exactly: the lower
    /// `cosine`, the more faces that takes. A `cosine` of −1 or less compares every face.
    pub fn search_guaranteed<E: AsRef<[f32]>>(
        &self,
        queries: &[E],
        limit: Limit,
        cosine: f32,
    ) -> Result<Vec<Vec<Neighbor>>, IndexError> {
        self.find(queries, limit, (!cosine.is_nan()).then_some(cosine))
    }

    fn find<E: AsRef<[f32]>>(
        &self,
        queries: &[E],
        limit: Limit,
        guarantee: Option<f32>,
    ) -> Result<Vec<Vec<Neighbor>>, IndexError> {
        let queries = queries.iter().map(|q| self.prepare(q.as_ref())).collect::<Result<Vec<_>, _>>()?;
        let n = self.len();
        let k = match limit {
            Limit::Top(k) => k.min(n),
            Limit::All => n,
        };
        if k == 0 || queries.is_empty() {
            return Ok(vec![Vec::new(); queries.len()]);
        }
        let best = if n <= EXACT_SEARCH_MAX_FACES || k.saturating_mul(4) >= n || guarantee.is_some_and(|c| c <= -1.0) {
            self.exact(&queries, k)
        } else {
            self.approximate(&queries, k, guarantee)
        };
        Ok(best
            .into_iter()
            .map(|top| {
                top.into_sorted()
                    .into_iter()
                    .map(|s| Neighbor {
                        face: self.ids[s.row as usize],
                        subject: self.subjects[s.row as usize],
                        distance: distance(s.score),
                    })
                    .collect()
            })
            .collect())
    }

    /// The exact distance from one stored face to each query, in query order (for verifying a
    /// face against a stored one).
    pub fn distances<E: AsRef<[f32]>>(&self, face: Uuid, queries: &[E]) -> Result<Vec<f32>, IndexError> {
        let row = self.row_of(face).ok_or(IndexError::UnknownFace(face))?;
        let stored = self.rows.vector(row);
        queries.iter().map(|q| Ok(distance(kernels::dot(stored, &self.prepare(q.as_ref())?)))).collect()
    }

    /// Bytes allocated by the collection (vectors, codes, ids, subjects and the id index).
    pub fn heap_bytes(&self) -> usize {
        self.rows.heap_bytes()
            + self.ids.capacity() * size_of::<Uuid>()
            + self.subjects.capacity() * size_of::<SubjectId>()
            + self.index.allocation_size()
            + self.rotation.heap_bytes()
    }

    fn row_of(&self, face: Uuid) -> Option<usize> {
        self.index.find(self.hasher.hash_one(face), |&r| self.ids[r as usize] == face).map(|&r| r as usize)
    }

    /// Drops rows from `len` on, with their ids (used to undo a refused insert).
    fn truncate(&mut self, len: usize) {
        for row in len..self.ids.len() {
            let hash = self.hasher.hash_one(self.ids[row]);
            if let Ok(entry) = self.index.find_entry(hash, |&r| r as usize == row) {
                entry.remove();
            }
        }
        self.ids.truncate(len);
        self.subjects.truncate(len);
        self.rows.truncate(len);
    }

    fn remove_row(&mut self, row: usize) {
        let hash = self.hasher.hash_one(self.ids[row]);
        if let Ok(entry) = self.index.find_entry(hash, |&r| r as usize == row) {
            entry.remove();
        }
        let last = self.len() - 1;
        if row != last {
            let hash = self.hasher.hash_one(self.ids[last]);
            if let Some(r) = self.index.find_mut(hash, |&r| r as usize == last) {
                *r = row as u32;
            }
        }
        self.ids.swap_remove(row);
        self.subjects.swap_remove(row);
        self.rows.swap_remove(row);
    }

    /// Checks and normalises a query; pads it to the row stride.
    fn prepare(&self, query: &[f32]) -> Result<Vec<f32>, IndexError> {
        let mut unit = vec![0.0; self.stride];
        normalise(query, &mut unit[..self.dim])?;
        Ok(unit)
    }

    fn exact(&self, queries: &[Vec<f32>], k: usize) -> Vec<TopK> {
        self.scan(
            EXACT_ROWS_PER_THREAD,
            queries,
            |_| TopK::new(k),
            |run, tops| {
                for (i, row) in run.vectors.chunks_exact(self.stride).enumerate() {
                    let r = (run.first + i) as u32;
                    for (q, top) in queries.iter().zip(tops.iter_mut()) {
                        top.push(kernels::dot(row, q), r);
                    }
                }
            },
        )
    }

    /// [`CONFIDENCE`] standard deviations of the error of an estimate whose code has alignment
    /// `a`, for a face at cosine `c` to a query whose quantisation left `residual` (see
    /// [`crate::quant`]).
    fn margin(&self, a: f32, c: f32, residual: f32) -> f32 {
        let p = self.rotation.padded() as f32;
        let a = a.max(1e-3);
        let rotation = (1.0 - c * c).max(0.0) * (1.0 - a * a) / (p - 1.0);
        let quantisation = residual * residual / p;
        CONFIDENCE * (rotation + quantisation).sqrt() / a
    }

    fn approximate(&self, queries: &[Vec<f32>], k: usize, guarantee: Option<f32>) -> Vec<TopK> {
        let codes: Vec<QueryCode> = queries.iter().map(|q| QueryCode::new(&self.rotation, &q[..self.dim])).collect();
        let (a1, a2) = self.alignments;
        // Per query: the margins of one-bit and two-bit estimates (for any face), and the
        // estimates from which a face might be at or above the guaranteed cosine: the scan refines
        // faces from `zone` up, and keeps refined ones from `sure` up.
        let plans: Vec<Plan> = codes
            .iter()
            .map(|code| {
                let r = code.residual;
                let (zone, sure, reach) = match guarantee {
                    Some(c) => (c - self.margin(a1, c, r), c - self.margin(a2, c, r), Reach::new(self, c, r)),
                    None => (f32::INFINITY, f32::INFINITY, Reach::default()),
                };
                Plan { coarse: self.margin(a1, 0.0, r), fine: self.margin(a2, 0.0, r), zone, sure, reach }
            })
            .collect();
        let words = self.rotation.words();
        let new = |plan: &Plan| Candidates {
            // Re-ranking stops `fine` below the k-th best exact score, which is at least the k-th
            // best refined estimate minus `fine`: refined faces `2 · fine` below it never count.
            sure: Sure::new(k, 2.0 * plan.fine),
            effort: TopK::new(k + RERANK_CANDIDATES),
            plan: *plan,
        };
        let lists = self.scan(CODE_ROWS_PER_THREAD, &plans, new, |run, lists| {
            let mut estimates = [0.0; SCAN_ROWS];
            let mut levels = [0u32; SCAN_ROWS];
            let bytes = crate::rows::block_bytes(words);
            let steps = run.codes.chunks(SCAN_ROWS / crate::rows::BLOCK * bytes).zip(run.factors.chunks(SCAN_ROWS));
            for (b, (step_codes, step_factors)) in steps.enumerate() {
                let first = b * SCAN_ROWS;
                let slots = step_factors.len();
                let ones = &run.ones[first..first + slots];
                // Padding rows of the last block are estimated but not reported.
                let rows = slots.min(run.rows - first);
                let (estimates, levels) = (&mut estimates[..slots], &mut levels[..slots]);
                for (code, list) in codes.iter().zip(lists.iter_mut()) {
                    kernels::estimate(step_codes, ones, step_factors, code, levels, estimates);
                    // The faces to refine are gathered first and their second bits prefetched,
                    // so that their cache misses overlap instead of following one another.
                    let (mut refine, mut count) = ([0u16; SCAN_ROWS], 0);
                    let bar = list.effort.floor().min(list.plan.zone);
                    for_each_at_or_above(&estimates[..rows], bar, |i| {
                        let row = (run.first + first + i) as u32;
                        let slot = first + i;
                        if estimates[i] >= list.plan.zone && list.plan.reach.reaches(estimates[i], run.factors[slot]) {
                            kernels::prefetch(&run.fine[slot * words..(slot + 1) * words]);
                            refine[count] = i as u16;
                            count += 1;
                        } else {
                            list.effort.push(estimates[i], row);
                        }
                    });
                    for &i in &refine[..count] {
                        let (i, slot) = (usize::from(i), first + usize::from(i));
                        let fine = &run.fine[slot * words..(slot + 1) * words];
                        let refined = kernels::refine(fine, levels[i], run.ones[slot], run.fine_factors[slot], code);
                        let row = (run.first + slot) as u32;
                        if refined >= list.plan.sure {
                            list.sure.push(refined, row);
                        } else {
                            list.effort.push(refined, row);
                        }
                    }
                }
            }
        });
        lists
            .into_iter()
            .zip(queries)
            .zip(&plans)
            .map(|((list, q), plan)| {
                let mut top = TopK::new(k);
                // Refined candidates first: they hold the clear matches, which raise the bar for
                // the others.
                self.rerank(&mut list.sure.into_candidates(), q, plan.fine, &mut top);
                self.rerank(&mut list.effort.into_unsorted(), q, plan.coarse, &mut top);
                top
            })
            .collect()
    }

    /// Re-ranks `candidates` exactly into `top`, in order of decreasing estimate, until the best
    /// estimate left is more than `margin` below the k-th best exact score: a face further down
    /// would need an estimation error that large to belong in the result.
    fn rerank(&self, candidates: &mut [Scored], q: &[f32], margin: f32, top: &mut TopK) {
        let mut rest = candidates;
        // Ordered one step at a time, as re-ranking usually stops early.
        while !rest.is_empty() {
            let step = RERANK_STEP.min(rest.len());
            if rest.len() > step {
                rest.select_nth_unstable(step - 1);
            }
            let (batch, tail) = rest.split_at_mut(step);
            batch.sort_unstable();
            if batch[0].score < top.bar() - margin {
                break;
            }
            for (i, candidate) in batch.iter().enumerate() {
                if let Some(ahead) = batch.get(i + PREFETCH_AHEAD) {
                    kernels::prefetch(self.rows.vector(ahead.row as usize));
                }
                top.push(kernels::dot(self.rows.vector(candidate.row as usize), q), candidate.row);
            }
            rest = tail;
        }
    }

    /// Visits every row, split over threads, each with its own selection per query, and merges
    /// the threads' selections.
    fn scan<Q: Sync, S: Selection>(
        &self,
        rows_per_thread: usize,
        queries: &[Q],
        new: impl Fn(&Q) -> S + Sync,
        visit: impl Fn(Run<'_>, &mut [S]) + Sync,
    ) -> Vec<S> {
        let mut ranges = self.rows.ranges(RUN_ROWS);
        let threads = workers(self.len(), rows_per_thread);
        let parts = in_parallel(&mut ranges, threads, |ranges: &mut [Range<usize>]| {
            let mut selections: Vec<S> = queries.iter().map(&new).collect();
            for range in ranges.iter() {
                visit(self.rows.run(range.clone()), &mut selections);
            }
            selections
        });
        let mut parts = parts.into_iter();
        let mut merged = parts.next().unwrap_or_else(|| queries.iter().map(&new).collect());
        for part in parts {
            for (into, from) in merged.iter_mut().zip(part) {
                into.merge(from);
            }
        }
        merged
    }
}

/// Checks one embedding and writes it, scaled to unit length, into `out` (the collection's dimension).
fn normalise<T: Component>(embedding: &[T], out: &mut [f32]) -> Result<(), IndexError> {
    if embedding.len() != out.len() {
        return Err(IndexError::DimensionMismatch { expected: out.len(), actual: embedding.len() });
    }
    T::to_f32(embedding, out);
    // Independent partial sums, so that the loop vectorises.
    let mut partial = [0f32; 16];
    for (i, v) in out.iter().enumerate() {
        partial[i % 16] += v * v;
    }
    let squares: f32 = partial.iter().sum();
    let scale = if squares.is_finite() && squares >= f32::MIN_POSITIVE {
        1.0 / f64::from(squares).sqrt()
    } else {
        // NaN or infinity, or values so large or small that their squares leave f32's range.
        if !out.iter().all(|v| v.is_finite()) {
            return Err(IndexError::NonFinite);
        }
        let norm = out.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>().sqrt();
        if norm == 0.0 {
            return Err(IndexError::ZeroVector);
        }
        1.0 / norm
    };
    if scale.is_finite() && scale < f64::from(f32::MAX) {
        let scale = scale as f32;
        out.iter_mut().for_each(|v| *v *= scale);
    } else {
        out.iter_mut().for_each(|v| *v = (f64::from(*v) * scale) as f32);
    }
    Ok(())
}

/// Normalises and encodes the faces of one run into it; returns the lowest alignments of their
/// codes.
fn encode_run<T: Component, E: AsRef<[T]>>(
    run: &mut RunMut<'_>,
    faces: &[(Uuid, SubjectId, E)],
    rotation: &Rotation,
    stride: usize,
    scratch: &mut Scratch,
) -> Result<(f32, f32), IndexError> {
    let mut lowest = (1f32, 1f32);
    for (i, (_, _, embedding)) in faces.iter().take(run.vectors.len() / stride).enumerate() {
        normalise(embedding.as_ref(), &mut scratch.unit)?;
        run.vectors[i * stride..i * stride + scratch.unit.len()].convert_from_f32_slice(&scratch.unit);
        let (a1, a2) = rotation.encode(&scratch.unit, &mut scratch.rotated, &mut scratch.code);
        lowest = (lowest.0.min(a1), lowest.1.min(a2));
        run.set_code(i, &scratch.code);
    }
    Ok(lowest)
}

/// Per-thread buffers for encoding.
struct Scratch {
    unit: Vec<f32>,
    rotated: Vec<f32>,
    code: RowCode,
}

/// How the code scan treats one query (see `Collection::approximate`).
#[derive(Clone, Copy)]
struct Plan {
    coarse: f32,
    fine: f32,
    zone: f32,
    sure: f32,
    reach: Reach,
}

/// Whether a face's one-bit estimate may be at or above the guaranteed cosine `c`, with the
/// margin of its own code's alignment `a` rather than the worst one's. The margin `m` of
/// [`Collection::margin`] satisfies `m² = u²·A − B` with `u = 1 / a`, and `u = factor · P²` for a
/// one-bit code's factor `1 / ‖x'‖₁` (as `‖x'‖₂ = P^1.5` for a unit vector): so the test is
/// `(c − estimate)² + B ≤ A·P⁴·factor²`, without a square root or a division.
#[derive(Clone, Copy, Default)]
struct Reach {
    cosine: f32,
    /// `A·P⁴` and `B`.
    scale: f32,
    offset: f32,
}

impl Reach {
    fn new(collection: &Collection, cosine: f32, residual: f32) -> Self {
        let p = collection.rotation.padded() as f32;
        let z2 = CONFIDENCE * CONFIDENCE;
        let rotation = (1.0 - cosine * cosine).max(0.0) / (p - 1.0);
        let a = z2 * (rotation + residual * residual / p);
        Self { cosine, scale: a * p.powi(4), offset: z2 * rotation }
    }

    #[inline(always)]
    fn reaches(&self, estimate: f32, factor: f32) -> bool {
        let gap = self.cosine - estimate;
        gap <= 0.0 || gap * gap + self.offset <= self.scale * factor * factor
    }
}

/// The candidates of a code scan for one query: refined faces that may be at or above the
/// guaranteed cosine, and the best estimates of the others.
struct Candidates {
    sure: Sure,
    effort: TopK,
    plan: Plan,
}

impl Selection for Candidates {
    fn merge(&mut self, other: Self) {
        self.sure.merge(other.sure);
        self.effort.merge(other.effort);
    }
}

fn distance(dot: f32) -> f32 {
    distance_from_dot(f64::from(dot)) as f32
}

/// Makes room for `additional` more elements: exactly that many into an empty vector (a bulk
/// load), otherwise at least an eighth more, which keeps pushes amortised O(1) and spare capacity
/// within 12.5%.
fn reserve<T>(v: &mut Vec<T>, additional: usize) {
    if v.capacity() - v.len() < additional {
        v.reserve_exact(additional.max(v.len() / 8));
    }
}

/// Threads worth using for `rows` rows: at most one per core, each with at least `per_thread`.
fn workers(rows: usize, per_thread: usize) -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    let cores = *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, usize::from));
    (rows / per_thread).clamp(1, cores)
}

/// Runs `work` on up to `threads` contiguous parts of `items`, in parallel (the calling thread
/// takes the last part), and returns the results in order.
fn in_parallel<W: Send, R: Send>(items: &mut [W], threads: usize, work: impl Fn(&mut [W]) -> R + Sync) -> Vec<R> {
    let size = items.len().div_ceil(threads.max(1)).max(1);
    std::thread::scope(|scope| {
        let mut parts = items.chunks_mut(size);
        let last = parts.next_back();
        let work = &work;
        let handles: Vec<_> = parts.map(|part| scope.spawn(move || work(part))).collect();
        let last = last.map(work);
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            .chain(last)
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_per_face_reach_is_the_margin_of_the_face_alignment() {
        let collection = Collection::new(512).unwrap();
        let p = collection.rotation.padded() as f32;
        for (cosine, residual) in [(0.3839f32, 0.12f32), (0.6, 0.05), (-0.2, 0.3)] {
            let reach = Reach::new(&collection, cosine, residual);
            for a in [0.6f32, 0.75, 0.8, 0.85] {
                let factor = 1.0 / (a * p * p);
                let margin = collection.margin(a, cosine, residual);
                assert!(reach.reaches(cosine - margin + 1e-4, factor), "a {a}, cosine {cosine}");
                assert!(!reach.reaches(cosine - margin - 1e-4, factor), "a {a}, cosine {cosine}");
                assert!(reach.reaches(cosine + 0.1, factor));
            }
        }
    }
}
