//! Face inference on real ONNX models, run on the CPU by `tract-onnx` or ONNX Runtime
//! ([`backend`]).
//!
//! The pipeline is: detect faces (box, score, five landmarks) on a downscaled copy of the image,
//! align each face onto a fixed template with a similarity transform computed from its landmarks
//! (sampling the original-resolution image), then run the per-face models (embedder, age, gender,
//! 106-point landmarks) on the aligned crops, and the face-mask classifier on the box. Head pose
//! is derived from the landmarks.
//!
//! Every model is loaded once into a session of the configured backend; sessions are shared by
//! all threads, so one [`engine::Engine`] serves concurrent requests.

pub mod age_gender;
pub mod align;
pub mod backend;
pub mod detector;
pub mod embedder;
pub mod engine;
pub mod landmarks106;
pub mod mask;
pub mod model;
pub mod pose;
pub mod quality;
pub mod types;

pub use types::{BoundingBox, Detection, Landmarks5};
