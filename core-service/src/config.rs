//! core-service settings, read from the environment.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `CORE_HOST` | `0.0.0.0` | listen address |
//! | `CORE_PORT` (or CompreFace's `ML_PORT`) | `3000` | listen port |
//! | `MODELS_DIR` | `models` | where the ONNX files are |
//! | `DETECTOR` | `scrfd` | `scrfd` (SCRFD-500M) or `retinaface` (RetinaFace-MobileNet0.25, MIT) |
//! | `EMBEDDER` | `w600k_mbf` | embedding model |
//! | `MAX_DETECT_SIZE` (or `IMG_LENGTH_LIMIT`) | `640` | longest side of the image the detector sees |
//! | `EXTRA_PLUGINS` | all available | comma list of plugins to load (`age,gender,landmarks2d106,pose,landmarks,quality,mask`) |
//! | `MAX_REQUEST_SIZE` | `10MB` | largest accepted request body |
//! | `MAX_IMAGE_PIXELS` | `50000000` | images with more pixels are refused before decoding |
//! | `INFERENCE_WORKERS` | number of CPUs | requests processed at once (the rest wait their turn) |
//! | `INTRA_OP_THREADS` | number of CPUs | threads one inference may use when its request runs alone (1: none) |
//! | `INFERENCE_BACKEND` | `auto` | `onnxruntime`, `tract`, or `auto`: ONNX Runtime when this build has it and its library loads, tract otherwise |
//! | `INFERENCE_DEVICE` | `cpu` | `cuda`: ONNX Runtime's CUDA execution provider (the GPU build's library), the CPU when it cannot load |
//! | `ONNXRUNTIME_LIB` | `$MODELS_DIR/libonnxruntime.so` | the ONNX Runtime shared library (`scripts/fetch-models.sh` puts it there) |

use std::net::SocketAddr;
use std::path::PathBuf;

use visage_common::config::{first_var, parse_from_str, parse_size, var_or, ConfigError};
use visage_imaging::DecodeLimits;
use visage_inference::engine::{BackendKind, DetectorKind, Device, EmbedderKind};

use crate::plugins::{Plugin, PluginSet};

/// An `EXTRA_PLUGINS` value: our slugs (`age,gender,mask`) or CompreFace's plugin paths
/// (`agegender.AgeDetector,facemask.MaskDetector`), comma-separated.
pub fn parse_plugins(value: &str) -> Result<PluginSet, String> {
    let mut set = PluginSet::default();
    for slug in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match Plugin::from_slug(slug) {
            Some(p) => set.insert(p),
            // CompreFace names its plugins by their Python path; keep the last segment.
            None => match slug.rsplit('.').next().and_then(Plugin::from_alias) {
                Some(p) => set.insert(p),
                None => return Err(format!("unknown plugin {slug}")),
            },
        }
    }
    Ok(set)
}

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub models_dir: PathBuf,
    pub detector: DetectorKind,
    pub embedder: EmbedderKind,
    pub max_detect_size: u32,
    /// Optional plugins this instance loads and offers.
    pub plugins: PluginSet,
    pub max_request_size: u64,
    pub decode_limits: DecodeLimits,
    pub workers: usize,
    /// Requests that may wait for an inference worker; more are answered 503 at once.
    pub max_queued: usize,
    /// Threads one inference may use when its request runs alone (1: one thread always).
    pub intra_op_threads: usize,
    /// Which inference backend runs the networks.
    pub backend: BackendKind,
    /// Where they run.
    pub device: Device,
    /// The ONNX Runtime shared library; `None`: `libonnxruntime.so` in `models_dir`.
    pub onnxruntime_library: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([0, 0, 0, 0], 3000)),
            models_dir: PathBuf::from("models"),
            detector: DetectorKind::Scrfd,
            embedder: EmbedderKind::W600kMbf,
            max_detect_size: 640,
            plugins: PluginSet::all_optional(),
            max_request_size: 10 << 20,
            decode_limits: DecodeLimits::default(),
            workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            max_queued: 64,
            intra_op_threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
            backend: BackendKind::Auto,
            device: Device::Cpu,
            onnxruntime_library: None,
        }
    }
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        let d = Self::default();
        let host: std::net::IpAddr = var_or(&["CORE_HOST"], d.listen.ip(), parse_from_str)?;
        let port: u16 = var_or(&["CORE_PORT", "ML_PORT"], d.listen.port(), parse_from_str)?;
        let models_dir = first_var(&["MODELS_DIR"]).map_or(d.models_dir, |(_, v)| PathBuf::from(v));
        let detector = var_or(&["DETECTOR", "FACE_DETECTION_PLUGIN"], d.detector, |v| {
            DetectorKind::parse(v).ok_or_else(|| "expected scrfd or retinaface".to_string())
        })?;
        let embedder = var_or(&["EMBEDDER", "CALCULATION_PLUGIN"], d.embedder, |v| {
            EmbedderKind::parse(v).ok_or_else(|| "expected w600k_mbf".to_string())
        })?;
        let max_detect_size =
            var_or(&["MAX_DETECT_SIZE", "IMG_LENGTH_LIMIT"], d.max_detect_size, |v| match v.parse::<u32>() {
                Ok(n) if (32..=4096).contains(&n) => Ok(n),
                _ => Err("expected a number of pixels between 32 and 4096".to_string()),
            })?;
        let plugins = var_or(&["EXTRA_PLUGINS"], d.plugins, parse_plugins)?;
        let max_request_size = var_or(&["MAX_REQUEST_SIZE"], d.max_request_size, parse_size)?;
        let max_pixels = var_or(&["MAX_IMAGE_PIXELS"], d.decode_limits.max_pixels, parse_from_str)?;
        let workers = var_or(&["INFERENCE_WORKERS"], d.workers, |v| match v.parse::<usize>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err("expected a positive number".to_string()),
        })?;
        let max_queued = var_or(&["INFERENCE_QUEUE"], d.max_queued, parse_from_str)?;
        let intra_op_threads = var_or(&["INTRA_OP_THREADS"], d.intra_op_threads, |v| match v.parse::<usize>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err("expected a positive number".to_string()),
        })?;
        let backend = var_or(&["INFERENCE_BACKEND"], d.backend, |v| {
            BackendKind::parse(v).ok_or_else(|| "expected auto, onnxruntime or tract".to_string())
        })?;
        let device = var_or(&["INFERENCE_DEVICE"], d.device, |v| {
            Device::parse(v).ok_or_else(|| "expected cpu or cuda".to_string())
        })?;
        let onnxruntime_library = first_var(&["ONNXRUNTIME_LIB"]).map(|(_, v)| PathBuf::from(v));
        Ok(Self {
            listen: SocketAddr::new(host, port),
            models_dir,
            detector,
            embedder,
            max_detect_size,
            plugins,
            max_request_size,
            decode_limits: DecodeLimits { max_pixels, ..d.decode_limits },
            workers,
            max_queued,
            intra_op_threads,
            backend,
            device,
            onnxruntime_library,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_plugins_take_slugs_and_compreface_names() {
        let set = parse_plugins("age, mask,,facemask.MaskDetector,insightface.LandmarksDetector").expect("valid");
        let got: Vec<_> = set.iter().map(Plugin::slug).collect();
        assert_eq!(got, ["age", "landmarks", "mask"]);
        assert_eq!(parse_plugins("").expect("valid"), PluginSet::default());
        assert_eq!(parse_plugins("age,glasses"), Err("unknown plugin glasses".to_string()));
    }
}
