//! Measures `visage-index` on synthetic data: agreement with exact `f32` search, the threshold
//! guarantee, per-query latency, memory and load time.
//!
//! ```text
//! cargo run --release -p visage-index --example recall                        # 1k, 100k, 1M faces, both data sets
//! cargo run --release -p visage-index --example recall -- 100000 isotropic    # chosen sizes and data
//! ```
//!
//! Searches run as api-service runs them: with the guarantee at the cosine where w600k_mbf's
//! similarity is 0.5 (every stored face at or above it that belongs in the answer is found).

#[path = "common/synthetic.rs"]
mod synthetic;

use std::hint::black_box;
use std::time::{Duration, Instant};

use half::f16;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use synthetic::{Gallery, Generator};
use uuid::Uuid;
use visage_index::{Collection, Limit, SubjectId};

const DIM: usize = 512;
/// The cosine at which `similarity = 0.5` for w600k_mbf (`c0 = 1.11`: `1 − c0² / 2`).
const GUARANTEED_COSINE: f32 = 1.0 - 1.11 * 1.11 / 2.0;
const K: usize = 5;
const KNOWN_QUERIES: usize = 2_000;
const UNKNOWN_QUERIES: usize = 1_000;
/// Faces of one image searched in one call.
const BATCH: usize = 8;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let sizes: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let sizes = if sizes.is_empty() { vec![1_000, 100_000, 1_000_000] } else { sizes };
    let mut generators = Vec::new();
    if !args.iter().any(|a| a == "isotropic") || args.iter().any(|a| a == "face-like") {
        generators.push(Generator::new(DIM, 42));
    }
    if !args.iter().any(|a| a == "face-like") || args.iter().any(|a| a == "isotropic") {
        generators.push(Generator::isotropic(DIM, 43));
    }
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    println!(
        "visage-index: recall and latency on SYNTHETIC data (not real faces), {DIM}-d, {cores} cores, kernels: {} \
         (this CPU: {}; VISAGE_SIMD=avx2 or portable lowers it)",
        visage_index::Simd::current().as_str(),
        visage_index::Simd::detected().as_str()
    );
    println!("searches guarantee every face at or above cosine {GUARANTEED_COSINE:.4} (similarity 0.5)");
    for generator in &generators {
        println!("\n== {} data", generator.name());
        report_cosines(generator);
        for &n in &sizes {
            measure(generator, n);
        }
    }
}

/// Prints the cosine distribution of the generated faces, to show what the data looks like.
fn report_cosines(generator: &Generator) {
    let mut rng = StdRng::seed_from_u64(1);
    let (mut same, mut different) = (Vec::new(), Vec::new());
    for _ in 0..2_000 {
        let (a, b) = (generator.identity(&mut rng), generator.identity(&mut rng));
        same.push(cosine(&generator.face(&a, &mut rng), &generator.face(&a, &mut rng)));
        different.push(cosine(&generator.face(&a, &mut rng), &generator.face(&b, &mut rng)));
    }
    let summary = |v: &mut Vec<f32>| {
        v.sort_by(f32::total_cmp);
        format!("p5 {:.2}, p50 {:.2}, p95 {:.2}", v[v.len() / 20], v[v.len() / 2], v[v.len() * 19 / 20])
    };
    println!("cosine of two faces of one identity: {}", summary(&mut same));
    println!("cosine of faces of two identities:   {}", summary(&mut different));
}

/// Agreement with the exact search and latencies for one set of queries.
struct Outcome {
    top1: f64,
    top5: f64,
    /// Single-query searches for the nearest face (`prediction_count=1`).
    nearest: Vec<Duration>,
    /// Single-query searches for the 5 nearest faces.
    five: Vec<Duration>,
    /// Largest difference between a returned distance and the `f32` distance of that face.
    max_error: f64,
    /// Exact top-5 faces at or above the guaranteed cosine, and those of them the index missed.
    guaranteed: usize,
    missed: usize,
}

fn evaluate(collection: &Collection, gallery: &Gallery, queries: &[Vec<f32>]) -> Outcome {
    let exact = exact_top(gallery, queries);
    let (mut top1, mut top5, mut max_error, mut guaranteed, mut missed) = (0, 0, 0f64, 0, 0);
    let (mut nearest, mut five) = (Vec::new(), Vec::new());
    for (q, want) in queries.iter().zip(&exact) {
        let start = Instant::now();
        let found = collection.search_guaranteed(&[q], Limit::Top(1), GUARANTEED_COSINE).expect("valid query");
        nearest.push(start.elapsed());
        top1 += usize::from(found[0][0].face.as_u128() == u128::from(want[0].0));

        let start = Instant::now();
        let found = collection.search_guaranteed(&[q], Limit::Top(K), GUARANTEED_COSINE).expect("valid query");
        five.push(start.elapsed());
        let rows: Vec<u32> = found[0].iter().map(|m| m.face.as_u128() as u32).collect();
        top5 += want.iter().filter(|(row, _)| rows.contains(row)).count();
        // A face at or above the threshold may only be replaced by one at the same cosine (a tie
        // within f16 rounding).
        let last = found[0].last().map_or(f32::INFINITY, |m| 1.0 - m.distance * m.distance / 2.0);
        for (row, cosine) in want.iter().filter(|(_, c)| *c >= GUARANTEED_COSINE) {
            guaranteed += 1;
            missed += usize::from(!rows.contains(row) && *cosine > last + 1e-4);
        }
        for (m, &row) in found[0].iter().zip(&rows) {
            let stored = &gallery.vectors[row as usize * DIM..(row as usize + 1) * DIM];
            let d = (2.0 - 2.0 * f64::from(cosine(stored, q))).max(0.0).sqrt();
            max_error = max_error.max((f64::from(m.distance) - d).abs());
        }
    }
    nearest.sort();
    five.sort();
    Outcome {
        top1: percent(top1, queries.len()),
        top5: percent(top5, queries.len() * K),
        nearest,
        five,
        max_error,
        guaranteed,
        missed,
    }
}

