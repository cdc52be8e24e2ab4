//! Turning uploaded bytes into an 8-bit RGB image, safely and with bounded work.
//!
//! * [`sniff_format`] recognises a supported format from the leading magic bytes alone, without
//!   decoding: cheap enough for request validation.
//! * [`decode`] decodes jpeg, png, bmp, gif (first frame), tiff, ico (best entry) and webp into an
//!   [`RgbImage`]: the format comes from the content, never from a file name; greyscale, 16-bit,
//!   palette and alpha images become 8-bit RGB (alpha is dropped, as upstream CompreFace does); the
//!   EXIF orientation is applied; a JPEG cut short is decoded as far as its data goes. The declared
//!   dimensions are checked against [`DecodeLimits`] before any pixel is decoded, so a
//!   decompression bomb costs no more than reading its header. Every failure is a
//!   [`DecodeError`] with a message fit for an API client; malformed input never panics.
//! * [`resize_to_fit`] downscales an image so that its longest side fits the detector's input.
//! * [`face_thumbnail`] makes a square JPEG of a face: its box with a margin ([`face_square`]).

mod decode;
mod ico;
mod resize;
mod thumbnail;

pub use decode::{decode, sniff_format, DecodeError, DecodeLimits, Decoded, SUPPORTED_FORMATS};
pub use image::{ImageFormat, RgbImage};
pub use resize::resize_to_fit;
pub use thumbnail::{face_square, face_thumbnail, Square, FACE_MARGIN};
