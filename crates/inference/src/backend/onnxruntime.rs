//! The ONNX Runtime backend, through the `ort` crate with the shared library loaded at run time
//! (`load-dynamic`): the build needs no native library, and a machine without one falls back to
//! tract (see [`super::Backend::new`]).
//!
//! ONNX Runtime accepts every input shape the model declares, so one model serves every canvas
//! size and batch size. `ort` runs a session through `&mut`, so each model keeps a small pool of
//! sessions: a call takes one, or creates one when all are busy, and puts it back after.
//! Concurrency is bounded by the callers (core-service's inference workers), and so is the pool.
//!
//! A session's intra-op thread count is fixed when it is created, so each model keeps two pools:
//! one-thread sessions, and sessions with every configured thread for calls made inside
//! [`OrtBackend::install_parallel`] (a request that runs alone). Concurrent requests then keep to
//! one core each instead of oversubscribing the cores.

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use ort::environment::Environment;
use ort::ep;
use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session as OrtSession;
use ort::value::TensorRef;

use super::{Device, Session, Tensor};
use crate::model::ModelError;

/// The process's ONNX Runtime environment. The library can be loaded once per process; the first
/// path wins, and a later backend for another path is refused.
static ENVIRONMENT: OnceLock<Result<(PathBuf, Environment, String), String>> = OnceLock::new();

thread_local! {
    /// Whether this thread runs inside [`OrtBackend::install_parallel`].
    static PARALLEL: Cell<bool> = const { Cell::new(false) };
}

pub struct OrtBackend {
    environment: Environment,
    version: String,
    threads: usize,
    /// CUDA asked for and, so far, loading: cleared (with one log line) the first time the CUDA
    /// execution provider cannot be registered, after which every session runs on the CPU.
    cuda: Arc<AtomicBool>,
}

impl OrtBackend {
    /// Loads the ONNX Runtime library at `library` (once per process) and sets up sessions with
    /// `threads` intra-op threads each.
    pub fn new(library: &Path, threads: usize, device: Device) -> Result<Self, ModelError> {
        let loaded = ENVIRONMENT.get_or_init(|| {
            if !library.is_file() {
                return Err(format!(
                    "the ONNX Runtime library {} is missing (run scripts/fetch-models.sh)",
                    library.display()
                ));
            }
            let environment = ort::init_from(library)
                .map_err(|e| format!("cannot load the ONNX Runtime library {}: {e}", library.display()))?
                .with_name("visage")
                .with_telemetry(false)
                .build()
                .map_err(|e| format!("cannot start ONNX Runtime: {e}"))?;
            Ok((library.to_path_buf(), environment, version_of(library)))
        });
        match loaded {
            Ok((path, environment, version)) if path == library => Ok(Self {
                environment: environment.clone(),
                version: version.clone(),
                threads: threads.max(1),
                cuda: Arc::new(AtomicBool::new(device == Device::Cuda)),
            }),
            Ok((path, ..)) => Err(ModelError::Backend(format!(
                "ONNX Runtime is already loaded from {}; cannot load {} as well",
                path.display(),
                library.display()
            ))),
            Err(message) => Err(ModelError::Backend(message.clone())),
        }
    }

    /// Runs `f` with the sessions it uses taken from the pool with every configured thread.
    pub fn install_parallel<R>(&self, f: impl FnOnce() -> R) -> R {
        struct Reset(bool);
        impl Drop for Reset {
            fn drop(&mut self) {
                PARALLEL.with(|p| p.set(self.0));
            }
        }
        let _reset = Reset(PARALLEL.with(|p| p.replace(true)));
        f()
    }

    /// Where the sessions run.
    pub fn device(&self) -> Device {
        if self.cuda.load(Ordering::Relaxed) {
            Device::Cuda
        } else {
            Device::Cpu
        }
    }

    /// ONNX Runtime's version, e.g. `1.32.0`.
    pub fn version(&self) -> String {
        self.version.clone()
    }

    /// Loads `path` and runs it once on zeros of `input_shape`, which checks that the file is a
    /// working model for that input.
    pub fn load(&self, path: &Path, input_shape: &[usize]) -> Result<Arc<dyn Session>, ModelError> {
        let model = OrtModel {
            path: path.to_path_buf(),
            environment: self.environment.clone(),
            threads: self.threads,
            cuda: Arc::clone(&self.cuda),
            idle: Default::default(),
        };
        let first = model.open(1)?;
        model.idle[0].lock().unwrap_or_else(|e| e.into_inner()).push(first);
        let zeros = Tensor::new(input_shape.to_vec(), vec![0.0; input_shape.iter().product()])?;
        model.run(zeros).map_err(|e| ModelError::Load { path: path.to_path_buf(), message: e.to_string() })?;
        Ok(Arc::new(model))
    }
}

