//! Face alignment: a similarity transform fitted to landmarks, and the warp that samples the
//! aligned crop from the original-resolution image.
//!
//! The transform is the least-squares similarity (rotation, uniform scale, translation; no
//! reflection) mapping the detected landmarks onto a template, the same fit as Umeyama's method
//! used by insightface's `norm_crop`. Written with complex numbers it has a closed form:
//! `dst ≈ a·src + t` with `a = Σ (d−d̄)·conj(s−s̄) / Σ |s−s̄|²`.
//!
//! The warp maps every output pixel centre back into the source image and samples it
//! bilinearly, with black outside the image, as OpenCV's `warpAffine` does. When the face is much
//! larger than the crop, plain bilinear sampling aliases; [`Sampling::Area`] then averages a grid
//! of bilinear samples over each output pixel's footprint instead.

use image::RgbImage;

use crate::types::Landmarks5;

/// Side of the crop the ArcFace-family embedders take.
pub const ARCFACE_SIZE: u32 = 112;

/// The standard five-point template of the 112×112 ArcFace crop (insightface `arcface_dst`).
pub const ARCFACE_TEMPLATE: Landmarks5 =
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]];

/// A similarity transform `(x, y) ↦ (a·x − b·y + tx, b·x + a·y + ty)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Similarity {
    pub a: f32,
    pub b: f32,
    pub tx: f32,
    pub ty: f32,
}

impl Similarity {
    /// Least-squares similarity taking `src` onto `dst`. `None` when the point sets differ in
    /// length, hold fewer than two points, are degenerate (all source points equal) or not finite.
    pub fn estimate(src: &[[f32; 2]], dst: &[[f32; 2]]) -> Option<Self> {
        let n = src.len();
        if n < 2 || n != dst.len() {
            return None;
        }
        let mean = |pts: &[[f32; 2]]| {
            let (sx, sy) = pts.iter().fold((0f64, 0f64), |(x, y), p| (x + p[0] as f64, y + p[1] as f64));
            (sx / n as f64, sy / n as f64)
        };
        let (msx, msy) = mean(src);
        let (mdx, mdy) = mean(dst);
        let (mut re, mut im, mut den) = (0f64, 0f64, 0f64);
        for (s, d) in src.iter().zip(dst) {
            let (sx, sy) = (s[0] as f64 - msx, s[1] as f64 - msy);
            let (dx, dy) = (d[0] as f64 - mdx, d[1] as f64 - mdy);
            re += dx * sx + dy * sy;
            im += dy * sx - dx * sy;
            den += sx * sx + sy * sy;
        }
        if !(den.is_finite() && re.is_finite() && im.is_finite()) || den <= 1e-12 {
            return None;
        }
        let (a, b) = (re / den, im / den);
        let tx = mdx - (a * msx - b * msy);
        let ty = mdy - (b * msx + a * msy);
        Some(Self { a: a as f32, b: b as f32, tx: tx as f32, ty: ty as f32 })
    }

    pub fn apply(&self, p: [f32; 2]) -> [f32; 2] {
        [self.a * p[0] - self.b * p[1] + self.tx, self.b * p[0] + self.a * p[1] + self.ty]
    }

    /// The uniform scale factor.
    pub fn scale(&self) -> f32 {
        self.a.hypot(self.b)
    }

    /// The rotation angle in radians.
    pub fn angle(&self) -> f32 {
        self.b.atan2(self.a)
    }

    /// The inverse transform; `None` for a zero scale.
    pub fn inverse(&self) -> Option<Self> {
        let s2 = self.a * self.a + self.b * self.b;
        if !(s2.is_finite() && s2 > 0.0) {
            return None;
        }
        let (a, b) = (self.a / s2, -self.b / s2);
        let tx = -(a * self.tx - b * self.ty);
        let ty = -(b * self.tx + a * self.ty);
        Some(Self { a, b, tx, ty })
    }
}

/// How the warp samples the source image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sampling {
    /// One bilinear sample per output pixel (OpenCV `INTER_LINEAR`).
    Bilinear,
    /// Antialiased: when the source is larger than the crop, each output pixel averages its whole
    /// footprint. The face region is first box-averaged by the integer part `k` of the scale (one
    /// pass over the region, like one level of dlib's pyramid), then sampled bilinearly, with a
    /// 2×2 supersample for the remaining factor when it exceeds 1.5.
    Area,
}

impl Similarity {
    /// `other ∘ self`: apply `self`, then `other`.
    pub fn then(&self, other: &Similarity) -> Similarity {
        let [tx, ty] = other.apply([self.tx, self.ty]);
        Similarity { a: other.a * self.a - other.b * self.b, b: other.a * self.b + other.b * self.a, tx, ty }
    }
}

