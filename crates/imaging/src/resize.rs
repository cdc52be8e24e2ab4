//! Downscaling for the detector input.

use std::borrow::Cow;

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::RgbImage;

/// Downscales `image` so that its longest side is at most `max_side`, keeping the aspect ratio.
///
/// Returns the image (borrowed when it already fits: nothing is ever upscaled) and the scale that
/// maps original coordinates to resized ones (`1.0` when borrowed); divide resized coordinates by
/// it to get back to original pixels.
///
/// The filter is a bilinear (triangle) convolution whose support widens with the reduction ratio,
/// so every source pixel contributes: no aliasing, unlike plain bilinear interpolation, at 60 % of
/// the cost of Lanczos3, whose extra sharpness a face detector does not need (docs/benchmarks.md).
pub fn resize_to_fit(image: &RgbImage, max_side: u32) -> (Cow<'_, RgbImage>, f32) {
    let (width, height) = image.dimensions();
    let longest = width.max(height);
    if longest <= max_side || max_side == 0 {
        return (Cow::Borrowed(image), 1.0);
    }
    let scale = f64::from(max_side) / f64::from(longest);
    let target = |side: u32| ((f64::from(side) * scale).round() as u32).clamp(1, max_side);
    let (new_width, new_height) = (target(width), target(height));

    let src = ImageRef::new(width, height, image.as_raw(), PixelType::U8x3)
        .expect("an RgbImage buffer holds width * height RGB pixels");
    let mut dst = Image::new(new_width, new_height, PixelType::U8x3);
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Bilinear));
    Resizer::new().resize(&src, &mut dst, &options).expect("source and destination are both U8x3 and non-empty");
    let resized = RgbImage::from_raw(new_width, new_height, dst.into_vec())
        .expect("the destination buffer holds new_width * new_height RGB pixels");
    (Cow::Owned(resized), scale as f32)
}

#[cfg(test)]
mod tests {
    use image::Rgb;

    use super::*;

    /// Output dimensions and scale for a blank image of the given size.
    fn fit(width: u32, height: u32, max_side: u32) -> ((u32, u32), f32) {
        let image = RgbImage::new(width, height);
        let (resized, scale) = resize_to_fit(&image, max_side);
        (resized.dimensions(), scale)
    }

    #[test]
    fn images_that_fit_are_borrowed_not_upscaled() {
        let image = RgbImage::new(640, 480);
        let (resized, scale) = resize_to_fit(&image, 640);
        assert!(matches!(resized, Cow::Borrowed(_)));
        assert_eq!(scale, 1.0);
        assert_eq!(fit(20, 10, 640), ((20, 10), 1.0));
    }

    #[test]
    fn longest_side_becomes_max_side() {
        assert_eq!(fit(4000, 3000, 640), ((640, 480), 0.16));
        // Portrait: 3024 * 640 / 4032 = 480.
        assert_eq!(fit(3024, 4032, 640), ((480, 640), (640.0 / 4032.0) as f32));
        // 4912 * 640 / 7360 = 427.13, rounded.
        assert_eq!(fit(4912, 7360, 640).0, (427, 640));
        // A sliver keeps at least one pixel.
        assert_eq!(fit(5000, 2, 640).0, (640, 1));
    }

    #[test]
    fn downscaling_averages_instead_of_aliasing() {
        // One-pixel black and white stripes, reduced 7.5 times: sampling would give stripes or a
        // flat black or white; an area-correct filter gives even grey.
        let stripes =
            RgbImage::from_fn(4800, 60, |x, _| if x % 2 == 0 { Rgb([0, 0, 0]) } else { Rgb([255, 255, 255]) });
        let (resized, _) = resize_to_fit(&stripes, 640);
        assert_eq!(resized.dimensions(), (640, 8));
        for pixel in resized.pixels() {
            for channel in pixel.0 {
                assert!(channel.abs_diff(128) <= 8, "{pixel:?}");
            }
        }
    }

    #[test]
    fn colours_keep_their_place() {
        // Left half red, right half blue.
        let image = RgbImage::from_fn(2000, 1000, |x, _| if x < 1000 { Rgb([200, 0, 0]) } else { Rgb([0, 0, 200]) });
        let (resized, _) = resize_to_fit(&image, 200);
        assert_eq!(resized.dimensions(), (200, 100));
        assert_eq!(resized.get_pixel(50, 50).0, [200, 0, 0]);
        assert_eq!(resized.get_pixel(150, 50).0, [0, 0, 200]);
    }
}
