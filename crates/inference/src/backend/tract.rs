//! The tract backend: `tract-onnx`, pure Rust.
//!
//! tract optimises a plan for one concrete input shape and runs it about three times faster than
//! a plan with symbolic dimensions, so a session here serves exactly the shape it was loaded for.
//! Plans are immutable and shared by every thread.

use std::path::Path;
use std::sync::Arc;

use tract_onnx::prelude::*;

use super::{Session, Tensor as Dense};
use crate::model::ModelError;

/// The tract version this build runs (the `tract-onnx` dependency's).
pub const VERSION: &str = "0.23";

/// tract with an optional pool of threads for one inference's matrix products
/// (`multithread-mm`).
pub struct TractBackend {
    pool: Option<tract_onnx::prelude::tract_linalg::multithread::Executor>,
}

impl TractBackend {
    /// A backend whose [`install_parallel`](Self::install_parallel) spreads matrix products over
    /// `threads` threads (none below two, where a pool would only add overhead).
    pub fn new(threads: usize) -> Self {
        use tract_onnx::prelude::tract_linalg::multithread::Executor;
        Self { pool: (threads > 1).then(|| Executor::multithread_with_name(threads, "tract")) }
    }

    /// Loads `path` and optimises it for an `f32` input of exactly `input_shape`. The graph's
    /// `value_info` entries are ignored: some exporters record a symbolic batch dimension there
    /// that clashes with the concrete input fact.
    pub fn load(&self, path: &Path, input_shape: &[usize]) -> Result<Arc<dyn Session>, ModelError> {
        let load = || -> TractResult<Arc<TypedRunnableModel>> {
            tract_onnx::onnx()
                .with_ignore_value_info(true)
                .model_for_path(path)?
                .with_input_fact(0, f32::fact(input_shape).into())?
                .into_optimized()?
                .into_runnable()
        };
        let plan = load().map_err(|e| ModelError::Load { path: path.to_path_buf(), message: format!("{e:#}") })?;
        Ok(Arc::new(TractSession { plan, shape: input_shape.to_vec() }))
    }

    /// Runs `f` with the matrix products of the inferences it runs spread over the pool. Other
    /// threads are not affected.
    pub fn install_parallel<R>(&self, f: impl FnOnce() -> R) -> R {
        match &self.pool {
            Some(pool) => tract_onnx::prelude::tract_linalg::multithread::multithread_tract_scope(pool.clone(), f),
            None => f(),
        }
    }
}

struct TractSession {
    plan: Arc<TypedRunnableModel>,
    shape: Vec<usize>,
}

impl Session for TractSession {
    fn run(&self, input: Dense) -> Result<Vec<Dense>, ModelError> {
        if input.shape() != self.shape {
            return Err(ModelError::InvalidInput(format!(
                "this model was prepared for input {:?}, got {:?}",
                self.shape,
                input.shape()
            )));
        }
        let shape = input.shape().to_vec();
        let array = tract_ndarray::ArrayD::from_shape_vec(shape, input.into_data())
            .map_err(|e| ModelError::InvalidInput(e.to_string()))?;
        let outputs =
            self.plan.run(tvec!(Tensor::from(array).into())).map_err(|e| ModelError::Run(format!("{e:#}")))?;
        outputs
            .iter()
            .map(|value| {
                let data = value
                    .try_as_plain_ram()
                    .and_then(|view| view.as_slice::<f32>())
                    .map_err(|e| ModelError::Run(format!("reading a model output: {e:#}")))?;
                Dense::new(value.shape().to_vec(), data.to_vec())
            })
            .collect()
    }
}
