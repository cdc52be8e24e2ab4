//! Loading ONNX files into optimised tract plans, and turning images into input tensors.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use image::RgbImage;
use tract_onnx::prelude::*;

/// An optimised, immutable execution plan for one concrete input shape. `run` takes `&self`, so a
/// plan is shared by every thread.
pub type Plan = Arc<TypedRunnableModel>;

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("model file {0} is missing (run scripts/fetch-models.sh)")]
    Missing(PathBuf),
    #[error("cannot load model {path}: {message}")]
    Load { path: PathBuf, message: String },
    #[error("inference failed: {0}")]
    Run(String),
    #[error("{0}")]
    InvalidInput(String),
}

/// Loads `path` and optimises it for an `f32` input of exactly `input_shape`.
///
/// The graph's `value_info` entries are ignored: some exporters record a symbolic batch
/// dimension there that clashes with the concrete input fact.
pub fn load_plan(path: &Path, input_shape: &[usize]) -> Result<Plan, ModelError> {
    if !path.is_file() {
        return Err(ModelError::Missing(path.to_path_buf()));
    }
    let load = || -> TractResult<Plan> {
        tract_onnx::onnx()
            .with_ignore_value_info(true)
            .model_for_path(path)?
            .with_input_fact(0, f32::fact(input_shape).into())?
            .into_optimized()?
            .into_runnable()
    };
    load().map_err(|e| ModelError::Load { path: path.to_path_buf(), message: format!("{e:#}") })
}

/// Runs a plan on one input and returns its outputs.
pub fn run(plan: &Plan, input: Tensor) -> Result<TVec<TValue>, ModelError> {
    plan.run(tvec!(input.into())).map_err(|e| ModelError::Run(format!("{e:#}")))
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
    tract_ndarray::Array4::from_shape_vec((1, 3, h, w), data)
        .map(Tensor::from)
        .expect("the buffer holds exactly 3·h·w values")
}

/// The values of an `f32` output, in row-major order.
pub fn as_f32_slice(value: &TValue) -> Result<&[f32], ModelError> {
    value
        .try_as_plain_ram()
        .and_then(|view| view.as_slice::<f32>())
        .map_err(|e| ModelError::Run(format!("reading a model output: {e:#}")))
}

/// A pool of threads for the matrix products inside an inference (tract's `multithread-mm`).
#[derive(Debug, Clone)]
pub struct IntraOpPool(tract_onnx::prelude::tract_linalg::multithread::Executor);

impl IntraOpPool {
    /// A pool of `threads` threads; `None` below two, where a pool would only add overhead.
    pub fn new(threads: usize) -> Option<Self> {
        use tract_onnx::prelude::tract_linalg::multithread::Executor;
        (threads > 1).then(|| Self(Executor::multithread_with_name(threads, "tract")))
    }

    /// Runs `f` on the calling thread, with the matrix products of the inferences it runs spread
    /// over the pool. Other threads are not affected.
    pub fn install<R>(&self, f: impl FnOnce() -> R) -> R {
        tract_onnx::prelude::tract_linalg::multithread::multithread_tract_scope(self.0.clone(), f)
    }
}