/// Samples a `width × height` crop: output pixel `(u, v)` takes the source colour at
/// `to_crop⁻¹(u, v)`. Pixels outside the source are black.
pub fn warp(img: &RgbImage, to_crop: &Similarity, width: u32, height: u32, sampling: Sampling) -> RgbImage {
    let Some(inv) = to_crop.inverse() else {
        return RgbImage::new(width, height);
    };
    if sampling == Sampling::Area {
        let k = inv.scale().floor();
        if k >= 2.0 && k.is_finite() {
            let (reduced, to_reduced) = box_reduce(img, &inv, width, height, k.min(1024.0) as u32);
            let inv = inv.then(&to_reduced);
            return sample(&reduced, &inv, width, height, supersampling(inv.scale()));
        }
        return sample(img, &inv, width, height, supersampling(inv.scale()));
    }
    sample(img, &inv, width, height, 1)
}

/// Samples per axis that cover an output pixel whose footprint is `scale` source pixels.
fn supersampling(scale: f32) -> usize {
    if scale > 1.5 {
        (scale.ceil() as usize).min(16)
    } else {
        1
    }
}

/// The part of `img` that the crop samples, averaged over `k × k` blocks (black outside the
/// image), and the transform from source to reduced pixel coordinates.
fn box_reduce(img: &RgbImage, inv: &Similarity, width: u32, height: u32, k: u32) -> (RgbImage, Similarity) {
    let corners = [
        [-0.5, -0.5],
        [width as f32 - 0.5, -0.5],
        [-0.5, height as f32 - 0.5],
        [width as f32 - 0.5, height as f32 - 0.5],
    ]
    .map(|p| inv.apply(p));
    let margin = 2 * k as i64;
    let min_x = corners.iter().map(|p| p[0]).fold(f32::INFINITY, f32::min).floor() as i64 - margin;
    let min_y = corners.iter().map(|p| p[1]).fold(f32::INFINITY, f32::min).floor() as i64 - margin;
    let max_x = corners.iter().map(|p| p[0]).fold(f32::NEG_INFINITY, f32::max).ceil() as i64 + margin;
    let max_y = corners.iter().map(|p| p[1]).fold(f32::NEG_INFINITY, f32::max).ceil() as i64 + margin;
    let (ki, kf) = (k as i64, k as f32);
    let rw = ((max_x - min_x) / ki + 1) as u32;
    let rh = ((max_y - min_y) / ki + 1) as u32;
    let (iw, ih) = (img.width() as i64, img.height() as i64);
    let norm = 1.0 / (kf * kf);
    let mut reduced = RgbImage::new(rw, rh);
    let mut sums = vec![[0f32; 3]; rw as usize];
    for j in 0..rh as i64 {
        sums.iter_mut().for_each(|s| *s = [0.0; 3]);
        let y_start = (min_y + j * ki).max(0);
        let y_end = (min_y + (j + 1) * ki).min(ih);
        for y in y_start..y_end {
            for (i, sum) in sums.iter_mut().enumerate() {
                let x_start = (min_x + i as i64 * ki).max(0);
                let x_end = (min_x + (i as i64 + 1) * ki).min(iw);
                for x in x_start..x_end {
                    let p = img.get_pixel(x as u32, y as u32).0;
                    for c in 0..3 {
                        sum[c] += p[c] as f32;
                    }
                }
            }
        }
        for (i, sum) in sums.iter().enumerate() {
            let px = reduced.get_pixel_mut(i as u32, j as u32);
            for (channel, total) in px.0.iter_mut().zip(sum) {
                *channel = (total * norm + 0.5).clamp(0.0, 255.0) as u8;
            }
        }
    }
    // Reduced pixel (i, j) covers source pixels min + i·k … min + i·k + k − 1; its centre is at
    // min + i·k + (k − 1)/2 in source pixel coordinates.
    let to_reduced = Similarity {
        a: 1.0 / kf,
        b: 0.0,
        tx: -(min_x as f32 + (kf - 1.0) / 2.0) / kf,
        ty: -(min_y as f32 + (kf - 1.0) / 2.0) / kf,
    };
    (reduced, to_reduced)
}

/// `ss × ss` bilinear samples per output pixel, averaged.
fn sample(img: &RgbImage, inv: &Similarity, width: u32, height: u32, ss: usize) -> RgbImage {
    let mut out = RgbImage::new(width, height);
    let offsets: Vec<f32> = (0..ss).map(|i| (i as f32 + 0.5) / ss as f32 - 0.5).collect();
    let norm = 1.0 / (ss * ss) as f32;
    for v in 0..height {
        for u in 0..width {
            let mut acc = [0f32; 3];
            for &dv in &offsets {
                for &du in &offsets {
                    let [sx, sy] = inv.apply([u as f32 + du, v as f32 + dv]);
                    let px = bilinear(img, sx, sy);
                    for c in 0..3 {
                        acc[c] += px[c];
                    }
                }
            }
            let px = out.get_pixel_mut(u, v);
            for (channel, total) in px.0.iter_mut().zip(acc) {
                *channel = (total * norm + 0.5).clamp(0.0, 255.0) as u8;
            }
        }
    }
    out
}

