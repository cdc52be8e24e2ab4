//! Speed of each stage of the face pipeline on real models: detection at the input shapes
//! requests produce, the alignment warp, one embedding, and detection plus embeddings together.
//! Results are in docs/benchmarks.md.
//!
//! ```sh
//! cargo bench -p visage-inference --bench inference
//! ```
//!
//! The single-threaded stages are measured in CPU time of the benchmarking thread
//! ([`ThreadCpuTime`]): on a small machine shared with other work, wall time varies by ±50 %
//! between runs while the CPU time a stage needs stays within a few percent. The `find_faces`
//! group, which may use a second thread, is measured in wall time.

use std::path::PathBuf;
use std::time::Duration;

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{criterion_group, criterion_main, Criterion};
use image::RgbImage;
use visage_imaging::DecodeLimits;
use visage_inference::align::{self, Sampling, Similarity, ARCFACE_SIZE, ARCFACE_TEMPLATE};
use visage_inference::detector::{Detector, DetectorKind, DEFAULT_MAX_DETECT_SIZE};
use visage_inference::embedder::{Embedder, EmbedderKind};
use visage_inference::engine::{Engine, EngineConfig};

/// CPU time consumed by the calling thread (`CLOCK_THREAD_CPUTIME_ID`).
struct ThreadCpuTime;

fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime only writes the timespec it is given, which lives on this stack.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

impl Measurement for ThreadCpuTime {
    type Intermediate = Duration;
    type Value = Duration;

    fn start(&self) -> Duration {
        thread_cpu_time()
    }

    fn end(&self, start: Duration) -> Duration {
        thread_cpu_time() - start
    }

    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }

    fn zero(&self) -> Duration {
        Duration::ZERO
    }

    fn to_f64(&self, value: &Duration) -> f64 {
        value.as_nanos() as f64
    }

    fn formatter(&self) -> &dyn ValueFormatter {
        static WALL_TIME: WallTime = WallTime;
        WALL_TIME.formatter()
    }
}

fn repo() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
        .join("../..")
}

fn photo(rel: &str) -> RgbImage {
    let bytes = std::fs::read(repo().join("tests/fixtures").join(rel)).expect("fixture exists");
    visage_imaging::decode(&bytes, &DecodeLimits::default()).expect("fixture decodes").image
}

fn detector(kind: DetectorKind) -> Detector {
    Detector::load(&tract(), kind, &repo().join("models").join(kind.file_name()), DEFAULT_MAX_DETECT_SIZE)
        .unwrap_or_else(|e| panic!("{e} (run scripts/fetch-models.sh)"))
}

fn detection(c: &mut Criterion<ThreadCpuTime>) {
    let group_photo = photo("upstream-samples/016_8.jpg"); // 800×533 → 640×427, input 640×448
    let square = image::imageops::resize(&group_photo, 640, 640, image::imageops::FilterType::Triangle);
    let portrait = photo("image-formats/einstein.jpeg"); // 256×256, upscaled: input 640×640
    let large = photo("upstream-samples/004_A.jpg"); // 3024×4032, 12 MP, input 480×640
    let mut g = c.benchmark_group("detect");
    g.sample_size(20);
    for kind in [DetectorKind::Scrfd, DetectorKind::RetinaFace] {
        let d = detector(kind);
        let name = match kind {
            DetectorKind::Scrfd => "scrfd",
            DetectorKind::RetinaFace => "retinaface",
        };
        g.bench_function(format!("{name}/640x640"), |b| b.iter(|| d.detect_once(&square, 0.5, 1).unwrap()));
        g.bench_function(format!("{name}/800x533 group photo"), |b| {
            b.iter(|| d.detect_once(&group_photo, 0.5, 1).unwrap())
        });
        g.bench_function(format!("{name}/256x256 portrait"), |b| b.iter(|| d.detect_once(&portrait, 0.5, 1).unwrap()));
    }
    let d = detector(DetectorKind::Scrfd);
    g.bench_function("scrfd/3024x4032 photo, incl. downscale", |b| b.iter(|| d.detect_once(&large, 0.5, 1).unwrap()));
    let prescaled = image::imageops::resize(&large, 480, 640, image::imageops::FilterType::Triangle);
    g.bench_function("scrfd/480x640 (the same photo, prescaled)", |b| {
        b.iter(|| d.detect_once(&prescaled, 0.5, 1).unwrap())
    });
    g.finish();
}

fn alignment(c: &mut Criterion<ThreadCpuTime>) {
    let large = photo("upstream-samples/004_A.jpg");
    let d = detector(DetectorKind::Scrfd);
    let face = d.detect(&large, 0.5).unwrap().remove(0);
    let small = photo("upstream-samples/016_8.jpg");
    let small_face = d.detect(&small, 0.5).unwrap().remove(0);
    let mut g = c.benchmark_group("align");
    for (label, img, landmarks) in
        [("12MP face", &large, face.landmarks), ("group-photo face", &small, small_face.landmarks)]
    {
        let t = Similarity::estimate(&landmarks, &ARCFACE_TEMPLATE).unwrap();
        for sampling in [Sampling::Bilinear, Sampling::Area] {
            g.bench_function(format!("warp to 112/{label}/{sampling:?}"), |b| {
                b.iter(|| align::warp(img, &t, ARCFACE_SIZE, ARCFACE_SIZE, sampling))
            });
        }
    }
    g.finish();
}

fn embedding(c: &mut Criterion<ThreadCpuTime>) {
    let kind = EmbedderKind::W600kMbf;
    let e = Embedder::load(&tract(), kind, &repo().join("models").join(kind.file_name())).unwrap();
    let img = photo("upstream-samples/007_B.jpg");
    let face = detector(DetectorKind::Scrfd).detect(&img, 0.5).unwrap().remove(0);
    let chip = e.align(&img, &face.landmarks).unwrap();
    let mut g = c.benchmark_group("embed");
    g.sample_size(30);
    g.bench_function("w600k_mbf/one 112x112 crop", |b| b.iter(|| e.embed_aligned(&chip).unwrap()));
    g.finish();
}

/// Detection plus every face's embedding, the inference part of `/find_faces` with the
/// calculator plugin, with the faces' embeddings on one thread or spread over two.
fn pipeline(c: &mut Criterion) {
    let single = photo("upstream-samples/007_B.jpg"); // 416×624, one face
    let group_photo = photo("upstream-samples/016_8.jpg"); // 800×533, eight faces
    let mut g = c.benchmark_group("find_faces");
    g.sample_size(10);
    for threads in [1, 2] {
        let config = EngineConfig { models_dir: repo().join("models"), threads, ..EngineConfig::default() };
        let engine = Engine::load(config).expect("models fetched");
        for (label, img) in [("1 face", &single), ("8 faces", &group_photo)] {
            g.bench_function(format!("detect + embed/{label}/{threads} thread(s)"), |b| {
                b.iter(|| {
                    let faces = engine.detect(img, engine.default_threshold()).unwrap();
                    engine.embed_all(img, &faces).unwrap()
                })
            });
        }
    }
    g.finish();
}

criterion_group! {
    name = cpu_time;
    config = Criterion::default().with_measurement(ThreadCpuTime);
    targets = detection, alignment, embedding
}
criterion_group!(wall_time, pipeline);
criterion_main!(cpu_time, wall_time);

/// The tract backend, one thread per inference.
fn tract() -> visage_inference::backend::Backend {
    visage_inference::backend::Backend::tract(1).expect("this build has tract")
}
