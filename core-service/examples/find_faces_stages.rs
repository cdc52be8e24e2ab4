//! Times, in-process, what one `POST /find_faces?face_plugins=calculator` costs core-service,
//! whole and stage by stage, on the given photos. Part of the latency comparison with the
//! onnxruntime reference (benches/find_faces/, docs/benchmarks.md).
//!
//! ```sh
//! cargo run --release -p core-service --example find_faces_stages -- [--models DIR] [--runs N] [--threads N] [--backend B] FILES...
//! ```
//!
//! `--threads` is core-service's `INTRA_OP_THREADS` (default: the number of CPUs), `--backend`
//! its `INFERENCE_BACKEND` (`tract`, `onnxruntime`; default `auto`).
//!
//! For each file, after one warm-up, `N` runs (default 30) of:
//! - `request`: `core_service::pipeline::find_faces`, exactly what the HTTP handler runs on its
//!   blocking thread (decode, detect, align + embed each face, the answer's structs);
//! - `decode`: `visage_imaging::decode` of the bytes;
//! - `resize`: the detector's downscale (or upscale, as InsightFace does) to 640: the time of
//!   `Detector::detect` on the decoded image minus `detect` on it already resized;
//! - `detect`: `Detector::detect` on the resized image: canvas, tensor, SCRFD, decoding, NMS;
//! - `align`: the warp of each face onto the 112×112 ArcFace template;
//! - `embed`: w600k_mbf on the aligned crops (one batched call where the backend batches).
//!
//! Prints one JSON object per file with each stage's median and 90th percentile in milliseconds.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use core_service::pipeline::{self, Request};
use core_service::plugins::{Plugin, PluginSet};
use visage_imaging::DecodeLimits;
use visage_inference::engine::{BackendConfig, BackendKind, Engine, EngineConfig};

const STAGES: [&str; 6] = ["request", "decode", "resize", "detect", "align", "embed"];

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("find_faces_stages: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let mut config = EngineConfig::default();
    let mut runs = 30usize;
    // As core-service: INTRA_OP_THREADS defaults to the number of CPUs.
    let mut threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut backend = BackendKind::Auto;
    let mut files = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--models" => config.models_dir = PathBuf::from(args.next().ok_or("--models needs a directory")?),
            "--backend" => {
                backend = args
                    .next()
                    .as_deref()
                    .and_then(BackendKind::parse)
                    .ok_or("--backend needs tract, onnxruntime or auto")?
            }
            "--runs" => {
                runs = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|&n| n > 0)
                    .ok_or("--runs needs a positive number")?
            }
            "--threads" => {
                threads = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|&n| n > 0)
                    .ok_or("--threads needs a positive number")?
            }
            _ => files.push(PathBuf::from(arg)),
        }
    }
    if files.is_empty() {
        return Err("usage: find_faces_stages [--models DIR] [--runs N] [--threads N] FILES...".into());
    }

    config.backend = BackendConfig {
        kind: backend,
        device: visage_inference::backend::Device::Cpu,
        onnxruntime_library: BackendConfig::default_onnxruntime_library(&config.models_dir),
        threads,
    };
    let engine = Engine::load(config.clone()).map_err(|e| e.to_string())?;
    eprintln!("backend: {} {}", engine.backend().name(), engine.backend().version());
    let limits = DecodeLimits::default();
    let mut plugins = PluginSet::default();
    plugins.insert(Plugin::Calculator);
    let request = Request { limit: 0, det_prob_threshold: None, plugins, detect_faces: true };
    let threshold = engine.default_threshold();
    let max_side = config.max_detect_size;

    let measure = || -> Result<(), String> {
        for file in &files {
            let bytes = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
            let mut samples: Vec<Vec<f64>> = vec![Vec::with_capacity(runs); STAGES.len()];
            for run in 0..=runs {
                let t = Instant::now();
                let answer = pipeline::find_faces(&engine, &limits, &bytes, &request)
                    .map_err(|e| format!("{}: {}", file.display(), e.message))?;
                let request_ms = ms(t);

                let t = Instant::now();
                let image = visage_imaging::decode(&bytes, &limits).map_err(|e| e.to_string())?.image;
                let decode_ms = ms(t);

                let t = Instant::now();
                let faces = engine.detect(&image, threshold).map_err(|e| e.to_string())?;
                let detect_full_ms = ms(t);
                let resized = detector_input(&image, max_side);
                let t = Instant::now();
                engine.detect(&resized, threshold).map_err(|e| e.to_string())?;
                let detect_ms = ms(t);
                if faces.len() != answer.result.len() {
                    return Err(format!(
                        "{}: the stages found {} faces, the request {}",
                        file.display(),
                        faces.len(),
                        answer.result.len()
                    ));
                }

                let t = Instant::now();
                let chips = faces
                    .iter()
                    .map(|face| engine.embedder().align(&image, &face.landmarks))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| e.to_string())?;
                let align_ms = ms(t);
                let t = Instant::now();
                engine.embedder().embed_aligned_batch(&chips).map_err(|e| e.to_string())?;
                let embed_ms = ms(t);
                if run == 0 {
                    continue; // warm-up
                }
                let resize_ms = (detect_full_ms - detect_ms).max(0.0);
                for (i, v) in [request_ms, decode_ms, resize_ms, detect_ms, align_ms, embed_ms].into_iter().enumerate()
                {
                    samples[i].push(v);
                }
            }
            let stages: serde_json::Map<String, serde_json::Value> = STAGES
                .iter()
                .zip(samples.iter_mut())
                .map(|(name, values)| {
                    values.sort_by(f64::total_cmp);
                    let stats = serde_json::json!({ "p50": percentile(values, 0.5), "p90": percentile(values, 0.9) });
                    (name.to_string(), stats)
                })
                .collect();
            let name =
                file.file_name().map_or_else(|| file.display().to_string(), |n| n.to_string_lossy().into_owned());
            let line = serde_json::json!({ "file": name, "runs": runs, "ms": stages });
            println!("{line}");
        }
        Ok(())
    };
    // One request at a time: core-service runs a request that runs alone with every thread.
    engine.run_alone(measure)
}

/// The image at the size the detector feeds SCRFD: longest side `max_side`, the other truncated,
/// upscaling small images as the detector does (and InsightFace before it).
fn detector_input(image: &image::RgbImage, max_side: u32) -> image::RgbImage {
    let (w, h) = image.dimensions();
    let (cw, ch) = if h > w {
        ((u64::from(max_side) * u64::from(w) / u64::from(h)).max(1) as u32, max_side)
    } else {
        (max_side, (u64::from(max_side) * u64::from(h) / u64::from(w)).max(1) as u32)
    };
    image::imageops::resize(image, cw, ch, image::imageops::FilterType::Triangle)
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

/// The value below which a share `q` of the sorted `values` lie (nearest rank).
fn percentile(values: &[f64], q: f64) -> f64 {
    let rank = ((q * values.len() as f64).ceil() as usize).clamp(1, values.len());
    (values[rank - 1] * 100.0).round() / 100.0
}