fn measure(generator: &Generator, n: usize) {
    let gallery = generator.gallery(n, n as u64);
    let mut rng = StdRng::seed_from_u64(7);
    let known: Vec<Vec<f32>> = (0..KNOWN_QUERIES)
        .map(|_| generator.face(&gallery.centres[rng.gen_range(0..gallery.centres.len())], &mut rng))
        .collect();
    let unknown: Vec<Vec<f32>> =
        (0..UNKNOWN_QUERIES).map(|_| generator.face(&generator.identity(&mut rng), &mut rng)).collect();

    let faces: Vec<(Uuid, SubjectId, &[f32])> = gallery
        .vectors
        .chunks_exact(DIM)
        .zip(&gallery.identities)
        .enumerate()
        .map(|(i, (v, &identity))| (Uuid::from_u128(i as u128), identity, v))
        .collect();
    let rss_before = rss_bytes();
    let start = Instant::now();
    let mut collection = Collection::new(DIM).expect("dimension");
    collection.insert_many(&faces).expect("valid faces");
    let load = start.elapsed();
    let rss = rss_bytes().saturating_sub(rss_before);
    let heap = collection.heap_bytes();
    println!("\n{n} faces ({} identities)", gallery.centres.len());
    println!(
        "  load from f32 rows: {:.0} ms; memory: {:.1} MB counted ({:.0} bytes/face), RSS grew {:.1} MB",
        ms(load),
        heap as f64 / 1e6,
        heap as f64 / n as f64,
        rss as f64 / 1e6
    );

    for (name, queries) in [("known people", &known), ("unknown people", &unknown)] {
        let o = evaluate(&collection, &gallery, queries);
        println!(
            "  {name} ({} queries): top-1 agreement {:.2}%, top-5 {:.2}%; faces above the threshold in the exact top-5: {}, missed {}; k=1 p50 {:.2} ms, p99 {:.2} ms; k=5 p50 {:.2} ms, p99 {:.2} ms; max |d - d_f32| {:.1e}",
            queries.len(),
            o.top1,
            o.top5,
            o.guaranteed,
            o.missed,
            ms(o.nearest[o.nearest.len() / 2]),
            ms(o.nearest[o.nearest.len() * 99 / 100]),
            ms(o.five[o.five.len() / 2]),
            ms(o.five[o.five.len() * 99 / 100]),
            o.max_error
        );
    }

    let batches: Vec<&[Vec<f32>]> = known.chunks_exact(BATCH).take(100).collect();
    let start = Instant::now();
    for batch in &batches {
        black_box(collection.search_guaranteed(batch, Limit::Top(1), GUARANTEED_COSINE).expect("valid query"));
    }
    let per_call = start.elapsed() / batches.len() as u32;
    println!("  {BATCH} queries in one call (one image with {BATCH} faces): {:.2} ms per call", ms(per_call));

    if n >= 100_000 {
        drop(collection);
        let halves: Vec<f16> = gallery.vectors.iter().map(|&x| f16::from_f32(x)).collect();
        let faces: Vec<(Uuid, SubjectId, &[f16])> =
            faces.iter().zip(halves.chunks_exact(DIM)).map(|((id, s, _), v)| (*id, *s, v)).collect();
        let start = Instant::now();
        let mut collection = Collection::new(DIM).expect("dimension");
        collection.insert_many(&faces).expect("valid faces");
        println!("  load from f16 rows: {:.0} ms", ms(start.elapsed()));
    }
}

fn percent(hits: usize, total: usize) -> f64 {
    100.0 * hits as f64 / total as f64
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (norm(a) * norm(b))
}

/// Resident memory of this process.
fn rss_bytes() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<usize>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// The reference: exact `f32` top-K rows of each query by brute force, queries in tiles so that
/// they stay in cache while the gallery streams past, tiles split over all cores.
fn exact_top(gallery: &Gallery, queries: &[Vec<f32>]) -> Vec<Vec<(u32, f32)>> {
    const TILE: usize = 32;
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let tiles: Vec<&[Vec<f32>]> = queries.chunks(TILE).collect();
    let per_thread = tiles.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = tiles
            .chunks(per_thread)
            .map(|part| {
                scope.spawn(move || {
                    let mut out = Vec::new();
                    for tile in part {
                        let mut best = vec![Vec::<(u32, f32)>::with_capacity(K + 1); tile.len()];
                        for (row, v) in gallery.vectors.chunks_exact(DIM).enumerate() {
                            for (q, top) in tile.iter().zip(best.iter_mut()) {
                                let score = dot(v, q);
                                if top.len() < K || score > top[K - 1].1 {
                                    let at = top.partition_point(|&(_, s)| s >= score);
                                    top.insert(at, (row as u32, score));
                                    top.truncate(K);
                                }
                            }
                        }
                        out.extend(best);
                    }
                    out
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("reference thread")).collect()
    })
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
        // SAFETY: the features were detected.
        return unsafe { dot_fma(a, b) };
    }
    dot_generic(a, b)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn dot_fma(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 16];
    for (x, y) in a.chunks_exact(16).zip(b.chunks_exact(16)) {
        for i in 0..16 {
            acc[i] = x[i].mul_add(y[i], acc[i]);
        }
    }
    acc.iter().sum()
}

#[inline(always)]
fn dot_generic(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 16];
    for (x, y) in a.chunks_exact(16).zip(b.chunks_exact(16)) {
        for i in 0..16 {
            acc[i] += x[i] * y[i];
        }
    }
    acc.iter().sum()
}
