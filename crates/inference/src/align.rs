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
pub const ARCFACE_TEMPLATE: Landmarks5 = [
    [38.2946, 51.6963],
    [73.5318, 51.5014],
    [56.0252, 71.7366],
    [41.5493, 92.3655],
    [70.7299, 92.2041],
];

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
            let (sx, sy) = pts
                .iter()
                .fold((0f64, 0f64), |(x, y), p| (x + p[0] as f64, y + p[1] as f64));
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
        [
            self.a * p[0] - self.b * p[1] + self.tx,
            self.b * p[0] + self.a * p[1] + self.ty,
        ]
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
    /// Bilinear samples averaged over each output pixel's footprint when the source is larger than
    /// the crop (downscaling by more than 1.5×); plain bilinear otherwise.
    Area,
}

/// Samples a `width × height` crop: output pixel `(u, v)` takes the source colour at
/// `to_crop⁻¹(u, v)`. Pixels outside the source are black.
pub fn warp(img: &RgbImage, to_crop: &Similarity, width: u32, height: u32, sampling: Sampling) -> RgbImage {
    let mut out = RgbImage::new(width, height);
    let Some(inv) = to_crop.inverse() else {
        return out;
    };
    let footprint = inv.scale();
    let k = match sampling {
        Sampling::Area if footprint > 1.5 => (footprint.ceil() as usize).min(16),
        _ => 1,
    };
    let offsets: Vec<f32> = (0..k).map(|i| (i as f32 + 0.5) / k as f32 - 0.5).collect();
    let norm = 1.0 / (k * k) as f32;
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
            for c in 0..3 {
                px.0[c] = (acc[c] * norm + 0.5).clamp(0.0, 255.0) as u8;
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
