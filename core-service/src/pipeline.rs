//! One `/find_faces` request, start to finish, on a blocking thread: decode, detect, then the
//! requested plugins on each face, and the JSON answer.

use std::collections::BTreeMap;
use std::time::Instant;

use image::RgbImage;
use visage_common::face::{Age, Face, FaceBox, FindFacesResponse, Gender, Mask, Pose, Quality};
use visage_common::ApiError;
use visage_imaging::{DecodeError, DecodeLimits};
use visage_inference::engine::Engine;
use visage_inference::landmarks106::{self, Landmarks106};
use visage_inference::{pose, quality, Detection};

use crate::plugins::{plugin_version, Plugin, PluginSet};

/// What a request asks for.
#[derive(Debug, Clone)]
pub struct Request {
    /// Keep at most this many faces, the largest; 0 keeps all.
    pub limit: usize,
    /// Minimum detector confidence; the engine's default when `None`.
    pub det_prob_threshold: Option<f32>,
    /// Plugins to run on each face (already restricted to those this instance offers).
    pub plugins: PluginSet,
    /// `false` treats the whole image as one face.
    pub detect_faces: bool,
}

/// Runs the request on `bytes`. No face at all is an error (400, code 28), as in CompreFace.
pub fn find_faces(
    engine: &Engine,
    limits: &DecodeLimits,
    bytes: &[u8],
    request: &Request,
) -> Result<FindFacesResponse, ApiError> {
    let image = visage_imaging::decode(bytes, limits).map_err(decode_error)?.image;

    let started = Instant::now();
    let mut detections = if request.detect_faces {
        let threshold = request.det_prob_threshold.unwrap_or_else(|| engine.default_threshold());
        engine.detect(&image, threshold).map_err(internal)?
    } else {
        vec![engine.whole_image_face(&image)]
    };
    if detections.is_empty() {
        return Err(ApiError::no_face());
    }
    let detector_ms = elapsed_ms(started) / detections.len() as u64;
    // Largest first by the box the client sees (whole pixels), so the order always agrees with
    // the returned boxes; the sort is stable, so equal areas keep the detector's order.
    let (width, height) = (image.width(), image.height());
    detections.sort_by_key(|d| {
        let b = face_box(d, width, height);
        std::cmp::Reverse((b.x_max - b.x_min) * (b.y_max - b.y_min))
    });
    if request.limit > 0 {
        detections.truncate(request.limit);
    }

    // Every face's embedding in one call: the backend batches them where it can.
    let mut embeddings = Vec::new();
    let mut calculator_ms = 0;
    if request.plugins.contains(Plugin::Calculator) {
        let started = Instant::now();
        embeddings = engine.embed_all(&image, &detections).map_err(internal)?;
        calculator_ms = elapsed_ms(started) / detections.len() as u64;
    }
    let mut embeddings = embeddings.into_iter();

    let mut result = Vec::with_capacity(detections.len());
    for det in &detections {
        let mut face = Face::from_box(face_box(det, width, height));
        let mut times = BTreeMap::from([("detector".to_string(), detector_ms)]);
        let mut points106 = None;
        for plugin in request.plugins.iter() {
            if plugin == Plugin::Calculator {
                face.embedding = embeddings.next();
                times.insert(plugin.slug().to_string(), calculator_ms);
                continue;
            }
            let started = Instant::now();
            run_plugin(engine, plugin, &image, det, &mut points106, &mut face)?;
            times.insert(plugin.slug().to_string(), elapsed_ms(started));
        }
        face.execution_time = Some(times);
        result.push(face);
    }

    let mut plugins_versions = BTreeMap::from([("detector".to_string(), engine.detector_version().to_string())]);
    for plugin in request.plugins.iter() {
        plugins_versions.insert(plugin.slug().to_string(), plugin_version(engine, plugin).to_string());
    }
    Ok(FindFacesResponse { plugins_versions, result })
}

