//! How usable a detected face is for recognition: one score in `[0, 1]` and the reasons it is
//! low, from what the pipeline already has.
//!
//! | measure | from | reason below 0.5 | 0.5 at | 1 at |
//! |---|---|---|---|---|
//! | size | the box's shorter side, original pixels | `small` | 40 px | 80 px |
//! | sharpness | variance of the Laplacian of the aligned 112×112 crop's grey levels, centre, at a mean grey level of 128 | `blurred` | 60 | 240 |
//! | exposure | mean grey level of the same region | `dark` / `bright` | 50 / 205 | 90 / 165 |
//! | head turn | yaw and pitch from the five landmarks ([`pose`]) | `turned` | 40° | 20° |
//! | detection | the detector's score | `uncertain` | 0.6 | 0.8 |
//!
//! Each measure maps to a score in `[0, 1]` (linear in the measure between its 0.5 and 1
//! points, and on to 0 as far again; sharpness on a log scale), and the quality is the lowest of
//! them: one bad property is enough to spoil a face, and a face scores at least 0.5 exactly when
//! no reason is given. The points were chosen on the sample photos and degraded copies of them
//! (`tests/quality.rs`): sharp, well-lit frontal faces score 1 or close; a face under 40 pixels
//! loses the identity detail the embedder needs (in docs/similarity.md the closest impostor pairs
//! are all faces 24–41 pixels wide); a Gaussian blur of σ = 3 % of the face width, an exposure a
//! quarter of the original's or 2.5 times it, are flagged.
//!
//! Sharpness is measured on the aligned crop, so it does not depend on the face's size in the
//! photo (a small face upscaled onto the crop also reads as blurred), and scaled to a mean grey
//! level of 128, so a dark photo is dark, not also blurred. Pitch from five points is rough (the
//! sample portraits, all roughly frontal, read between −2° and −29°), hence the wide margin.

use image::RgbImage;

use crate::align::{self, Sampling, Similarity, ARCFACE_SIZE, ARCFACE_TEMPLATE};
use crate::pose::{self, Pose};
use crate::types::Detection;

/// Why a face scores low.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reason {
    Small,
    Blurred,
    Dark,
    Bright,
    Turned,
    Uncertain,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Small => "small",
            Reason::Blurred => "blurred",
            Reason::Dark => "dark",
            Reason::Bright => "bright",
            Reason::Turned => "turned",
            Reason::Uncertain => "uncertain",
        }
    }
}

/// The raw measures behind a [`Quality`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measures {
    /// The box's shorter side in pixels.
    pub size: f32,
    /// Variance of the Laplacian of the crop's centre (grey levels 0–255), scaled as if its mean
    /// grey level were 128.
    pub sharpness: f32,
    /// Mean grey level of the crop's centre (0–255).
    pub brightness: f32,
    /// Head pose, when the landmarks allow one.
    pub pose: Option<Pose>,
    pub score: f32,
}

/// A face's quality for recognition.
#[derive(Debug, Clone, PartialEq)]
pub struct Quality {
    /// In `[0, 1]`; at least 0.5 exactly when `reasons` is empty.
    pub value: f32,
    /// Each property that scores below 0.5, in a fixed order.
    pub reasons: Vec<Reason>,
    pub measures: Measures,
}

/// The quality of `face`, found in `image`.
pub fn assess(image: &RgbImage, face: &Detection) -> Quality {
    let b = &face.bbox;
    let size = (b.x2 - b.x1).min(b.y2 - b.y1).max(0.0);
    let (sharpness, brightness) = match Similarity::estimate(&face.landmarks, &ARCFACE_TEMPLATE) {
        Some(to_crop) => {
            centre_statistics(&align::warp(image, &to_crop, ARCFACE_SIZE, ARCFACE_SIZE, Sampling::Bilinear))
        }
        None => (0.0, 0.0),
    };
    let measures = Measures { size, sharpness, brightness, pose: pose::estimate(&face.landmarks), score: face.score };
    score(measures)
}

/// The quality for given measures.
pub fn score(m: Measures) -> Quality {
    let yaw_pitch = m.pose.map_or(1.0, |p| ramp_down(p.yaw.abs().max(p.pitch.abs()), 40.0, 20.0));
    let parts = [
        (Reason::Small, ramp_up(m.size, 40.0, 80.0)),
        (Reason::Blurred, ramp_up(m.sharpness.max(1e-3).ln(), 60f32.ln(), 240f32.ln())),
        (Reason::Dark, ramp_up(m.brightness, 50.0, 90.0)),
        (Reason::Bright, ramp_down(m.brightness, 205.0, 165.0)),
        (Reason::Turned, yaw_pitch),
        (Reason::Uncertain, ramp_up(m.score, 0.6, 0.8)),
    ];
    let value = parts.iter().map(|(_, s)| *s).fold(1.0f32, f32::min);
    let reasons = parts.iter().filter(|(_, s)| *s < 0.5).map(|(r, _)| *r).collect();
    Quality { value, reasons, measures: m }
}

