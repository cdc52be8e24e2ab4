//! The face-mask classifier on the real model and the fixture photos: the annotated persons'
//! portraits (001–009) read `without_mask`, and the same faces with a surgical mask drawn over
//! the nose and mouth read `with_mask`. The model comes from `scripts/fetch-models.sh`; without it
//! these tests fail with that instruction. Run with `--nocapture` to see the probabilities.

use std::path::PathBuf;
use std::sync::OnceLock;

use image::{Rgb, RgbImage};
use serde_json::Value;
use visage_imaging::DecodeLimits;
use visage_inference::detector::{Detector, DetectorKind, DEFAULT_MAX_DETECT_SIZE};
use visage_inference::engine::{Engine, EngineConfig};
use visage_inference::mask::{self, MaskDetector, MaskValue};
use visage_inference::model::ModelError;
use visage_inference::{BoundingBox, Detection};

fn repo() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
        .join("../..")
}

fn tract() -> visage_inference::backend::Backend {
    visage_inference::backend::Backend::tract(1).expect("this build has tract")
}

struct Models {
    detector: Detector,
    mask: MaskDetector,
}

fn models() -> &'static Models {
    static MODELS: OnceLock<Models> = OnceLock::new();
    MODELS.get_or_init(|| {
        let dir = repo().join("models");
        let fail = |e: ModelError| -> ! { panic!("{e}\n(run scripts/fetch-models.sh to fetch the models)") };
        let kind = DetectorKind::Scrfd;
        Models {
            detector: Detector::load(&tract(), kind, &dir.join(kind.file_name()), DEFAULT_MAX_DETECT_SIZE)
                .unwrap_or_else(|e| fail(e)),
            mask: MaskDetector::load(&tract(), &dir.join(mask::MODEL_FILE)).unwrap_or_else(|e| fail(e)),
        }
    })
}

fn photo(name: &str) -> RgbImage {
    let bytes = std::fs::read(repo().join("tests/fixtures/upstream-samples").join(name)).expect("fixture exists");
    visage_imaging::decode(&bytes, &DecodeLimits::default()).expect("fixture decodes").image
}

/// The portraits of the annotated persons (001–009), from annotations.json.
fn portraits() -> Vec<String> {
    let text = std::fs::read_to_string(repo().join("tests/fixtures/upstream-samples/annotations.json"))
        .expect("annotations exist");
    let ann: Value = serde_json::from_str(&text).expect("annotations are JSON");
    let mut files: Vec<String> = ann["persons"]
        .as_object()
        .expect("persons")
        .values()
        .flat_map(|p| p["images"].as_array().expect("images").iter().map(|f| f.as_str().expect("name").to_string()))
        .collect();
    files.sort();
    assert_eq!(files.len(), 9, "{files:?}");
    files
}

fn largest_face(img: &RgbImage, what: &str) -> Detection {
    let faces = models().detector.detect(img, DetectorKind::Scrfd.default_threshold()).expect("detection runs");
    faces.into_iter().next().unwrap_or_else(|| panic!("{what}: no face found"))
}

/// Fills the polygon (image pixels) with `colour`: every pixel whose centre lies inside it.
fn fill_polygon(img: &mut RgbImage, polygon: &[[f32; 2]], colour: Rgb<u8>) {
    let (w, h) = (img.width() as f32, img.height() as f32);
    let min_y = polygon.iter().map(|p| p[1]).fold(f32::INFINITY, f32::min).max(0.0) as u32;
    let max_y = polygon.iter().map(|p| p[1]).fold(f32::NEG_INFINITY, f32::max).min(h - 1.0) as u32;
    for y in min_y..=max_y {
        let cy = y as f32 + 0.5;
        // Where the polygon's edges cross this row, left to right: inside between pairs.
        let mut xs: Vec<f32> = Vec::new();
        for (i, a) in polygon.iter().enumerate() {
            let b = polygon[(i + 1) % polygon.len()];
            if (a[1] <= cy) != (b[1] <= cy) {
                xs.push(a[0] + (cy - a[1]) / (b[1] - a[1]) * (b[0] - a[0]));
            }
        }
        xs.sort_by(f32::total_cmp);
        for pair in xs.chunks_exact(2) {
            let from = (pair[0] - 0.5).ceil().max(0.0) as u32;
            let to = (pair[1] - 0.5).floor().min(w - 1.0);
            if to < 0.0 {
                continue;
            }
            for x in from..=to as u32 {
                img.put_pixel(x, y, colour);
            }
        }
    }
}