/// Adds one plugin's output to `face` (the calculator's is computed for all faces at once by
/// [`find_faces`]). A plugin whose model this instance did not load is skipped
/// (the request's plugin set is already restricted to those offered). `points106` holds the
/// face's 106 landmarks once computed, so `landmarks2d106` and `pose` share one run.
fn run_plugin(
    engine: &Engine,
    plugin: Plugin,
    image: &RgbImage,
    det: &Detection,
    points106: &mut Option<Landmarks106>,
    face: &mut Face,
) -> Result<(), ApiError> {
    let landmarks106 = |cache: &mut Option<Landmarks106>| -> Result<Option<Landmarks106>, ApiError> {
        if cache.is_none() {
            if let Some(model) = engine.landmarks106() {
                *cache = Some(model.detect(image, &det.bbox).map_err(internal)?);
            }
        }
        Ok(*cache)
    };
    match plugin {
        // Every face's embedding comes from one batched call in `find_faces`.
        Plugin::Calculator => {}
        Plugin::Age => {
            if let Some(model) = engine.age() {
                let age = model.estimate(image, &det.landmarks).map_err(internal)?;
                face.age = Some(Age { probability: age.probability as f64, high: age.high, low: age.low });
            }
        }
        Plugin::Gender => {
            if let Some(model) = engine.gender() {
                let g = model.classify(image, &det.landmarks).map_err(internal)?;
                face.gender = Some(Gender { probability: g.probability as f64, value: g.value.as_str().to_string() });
            }
        }
        Plugin::Landmarks => face.landmarks = Some(det.landmarks.iter().map(|p| pixel(*p)).collect()),
        Plugin::Landmarks2d106 => {
            if let Some(points) = landmarks106(points106)? {
                face.landmarks2d106 = Some(points.iter().map(|p| pixel(*p)).collect());
            }
        }
        Plugin::Pose => {
            // The five points read off the 106-point model give a steadier pose than the
            // detector's own (a few degrees instead of up to six between a photo and its mirror
            // image); the detector's are the fallback when that model is not loaded.
            let five = landmarks106(points106)?.map_or(det.landmarks, |p| landmarks106::five_points(&p));
            face.pose = pose::estimate(&five).map(|p| Pose {
                pitch: round2(p.pitch),
                roll: round2(p.roll),
                yaw: round2(p.yaw),
            });
        }
        Plugin::Quality => {
            let q = quality::assess(image, det);
            face.quality = Some(Quality {
                value: f64::from(q.value),
                reasons: q.reasons.iter().map(|r| r.as_str().to_string()).collect(),
            });
        }
        Plugin::Mask => {
            if let Some(model) = engine.mask() {
                let m = model.detect(image, &det.bbox).map_err(internal)?;
                face.mask = Some(Mask { probability: f64::from(m.probability), value: m.value.as_str().to_string() });
            }
        }
    }
    Ok(())
}

fn round2(x: f32) -> f64 {
    (x as f64 * 100.0).round() / 100.0
}

/// The box in whole pixels (truncated, as CompreFace does), clamped to the image.
fn face_box(det: &Detection, width: u32, height: u32) -> FaceBox {
    let clamp = |v: f32, max: u32| (v.max(0.0) as i64).min(max as i64);
    FaceBox {
        probability: det.score as f64,
        x_min: clamp(det.bbox.x1, width),
        y_min: clamp(det.bbox.y1, height),
        x_max: clamp(det.bbox.x2, width),
        y_max: clamp(det.bbox.y2, height),
    }
}

/// A point in whole pixels (truncated, as CompreFace does).
fn pixel(p: [f32; 2]) -> [i64; 2] {
    [p[0] as i64, p[1] as i64]
}

fn elapsed_ms(since: Instant) -> u64 {
    since.elapsed().as_millis() as u64
}

/// Unreadable uploads are the client's problem: a 400 that says what is wrong.
fn decode_error(e: DecodeError) -> ApiError {
    match e {
        DecodeError::UnsupportedFormat => ApiError::bad_image(e),
        DecodeError::TooLarge(_) => ApiError::validation(e.to_string()),
        DecodeError::Empty | DecodeError::Corrupt(_) | DecodeError::UnsupportedFeature(_) => {
            ApiError::new(visage_common::ErrorCode::NoFaceFound, e.to_string())
        }
    }
}

/// A failure of our own (a model that cannot run): logged, and a 500 without internals.
fn internal(e: impl std::fmt::Display) -> ApiError {
    tracing::error!(error = %e, "inference failed");
    ApiError::unexpected().with_status(500)
}
