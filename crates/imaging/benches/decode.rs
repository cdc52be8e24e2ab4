//! Decoding and detector-input resizing on the repository's sample photos.
//!
//! `cargo bench -p visage-imaging --bench decode`; results are recorded in docs/benchmarks.md.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use visage_imaging::{decode, resize_to_fit, DecodeLimits, RgbImage};

fn fixture(path: &str) -> Vec<u8> {
    let path = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
        .join("../../tests/fixtures")
        .join(path);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

const PORTRAIT_JPEG: &str = "image-formats/einstein.jpeg";
const PORTRAIT_PNG: &str = "image-formats/einstein.png";
/// 3024x4032.
const PHOTO_12MP: &str = "upstream-samples/004_A.jpg";
/// 4912x7360.
const PHOTO_36MP: &str = "upstream-samples/001_A.jpg";

fn decoded(path: &str) -> RgbImage {
    decode(&fixture(path), &DecodeLimits::default()).expect("sample decodes").image
}

fn bench_decode(c: &mut Criterion) {
    let limits = DecodeLimits::default();
    let mut group = c.benchmark_group("decode");
    for (label, path) in [
        ("jpeg 256x256", PORTRAIT_JPEG),
        ("png 256x256 palette", PORTRAIT_PNG),
        ("jpeg 12 MP", PHOTO_12MP),
        ("jpeg 36 MP", PHOTO_36MP),
    ] {
        let bytes = fixture(path);
        if bytes.len() > 1_000_000 {
            group.sample_size(10).measurement_time(Duration::from_secs(10));
        }
        group.bench_function(label, |b| b.iter(|| decode(black_box(&bytes), &limits)));
    }
    group.finish();
}

fn bench_resize(c: &mut Criterion) {
    let mut group = c.benchmark_group("resize_to_fit 640");
    group.sample_size(20);
    for (label, path) in [("from 12 MP", PHOTO_12MP), ("from 36 MP", PHOTO_36MP)] {
        let image = decoded(path);
        group.bench_function(label, |b| b.iter(|| resize_to_fit(black_box(&image), 640)));
    }
    group.finish();
}

/// The filters `resize_to_fit` could use, 12 MP to 480x640.
fn bench_filters(c: &mut Criterion) {
    let image = decoded(PHOTO_12MP);
    let src =
        ImageRef::new(image.width(), image.height(), image.as_raw(), PixelType::U8x3).expect("an RgbImage buffer");
    let mut group = c.benchmark_group("filter 12 MP to 640");
    group.sample_size(20);
    for (label, algorithm) in [
        ("convolution bilinear", ResizeAlg::Convolution(FilterType::Bilinear)),
        ("convolution box", ResizeAlg::Convolution(FilterType::Box)),
        ("convolution lanczos3", ResizeAlg::Convolution(FilterType::Lanczos3)),
        ("interpolation bilinear (aliases)", ResizeAlg::Interpolation(FilterType::Bilinear)),
    ] {
        let options = ResizeOptions::new().resize_alg(algorithm);
        let mut resizer = Resizer::new();
        let mut dst = Image::new(480, 640, PixelType::U8x3);
        group
            .bench_function(label, |b| b.iter(|| resizer.resize(black_box(&src), &mut dst, &options).expect("resize")));
    }
    group.finish();
}

criterion_group!(benches, bench_decode, bench_resize, bench_filters);
criterion_main!(benches);