/// A white surgical mask with three grey pleats, drawn from the five landmarks and the box: from
/// just below the eyes, across the nose and the cheeks, down to the chin.
fn draw_mask(img: &mut RgbImage, face: &Detection) {
    let BoundingBox { x1, x2, y2, .. } = face.bbox;
    let w = face.bbox.width();
    let [left_eye, right_eye, nose, mouth_left, mouth_right] = face.landmarks;
    let eye_y = (left_eye[1] + right_eye[1]) / 2.0;
    let top = eye_y + 0.1 * (nose[1] - eye_y);
    let cheek = top + 0.5 * ((mouth_left[1] + mouth_right[1]) / 2.0 - top);
    let polygon = [[x1, top], [x2, top], [x2, cheek], [x2 - 0.1 * w, y2], [x1 + 0.1 * w, y2], [x1, cheek]];
    fill_polygon(img, &polygon, Rgb([255, 255, 255]));
    let thickness = (w / 60.0).max(1.0);
    for k in 1..=3 {
        let y = top + k as f32 * (y2 - top) / 4.5;
        let (l, r) = (x1 + 0.1 * w, x2 - 0.1 * w);
        let band = [[l, y], [r, y], [r, y + thickness], [l, y + thickness]];
        fill_polygon(img, &band, Rgb([204, 204, 204]));
    }
}

#[test]
fn sample_portraits_read_without_mask() {
    for name in portraits() {
        let img = photo(&name);
        let face = largest_face(&img, &name);
        let p = models().mask.probabilities(&img, &face.bbox).expect("the network runs");
        println!("{name}: plain  [with_mask {:.4}, without_mask {:.4}]", p[0], p[1]);
        assert!((p[0] + p[1] - 1.0).abs() < 1e-4, "{name}: a softmax: {p:?}");
        let m = mask::mask_from_distribution(&p).expect("two probabilities");
        assert_eq!(m.value, MaskValue::WithoutMask, "{name}: {p:?}");
        assert!(m.probability >= 0.75, "{name}: a clear answer: {p:?}");
    }
}

#[test]
fn the_same_faces_with_a_drawn_mask_read_with_mask() {
    for name in portraits() {
        let mut img = photo(&name);
        let face = largest_face(&img, &name);
        draw_mask(&mut img, &face);
        let p = models().mask.probabilities(&img, &face.bbox).expect("the network runs");
        println!("{name}: masked [with_mask {:.4}, without_mask {:.4}]", p[0], p[1]);
        let m = models().mask.detect(&img, &face.bbox).expect("the network runs");
        assert_eq!(m.value, MaskValue::WithMask, "{name}: {p:?}");
        assert!(m.probability >= 0.7, "{name}: a clear answer: {p:?}");
    }
}

#[test]
fn a_box_outside_the_image_is_an_error_not_a_panic() {
    let img = RgbImage::new(64, 64);
    let outside = BoundingBox { x1: 80.0, y1: 10.0, x2: 120.0, y2: 50.0 };
    assert!(matches!(models().mask.detect(&img, &outside), Err(ModelError::InvalidInput(_))));
    // A box reaching past the edges is clamped and runs.
    let past = BoundingBox { x1: -20.0, y1: -20.0, x2: 90.0, y2: 90.0 };
    let m = models().mask.detect(&img, &past).expect("a clamped box runs");
    assert!((0.5..=1.0).contains(&m.probability), "{m:?}");
}

#[test]
fn the_engine_leaves_a_missing_mask_model_out_instead_of_failing() {
    // A models directory with the detector and the embedder only.
    let dir = std::env::temp_dir().join(format!("visage-mask-missing-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temporary directory");
    let config = EngineConfig::default();
    for file in [config.detector.file_name(), config.embedder.file_name()] {
        let _ = std::fs::remove_file(dir.join(file));
        std::os::unix::fs::symlink(repo().join("models").join(file), dir.join(file)).expect("symlink");
    }
    let config = EngineConfig { models_dir: dir.clone(), mask: true, ..config };
    let engine = Engine::load_with(config.clone(), tract()).expect("loads without the mask model");
    assert!(engine.mask().is_none());
    // With the file, it is there.
    std::os::unix::fs::symlink(repo().join("models").join(mask::MODEL_FILE), dir.join(mask::MODEL_FILE))
        .expect("symlink");
    let engine = Engine::load_with(config, tract()).expect("loads");
    assert!(engine.mask().is_some());
    std::fs::remove_dir_all(&dir).expect("clean up");
}
