//! Square face thumbnails: the face's box enlarged by a margin, kept square and inside the
//! photo, resized and encoded as JPEG.

use std::io::Cursor;

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::codecs::jpeg::JpegEncoder;
use image::RgbImage;

use crate::{decode, DecodeError, DecodeLimits};

/// The margin added on each side of a face's box, as a share of the box's longer side.
pub const FACE_MARGIN: f64 = 0.4;
/// The thumbnails' JPEG quality.
const JPEG_QUALITY: u8 = 85;

/// A square of an image: its upper-left corner and its side, in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Square {
    pub x: u32,
    pub y: u32,
    pub side: u32,
}

/// The square of a `width` × `height` image to show for a face whose box is
/// `[x_min, y_min, x_max, y_max]` (upper bounds exclusive): the box's longer side plus `margin`
/// of it on each side, centred on the box, shifted to lie inside the image, and no larger than
/// the image's shorter side, so it is always square. A box partly outside the image is cut to
/// it first. Without a box, or with one that has nothing inside the image, the largest centred
/// square.
pub fn face_square(width: u32, height: u32, face: Option<[u32; 4]>, margin: f64) -> Square {
    let shortest = width.min(height);
    let centred = Square { x: (width - shortest) / 2, y: (height - shortest) / 2, side: shortest };
    let Some([x_min, y_min, x_max, y_max]) = face else { return centred };
    let (x_min, x_max) = (x_min.min(width), x_max.min(width));
    let (y_min, y_max) = (y_min.min(height), y_max.min(height));
    if x_min >= x_max || y_min >= y_max {
        return centred;
    }
    let longer = f64::from((x_max - x_min).max(y_max - y_min));
    let wanted = (longer * (1.0 + 2.0 * margin.max(0.0))).round();
    let side = (wanted as u32).clamp(1, shortest.max(1));
    // Centre on the box's centre, then shift inside the image.
    let place = |low: u32, high: u32, extent: u32| {
        let centre = (f64::from(low) + f64::from(high)) / 2.0;
        let start = (centre - f64::from(side) / 2.0).round().max(0.0) as u32;
        start.min(extent - side)
    };
    Square { x: place(x_min, x_max, width), y: place(y_min, y_max, height), side }
}

/// A `size` × `size` JPEG of the face of the photo `bytes`: [`face_square`] of its box (pixels of
/// the upright photo, as [`decode`] gives it and core-service's detection answers) with
/// [`FACE_MARGIN`], or the centred square without a box. Decoded within `limits`; CPU-bound, for
/// a blocking thread.
pub fn face_thumbnail(
    bytes: &[u8],
    limits: &DecodeLimits,
    face: Option<[u32; 4]>,
    size: u32,
) -> Result<Vec<u8>, DecodeError> {
    let image = decode(bytes, limits)?.image;
    let (width, height) = image.dimensions();
    if width == 0 || height == 0 || size == 0 {
        return Err(DecodeError::Corrupt("the image has no pixels".to_owned()));
    }
    let square = face_square(width, height, face, FACE_MARGIN);
    let thumbnail = crop_resized(&image, square, size);
    let mut jpeg = Cursor::new(Vec::new());
    JpegEncoder::new_with_quality(&mut jpeg, JPEG_QUALITY)
        .encode_image(&thumbnail)
        .map_err(|e| DecodeError::Corrupt(format!("the thumbnail cannot be encoded: {e}")))?;
    Ok(jpeg.into_inner())
}

/// `square` of `image`, resized to `size` × `size`.
fn crop_resized(image: &RgbImage, square: Square, size: u32) -> RgbImage {
    let src = ImageRef::new(image.width(), image.height(), image.as_raw(), PixelType::U8x3)
        .expect("an RgbImage buffer holds width * height RGB pixels");
    let mut dst = Image::new(size, size, PixelType::U8x3);
    let side = f64::from(square.side);
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::CatmullRom)).crop(
        f64::from(square.x),
        f64::from(square.y),
        side,
        side,
    );
    Resizer::new().resize(&src, &mut dst, &options).expect("source and destination are both U8x3 and non-empty");
    RgbImage::from_raw(size, size, dst.into_vec()).expect("the destination buffer holds size * size RGB pixels")
}

#[cfg(test)]
mod tests {
    use image::{ImageFormat, Rgb};

    use super::*;

    #[test]
    fn a_face_gets_its_margin_and_stays_centred() {
        // A 100 × 100 box in the middle of a large photo: 40 % of 100 on each side.
        assert_eq!(face_square(1000, 800, Some([450, 350, 550, 450]), 0.4), Square { x: 410, y: 310, side: 180 });
        // A box taller than wide: the square follows the longer side, centred on the box.
        assert_eq!(face_square(1000, 800, Some([480, 300, 520, 400]), 0.4), Square { x: 410, y: 260, side: 180 });
        assert_eq!(face_square(1000, 800, Some([480, 300, 520, 400]), 0.0), Square { x: 450, y: 300, side: 100 });
    }