/// 0.5 at `half`, 1 at `full` (above `half`), 0 as far below `half` as `full` is above it.
fn ramp_up(x: f32, half: f32, full: f32) -> f32 {
    let t = 0.5 + 0.5 * (x - half) / (full - half);
    if t.is_nan() {
        0.0
    } else {
        t.clamp(0.0, 1.0)
    }
}

/// As [`ramp_up`] for a measure that is better lower (`full` below `half`).
fn ramp_down(x: f32, half: f32, full: f32) -> f32 {
    ramp_up(-x, -half, -full)
}

/// The centre of the aligned crop: the eyes, nose and mouth, without the background and hair
/// (and without the black fill of a crop that reaches past the photo's edge).
const CENTRE: (u32, u32, u32, u32) = (24, 32, 88, 104);

/// Variance of the 4-neighbour Laplacian and mean of the grey levels over [`CENTRE`].
fn centre_statistics(chip: &RgbImage) -> (f32, f32) {
    let (x0, y0, x1, y1) = CENTRE;
    let (w, h) = chip.dimensions();
    if w < x1 + 1 || h < y1 + 1 {
        return (0.0, 0.0);
    }
    let grey = |x: u32, y: u32| {
        let p = chip.get_pixel(x, y).0;
        0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2])
    };
    let (mut sum, mut lap_sum, mut lap_sq, mut n) = (0.0, 0.0, 0.0, 0.0);
    for y in y0..y1 {
        for x in x0..x1 {
            let c = grey(x, y);
            let lap = grey(x - 1, y) + grey(x + 1, y) + grey(x, y - 1) + grey(x, y + 1) - 4.0 * c;
            sum += c;
            lap_sum += lap;
            lap_sq += lap * lap;
            n += 1.0;
        }
    }
    let (mean, mean_lap) = (sum / n, lap_sum / n);
    let exposure = 128.0 / mean.max(8.0);
    ((lap_sq / n - mean_lap * mean_lap) as f32 * (exposure * exposure) as f32, mean as f32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measures() -> Measures {
        Measures {
            size: 200.0,
            sharpness: 500.0,
            brightness: 120.0,
            pose: Some(Pose { pitch: 2.0, roll: 0.0, yaw: -5.0 }),
            score: 0.9,
        }
    }

    #[test]
    fn a_good_face_scores_one_and_each_bad_property_is_named() {
        let q = score(measures());
        assert_eq!((q.value, q.reasons.as_slice()), (1.0, &[][..]));
        type Spoil = fn(&mut Measures);
        let cases: [(Spoil, Reason); 7] = [
            (|m| m.size = 30.0, Reason::Small),
            (|m| m.sharpness = 20.0, Reason::Blurred),
            (|m| m.brightness = 30.0, Reason::Dark),
            (|m| m.brightness = 230.0, Reason::Bright),
            (|m| m.pose = Some(Pose { pitch: 0.0, roll: 0.0, yaw: 45.0 }), Reason::Turned),
            (|m| m.pose = Some(Pose { pitch: -50.0, roll: 0.0, yaw: 0.0 }), Reason::Turned),
            (|m| m.score = 0.45, Reason::Uncertain),
        ];
        for (spoil, reason) in cases {
            let mut m = measures();
            spoil(&mut m);
            let q = score(m);
            assert_eq!(q.reasons, [reason], "{m:?}");
            assert!(q.value < 0.5, "{m:?}: {}", q.value);
        }
        let mut m = measures();
        m.size = 20.0;
        m.score = 0.5;
        assert_eq!(score(m).reasons, [Reason::Small, Reason::Uncertain]);
    }

    #[test]
    fn the_value_is_one_half_at_each_threshold_and_monotone() {
        let mut m = measures();
        m.size = 40.0;
        assert!((score(m).value - 0.5).abs() < 1e-6);
        m.size = 60.0;
        assert!((score(m).value - 0.75).abs() < 1e-6);
        m = measures();
        m.sharpness = 60.0;
        assert!((score(m).value - 0.5).abs() < 1e-5);
        m.sharpness = 0.0;
        assert_eq!(score(m).value, 0.0);
        m = measures();
        m.pose = None;
        assert_eq!(score(m).value, 1.0, "no pose: not counted against the face");
    }

    #[test]
    fn a_flat_crop_has_no_sharpness_and_its_grey_level() {
        let flat = RgbImage::from_pixel(112, 112, image::Rgb([128, 128, 128]));
        assert_eq!(centre_statistics(&flat), (0.0, 128.0));
        let mut checker = flat.clone();
        for (x, y, p) in checker.enumerate_pixels_mut() {
            *p = if (x + y) % 2 == 0 { image::Rgb([0, 0, 0]) } else { image::Rgb([200, 200, 200]) };
        }
        let (sharp, mean) = centre_statistics(&checker);
        assert!(sharp > 100_000.0 && (mean - 100.0).abs() < 1.0, "{sharp} {mean}");
        // The same pattern at half the exposure is as sharp.
        let mut dim = checker.clone();
        dim.pixels_mut().for_each(|p| p.0 = p.0.map(|c| c / 2));
        let (dim_sharp, dim_mean) = centre_statistics(&dim);
        assert!((dim_sharp / sharp - 1.0).abs() < 1e-3 && (dim_mean - 50.0).abs() < 1.0, "{dim_sharp} {dim_mean}");
    }
}
