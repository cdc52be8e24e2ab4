//! Detects the faces in image files and prints their boxes, landmarks and embeddings as JSON, one
//! object per file. The parity check (tests/parity/run.sh) compares this output with the
//! onnxruntime reference pipeline.
//!
//! ```sh
//! cargo run --release -p visage-inference --example embed -- [OPTIONS] FILES...
//! ```
//!
//! Options: `--models DIR` (default `models`), `--detector scrfd|retinaface`, `--threshold P`
//! (default: the detector's), `--max-detect-size N` (default 640), `--sampling bilinear|area` (default bilinear),
//! `--no-embeddings`, `--backend tract|onnxruntime` (default tract; onnxruntime needs the cargo
//! feature `onnxruntime` and `libonnxruntime.so` in the models directory).

use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::{json, Value};
use visage_imaging::DecodeLimits;
use visage_inference::align::Sampling;
use visage_inference::backend::{Backend, BackendConfig, BackendKind};
use visage_inference::detector::{Detector, DetectorKind};
use visage_inference::embedder::Embedder;
use visage_inference::engine::EngineConfig;

struct Args {
    config: EngineConfig,
    threshold: Option<f32>,
    sampling: Sampling,
    embeddings: bool,
    backend: BackendKind,
    files: Vec<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        config: EngineConfig::default(),
        threshold: None,
        sampling: Sampling::Bilinear,
        embeddings: true,
        backend: BackendKind::Tract,
        files: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--models" => args.config.models_dir = PathBuf::from(value()?),
            "--detector" => {
                let v = value()?;
                args.config.detector = DetectorKind::parse(&v).ok_or_else(|| format!("unknown detector {v}"))?;
            }
            "--threshold" => args.threshold = Some(value()?.parse().map_err(|e| format!("--threshold: {e}"))?),
            "--max-detect-size" => {
                args.config.max_detect_size = value()?.parse().map_err(|e| format!("--max-detect-size: {e}"))?
            }
            "--sampling" => {
                args.sampling = match value()?.as_str() {
                    "area" => Sampling::Area,
                    "bilinear" => Sampling::Bilinear,
                    other => return Err(format!("unknown sampling {other}")),
                }
            }
            "--no-embeddings" => args.embeddings = false,
            "--backend" => {
                let v = value()?;
                args.backend = BackendKind::parse(&v).ok_or_else(|| format!("unknown backend {v}"))?;
            }
            _ if arg.starts_with("--") => return Err(format!("unknown option {arg}")),
            _ => args.files.push(PathBuf::from(arg)),
        }
    }
    if args.files.is_empty() {
        return Err("no image files given".into());
    }
    Ok(args)
}

fn run(args: Args) -> Result<Value, String> {
    let c = &args.config;
    let backend = Backend::new(&BackendConfig {
        kind: args.backend,
        onnxruntime_library: BackendConfig::default_onnxruntime_library(&c.models_dir),
        ..BackendConfig::default()
    })
    .map_err(|e| e.to_string())?;
    eprintln!("backend: {} {}", backend.name(), backend.version());
    let detector = Detector::load(&backend, c.detector, &c.models_dir.join(c.detector.file_name()), c.max_detect_size)
        .map_err(|e| e.to_string())?;
    let embedder = Embedder::load(&backend, c.embedder, &c.models_dir.join(c.embedder.file_name()))
        .map_err(|e| e.to_string())?
        .with_sampling(args.sampling);
    let threshold = args.threshold.unwrap_or_else(|| c.detector.default_threshold());
    let mut out = Vec::new();
    for file in &args.files {
        let fail = |e: &dyn std::fmt::Display| format!("{}: {e}", file.display());
        let bytes = std::fs::read(file).map_err(|e| fail(&e))?;
        let img = visage_imaging::decode(&bytes, &DecodeLimits::default()).map_err(|e| fail(&e))?.image;
        let faces = detector.detect(&img, threshold).map_err(|e| fail(&e))?;
        let mut items = Vec::new();
        for face in &faces {
            let mut item = json!({
                "box": [face.bbox.x1, face.bbox.y1, face.bbox.x2, face.bbox.y2],
                "score": face.score,
                "landmarks": face.landmarks,
            });
            if args.embeddings {
                item["embedding"] = json!(embedder.embed(&img, &face.landmarks).map_err(|e| fail(&e))?);
            }
            items.push(item);
        }
        out.push(json!({
            "file": file.display().to_string(),
            "width": img.width(),
            "height": img.height(),
            "faces": items,
        }));
    }
    Ok(Value::Array(out))
}

fn main() -> ExitCode {
    match parse_args().and_then(run) {
        Ok(v) => {
            println!("{v}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