/// The version the library at `path` reports (`OrtGetApiBase()->GetVersionString()`), e.g.
/// `1.32.0`; `unknown` if it cannot say. The library is already loaded, so this only takes
/// another reference to it.
fn version_of(path: &Path) -> String {
    let read = || -> Option<String> {
        // SAFETY: the file is the ONNX Runtime library `ort` has just loaded and checked;
        // `OrtGetApiBase` takes no arguments and returns a pointer to a static table whose
        // `GetVersionString` returns a static NUL-terminated string.
        unsafe {
            let library = libloading::Library::new(path).ok()?;
            let get: libloading::Symbol<unsafe extern "C" fn() -> *const ort::sys::OrtApiBase> =
                library.get(b"OrtGetApiBase").ok()?;
            let base = get();
            if base.is_null() {
                return None;
            }
            let version = ((*base).GetVersionString)();
            (!version.is_null()).then(|| std::ffi::CStr::from_ptr(version).to_string_lossy().into_owned())
        }
    };
    read().unwrap_or_else(|| "unknown".to_string())
}

struct OrtModel {
    path: PathBuf,
    environment: Environment,
    threads: usize,
    cuda: Arc<AtomicBool>,
    /// Idle sessions with one thread, and with `threads` threads.
    idle: [Mutex<Vec<OrtSession>>; 2],
}

impl OrtModel {
    fn open(&self, threads: usize) -> Result<OrtSession, ModelError> {
        if self.cuda.load(Ordering::Relaxed) {
            match self.open_on(true, threads) {
                Ok(session) => return Ok(session),
                Err(e) => {
                    if self.cuda.swap(false, Ordering::Relaxed) {
                        eprintln!("inference backend: CUDA is not available ({e}); running on the CPU");
                    }
                }
            }
        }
        self.open_on(false, threads)
    }

    fn open_on(&self, cuda: bool, threads: usize) -> Result<OrtSession, ModelError> {
        let fail = |e: &dyn std::fmt::Display| ModelError::Load { path: self.path.clone(), message: e.to_string() };
        let mut builder = OrtSession::builder(&self.environment).map_err(|e| fail(&e))?;
        if cuda {
            builder = builder
                .with_execution_providers([ep::CUDA::default().build().error_on_failure()])
                .map_err(|e| fail(&e))?;
        }
        builder
            .with_optimization_level(GraphOptimizationLevel::All)
            .map_err(|e| fail(&e))?
            .with_intra_threads(threads)
            .map_err(|e| fail(&e))?
            .with_inter_threads(1)
            .map_err(|e| fail(&e))?
            // Idle pool threads sleep instead of spinning: concurrent requests each run their
            // own session, and spinning threads would take their cores.
            .with_intra_op_spinning(false)
            .map_err(|e| fail(&e))?
            .commit_from_file(&self.path)
            .map_err(|e| fail(&e))
    }

    /// Which pool this thread's calls use: 1 inside `install_parallel` with several threads.
    fn pool(&self) -> usize {
        usize::from(self.threads > 1 && PARALLEL.with(Cell::get))
    }

    fn take(&self, pool: usize) -> Result<OrtSession, ModelError> {
        let idle = self.idle[pool].lock().unwrap_or_else(|e| e.into_inner()).pop();
        match idle {
            Some(session) => Ok(session),
            None => self.open(if pool == 1 { self.threads } else { 1 }),
        }
    }
}

impl Session for OrtModel {
    fn run(&self, input: Tensor) -> Result<Vec<Tensor>, ModelError> {
        let pool = self.pool();
        let mut session = self.take(pool)?;
        let result = (|| {
            let value = TensorRef::from_array_view((input.shape().to_vec(), input.data()))
                .map_err(|e| ModelError::InvalidInput(e.to_string()))?;
            let outputs = session.run(ort::inputs![value]).map_err(|e| ModelError::Run(e.to_string()))?;
            outputs
                .iter()
                .map(|(_, value)| {
                    let (shape, data) =
                        value.try_extract_tensor::<f32>().map_err(|e| ModelError::Run(e.to_string()))?;
                    Tensor::new(shape.iter().map(|&d| d.max(0) as usize).collect(), data.to_vec())
                })
                .collect::<Result<Vec<_>, _>>()
        })();
        self.idle[pool].lock().unwrap_or_else(|e| e.into_inner()).push(session);
        result
    }
}