    #[test]
    fn squares_are_shifted_into_the_image() {
        // In the top-left corner: shifted right and down, same size, the face still inside.
        assert_eq!(face_square(1000, 800, Some([0, 10, 100, 110]), 0.4), Square { x: 0, y: 0, side: 180 });
        // In the bottom-right corner.
        assert_eq!(face_square(1000, 800, Some([900, 700, 1000, 800]), 0.4), Square { x: 820, y: 620, side: 180 });
    }

    #[test]
    fn squares_are_never_larger_than_the_shorter_side() {
        // A face filling a landscape photo's height: the square is the photo's height.
        assert_eq!(face_square(600, 400, Some([200, 0, 500, 400]), 0.4), Square { x: 150, y: 0, side: 400 });
        // A portrait photo: the width limits it, centred on the face where it can be.
        assert_eq!(face_square(300, 900, Some([0, 100, 300, 400]), 0.4), Square { x: 0, y: 100, side: 300 });
    }

    #[test]
    fn without_a_usable_box_the_centred_square() {
        assert_eq!(face_square(600, 400, None, 0.4), Square { x: 100, y: 0, side: 400 });
        assert_eq!(face_square(400, 600, None, 0.4), Square { x: 0, y: 100, side: 400 });
        // Outside the image, or empty.
        assert_eq!(face_square(600, 400, Some([700, 10, 800, 90]), 0.4), Square { x: 100, y: 0, side: 400 });
        assert_eq!(face_square(600, 400, Some([50, 50, 50, 90]), 0.4), Square { x: 100, y: 0, side: 400 });
        // Partly outside: cut to the image first.
        assert_eq!(face_square(600, 400, Some([550, 300, 650, 500]), 0.0), Square { x: 500, y: 300, side: 100 });
    }

    #[test]
    fn tiny_faces_and_images_give_a_square_of_at_least_one_pixel() {
        assert_eq!(face_square(1, 1, Some([0, 0, 1, 1]), 0.4), Square { x: 0, y: 0, side: 1 });
        assert_eq!(face_square(4000, 3000, Some([10, 10, 11, 11]), 0.4), Square { x: 10, y: 10, side: 2 });
    }

    /// A PNG: white, with a red square at `face`.
    fn photo(width: u32, height: u32, face: [u32; 4]) -> Vec<u8> {
        let image = RgbImage::from_fn(width, height, |x, y| {
            let inside = (face[0]..face[2]).contains(&x) && (face[1]..face[3]).contains(&y);
            if inside {
                Rgb([255, 0, 0])
            } else {
                Rgb([255, 255, 255])
            }
        });
        let mut png = Cursor::new(Vec::new());
        image.write_to(&mut png, ImageFormat::Png).unwrap();
        png.into_inner()
    }

    #[test]
    fn thumbnails_are_square_jpegs_of_the_face() {
        let face = [300, 100, 400, 200];
        let bytes = photo(800, 600, face);
        let jpeg = face_thumbnail(&bytes, &DecodeLimits::default(), Some(face), 160).unwrap();
        let thumbnail = image::load_from_memory_with_format(&jpeg, ImageFormat::Jpeg).unwrap().into_rgb8();
        assert_eq!(thumbnail.dimensions(), (160, 160));
        // The face is in the middle (100 of 180 pixels: from 36 to 124 of 160), white around it.
        let red = |p: &Rgb<u8>| p[0] > 200 && p[1] < 60 && p[2] < 60;
        let white = |p: &Rgb<u8>| p.0.iter().all(|c| *c > 200);
        assert!(red(thumbnail.get_pixel(80, 80)));
        assert!(red(thumbnail.get_pixel(40, 40)) && red(thumbnail.get_pixel(120, 120)));
        assert!(white(thumbnail.get_pixel(10, 10)) && white(thumbnail.get_pixel(150, 150)));
        // Without a box: the centred square, where the face is small and off-centre.
        let whole = face_thumbnail(&bytes, &DecodeLimits::default(), None, 32).unwrap();
        let whole = image::load_from_memory_with_format(&whole, ImageFormat::Jpeg).unwrap().into_rgb8();
        assert_eq!(whole.dimensions(), (32, 32));
        assert!(white(whole.get_pixel(16, 16)));
    }

    #[test]
    fn bad_bytes_and_limits_are_decode_errors() {
        assert!(matches!(face_thumbnail(b"", &DecodeLimits::default(), None, 160), Err(DecodeError::Empty)));
        let small = DecodeLimits { max_pixels: 100, ..DecodeLimits::default() };
        let bytes = photo(20, 20, [0, 0, 10, 10]);
        assert!(matches!(face_thumbnail(&bytes, &small, None, 160), Err(DecodeError::TooLarge(_))));
    }
}
