//! The face engine on real models and real photos (tests/fixtures). The models come from
//! `scripts/fetch-models.sh`; without them every test fails with that instruction.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use image::RgbImage;
use serde_json::Value;
use visage_imaging::DecodeLimits;
use visage_inference::align::{self, Sampling, Similarity, ARCFACE_SIZE, ARCFACE_TEMPLATE};
use visage_inference::engine::{distance, Engine, EngineConfig};
use visage_inference::Detection;

fn repo() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
        .join("../..")
}

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let config = EngineConfig { models_dir: repo().join("models"), ..EngineConfig::default() };
        Engine::load(config).unwrap_or_else(|e| panic!("{e}\n(run scripts/fetch-models.sh to fetch the models)"))
    })
}

/// Decoded fixture photos, cached: the 12–33 MP ones take a while to decode.
fn photo(rel: &str) -> RgbImage {
    static CACHE: OnceLock<Mutex<HashMap<String, RgbImage>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(img) = cache.lock().unwrap().get(rel) {
        return img.clone();
    }
    let bytes = std::fs::read(repo().join("tests/fixtures").join(rel)).expect("fixture exists");
    let img = visage_imaging::decode(&bytes, &DecodeLimits::default()).expect("fixture decodes").image;
    cache.lock().unwrap().insert(rel.to_string(), img.clone());
    img
}

