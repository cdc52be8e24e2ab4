//! Speed of the face-attribute plugins on real models, per face, crop included: age, gender,
//! 106-point landmarks and pose. Each runs on a small portrait (256×256) and on a 12 MP photo,
//! where sampling the crop from a large face costs more. Results are in docs/benchmarks.md.
//!
//! ```sh
//! cargo bench -p visage-inference --bench attributes
//! ```

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion};
use image::RgbImage;
use visage_imaging::DecodeLimits;
use visage_inference::age_gender::{self, AgeEstimator, GenderClassifier};
use visage_inference::detector::{Detector, DetectorKind, DEFAULT_MAX_DETECT_SIZE};
use visage_inference::landmarks106::{self, Landmarks106Detector};
use visage_inference::{pose, Detection};

fn repo() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
        .join("../..")
}

fn model_path(file: &str) -> PathBuf {
    repo().join("models").join(file)
}

/// A fixture photo and its largest face.
fn face(rel: &str, detector: &Detector) -> (RgbImage, Detection) {
    let bytes = std::fs::read(repo().join("tests/fixtures").join(rel)).expect("fixture exists");
    let img = visage_imaging::decode(&bytes, &DecodeLimits::default()).expect("fixture decodes").image;
    let faces = detector.detect(&img, DetectorKind::Scrfd.default_threshold()).expect("detection runs");
    let face = faces.into_iter().next().expect("a face");
    (img, face)
}

fn attributes(c: &mut Criterion) {
    let fetch = "(run scripts/fetch-models.sh)";
    let kind = DetectorKind::Scrfd;
    let detector = Detector::load(&tract(), kind, &model_path(kind.file_name()), DEFAULT_MAX_DETECT_SIZE).expect(fetch);
    let age = AgeEstimator::load(&tract(), &model_path(age_gender::AGE_MODEL_FILE)).expect(fetch);
    let gender = GenderClassifier::load(&tract(), &model_path(age_gender::GENDER_MODEL_FILE)).expect(fetch);
    let landmarks = Landmarks106Detector::load(&tract(), &model_path(landmarks106::MODEL_FILE)).expect(fetch);
    let photos = [
        ("portrait", face("image-formats/einstein.png", &detector)),
        ("12mp", face("upstream-samples/004_A.jpg", &detector)),
    ];
    let mut g = c.benchmark_group("attributes");
    g.sample_size(30);
    for (name, (img, face)) in &photos {
        g.bench_function(format!("age/{name}"), |b| b.iter(|| age.estimate(img, &face.landmarks).expect("age")));
        g.bench_function(format!("gender/{name}"), |b| {
            b.iter(|| gender.classify(img, &face.landmarks).expect("gender"))
        });
        g.bench_function(format!("landmarks106/{name}"), |b| {
            b.iter(|| landmarks.detect(img, &face.bbox).expect("landmarks"))
        });
    }
    let five = photos[0].1 .1.landmarks;
    g.bench_function("pose", |b| b.iter(|| pose::estimate(std::hint::black_box(&five))));
    g.finish();
}

criterion_group!(benches, attributes);
criterion_main!(benches);

/// The tract backend, one thread per inference.
fn tract() -> visage_inference::backend::Backend {
    visage_inference::backend::Backend::tract(1).expect("this build has tract")
}
