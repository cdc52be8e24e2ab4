//! The face engine: the configured detector and embedder, loaded once and shared by every request
//! thread.
//!
//! ```no_run
//! use visage_inference::engine::{Engine, EngineConfig};
//!
//! let engine = Engine::load(EngineConfig::default())?;
//! let img = image::open("photo.jpg").expect("readable").to_rgb8();
//! for face in engine.detect(&img, engine.default_threshold())? {
//!     let embedding = engine.embed(&img, &face)?;
//!     println!("{:?} {}", face.bbox, embedding.len());
//! }
//! # Ok::<(), visage_inference::model::ModelError>(())
//! ```
//!
//! Similarity between two embeddings follows CompreFace's curve on their Euclidean distance `d`,
//! `(tanh((c0 − d)·c1) + 1) / 2`, with `[c0, c1]` fitted for the embedder (docs/similarity.md).

use std::path::PathBuf;

use image::RgbImage;
use visage_common::similarity::Coefficients;

use crate::age_gender::{self, AgeEstimator, GenderClassifier};
use crate::align::{ARCFACE_SIZE, ARCFACE_TEMPLATE};
pub use crate::backend::{Backend, BackendConfig, BackendKind, Device};
use crate::detector::Detector;
pub use crate::detector::{DetectorKind, DEFAULT_MAX_DETECT_SIZE};
use crate::embedder::Embedder;
pub use crate::embedder::{EmbedderKind, EMBEDDING_DIM};
use crate::landmarks106::{self, Landmarks106Detector};
use crate::mask::{self, MaskDetector};
use crate::model::ModelError;
use crate::types::{BoundingBox, Detection, Landmarks5};

/// What to load.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineConfig {
    /// Directory holding the ONNX files (`scripts/fetch-models.sh` fills it).
    pub models_dir: PathBuf,
    pub detector: DetectorKind,
    pub embedder: EmbedderKind,
    /// Longest side of the image the detector sees; larger images are downscaled for detection
    /// only (alignment samples the original).
    pub max_detect_size: u32,
    /// Threads one call to [`Engine::embed_all`] may use (backends without batching).
    pub threads: usize,
    /// Which backend runs the networks.
    pub backend: BackendConfig,
    /// Load the age network (`age`).
    pub age: bool,
    /// Load the gender network (`gender`).
    pub gender: bool,
    /// Load the 106-point landmark network (`landmarks2d106`).
    pub landmarks106: bool,
    /// Load the face-mask network (`mask`) when its file is there; a missing file leaves it out
    /// ([`Engine::mask`] is `None`) instead of failing the load.
    pub mask: bool,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            models_dir: PathBuf::from("models"),
            detector: DetectorKind::Scrfd,
            embedder: EmbedderKind::W600kMbf,
            max_detect_size: DEFAULT_MAX_DETECT_SIZE,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            backend: BackendConfig::default(),
            age: false,
            gender: false,
            landmarks106: false,
            mask: false,
        }
    }
}

/// The loaded models. `Send + Sync`: wrap it in an `Arc` and call it from any thread.
pub struct Engine {
    config: EngineConfig,
    backend: Backend,
    detector: Detector,
    embedder: Embedder,
    age: Option<AgeEstimator>,
    gender: Option<GenderClassifier>,
    landmarks106: Option<Landmarks106Detector>,
    mask: Option<MaskDetector>,
}

impl Engine {
    /// Sets up the configured backend and loads the configured models. A missing file is
    /// [`ModelError::Missing`], whose message says to run `scripts/fetch-models.sh`.
    pub fn load(config: EngineConfig) -> Result<Self, ModelError> {
        let backend = Backend::new(&config.backend)?;
        Self::load_with(config, backend)
    }

    /// Loads the configured models on `backend` (`config.backend` is not used).
    pub fn load_with(config: EngineConfig, backend: Backend) -> Result<Self, ModelError> {
        let dir = &config.models_dir;
        let detector =
            Detector::load(&backend, config.detector, &dir.join(config.detector.file_name()), config.max_detect_size)?;
        let embedder = Embedder::load(&backend, config.embedder, &dir.join(config.embedder.file_name()))?;
        let age =
            config.age.then(|| AgeEstimator::load(&backend, &dir.join(age_gender::AGE_MODEL_FILE))).transpose()?;
        let gender = config
            .gender
            .then(|| GenderClassifier::load(&backend, &dir.join(age_gender::GENDER_MODEL_FILE)))
            .transpose()?;
        let landmarks106 = config
            .landmarks106
            .then(|| Landmarks106Detector::load(&backend, &dir.join(landmarks106::MODEL_FILE)))
            .transpose()?;
        let mask = match config.mask.then(|| MaskDetector::load(&backend, &dir.join(mask::MODEL_FILE))) {
            Some(Err(ModelError::Missing(_))) | None => None,
            Some(loaded) => Some(loaded?),
        };
        Ok(Self { config, backend, detector, embedder, age, gender, landmarks106, mask })
    }