fn annotations() -> Value {
    let text = std::fs::read_to_string(repo().join("tests/fixtures/upstream-samples/annotations.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn detect(img: &RgbImage) -> Vec<Detection> {
    let e = engine();
    e.detect(img, e.default_threshold()).expect("detection runs")
}

/// The embedding of the only face found in a photo.
fn single_face_embedding(rel: &str) -> Vec<f32> {
    let img = photo(rel);
    let faces = detect(&img);
    assert_eq!(faces.len(), 1, "{rel}: expected one face, got {faces:?}");
    engine().embed(&img, &faces[0]).expect("embedding runs")
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[test]
fn every_annotated_nose_is_in_exactly_one_box_and_counts_match() {
    let notes = annotations();
    let images = notes["images"].as_object().unwrap();
    assert_eq!(images.len(), 18);
    for (name, note) in images {
        let img = photo(&format!("upstream-samples/{name}"));
        let faces = detect(&img);
        let expected = note["faces"].as_u64().unwrap() as usize;
        assert_eq!(
            faces.len(),
            expected,
            "{name}: face count; boxes {:?}",
            faces.iter().map(|f| f.bbox).collect::<Vec<_>>()
        );
        for nose in note["noses"].as_array().unwrap() {
            let (x, y) = (nose[0].as_f64().unwrap() as f32, nose[1].as_f64().unwrap() as f32);
            let holding = faces.iter().filter(|f| f.bbox.contains(x, y)).count();
            assert_eq!(holding, 1, "{name}: nose ({x}, {y}) lies in {holding} boxes");
        }
        let areas: Vec<f32> = faces.iter().map(|f| f.bbox.area()).collect();
        assert!(areas.windows(2).all(|w| w[0] >= w[1]), "{name}: faces not largest first: {areas:?}");
        for f in &faces {
            assert!(f.bbox.x1 >= 0.0 && f.bbox.y1 >= 0.0, "{name}: box outside the image");
            assert!(
                f.bbox.x2 <= img.width() as f32 && f.bbox.y2 <= img.height() as f32,
                "{name}: box outside the image"
            );
            assert!(f.score >= engine().default_threshold() && f.score <= 1.0);
        }
    }
}

#[test]
fn a_photo_without_faces_gives_none_even_with_the_retry_pass() {
    let img = photo("upstream-samples/017_0.jpg");
    assert!(detect(&img).is_empty());
    let faces = engine().detector().detect_once(&img, engine().default_threshold(), 2).unwrap();
    assert!(faces.is_empty(), "{faces:?}");
}

#[test]
fn every_pair_of_the_same_person_scores_above_every_pair_of_different_people() {
    let notes = annotations();
    let mut by_person: Vec<(String, Vec<f32>)> = Vec::new();
    for (person, info) in notes["persons"].as_object().unwrap() {
        for file in info["images"].as_array().unwrap() {
            let rel = format!("upstream-samples/{}", file.as_str().unwrap());
            by_person.push((person.clone(), single_face_embedding(&rel)));
        }
    }
    assert_eq!(by_person.len(), 9);
    let e = engine();
    let (mut same_a, mut a_vs_other) = (Vec::new(), Vec::new());
    for (i, (p, x)) in by_person.iter().enumerate() {
        for (q, y) in &by_person[i + 1..] {
            let s = e.similarity(distance(x, y));
            match (p.as_str(), q.as_str()) {
                ("A", "A") => same_a.push(s),
                ("A", _) | (_, "A") => a_vs_other.push(s),
                _ => {}
            }
        }
    }
    assert_eq!((same_a.len(), a_vs_other.len()), (15, 18));
    let worst_same = same_a.iter().cloned().fold(f64::INFINITY, f64::min);
    let best_other = a_vs_other.iter().cloned().fold(0.0, f64::max);
    assert!(worst_same > best_other, "A/A min {worst_same} <= A/other max {best_other}");
    // With the fitted coefficients the two groups also fall on either side of 0.5.
    assert!(worst_same > 0.5 && best_other < 0.5, "A/A min {worst_same}, A/other max {best_other}");
}

#[test]
fn one_portrait_in_every_format_gives_one_face_and_the_same_embedding() {
    let reference = single_face_embedding("image-formats/einstein.jpeg");
    for ext in ["bmp", "gif", "ico", "png", "tiff", "webp"] {
        let embedding = single_face_embedding(&format!("image-formats/einstein.{ext}"));
        let c = cosine(&reference, &embedding);
        assert!(c >= 0.98, "einstein.{ext}: cosine {c} to the jpeg");
    }
    // The truncated JPEG (another portrait, cut short near the end) decodes as far as its data
    // goes and still shows its face.
    let bytes = std::fs::read(repo().join("tests/fixtures/image-formats/truncated.jpg")).unwrap();
    let truncated = visage_imaging::decode(&bytes, &DecodeLimits::default()).expect("decoded as far as it goes").image;
    let faces = detect(&truncated);
    assert_eq!(faces.len(), 1, "truncated.jpg: {faces:?}");
    let c = cosine(&reference, &engine().embed(&truncated, &faces[0]).unwrap());
    assert!(c < 0.3, "truncated.jpg shows someone else, yet cosine {c} to the Einstein portrait");
}

/// Tight crops of detected faces (the box, and the box grown by 10 %) and aligned 112×112 chips,
/// from every face in the sample photos large enough to be a realistic avatar.
fn frame_filling_faces() -> Vec<(String, RgbImage, Vec<f32>)> {
    let mut out = Vec::new();
    let notes = annotations();
    for name in notes["images"].as_object().unwrap().keys() {
        let img = photo(&format!("upstream-samples/{name}"));
        for (i, face) in detect(&img).iter().enumerate() {
            if face.bbox.width() < 40.0 {
                continue;
            }
            let embedding = engine().embed(&img, face).unwrap();
            for grow in [0.0f32, 0.1] {
                let (dw, dh) = (face.bbox.width() * grow, face.bbox.height() * grow);
                let x1 = (face.bbox.x1 - dw).max(0.0) as u32;
                let y1 = (face.bbox.y1 - dh).max(0.0) as u32;
                let x2 = ((face.bbox.x2 + dw) as u32).min(img.width());
                let y2 = ((face.bbox.y2 + dh) as u32).min(img.height());
                let crop = image::imageops::crop_imm(&img, x1, y1, x2 - x1, y2 - y1).to_image();
                out.push((format!("{name} face {i} crop +{grow}"), crop, embedding.clone()));
            }
            let to_chip = Similarity::estimate(&face.landmarks, &ARCFACE_TEMPLATE).unwrap();
            let chip = align::warp(&img, &to_chip, ARCFACE_SIZE, ARCFACE_SIZE, Sampling::Bilinear);
            out.push((format!("{name} face {i} chip"), chip, embedding));
        }
    }
    out
}

#[test]
fn faces_that_fill_the_frame_are_detected() {
    let cases = frame_filling_faces();
    assert!(cases.len() >= 90, "only {} cases", cases.len());
    let mut missed = Vec::new();
    for (label, img, embedding) in &cases {
        let faces = detect(img);
        match faces.first() {
            None => missed.push(label.clone()),
            Some(face) => {
                // The largest face found is the one the crop was made of.
                let c = cosine(embedding, &engine().embed(img, face).unwrap());
                assert!(c >= 0.6, "{label}: the face found is not the cropped one (cosine {c})");
            }
        }
    }
    assert!(missed.is_empty(), "{} of {} frame-filling faces missed: {missed:?}", missed.len(), cases.len());
}

#[test]
fn an_aligned_chip_embedded_as_a_whole_image_matches_its_face() {
    let img = photo("upstream-samples/007_B.jpg");
    let face = &detect(&img)[0];
    let e = engine();
    let direct = e.embed(&img, face).unwrap();
    let chip = e.embedder().align(&img, &face.landmarks).unwrap();
    let whole = e.whole_image_face(&chip);
    assert_eq!((whole.bbox.x1, whole.bbox.y1, whole.bbox.x2, whole.bbox.y2), (0.0, 0.0, 112.0, 112.0));
    assert_eq!(whole.landmarks, ARCFACE_TEMPLATE);
    // The template maps onto itself: the chip passes through the warp unchanged.
    assert_eq!(e.embedder().align(&chip, &whole.landmarks).unwrap(), chip);
    let c = cosine(&direct, &e.embed(&chip, &whole).unwrap());
    assert!(c > 0.9999, "cosine {c}");
}

#[test]
fn embeddings_are_unit_length_and_parallel_embedding_keeps_the_order() {
    let img = photo("upstream-samples/016_8.jpg");
    let faces = detect(&img);
    assert_eq!(faces.len(), 8);
    let e = engine();
    let all = e.embed_all(&img, &faces).unwrap();
    assert_eq!(all.len(), 8);
    for (face, embedding) in faces.iter().zip(&all) {
        assert_eq!(embedding.len(), 512);
        let norm = cosine(embedding, embedding).sqrt();
        assert!((norm - 1.0).abs() < 1e-4);
        assert_eq!(embedding, &e.embed(&img, face).unwrap());
    }
}

#[test]
fn missing_models_are_reported_with_the_fetch_instruction() {
    let config = EngineConfig { models_dir: PathBuf::from("/nonexistent"), ..EngineConfig::default() };
    let err = Engine::load(config).err().expect("loading fails").to_string();
    assert!(err.contains("scripts/fetch-models.sh"), "{err}");
}

#[test]
fn the_alternative_detector_finds_the_annotated_faces() {
    let config = EngineConfig {
        models_dir: repo().join("models"),
        detector: visage_inference::engine::DetectorKind::RetinaFace,
        ..EngineConfig::default()
    };
    let e = Engine::load(config).expect("models fetched");
    for name in ["000_5.jpg", "007_B.jpg", "016_8.jpg", "017_0.jpg"] {
        let img = photo(&format!("upstream-samples/{name}"));
        let faces = e.detect(&img, e.default_threshold()).unwrap();
        let expected = annotations()["images"][name]["faces"].as_u64().unwrap() as usize;
        assert_eq!(faces.len(), expected, "{name}");
    }
}
