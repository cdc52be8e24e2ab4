//! Model errors, and turning images into input tensors.

use std::path::PathBuf;

use image::RgbImage;

use crate::backend::Tensor;

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("model file {0} is missing (run scripts/fetch-models.sh)")]
    Missing(PathBuf),
    #[error("cannot load model {path}: {message}")]
    Load { path: PathBuf, message: String },
    #[error("inference backend: {0}")]
    Backend(String),
    #[error("inference failed: {0}")]
    Run(String),
    #[error("{0}")]
    InvalidInput(String),
}

/// Packs an RGB image into a `[1, 3, H, W]` tensor with `(value − mean[c]) · scale[c]` per
/// channel; `bgr` swaps the channel order for models trained on BGR input.
pub fn image_tensor(img: &RgbImage, mean: [f32; 3], scale: [f32; 3], bgr: bool) -> Tensor {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let plane = w * h;
    let mut data = vec![0f32; 3 * plane];
    for (i, px) in img.pixels().enumerate() {
        for c in 0..3 {
            let src = if bgr { 2 - c } else { c };
            data[c * plane + i] = (px.0[src] as f32 - mean[c]) * scale[c];
        }
    }
    Tensor::new(vec![1, 3, h, w], data).expect("the buffer holds exactly 3·h·w values")
}

/// The first output of a model, or an error naming what ran.
pub fn first_output(outputs: Vec<Tensor>, what: &str) -> Result<Tensor, ModelError> {
    outputs.into_iter().next().ok_or_else(|| ModelError::Run(format!("the {what} produced no output")))
}
