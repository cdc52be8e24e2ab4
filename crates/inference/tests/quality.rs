//! Face quality on the sample photos and on degraded copies of them made here: downscaled,
//! blurred, darkened, over-exposed. Run with `--nocapture` to see the measures.

use std::path::PathBuf;
use std::sync::OnceLock;

use image::{imageops, RgbImage};
use visage_imaging::DecodeLimits;
use visage_inference::detector::{Detector, DetectorKind, DEFAULT_MAX_DETECT_SIZE};
use visage_inference::quality::{self, Quality, Reason};
use visage_inference::Detection;

fn repo() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
        .join("../..")
}

fn detector() -> &'static Detector {
    static DETECTOR: OnceLock<Detector> = OnceLock::new();
    DETECTOR.get_or_init(|| {
        let kind = DetectorKind::Scrfd;
        let backend = visage_inference::backend::Backend::tract(1).expect("this build has tract");
        let path = repo().join("models").join(kind.file_name());
        Detector::load(&backend, kind, &path, DEFAULT_MAX_DETECT_SIZE)
            .unwrap_or_else(|e| panic!("{e}\n(run scripts/fetch-models.sh to fetch the models)"))
    })
}

fn photo(rel: &str) -> RgbImage {
    let bytes = std::fs::read(repo().join("tests/fixtures").join(rel)).expect("fixture exists");
    visage_imaging::decode(&bytes, &DecodeLimits::default()).expect("fixture decodes").image
}

/// The largest face found, if any.
fn largest_face(img: &RgbImage) -> Option<Detection> {
    detector().detect(img, 0.3).expect("detection runs").into_iter().max_by(|a, b| area(a).total_cmp(&area(b)))
}

fn area(d: &Detection) -> f32 {
    (d.bbox.x2 - d.bbox.x1) * (d.bbox.y2 - d.bbox.y1)
}

fn assess(img: &RgbImage, what: &str) -> Option<Quality> {
    let face = largest_face(img)?;
    let q = quality::assess(img, &face);
    let m = q.measures;
    let pose = m.pose.map(|p| format!("yaw {:.0} pitch {:.0}", p.yaw, p.pitch)).unwrap_or_default();
    println!(
        "{what:28} value {:.2} {:?} size {:.0} sharpness {:.0} brightness {:.0} {pose} score {:.2}",
        q.value, q.reasons, m.size, m.sharpness, m.brightness, m.score
    );
    Some(q)
}

/// The photos of persons A, B and C: one face each, sharp and lit.
const PORTRAITS: [&str; 8] = ["001_A", "002_A", "003_A", "004_A", "006_A", "007_B", "008_B", "009_C"];

/// The portraits degraded: faces from 51 to 571 pixels wide.
const DEGRADED: [&str; 5] = ["003_A", "004_A", "007_B", "008_B", "009_C"];

fn portrait(name: &str) -> RgbImage {
    photo(&format!("upstream-samples/{name}.jpg"))
}

/// The face's width in the photo.
fn face_width(img: &RgbImage) -> f32 {
    let face = largest_face(img).expect("a face");
    face.bbox.x2 - face.bbox.x1
}

#[test]
fn the_sample_portraits_are_good_enough() {
    for name in PORTRAITS {
        let q = assess(&portrait(name), name).expect("a face");
        assert!(q.reasons.is_empty() && q.value >= 0.5, "{name}: {q:?}");
    }
    let einstein = assess(&photo("image-formats/einstein.jpeg"), "einstein").expect("a face");
    assert!(einstein.value >= 0.5, "{einstein:?}");
}

#[test]
fn small_faces_are_small() {
    for name in DEGRADED {
        let img = portrait(name);
        // The face about 28 pixels wide.
        let scale = 28.0 / face_width(&img);
        let (w, h) = ((img.width() as f32 * scale) as u32, (img.height() as f32 * scale) as u32);
        let small = imageops::resize(&img, w, h, imageops::FilterType::Triangle);
        let Some(q) = assess(&small, &format!("{name} small")) else { continue };
        assert!(q.reasons.contains(&Reason::Small) && q.value < 0.5, "{name}: {q:?}");
    }
}

#[test]
fn blurred_faces_are_blurred() {
    for name in DEGRADED {
        let img = portrait(name);
        let sigma = 0.03 * face_width(&img);
        let blurred = imageops::blur(&img, sigma);
        let q = assess(&blurred, &format!("{name} blur {sigma:.1}")).expect("still a face");
        assert!(q.reasons.contains(&Reason::Blurred) && q.value < 0.5, "{name}: {q:?}");
        assert!(!q.reasons.contains(&Reason::Small), "{name}: {q:?}");
    }
}

#[test]
fn dark_and_overexposed_faces_are_named() {
    for name in DEGRADED {
        let img = portrait(name);
        let mut dark = img.clone();
        dark.pixels_mut().for_each(|p| p.0 = p.0.map(|c| (f32::from(c) * 0.25) as u8));
        if let Some(q) = assess(&dark, &format!("{name} dark")) {
            assert!(q.reasons.contains(&Reason::Dark) && q.value < 0.5, "{name}: {q:?}");
            assert!(!q.reasons.contains(&Reason::Blurred), "{name}: dark, not blurred: {q:?}");
        }
        let mut bright = img.clone();
        bright.pixels_mut().for_each(|p| p.0 = p.0.map(|c| (f32::from(c) * 2.5).min(255.0) as u8));
        if let Some(q) = assess(&bright, &format!("{name} bright")) {
            assert!(q.reasons.contains(&Reason::Bright) && q.value < 0.5, "{name}: {q:?}");
        }
    }
}