/// Bilinear sample at `(x, y)` with zero outside the image.
fn bilinear(img: &RgbImage, x: f32, y: f32) -> [f32; 3] {
    let (w, h) = (img.width() as i64, img.height() as i64);
    if !(x.is_finite() && y.is_finite()) || x <= -1.0 || y <= -1.0 || x >= w as f32 || y >= h as f32 {
        return [0.0; 3];
    }
    let (x0, y0) = (x.floor() as i64, y.floor() as i64);
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let fetch = |xi: i64, yi: i64| -> [f32; 3] {
        if xi < 0 || yi < 0 || xi >= w || yi >= h {
            [0.0; 3]
        } else {
            let p = img.get_pixel(xi as u32, yi as u32).0;
            [p[0] as f32, p[1] as f32, p[2] as f32]
        }
    };
    let (p00, p10, p01, p11) = (fetch(x0, y0), fetch(x0 + 1, y0), fetch(x0, y0 + 1), fetch(x0 + 1, y0 + 1));
    let mut out = [0f32; 3];
    for c in 0..3 {
        let top = p00[c] + (p10[c] - p00[c]) * fx;
        let bottom = p01[c] + (p11[c] - p01[c]) * fx;
        out[c] = top + (bottom - top) * fy;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimate_recovers_a_known_transform() {
        let t = Similarity { a: 0.8, b: -0.3, tx: 12.0, ty: -4.0 };
        let src: Vec<[f32; 2]> = ARCFACE_TEMPLATE.iter().map(|p| [p[0] * 3.0, p[1] * 2.0 + 7.0]).collect();
        let dst: Vec<[f32; 2]> = src.iter().map(|&p| t.apply(p)).collect();
        let fit = Similarity::estimate(&src, &dst).expect("fit");
        assert!((fit.a - t.a).abs() < 1e-4 && (fit.b - t.b).abs() < 1e-4);
        assert!((fit.tx - t.tx).abs() < 1e-2 && (fit.ty - t.ty).abs() < 1e-2);
        let back = fit.inverse().expect("invertible");
        let p = back.apply(fit.apply([5.0, 9.0]));
        assert!((p[0] - 5.0).abs() < 1e-3 && (p[1] - 9.0).abs() < 1e-3);
    }

    #[test]
    fn estimate_rejects_degenerate_input() {
        assert!(Similarity::estimate(&[[1.0, 1.0]; 5], &ARCFACE_TEMPLATE).is_none());
        assert!(Similarity::estimate(&[[1.0, 1.0]], &[[2.0, 2.0]]).is_none());
        assert!(Similarity::estimate(&[[f32::NAN, 0.0], [1.0, 1.0]], &[[0.0, 0.0], [1.0, 1.0]]).is_none());
    }

    /// The fast area mode agrees with brute-force averaging of bilinear samples over each output
    /// pixel's footprint, on a textured image shrunk 6.3× and rotated.
    #[test]
    fn area_sampling_matches_dense_supersampling() {
        let mut img = RgbImage::new(900, 700);
        for (x, y, p) in img.enumerate_pixels_mut() {
            let v = ((x as f32 * 0.05).sin() * 60.0 + (y as f32 * 0.07).cos() * 60.0 + 128.0) as u8;
            *p = image::Rgb([v, (x / 4 % 256) as u8, ((x + y) / 6 % 256) as u8]);
        }
        let to_crop = Similarity { a: 0.15, b: 0.05, tx: -10.0, ty: 5.0 };
        let fast = warp(&img, &to_crop, 112, 112, Sampling::Area);
        let inv = to_crop.inverse().unwrap();
        let dense = sample(&img, &inv, 112, 112, 16);
        let diff: f64 = fast.as_raw().iter().zip(dense.as_raw()).map(|(a, b)| (*a as f64 - *b as f64).abs()).sum();
        let mean = diff / fast.as_raw().len() as f64;
        assert!(mean < 2.0, "mean absolute difference {mean}");
    }

    #[test]
    fn composition_applies_in_order() {
        let s1 = Similarity { a: 0.5, b: 0.2, tx: 3.0, ty: -1.0 };
        let s2 = Similarity { a: 1.5, b: -0.4, tx: -2.0, ty: 4.0 };
        let p = [7.0, -3.0];
        let direct = s2.apply(s1.apply(p));
        let composed = s1.then(&s2).apply(p);
        assert!((direct[0] - composed[0]).abs() < 1e-4 && (direct[1] - composed[1]).abs() < 1e-4);
    }

    #[test]
    fn identity_warp_copies_pixels_and_blacks_out_the_outside() {
        let mut img = RgbImage::new(4, 3);
        for (x, y, p) in img.enumerate_pixels_mut() {
            *p = image::Rgb([x as u8 * 40, y as u8 * 50, 7]);
        }
        let id = Similarity { a: 1.0, b: 0.0, tx: 0.0, ty: 0.0 };
        assert_eq!(warp(&img, &id, 4, 3, Sampling::Bilinear), img);
        let shifted = Similarity { a: 1.0, b: 0.0, tx: 10.0, ty: 0.0 };
        let out = warp(&img, &shifted, 4, 3, Sampling::Area);
        assert!(out.pixels().all(|p| p.0 == [0, 0, 0]));
    }
}
