//! Face attributes on real models and the fixture photos: gender and age of the annotated persons,
//! the 106-point landmarks against the detector's five, and head pose under mirroring and
//! rotation. The models come from `scripts/fetch-models.sh`; without them every test fails with
//! that instruction. Run with `--nocapture` to see the measured values.

use std::path::PathBuf;
use std::sync::OnceLock;

use image::RgbImage;
use serde_json::Value;
use visage_imaging::DecodeLimits;
use visage_inference::age_gender::{self, AgeEstimator, GenderClassifier, GenderValue};
use visage_inference::align::{self, Sampling, Similarity};
use visage_inference::detector::{Detector, DetectorKind, DEFAULT_MAX_DETECT_SIZE};
use visage_inference::landmarks106::{self, Landmarks106Detector};
use visage_inference::model::ModelError;
use visage_inference::pose::{self, Pose};
use visage_inference::Detection;

fn repo() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
        .join("../..")
}

struct Models {
    detector: Detector,
    age: AgeEstimator,
    gender: GenderClassifier,
    landmarks: Landmarks106Detector,
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
            age: AgeEstimator::load(&tract(), &dir.join(age_gender::AGE_MODEL_FILE)).unwrap_or_else(|e| fail(e)),
            gender: GenderClassifier::load(&tract(), &dir.join(age_gender::GENDER_MODEL_FILE))
                .unwrap_or_else(|e| fail(e)),
            landmarks: Landmarks106Detector::load(&tract(), &dir.join(landmarks106::MODEL_FILE))
                .unwrap_or_else(|e| fail(e)),
        }
    })
}

fn photo(rel: &str) -> RgbImage {
    let bytes = std::fs::read(repo().join("tests/fixtures").join(rel)).expect("fixture exists");
    visage_imaging::decode(&bytes, &DecodeLimits::default()).expect("fixture decodes").image
}

/// The largest face the detector finds.
fn largest_face(img: &RgbImage, what: &str) -> Detection {
    let kind = DetectorKind::Scrfd;
    let faces = models().detector.detect(img, kind.default_threshold()).expect("detection runs");
    faces.into_iter().next().unwrap_or_else(|| panic!("{what}: no face found"))
}

fn annotations() -> Value {
    let text = std::fs::read_to_string(repo().join("tests/fixtures/upstream-samples/annotations.json"))
        .expect("annotations exist");
    serde_json::from_str(&text).expect("annotations are JSON")
}

/// Every photo of the annotated persons, with the person's gender and approximate age.
fn persons() -> Vec<(String, String, f32)> {
    let ann = annotations();
    let persons = ann["persons"].as_object().expect("persons");
    let mut out = Vec::new();
    for (name, person) in persons {
        let gender = person["gender"].as_str().expect("gender").to_string();
        let age = person["approx_age"].as_f64().expect("approx_age") as f32;
        for image in person["images"].as_array().expect("images") {
            let file = image.as_str().expect("file name");
            out.push((format!("upstream-samples/{file}"), format!("{name}: {gender}"), age));
        }
    }
    assert_eq!(out.len(), 9, "six photos of A, two of B, one of C");
    out
}

#[test]
fn genders_and_ages_of_the_annotated_persons() {
    let m = models();
    for (rel, label, approx_age) in persons() {
        let img = photo(&rel);
        let face = largest_face(&img, &rel);
        let gender = m.gender.classify(&img, &face.landmarks).expect("gender runs");
        let age = m.age.estimate(&img, &face.landmarks).expect("age runs");
        eprintln!(
            "{rel} ({label}, ~{approx_age}): gender {} {:.3}, age {}–{} p={:.3} expected {:.1}",
            gender.value.as_str(),
            gender.probability,
            age.low,
            age.high,
            age.probability,
            age.expected
        );
        assert!(label.ends_with(gender.value.as_str()), "{rel}: expected {label}, got {gender:?}");
        assert!(gender.probability > 0.9, "{rel}: {gender:?}");
        assert!((age.expected - approx_age).abs() <= 15.0, "{rel}: ~{approx_age}, got {age:?}");
        assert!(age.low as f32 <= age.expected && age.expected <= age.high as f32, "{age:?}");
        assert!(age.high - age.low >= 8 && age.probability > 0.3 && age.probability <= 1.0, "{age:?}");
    }
}

#[test]
fn einstein_is_an_older_man() {
    let m = models();
    let img = photo("image-formats/einstein.png");
    let face = largest_face(&img, "einstein");
    let gender = m.gender.classify(&img, &face.landmarks).expect("gender runs");
    let age = m.age.estimate(&img, &face.landmarks).expect("age runs");
    eprintln!("einstein: {gender:?} {age:?}");
    assert_eq!(gender.value, GenderValue::Male);
    assert!(gender.probability > 0.9, "{gender:?}");
    assert!(age.expected > 50.0 && age.low > 45, "{age:?}");
}

