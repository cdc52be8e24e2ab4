//! Face embeddings: w600k_mbf (MobileFaceNet trained on WebFace600K), 512-d.
//!
//! The face is warped onto the standard 112×112 ArcFace five-point template by the similarity
//! transform that best maps its detected landmarks onto the template, sampling the
//! original-resolution image (see [`crate::align`]). The network takes RGB scaled to
//! `(x − 127.5) / 127.5`; its output is L2-normalised, so the Euclidean distance `d` and the cosine
//! `c` of two embeddings are tied by `d² = 2 − 2c`.
//!
//! Sampling: the crop is sampled bilinearly ([`Sampling::Bilinear`]), as OpenCV's `warpAffine` in
//! InsightFace's `norm_crop`. Averaging over each crop pixel's footprint ([`Sampling::Area`])
//! avoids aliasing when the face is much larger than the crop, but on the sample photos it
//! separates identities no better (same-person distances: mean 0.762 against 0.770, largest 1.061
//! against 1.045) and takes the 12–33 MP photos' embeddings to 0.986–0.989 cosine to the
//! reference's, below the required 0.99; bilinear keeps every face at 0.998 or more.

use std::path::Path;
use std::sync::Arc;

use image::RgbImage;

use crate::align::{self, Sampling, Similarity, ARCFACE_SIZE, ARCFACE_TEMPLATE};
use crate::backend::{Backend, Session, Tensor};
use crate::model::{self, ModelError};
use crate::types::Landmarks5;

/// Length of an embedding.
pub const EMBEDDING_DIM: usize = 512;

/// Which embedding network to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EmbedderKind {
    /// w600k_mbf: MobileFaceNet, WebFace600K, ArcFace loss (InsightFace weights, non-commercial
    /// licence).
    W600kMbf,
}

impl EmbedderKind {
    /// Parses a configuration value (`w600k_mbf`, case-insensitive).
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "w600k_mbf" | "insightface.w600k_mbf" => Some(EmbedderKind::W600kMbf),
            _ => None,
        }
    }

    /// The model file in the models directory.
    pub fn file_name(self) -> &'static str {
        match self {
            EmbedderKind::W600kMbf => "w600k_mbf.onnx",
        }
    }

    /// The name reported as the calculator's version (`plugins_versions.calculator`, `/status`
    /// `calculator_version`); stored with every embedding, so it changes only with the model.
    pub fn plugin_name(self) -> &'static str {
        match self {
            EmbedderKind::W600kMbf => "insightface.w600k_mbf",
        }
    }

    /// `[c0, c1]` of `similarity = (tanh((c0 − d)·c1) + 1) / 2`, fitted for this model by
    /// tests/similarity/run.sh (method and data in docs/similarity.md).
    pub fn similarity_coefficients(self) -> [f64; 2] {
        match self {
            EmbedderKind::W600kMbf => [1.11, 5.5],
        }
    }
}

/// An embedding network loaded for 112×112 input. Shared by threads.
pub struct Embedder {
    kind: EmbedderKind,
    session: Arc<dyn Session>,
    /// Whether several faces go through the network in one batched call (backends that run any
    /// batch size); otherwise each face is a call of its own.
    batching: bool,
    sampling: Sampling,
}

impl Embedder {
    pub fn load(backend: &Backend, kind: EmbedderKind, path: &Path) -> Result<Self, ModelError> {
        let side = ARCFACE_SIZE as usize;
        let session = backend.load(path, &[1, 3, side, side])?;
        Ok(Self { kind, session, batching: !backend.fixed_shapes(), sampling: Sampling::Bilinear })
    }

    /// Whether [`embed_aligned_batch`](Self::embed_aligned_batch) runs one batched call.
    pub fn batching(&self) -> bool {
        self.batching
    }

    pub fn kind(&self) -> EmbedderKind {
        self.kind
    }

    /// The same embedder sampling the aligned crop differently (for comparisons).
    pub fn with_sampling(mut self, sampling: Sampling) -> Self {
        self.sampling = sampling;
        self
    }

    /// The 112×112 crop of the face whose landmarks are given, warped onto the ArcFace template.
    pub fn align(&self, img: &RgbImage, landmarks: &Landmarks5) -> Result<RgbImage, ModelError> {
        let to_crop = Similarity::estimate(landmarks, &ARCFACE_TEMPLATE).ok_or_else(|| {
            ModelError::InvalidInput("the face landmarks are degenerate; cannot align the face".into())
        })?;
        Ok(align::warp(img, &to_crop, ARCFACE_SIZE, ARCFACE_SIZE, self.sampling))
    }

    /// The L2-normalised embedding of an aligned 112×112 crop.
    pub fn embed_aligned(&self, chip: &RgbImage) -> Result<Vec<f32>, ModelError> {
        let output = model::first_output(self.session.run(chip_tensor(chip)?)?, "embedder")?;
        normalised(output.data())
    }

    /// The embeddings of several aligned crops, in order: one batched call where the backend
    /// runs batches, one call per crop otherwise.
    pub fn embed_aligned_batch(&self, chips: &[RgbImage]) -> Result<Vec<Vec<f32>>, ModelError> {
        if !self.batching || chips.len() < 2 {
            return chips.iter().map(|chip| self.embed_aligned(chip)).collect();
        }
        let inputs = chips.iter().map(chip_tensor).collect::<Result<Vec<_>, _>>()?;
        let output = model::first_output(self.session.run(Tensor::stack(&inputs)?)?, "embedder")?;
        if output.shape().first() != Some(&chips.len()) {
            return Err(ModelError::Run(format!(
                "a batch of {} faces gave an output of shape {:?}",
                chips.len(),
                output.shape()
            )));
        }
        (0..chips.len()).map(|i| normalised(output.row(i).unwrap_or_default())).collect()
    }

    /// Aligns the face with the given landmarks and returns its embedding.
    pub fn embed(&self, img: &RgbImage, landmarks: &Landmarks5) -> Result<Vec<f32>, ModelError> {
        self.embed_aligned(&self.align(img, landmarks)?)
    }
}

/// The network input for one aligned crop.
fn chip_tensor(chip: &RgbImage) -> Result<Tensor, ModelError> {
    if chip.dimensions() != (ARCFACE_SIZE, ARCFACE_SIZE) {
        return Err(ModelError::InvalidInput(format!(
            "an aligned face must be {ARCFACE_SIZE}×{ARCFACE_SIZE}, got {}×{}",
            chip.width(),
            chip.height()
        )));
    }
    Ok(model::image_tensor(chip, [127.5; 3], [1.0 / 127.5; 3], false))
}

/// One raw output row, L2-normalised.
fn normalised(raw: &[f32]) -> Result<Vec<f32>, ModelError> {
    if raw.len() != EMBEDDING_DIM {
        return Err(ModelError::Run(format!("expected {EMBEDDING_DIM} values, got {}", raw.len())));
    }
    let norm = raw.iter().map(|v| v * v).sum::<f32>().sqrt();
    if !(norm.is_finite() && norm > 0.0) {
        return Err(ModelError::Run("the embedding has no finite direction".into()));
    }
    Ok(raw.iter().map(|v| v / norm).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_configuration_names() {
        assert_eq!(EmbedderKind::parse(" W600K_MBF "), Some(EmbedderKind::W600kMbf));
        assert_eq!(EmbedderKind::parse("insightface.w600k_mbf"), Some(EmbedderKind::W600kMbf));
        assert_eq!(EmbedderKind::parse("r100"), None);
    }
}