    /// The backend running the networks.
    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    /// The age network, when configured.
    pub fn age(&self) -> Option<&AgeEstimator> {
        self.age.as_ref()
    }

    /// The gender network, when configured.
    pub fn gender(&self) -> Option<&GenderClassifier> {
        self.gender.as_ref()
    }

    /// The 106-point landmark network, when configured.
    pub fn landmarks106(&self) -> Option<&Landmarks106Detector> {
        self.landmarks106.as_ref()
    }

    /// The face-mask network, when configured and its file was there.
    pub fn mask(&self) -> Option<&MaskDetector> {
        self.mask.as_ref()
    }

    /// Runs `f` (one request's inferences) with as many threads per inference as the backend
    /// gives a request that runs alone.
    pub fn run_alone<R>(&self, f: impl FnOnce() -> R) -> R {
        self.backend.install_parallel(f)
    }

    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    pub fn detector(&self) -> &Detector {
        &self.detector
    }

    pub fn embedder(&self) -> &Embedder {
        &self.embedder
    }

    /// The `det_prob_threshold` used when a request gives none.
    pub fn default_threshold(&self) -> f32 {
        self.config.detector.default_threshold()
    }

    /// Faces with a detector score of at least `det_prob_threshold`, in original pixels, largest
    /// first.
    pub fn detect(&self, img: &RgbImage, det_prob_threshold: f32) -> Result<Vec<Detection>, ModelError> {
        self.detector.detect(img, det_prob_threshold)
    }

    /// The whole image as one face (`detect_faces=false`): the box covers the image and the
    /// landmarks are the ArcFace template scaled to it, so a 112×112 aligned crop is embedded
    /// exactly as it is.
    pub fn whole_image_face(&self, img: &RgbImage) -> Detection {
        let (w, h) = (img.width() as f32, img.height() as f32);
        let (sx, sy) = (w / ARCFACE_SIZE as f32, h / ARCFACE_SIZE as f32);
        let landmarks: Landmarks5 = ARCFACE_TEMPLATE.map(|[x, y]| [x * sx, y * sy]);
        Detection { bbox: BoundingBox { x1: 0.0, y1: 0.0, x2: w, y2: h }, score: 1.0, landmarks }
    }

    /// The L2-normalised embedding of one face of `img`.
    pub fn embed(&self, img: &RgbImage, face: &Detection) -> Result<Vec<f32>, ModelError> {
        self.embedder.embed(img, &face.landmarks)
    }

    /// The embeddings of several faces of `img`, in order: one batched call where the backend
    /// runs batches, otherwise spread over up to `config.threads` threads.
    pub fn embed_all(&self, img: &RgbImage, faces: &[Detection]) -> Result<Vec<Vec<f32>>, ModelError> {
        if self.embedder.batching() {
            let chips = faces.iter().map(|f| self.embedder.align(img, &f.landmarks)).collect::<Result<Vec<_>, _>>()?;
            return self.embedder.embed_aligned_batch(&chips);
        }
        let threads = self.config.threads.clamp(1, faces.len().max(1));
        if threads == 1 {
            return faces.iter().map(|f| self.embed(img, f)).collect();
        }
        let chunk = faces.len().div_ceil(threads);
        std::thread::scope(|scope| {
            let handles: Vec<_> = faces
                .chunks(chunk)
                .map(|part| scope.spawn(move || part.iter().map(|f| self.embed(img, f)).collect::<Vec<_>>()))
                .collect();
            let mut out = Vec::with_capacity(faces.len());
            for handle in handles {
                let part = handle.join().map_err(|_| ModelError::Run("an embedding thread panicked".into()))?;
                for embedding in part {
                    out.push(embedding?);
                }
            }
            Ok(out)
        })
    }

    /// `plugins_versions.detector`.
    pub fn detector_version(&self) -> &'static str {
        self.config.detector.plugin_name()
    }

    /// `plugins_versions.calculator` and `/status` `calculator_version`.
    pub fn calculator_version(&self) -> &'static str {
        self.config.embedder.plugin_name()
    }

    /// `[c0, c1]` of the similarity curve for this engine's embedder.
    pub fn similarity_coefficients(&self) -> [f64; 2] {
        self.config.embedder.similarity_coefficients()
    }

    /// Similarity in `[0, 1]` for the Euclidean distance between two normalised embeddings.
    pub fn similarity(&self, distance: f64) -> f64 {
        Coefficients(self.similarity_coefficients()).similarity(distance)
    }
}

/// Euclidean distance between two embeddings.
pub fn distance(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(x, y)| ((x - y) as f64).powi(2)).sum::<f64>().sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_is_shareable_between_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Engine>();
    }

    #[test]
    fn distance_of_unit_vectors() {
        assert_eq!(distance(&[1.0, 0.0], &[0.0, 1.0]), 2f64.sqrt());
        assert_eq!(distance(&[0.6, 0.8], &[0.6, 0.8]), 0.0);
    }
}
