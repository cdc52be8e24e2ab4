//! Conformance of the two inference backends: tract and ONNX Runtime run the same models on the
//! same photos, and the faces, landmarks, embeddings and attributes they give must agree (boxes
//! within 1 px, landmarks within 0.5 px, embeddings at 0.999 cosine or more). Also: ONNX Runtime's
//! batched embeddings equal its one-at-a-time ones.
//!
//! Needs the models and the ONNX Runtime library (`scripts/fetch-models.sh` fetches both).
#![cfg(all(feature = "tract", feature = "onnxruntime"))]

use std::path::PathBuf;
use std::sync::OnceLock;

use image::RgbImage;
use visage_imaging::DecodeLimits;
use visage_inference::backend::{Backend, BackendConfig, BackendKind};
use visage_inference::engine::{Engine, EngineConfig};
use visage_inference::Detection;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn config() -> EngineConfig {
    let models_dir = repo().join("models");
    EngineConfig {
        backend: BackendConfig {
            kind: BackendKind::OnnxRuntime,
            device: visage_inference::backend::Device::Cpu,
            onnxruntime_library: BackendConfig::default_onnxruntime_library(&models_dir),
            threads: 1,
        },
        models_dir,
        age: true,
        gender: true,
        landmarks106: true,
        mask: true,
        ..EngineConfig::default()
    }
}

fn engines() -> &'static (Engine, Engine) {
    static ENGINES: OnceLock<(Engine, Engine)> = OnceLock::new();
    ENGINES.get_or_init(|| {
        let fetch = "(run scripts/fetch-models.sh to fetch the models and the ONNX Runtime library)";
        let ort = Engine::load(config()).unwrap_or_else(|e| panic!("{e}\n{fetch}"));
        let tract = Engine::load_with(config(), Backend::tract(1).unwrap()).unwrap_or_else(|e| panic!("{e}\n{fetch}"));
        assert_eq!(ort.backend().name(), "onnxruntime");
        assert_eq!(tract.backend().name(), "tract");
        (tract, ort)
    })
}

