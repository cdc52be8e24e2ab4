//! The inference backends: one interface for running an ONNX model, two implementations.
//!
//! - [`tract`] (cargo feature `tract`, default): `tract-onnx`, pure Rust, runs anywhere (ARM and
//!   CPUs without AVX included). It optimises a plan for one concrete input shape, so a caller
//!   that meets several shapes loads one session per shape ([`Backend::fixed_shapes`]).
//! - [`onnxruntime`] (cargo feature `onnxruntime`): ONNX Runtime's CPU kernels through the `ort`
//!   crate, with the shared library loaded at run time from a file (`scripts/fetch-models.sh`
//!   fetches it, pinned and checksummed). One session serves every input shape and batch size the
//!   model allows.
//!
//! Callers see [`Tensor`]s of `f32` and [`Session`]s; no type of either library leaves its
//! module.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::model::ModelError;

#[cfg(feature = "onnxruntime")]
pub mod onnxruntime;
#[cfg(feature = "tract")]
pub mod tract;

#[cfg(not(any(feature = "tract", feature = "onnxruntime")))]
compile_error!("visage-inference needs at least one backend: enable the `tract` or `onnxruntime` feature");

/// A dense `f32` tensor in row-major order.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    shape: Vec<usize>,
    data: Vec<f32>,
}

impl Tensor {
    /// A tensor of `shape` holding `data`; the lengths must agree.
    pub fn new(shape: Vec<usize>, data: Vec<f32>) -> Result<Self, ModelError> {
        let len: usize = shape.iter().product();
        if len != data.len() {
            return Err(ModelError::InvalidInput(format!(
                "a tensor of shape {shape:?} holds {len} values, got {}",
                data.len()
            )));
        }
        Ok(Self { shape, data })
    }

    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    pub fn data(&self) -> &[f32] {
        &self.data
    }

    pub fn into_data(self) -> Vec<f32> {
        self.data
    }

    /// Stacks tensors of one shape `[1, …]` into one `[n, …]` batch.
    pub fn stack(parts: &[Tensor]) -> Result<Tensor, ModelError> {
        let first = parts.first().ok_or_else(|| ModelError::InvalidInput("an empty batch".into()))?;
        if first.shape.first() != Some(&1) || parts.iter().any(|p| p.shape != first.shape) {
            return Err(ModelError::InvalidInput("a batch needs tensors of one shape [1, …]".into()));
        }
        let mut shape = first.shape.clone();
        shape[0] = parts.len();
        let mut data = Vec::with_capacity(first.data.len() * parts.len());
        for p in parts {
            data.extend_from_slice(&p.data);
        }
        Ok(Tensor { shape, data })
    }

    /// Row `i` of a batch `[n, …]`, as a flat slice.
    pub fn row(&self, i: usize) -> Option<&[f32]> {
        let n = *self.shape.first()?;
        if i >= n {
            return None;
        }
        let width = self.data.len() / n;
        Some(&self.data[i * width..(i + 1) * width])
    }
}

/// A model loaded by a backend, ready to run. `run` takes `&self`: one session serves every
/// thread.
pub trait Session: Send + Sync {
    /// Runs the model on one input and returns its outputs in the model's order.
    fn run(&self, input: Tensor) -> Result<Vec<Tensor>, ModelError>;
}

/// Which backend to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BackendKind {
    /// ONNX Runtime when this build has it and its library loads, tract otherwise.
    Auto,
    Tract,
    OnnxRuntime,
}

impl BackendKind {
    /// Parses `auto`, `tract` or `onnxruntime` (also `ort`), case-insensitive.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Some(BackendKind::Auto),
            "tract" => Some(BackendKind::Tract),
            "onnxruntime" | "ort" => Some(BackendKind::OnnxRuntime),
            _ => None,
        }
    }
}

/// Where the networks run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Device {
    #[default]
    Cpu,
    /// An NVIDIA GPU through ONNX Runtime's CUDA execution provider (the `onnxruntime-gpu`
    /// library and CUDA's own libraries must be present); the CPU when it cannot load.
    Cuda,
}

