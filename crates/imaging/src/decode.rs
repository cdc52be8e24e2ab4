//! Format sniffing and bounded decoding into 8-bit RGB.

use std::io::Cursor;

use image::error::{ImageError, LimitErrorKind};
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits, RgbImage};

use crate::ico;

/// The formats [`decode`] accepts, in the order they are listed to clients.
pub const SUPPORTED_FORMATS: [ImageFormat; 7] = [
    ImageFormat::Jpeg,
    ImageFormat::Png,
    ImageFormat::Bmp,
    ImageFormat::Gif,
    ImageFormat::Tiff,
    ImageFormat::Ico,
    ImageFormat::WebP,
];

/// Bounds on the work and memory one decode may take.
///
/// The declared dimensions are checked before any pixel is decoded; `max_alloc` is also handed to
/// the decoders, which apply it to their own buffers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Largest accepted `width * height`.
    pub max_pixels: u64,
    /// Largest accepted width and largest accepted height.
    pub max_side: u32,
    /// Most memory a decoder may hold for one image, its decoded buffer included.
    pub max_alloc: u64,
}

impl Default for DecodeLimits {
    /// 50 megapixels (the largest sample photo has 36), at most 16384 pixels a side, and
    /// 512 MiB of decoder memory: enough for a 50-megapixel image with 16-bit RGBA samples.
    fn default() -> Self {
        Self { max_pixels: 50_000_000, max_side: 16_384, max_alloc: 512 * 1024 * 1024 }
    }
}

impl DecodeLimits {
    fn image_limits(&self) -> Limits {
        let mut limits = Limits::default();
        limits.max_image_width = Some(self.max_side);
        limits.max_image_height = Some(self.max_side);
        limits.max_alloc = Some(self.max_alloc);
        limits
    }

    fn check_dimensions(&self, width: u32, height: u32) -> Result<(), DecodeError> {
        let pixels = u64::from(width) * u64::from(height);
        if width > self.max_side || height > self.max_side || pixels > self.max_pixels {
            return Err(DecodeError::TooLarge(format!(
                "{width}x{height} pixels; the limit is {} pixels in total and {} pixels a side",
                self.max_pixels, self.max_side
            )));
        }
        Ok(())
    }

    fn memory_exceeded(&self) -> DecodeError {
        DecodeError::TooLarge(format!(
            "decoding it needs more than the limit of {:.1} MiB of memory",
            self.max_alloc as f64 / f64::from(1 << 20)
        ))
    }
}

/// A decoded image.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// The pixels, upright (EXIF orientation applied).
    pub image: RgbImage,
    /// The format recognised from the content.
    pub format: ImageFormat,
}

/// Why bytes could not be turned into an image. The messages are meant for API clients.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// No bytes at all.
    #[error("The file is empty")]
    Empty,
    /// The content is not one of [`SUPPORTED_FORMATS`].
    #[error("The file is not a supported image (jpeg, png, bmp, gif, tiff, ico, webp)")]
    UnsupportedFormat,
    /// A supported format using a variant that the decoder does not handle.
    #[error("The image uses a feature that is not supported: {0}")]
    UnsupportedFeature(String),
    /// The data does not follow its format.
    #[error("The image data is corrupt: {0}")]
    Corrupt(String),
    /// The image exceeds the [`DecodeLimits`].
    #[error("The image is too large: {0}")]
    TooLarge(String),
}

impl DecodeError {
    fn from_image(error: ImageError, limits: &DecodeLimits) -> Self {
        match error {
            ImageError::Limits(limit) => match limit.kind() {
                LimitErrorKind::DimensionError => {
                    Self::TooLarge(format!("a side is longer than the limit of {} pixels", limits.max_side))
                }
                _ => limits.memory_exceeded(),
            },
            ImageError::Unsupported(unsupported) => Self::UnsupportedFeature(unsupported.to_string()),
            ImageError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
                Self::Corrupt("the data ends unexpectedly".to_owned())
            }
            other => Self::Corrupt(other.to_string()),
        }
    }
}

/// Recognises a supported image format from the leading magic bytes. Nothing is decoded, so a
/// `Some` does not promise that [`decode`] will succeed.
pub fn sniff_format(bytes: &[u8]) -> Option<ImageFormat> {
    image::guess_format(bytes).ok().filter(|format| SUPPORTED_FORMATS.contains(format))
}

/// Decodes `bytes` into an upright 8-bit RGB image within `limits`.
pub fn decode(bytes: &[u8], limits: &DecodeLimits) -> Result<Decoded, DecodeError> {
    if bytes.is_empty() {
        return Err(DecodeError::Empty);
    }
    let format = sniff_format(bytes).ok_or(DecodeError::UnsupportedFormat)?;
    let (payload, payload_format) = match format {
        ImageFormat::Ico => match ico::best_png_entry(bytes) {
            Some(png) => (png, ImageFormat::Png),
            None => (bytes, format),
        },
        _ => (bytes, format),
    };
    Ok(Decoded { image: decode_as(payload, payload_format, limits)?, format })
}

fn decode_as(bytes: &[u8], format: ImageFormat, limits: &DecodeLimits) -> Result<RgbImage, DecodeError> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits.image_limits());
    // Reads the header only; the decoders refuse dimensions over `max_side` here.
    let image_error = |error| DecodeError::from_image(error, limits);
    let mut decoder = reader.into_decoder().map_err(image_error)?;
    let (width, height) = decoder.dimensions();
    limits.check_dimensions(width, height)?;
    if decoder.total_bytes() > limits.max_alloc {
        return Err(limits.memory_exceeded());
    }
    // Broken metadata should not cost the picture: treat it as "no rotation".
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);

    let mut image = DynamicImage::from_decoder(decoder).map_err(image_error)?;
    image.apply_orientation(orientation);
    Ok(image.into_rgb8())
}