fn photo(name: &str) -> RgbImage {
    let bytes = std::fs::read(repo().join("tests/fixtures/upstream-samples").join(name)).expect("fixture exists");
    visage_imaging::decode(&bytes, &DecodeLimits::default()).expect("fixture decodes").image
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Photos with one face, five faces, a 12 MP one, a group of eight, and none.
const PHOTOS: [&str; 6] = ["009_C.jpg", "000_5.jpg", "004_A.jpg", "016_8.jpg", "011_3.jpg", "017_0.jpg"];

fn detect(engine: &Engine, img: &RgbImage) -> Vec<Detection> {
    engine.detect(img, engine.default_threshold()).expect("detection runs")
}

#[test]
fn both_backends_find_the_same_faces_and_landmarks() {
    let (tract, ort) = engines();
    let mut compared = 0;
    for name in PHOTOS {
        let img = photo(name);
        let (a, b) = (detect(tract, &img), detect(ort, &img));
        assert_eq!(a.len(), b.len(), "{name}: tract found {} faces, onnxruntime {}", a.len(), b.len());
        for (x, y) in a.iter().zip(&b) {
            let boxes =
                [(x.bbox.x1, y.bbox.x1), (x.bbox.y1, y.bbox.y1), (x.bbox.x2, y.bbox.x2), (x.bbox.y2, y.bbox.y2)];
            for (p, q) in boxes {
                assert!((p - q).abs() <= 1.0, "{name}: boxes differ by more than 1 px: {:?} / {:?}", x.bbox, y.bbox);
            }
            for (p, q) in x.landmarks.iter().zip(&y.landmarks) {
                let d = (p[0] - q[0]).hypot(p[1] - q[1]);
                assert!(d <= 0.5, "{name}: a landmark moved {d} px between backends");
            }
            assert!((x.score - y.score).abs() < 0.01, "{name}: scores {} / {}", x.score, y.score);
            compared += 1;
        }
    }
    assert!(compared >= 15, "only {compared} faces compared");
}

#[test]
fn both_backends_give_the_same_embeddings_and_attributes() {
    let (tract, ort) = engines();
    for name in PHOTOS {
        let img = photo(name);
        // The same landmarks for both, so only the networks differ.
        let faces = detect(tract, &img);
        let a = tract.embed_all(&img, &faces).unwrap();
        let b = ort.embed_all(&img, &faces).unwrap();
        for (i, (x, y)) in a.iter().zip(&b).enumerate() {
            let c = cosine(x, y);
            assert!(c >= 0.999, "{name} face {i}: embeddings at cosine {c} between backends");
        }
        for face in &faces {
            let (ga, gb) = (
                tract.gender().unwrap().classify(&img, &face.landmarks),
                ort.gender().unwrap().classify(&img, &face.landmarks),
            );
            let (ga, gb) = (ga.unwrap(), gb.unwrap());
            assert_eq!(ga.value, gb.value, "{name}: gender");
            assert!((ga.probability - gb.probability).abs() < 1e-3, "{name}: gender probability");
            let (aa, ab) = (
                tract.age().unwrap().estimate(&img, &face.landmarks),
                ort.age().unwrap().estimate(&img, &face.landmarks),
            );
            let (aa, ab) = (aa.unwrap(), ab.unwrap());
            assert_eq!((aa.low, aa.high), (ab.low, ab.high), "{name}: age range");
            let (la, lb) = (
                tract.landmarks106().unwrap().detect(&img, &face.bbox).unwrap(),
                ort.landmarks106().unwrap().detect(&img, &face.bbox).unwrap(),
            );
            for (p, q) in la.iter().zip(&lb) {
                let d = (p[0] - q[0]).hypot(p[1] - q[1]);
                assert!(d <= 0.5, "{name}: a 106-point landmark moved {d} px between backends");
            }
            let (ma, mb) = (
                tract.mask().unwrap().probabilities(&img, &face.bbox).unwrap(),
                ort.mask().unwrap().probabilities(&img, &face.bbox).unwrap(),
            );
            for (p, q) in ma.iter().zip(&mb) {
                assert!((p - q).abs() < 1e-4, "{name}: mask probabilities {ma:?} and {mb:?} between backends");
            }
        }
    }
}

#[test]
fn batched_embeddings_equal_one_at_a_time() {
    let (_, ort) = engines();
    assert!(ort.embedder().batching());
    let img = photo("016_8.jpg");
    let faces = detect(ort, &img);
    assert_eq!(faces.len(), 8);
    let batched = ort.embed_all(&img, &faces).unwrap();
    assert_eq!(batched.len(), 8);
    for (face, b) in faces.iter().zip(&batched) {
        let single = ort.embed(&img, face).unwrap();
        let c = cosine(&single, b);
        assert!(c >= 0.99999, "batched and single embeddings at cosine {c}");
    }
    // Different faces stay different inside one batch.
    assert!(cosine(&batched[0], &batched[1]) < 0.9);
}

#[test]
fn a_missing_library_is_a_clear_error_and_auto_falls_back_to_tract() {
    // The process already loaded the real library (or will): another path is refused, and
    // `auto` still gives a working backend.
    let _ = engines();
    let elsewhere = BackendConfig {
        kind: BackendKind::OnnxRuntime,
        device: visage_inference::backend::Device::Cpu,
        onnxruntime_library: repo().join("models/no-such-libonnxruntime.so"),
        threads: 1,
    };
    let err = Backend::new(&elsewhere).unwrap_err().to_string();
    assert!(err.contains("no-such-libonnxruntime.so"), "{err}");
    let auto = Backend::new(&BackendConfig { kind: BackendKind::Auto, ..elsewhere }).unwrap();
    assert_eq!(auto.name(), "tract");
}

#[test]
fn cuda_without_the_gpu_library_falls_back_to_the_cpu() {
    // The library scripts/fetch-models.sh fetches is ONNX Runtime's CPU build: asking for CUDA
    // loads every model on the CPU instead, and the backend says so.
    let (_, ort) = engines();
    let mut config = config();
    config.backend.device = visage_inference::backend::Device::Cuda;
    config.age = false;
    config.gender = false;
    config.landmarks106 = false;
    config.mask = false;
    let backend = Backend::new(&config.backend).unwrap();
    assert_eq!(backend.device(), visage_inference::backend::Device::Cuda, "asked for, not yet tried");
    let engine = Engine::load_with(config, backend).unwrap();
    assert_eq!(engine.backend().device(), visage_inference::backend::Device::Cpu);
    let img = photo("009_C.jpg");
    let (a, b) = (detect(&engine, &img), detect(ort, &img));
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].bbox, b[0].bbox);
}