impl Device {
    /// Parses `cpu` or `cuda` (also `gpu`), case-insensitive.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "cpu" => Some(Device::Cpu),
            "cuda" | "gpu" => Some(Device::Cuda),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Device::Cpu => "cpu",
            Device::Cuda => "cuda",
        }
    }
}

/// How to set a backend up.
#[derive(Debug, Clone, PartialEq)]
pub struct BackendConfig {
    pub kind: BackendKind,
    /// The device asked for; [`Backend::device`] says which one runs.
    pub device: Device,
    /// The ONNX Runtime shared library (`libonnxruntime.so.*`).
    pub onnxruntime_library: PathBuf,
    /// Threads one inference may use inside [`Backend::install_parallel`] (tract: a pool for
    /// matrix products; ONNX Runtime: sessions with that many intra-op threads); one elsewhere.
    pub threads: usize,
}

impl BackendConfig {
    /// The file `scripts/fetch-models.sh` puts the ONNX Runtime library in, within `models_dir`.
    pub fn default_onnxruntime_library(models_dir: &Path) -> PathBuf {
        models_dir.join(ONNXRUNTIME_LIBRARY_FILE)
    }
}

/// File name of the ONNX Runtime library in the models directory.
pub const ONNXRUNTIME_LIBRARY_FILE: &str = "libonnxruntime.so";

impl Default for BackendConfig {
    fn default() -> Self {
        Self {
            kind: BackendKind::Tract,
            device: Device::Cpu,
            onnxruntime_library: PathBuf::from("models").join(ONNXRUNTIME_LIBRARY_FILE),
            threads: 1,
        }
    }
}

/// A backend, ready to load models. Cheap to clone.
#[derive(Clone)]
pub struct Backend(Arc<Inner>);

enum Inner {
    #[cfg(feature = "tract")]
    Tract(tract::TractBackend),
    #[cfg(feature = "onnxruntime")]
    OnnxRuntime(onnxruntime::OrtBackend),
}

impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Backend({} {})", self.name(), self.version())
    }
}

impl Backend {
    /// Sets up the configured backend. `Auto` tries ONNX Runtime first and falls back to tract,
    /// logging why on standard error; an explicit choice that cannot be met is an error.
    pub fn new(config: &BackendConfig) -> Result<Self, ModelError> {
        if config.device == Device::Cuda && config.kind == BackendKind::Tract {
            eprintln!("inference backend: tract runs on the CPU only; INFERENCE_DEVICE=cuda needs onnxruntime");
        }
        match config.kind {
            BackendKind::Tract => Self::tract(config.threads),
            BackendKind::OnnxRuntime => Self::onnxruntime(config),
            BackendKind::Auto => match Self::onnxruntime(config) {
                Ok(backend) => Ok(backend),
                Err(e) => {
                    let fallback = Self::tract(config.threads);
                    if fallback.is_ok() {
                        eprintln!("inference backend: ONNX Runtime is not available ({e}); using tract");
                    }
                    fallback.map_err(|_| e)
                }
            },
        }
    }

    /// tract, with a pool of `threads` threads for one inference's matrix products.
    pub fn tract(threads: usize) -> Result<Self, ModelError> {
        #[cfg(feature = "tract")]
        {
            Ok(Self(Arc::new(Inner::Tract(tract::TractBackend::new(threads)))))
        }
        #[cfg(not(feature = "tract"))]
        {
            let _ = threads;
            Err(ModelError::Backend("this build has no tract backend (cargo feature `tract`)".into()))
        }
    }

    /// ONNX Runtime, loading its library from `config.onnxruntime_library`.
    pub fn onnxruntime(config: &BackendConfig) -> Result<Self, ModelError> {
        #[cfg(feature = "onnxruntime")]
        {
            Ok(Self(Arc::new(Inner::OnnxRuntime(onnxruntime::OrtBackend::new(
                &config.onnxruntime_library,
                config.threads,
                config.device,
            )?))))
        }
        #[cfg(not(feature = "onnxruntime"))]
        {
            let _ = config;
            Err(ModelError::Backend("this build has no ONNX Runtime backend (cargo feature `onnxruntime`)".into()))
        }
    }

