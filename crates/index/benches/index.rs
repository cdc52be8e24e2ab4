//! Criterion benches of `visage-index` on synthetic face-like embeddings (see
//! `examples/common/synthetic.rs`): search at 1k, 100k and 1M faces, an insert/remove pair, and
//! bulk loads. Searches guarantee the cosine api-service guarantees (similarity 0.5 for
//! w600k_mbf). Run with `cargo bench -p visage-index`.

#[path = "../examples/common/synthetic.rs"]
#[allow(dead_code)] // The isotropic data set is the recall example's.
mod synthetic;

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use synthetic::{Gallery, Generator};
use uuid::Uuid;
use visage_index::{Collection, Limit, SubjectId};

const DIM: usize = 512;
/// The cosine at which `similarity = 0.5` for w600k_mbf.
const GUARANTEED_COSINE: f32 = 1.0 - 1.11 * 1.11 / 2.0;

fn faces(gallery: &Gallery) -> Vec<(Uuid, SubjectId, &[f32])> {
    gallery
        .vectors
        .chunks_exact(DIM)
        .zip(&gallery.identities)
        .enumerate()
        .map(|(i, (v, &identity))| (Uuid::from_u128(i as u128), identity, v))
        .collect()
}

/// New faces of stored identities, as a recognition request would bring.
fn queries(generator: &Generator, gallery: &Gallery, count: usize) -> Vec<Vec<f32>> {
    let mut rng = StdRng::seed_from_u64(11);
    (0..count).map(|_| generator.face(&gallery.centres[rng.gen_range(0..gallery.centres.len())], &mut rng)).collect()
}

fn benches(c: &mut Criterion) {
    let generator = Generator::new(DIM, 42);
    for n in [1_000, 100_000, 1_000_000] {
        let gallery = generator.gallery(n, n as u64);
        let faces = faces(&gallery);
        let mut collection = Collection::new(DIM).expect("dimension");
        collection.insert_many(&faces).expect("valid faces");
        let queries = queries(&generator, &gallery, 64);

        let mut group = c.benchmark_group("search");
        group.sample_size(if n >= 1_000_000 { 30 } else { 100 });
        let mut next = queries.iter().cycle();
        group.bench_function(BenchmarkId::new("1 query", n), |b| {
            b.iter(|| {
                collection
                    .search_guaranteed(&[next.next().expect("cycle")], Limit::Top(1), GUARANTEED_COSINE)
                    .expect("valid query")
            })
        });
        let mut batches = queries.chunks_exact(8).cycle();
        group.bench_function(BenchmarkId::new("8 queries", n), |b| {
            b.iter(|| {
                collection
                    .search_guaranteed(batches.next().expect("cycle"), Limit::Top(1), GUARANTEED_COSINE)
                    .expect("valid query")
            })
        });
        group.finish();

        if n == 100_000 {
            let mut rng = StdRng::seed_from_u64(3);
            let mut id = 1u128 << 64;
            c.bench_function("insert+remove one face/100000", |b| {
                b.iter(|| {
                    id += 1;
                    let face = Uuid::from_u128(id);
                    collection.insert(face, 7, &queries[rng.gen_range(0..queries.len())]).expect("new face");
                    black_box(collection.remove(face))
                })
            });
        }

        if n >= 100_000 {
            let mut group = c.benchmark_group("bulk load");
            group.sample_size(10);
            group.measurement_time(Duration::from_secs(if n >= 1_000_000 { 60 } else { 15 }));
            drop(collection);
            group.bench_function(BenchmarkId::new("f32 rows", n), |b| {
                b.iter_batched(
                    || Collection::new(DIM).expect("dimension"),
                    |mut fresh| {
                        fresh.insert_many(&faces).expect("valid faces");
                        fresh
                    },
                    BatchSize::PerIteration,
                )
            });
            group.finish();
        }
    }
}

criterion_group!(index, benches);
criterion_main!(index);