#[test]
fn landmarks106_lie_on_the_face_and_agree_with_the_detector() {
    let m = models();
    let mut photos: Vec<String> = persons().into_iter().map(|(rel, _, _)| rel).collect();
    photos.push("image-formats/einstein.png".into());
    for rel in photos {
        let img = photo(&rel);
        let face = largest_face(&img, &rel);
        let points = m.landmarks.detect(&img, &face.bbox).expect("landmarks run");
        let b = face.bbox;
        let (mx, my) = (0.1 * b.width(), 0.1 * b.height());
        for (i, p) in points.iter().enumerate() {
            assert!(
                p[0] >= b.x1 - mx && p[0] <= b.x2 + mx && p[1] >= b.y1 - my && p[1] <= b.y2 + my,
                "{rel}: point {i} {p:?} is outside the face box {b:?}"
            );
        }
        let ours = landmarks106::five_points(&points);
        let [le, re, ..] = face.landmarks;
        let eye_distance = (re[0] - le[0]).hypot(re[1] - le[1]);
        let errors: Vec<f32> =
            ours.iter().zip(&face.landmarks).map(|(a, b)| (a[0] - b[0]).hypot(a[1] - b[1]) / eye_distance).collect();
        eprintln!("{rel}: 106-point vs detector landmarks, error / eye distance {errors:.3?}");
        assert!(errors.iter().all(|&e| e < 0.15), "{rel}: {errors:?}");
    }
}

/// The pose of the largest face in `img`, from the five points read off its 106 landmarks.
fn pose_of(img: &RgbImage, what: &str) -> Pose {
    let face = largest_face(img, what);
    let points = models().landmarks.detect(img, &face.bbox).expect("landmarks run");
    pose::estimate(&landmarks106::five_points(&points)).expect("pose")
}

const POSE_PHOTOS: [&str; 4] = [
    "image-formats/einstein.png",
    "upstream-samples/001_A.jpg",
    "upstream-samples/008_B.jpg",
    "upstream-samples/009_C.jpg",
];

#[test]
fn pose_mirrors_with_the_image() {
    for rel in POSE_PHOTOS {
        let img = photo(rel);
        let p = pose_of(&img, rel);
        let q = pose_of(&image::imageops::flip_horizontal(&img), rel);
        eprintln!("{rel}: {p:?}, mirrored {q:?}");
        assert!((p.yaw + q.yaw).abs() < 6.0, "{rel}: yaw {} vs mirrored {}", p.yaw, q.yaw);
        assert!((p.roll + q.roll).abs() < 3.0, "{rel}: roll {} vs mirrored {}", p.roll, q.roll);
        assert!((p.pitch - q.pitch).abs() < 3.0, "{rel}: pitch {} vs mirrored {}", p.pitch, q.pitch);
    }
    // 008_B's face is turned towards the image's right: the mirror test is not vacuous.
    let b = pose_of(&photo("upstream-samples/008_B.jpg"), "008_B");
    assert!(b.yaw > 10.0, "{b:?}");
}

#[test]
fn rotating_the_photo_clockwise_adds_to_roll() {
    // The small photos only: rotating a 36 MP one would dominate the test's time.
    for rel in POSE_PHOTOS.into_iter().filter(|rel| !rel.contains("_A")) {
        let img = photo(rel);
        let before = pose_of(&img, rel);
        // Rotate by 20° clockwise about the centre onto a larger canvas, so nothing is cut off.
        let (s, c) = 20f32.to_radians().sin_cos();
        let (w, h) = (img.width() as f32, img.height() as f32);
        let side = 1.5 * w.max(h);
        let (tx, ty) = (side / 2.0 - (c * w - s * h) / 2.0, side / 2.0 - (s * w + c * h) / 2.0);
        let rotated =
            align::warp(&img, &Similarity { a: c, b: s, tx, ty }, side as u32, side as u32, Sampling::Bilinear);
        let after = pose_of(&rotated, rel);
        eprintln!("{rel}: {before:?}, rotated 20° clockwise {after:?}");
        assert!((after.roll - before.roll - 20.0).abs() < 2.0, "{rel}: {before:?} → {after:?}");
        assert!((after.yaw - before.yaw).abs() < 4.0, "{rel}: {before:?} → {after:?}");
        assert!((after.pitch - before.pitch).abs() < 4.0, "{rel}: {before:?} → {after:?}");
    }
}

#[test]
fn missing_model_files_say_how_to_fetch_them() {
    let missing = repo().join("models/no-such-age-model.onnx");
    assert!(matches!(AgeEstimator::load(&tract(), &missing), Err(ModelError::Missing(_))));
    assert!(matches!(Landmarks106Detector::load(&tract(), &missing), Err(ModelError::Missing(_))));
}

/// The tract backend, one thread per inference.
fn tract() -> visage_inference::backend::Backend {
    visage_inference::backend::Backend::tract(1).expect("this build has tract")
}