    /// `tract` or `onnxruntime`.
    pub fn name(&self) -> &'static str {
        match &*self.0 {
            #[cfg(feature = "tract")]
            Inner::Tract(_) => "tract",
            #[cfg(feature = "onnxruntime")]
            Inner::OnnxRuntime(_) => "onnxruntime",
        }
    }

    /// The library's version.
    pub fn version(&self) -> String {
        match &*self.0 {
            #[cfg(feature = "tract")]
            Inner::Tract(_) => tract::VERSION.to_string(),
            #[cfg(feature = "onnxruntime")]
            Inner::OnnxRuntime(b) => b.version(),
        }
    }

    /// The device the networks run on: the CPU unless CUDA was asked for and loaded.
    pub fn device(&self) -> Device {
        match &*self.0 {
            #[cfg(feature = "tract")]
            Inner::Tract(_) => Device::Cpu,
            #[cfg(feature = "onnxruntime")]
            Inner::OnnxRuntime(b) => b.device(),
        }
    }

    /// Whether a session runs only the input shape it was loaded for (tract), rather than every
    /// shape the model allows (ONNX Runtime). Batching needs the latter.
    pub fn fixed_shapes(&self) -> bool {
        match &*self.0 {
            #[cfg(feature = "tract")]
            Inner::Tract(_) => true,
            #[cfg(feature = "onnxruntime")]
            Inner::OnnxRuntime(_) => false,
        }
    }

    /// Loads the model at `path` for an `f32` input of `input_shape` (with
    /// [`fixed_shapes`](Self::fixed_shapes) false, the shape only checks that the model runs).
    pub fn load(&self, path: &Path, input_shape: &[usize]) -> Result<Arc<dyn Session>, ModelError> {
        if !path.is_file() {
            return Err(ModelError::Missing(path.to_path_buf()));
        }
        match &*self.0 {
            #[cfg(feature = "tract")]
            Inner::Tract(b) => b.load(path, input_shape),
            #[cfg(feature = "onnxruntime")]
            Inner::OnnxRuntime(b) => b.load(path, input_shape),
        }
    }

    /// Runs `f` on the calling thread with the inferences it runs spread over the configured
    /// threads; a request that runs alone uses it, so that one client gets every core.
    pub fn install_parallel<R>(&self, f: impl FnOnce() -> R) -> R {
        match &*self.0 {
            #[cfg(feature = "tract")]
            Inner::Tract(b) => b.install_parallel(f),
            #[cfg(feature = "onnxruntime")]
            Inner::OnnxRuntime(b) => b.install_parallel(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tensors_check_their_length_and_stack_into_batches() {
        assert!(Tensor::new(vec![1, 2, 3], vec![0.0; 5]).is_err());
        let a = Tensor::new(vec![1, 2], vec![1.0, 2.0]).unwrap();
        let b = Tensor::new(vec![1, 2], vec![3.0, 4.0]).unwrap();
        let batch = Tensor::stack(&[a, b.clone()]).unwrap();
        assert_eq!(batch.shape(), &[2, 2]);
        assert_eq!(batch.row(1), Some(&[3.0, 4.0][..]));
        assert_eq!(batch.row(2), None);
        let odd = Tensor::new(vec![1, 3], vec![0.0; 3]).unwrap();
        assert!(Tensor::stack(&[b, odd]).is_err());
    }

    #[test]
    fn backend_names_parse() {
        assert_eq!(BackendKind::parse(" ONNXRuntime "), Some(BackendKind::OnnxRuntime));
        assert_eq!(BackendKind::parse("ort"), Some(BackendKind::OnnxRuntime));
        assert_eq!(BackendKind::parse("tract"), Some(BackendKind::Tract));
        assert_eq!(BackendKind::parse("auto"), Some(BackendKind::Auto));
        assert_eq!(BackendKind::parse("cuda"), None);
        assert_eq!(Device::parse("CUDA"), Some(Device::Cuda));
        assert_eq!(Device::parse("cpu"), Some(Device::Cpu));
        assert_eq!(Device::parse("tpu"), None);
    }
}
