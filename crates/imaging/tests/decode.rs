//! Decoding the repository's sample images and hostile inputs crafted here.

use std::io::Cursor;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

use image::codecs::gif::GifEncoder;
use image::codecs::jpeg::JpegEncoder;
use image::{Delay, Frame, GrayAlphaImage, ImageBuffer, Luma, Rgb, Rgba, RgbaImage};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use visage_imaging::{decode, sniff_format, DecodeError, DecodeLimits, ImageFormat, RgbImage};

fn fixture(name: &str) -> Vec<u8> {
    let path = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
        .join("../../tests/fixtures/image-formats")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn decode_fixture(name: &str) -> visage_imaging::Decoded {
    decode(&fixture(name), &DecodeLimits::default()).unwrap_or_else(|e| panic!("{name} should decode: {e}"))
}

fn mean_abs_diff(a: &RgbImage, b: &RgbImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions());
    let total: u64 = a.as_raw().iter().zip(b.as_raw()).map(|(x, y)| u64::from(x.abs_diff(*y))).sum();
    total as f64 / a.as_raw().len() as f64
}

/// Mean and standard deviation of the grey level of one row.
fn row_stats(image: &RgbImage, y: u32) -> (f64, f64) {
    let values: Vec<f64> =
        (0..image.width()).map(|x| image.get_pixel(x, y).0.iter().map(|&c| f64::from(c)).sum::<f64>() / 3.0).collect();
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / values.len() as f64;
    (mean, variance.sqrt())
}

fn encode(image: impl Into<image::DynamicImage>, format: ImageFormat) -> Vec<u8> {
    let mut bytes = Cursor::new(Vec::new());
    image.into().write_to(&mut bytes, format).expect("encoding a test image");
    bytes.into_inner()
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// A real 16x16 PNG (with its tiny IDAT) whose IHDR claims `width` x `height`, CRC fixed up.
fn png_declaring(width: u32, height: u32) -> Vec<u8> {
    let mut png = encode(RgbImage::new(16, 16), ImageFormat::Png);
    assert_eq!(&png[12..16], b"IHDR");
    png[16..20].copy_from_slice(&width.to_be_bytes());
    png[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    png
}

const SIDE_TOO_LONG: &str = "a side is longer than the limit of 16384 pixels";

fn assert_too_large(bytes: &[u8], what: &str, expected: &str) {
    match decode(bytes, &DecodeLimits::default()) {
        Err(DecodeError::TooLarge(detail)) => assert_eq!(detail, expected, "{what}"),
        other => panic!("{what}: expected TooLarge, got {other:?}"),
    }
}

#[test]
fn every_einstein_decodes_to_the_same_portrait() {
    let reference = decode_fixture("einstein.png");
    assert_eq!(reference.format, ImageFormat::Png);
    assert_eq!(reference.image.dimensions(), (256, 256));
    let cases = [
        ("einstein.jpeg", ImageFormat::Jpeg, 1.5),
        ("einstein.bmp", ImageFormat::Bmp, 1.5),
        ("einstein.tiff", ImageFormat::Tiff, 1.5),
        ("einstein.ico", ImageFormat::Ico, 3.0),
        ("einstein.webp", ImageFormat::WebP, 3.0),
        // 256 colours, dithered differently from the palette PNG.
        ("einstein.gif", ImageFormat::Gif, 4.0),
    ];
    for (name, format, bound) in cases {
        let decoded = decode_fixture(name);
        assert_eq!(decoded.format, format, "{name}");
        assert_eq!(decoded.image.dimensions(), (256, 256), "{name}");
        let diff = mean_abs_diff(&decoded.image, &reference.image);
        assert!(diff < bound, "{name}: mean abs diff {diff:.3} against the png, bound {bound}");
    }
}

#[test]
fn lossless_copies_decode_to_identical_pixels() {
    assert_eq!(decode_fixture("einstein.bmp").image, decode_fixture("einstein.tiff").image);
}

#[test]
fn sniffing_reads_the_content_not_the_name() {
    let cases = [
        ("einstein.jpeg", Some(ImageFormat::Jpeg)),
        ("einstein.png", Some(ImageFormat::Png)),
        ("einstein.bmp", Some(ImageFormat::Bmp)),
        ("einstein.gif", Some(ImageFormat::Gif)),
        ("einstein.tiff", Some(ImageFormat::Tiff)),
        ("einstein.ico", Some(ImageFormat::Ico)),
        ("einstein.webp", Some(ImageFormat::WebP)),
        ("truncated.jpg", Some(ImageFormat::Jpeg)),
        // A PNG signature with a broken chunk after it: sniffing does not decode.
        ("corrupted.png", Some(ImageFormat::Png)),
        // "test\n" under a .png name.
        ("empty.png", None),
    ];
    for (name, expected) in cases {
        assert_eq!(sniff_format(&fixture(name)), expected, "{name}");
    }
    assert_eq!(sniff_format(b""), None);
    // Formats `image` knows but the service does not accept.
    assert_eq!(sniff_format(b"qoif\0\0\0\x10\0\0\0\x10\x03\0"), None);
    assert_eq!(sniff_format(b"P6\n16 16\n255\n"), None);
}

#[test]
fn broken_and_foreign_inputs_give_typed_errors() {
    let corrupted = decode(&fixture("corrupted.png"), &DecodeLimits::default());
    match corrupted {
        Err(error @ DecodeError::Corrupt(_)) => {
            assert!(error.to_string().starts_with("The image data is corrupt: "), "{error}")
        }
        other => panic!("corrupted.png: expected Corrupt, got {other:?}"),
    }

    let empty = decode(&fixture("empty.png"), &DecodeLimits::default());
    match empty {
        Err(error @ DecodeError::UnsupportedFormat) => {
            assert_eq!(error.to_string(), "The file is not a supported image (jpeg, png, bmp, gif, tiff, ico, webp)")
        }
        other => panic!("empty.png: expected UnsupportedFormat, got {other:?}"),
    }

    assert!(matches!(decode(b"", &DecodeLimits::default()), Err(DecodeError::Empty)));
    assert!(matches!(
        decode(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", &DecodeLimits::default()),
        Err(DecodeError::UnsupportedFormat)
    ));
    // The JPEG signature and nothing after it.
    assert!(matches!(decode(&[0xFF, 0xD8, 0xFF], &DecodeLimits::default()), Err(DecodeError::Corrupt(_))));
}

#[test]
fn truncated_fixture_decodes_whole() {
    let decoded = decode_fixture("truncated.jpg");
    assert_eq!(decoded.format, ImageFormat::Jpeg);
    assert_eq!(decoded.image.dimensions(), (225, 225));
    // A portrait down to the last row: no row is a flat fill.
    for y in 0..225 {
        let (_, deviation) = row_stats(&decoded.image, y);
        assert!(deviation > 10.0, "row {y} is flat (deviation {deviation:.1})");
    }
}

#[test]
fn truncated_jpeg_keeps_what_is_there_and_fills_the_rest_grey() {
    let whole = fixture("einstein.jpeg");
    let reference = decode(&whole, &DecodeLimits::default()).expect("intact jpeg").image;
    let cut = decode(&whole[..whole.len() / 2], &DecodeLimits::default()).expect("half a jpeg decodes").image;
    assert_eq!(cut.dimensions(), (256, 256));
    // The first 96 rows (six 16-pixel MCU rows) are all in the first half of the data.
    for y in 0..96 {
        for x in 0..256 {
            assert_eq!(cut.get_pixel(x, y), reference.get_pixel(x, y), "pixel ({x}, {y})");
        }
    }
    // The part past the data is mid-grey, as libjpeg fills it.
    for y in 224..256 {
        assert_eq!(row_stats(&cut, y), (128.0, 0.0), "row {y}");
    }
    // Cut inside the headers, there is nothing to show.
    assert!(matches!(decode(&whole[..300], &DecodeLimits::default()), Err(DecodeError::Corrupt(_))));
}

/// An APP1 segment holding a big-endian TIFF directory with one Orientation entry.
fn exif_orientation_segment(orientation: u16) -> Vec<u8> {
    let mut tiff = Vec::new();
    tiff.extend_from_slice(b"MM\0\x2a");
    tiff.extend_from_slice(&8u32.to_be_bytes()); // first IFD offset
    tiff.extend_from_slice(&1u16.to_be_bytes()); // entries
    tiff.extend_from_slice(&0x0112u16.to_be_bytes()); // Orientation
    tiff.extend_from_slice(&3u16.to_be_bytes()); // SHORT
    tiff.extend_from_slice(&1u32.to_be_bytes()); // count
    tiff.extend_from_slice(&orientation.to_be_bytes());
    tiff.extend_from_slice(&[0, 0]); // value padding
    tiff.extend_from_slice(&0u32.to_be_bytes()); // no next IFD
    let mut segment = vec![0xFF, 0xE1];
    let length = u16::try_from(2 + 6 + tiff.len()).expect("short segment");
    segment.extend_from_slice(&length.to_be_bytes());
    segment.extend_from_slice(b"Exif\0\0");
    segment.extend_from_slice(&tiff);
    segment
}

#[test]
fn exif_orientation_is_applied() {
    const RED: [u8; 3] = [230, 20, 20];
    const GREEN: [u8; 3] = [20, 200, 20];
    const BLUE: [u8; 3] = [20, 20, 230];
    const WHITE: [u8; 3] = [245, 245, 245];
    // 64x32, quadrants: red | green over blue | white.
    let landscape = RgbImage::from_fn(64, 32, |x, y| {
        Rgb(match (x < 32, y < 16) {
            (true, true) => RED,
            (false, true) => GREEN,
            (true, false) => BLUE,
            (false, false) => WHITE,
        })
    });
    let mut jpeg = Vec::new();
    JpegEncoder::new_with_quality(&mut jpeg, 95).encode_image(&landscape).expect("encoding the test jpeg");
    let plain = decode(&jpeg, &DecodeLimits::default()).expect("plain jpeg").image;
    assert_eq!(plain.dimensions(), (64, 32));

    let segment = exif_orientation_segment(6);
    let rotated_jpeg = [&jpeg[..2], &segment[..], &jpeg[2..]].concat();
    let rotated = decode(&rotated_jpeg, &DecodeLimits::default()).expect("exif jpeg").image;
    // Orientation 6: the stored picture must be turned 90 degrees clockwise to be upright.
    assert_eq!(rotated.dimensions(), (32, 64));
    let near = |actual: &Rgb<u8>, expected: [u8; 3]| actual.0.iter().zip(expected).all(|(a, e)| a.abs_diff(e) <= 20);
    for (x, y, expected) in [(8, 16, BLUE), (24, 16, RED), (24, 48, GREEN), (8, 48, WHITE)] {
        let pixel = rotated.get_pixel(x, y);
        assert!(near(pixel, expected), "({x}, {y}) is {pixel:?}, expected about {expected:?}");
    }
    assert_eq!(rotated, image::imageops::rotate90(&plain));
}

#[test]
fn headers_declaring_huge_images_are_refused_before_decoding() {
    // 2.5 gigapixels behind a few hundred bytes: over the side limit.
    assert_too_large(&png_declaring(50_000, 50_000), "png 50000x50000", SIDE_TOO_LONG);
    // 100 megapixels, each side allowed: over the pixel limit.
    assert_too_large(
        &png_declaring(10_000, 10_000),
        "png 10000x10000",
        "10000x10000 pixels; the limit is 50000000 pixels in total and 16384 pixels a side",
    );
    // Within the limits, the same file gets as far as decoding, which fails on the missing data.
    assert!(matches!(decode(&png_declaring(4_000, 4_000), &DecodeLimits::default()), Err(DecodeError::Corrupt(_))));

    let mut bmp = encode(RgbImage::new(4, 4), ImageFormat::Bmp);
    bmp[18..22].copy_from_slice(&30_000i32.to_le_bytes());
    bmp[22..26].copy_from_slice(&30_000i32.to_le_bytes());
    assert_too_large(&bmp, "bmp 30000x30000", SIDE_TOO_LONG);

    let mut gif = encode(RgbaImage::new(4, 4), ImageFormat::Gif);
    gif[6..8].copy_from_slice(&65_535u16.to_le_bytes());
    gif[8..10].copy_from_slice(&65_535u16.to_le_bytes());
    assert_too_large(&gif, "gif 65535x65535", SIDE_TOO_LONG);

    let mut jpeg = encode(RgbImage::new(16, 16), ImageFormat::Jpeg);
    let sof = jpeg.windows(2).position(|marker| marker == [0xFF, 0xC0]).expect("a baseline SOF0 marker");
    jpeg[sof + 5..sof + 7].copy_from_slice(&9_000u16.to_be_bytes());
    jpeg[sof + 7..sof + 9].copy_from_slice(&12_000u16.to_be_bytes());
    match decode(&jpeg, &DecodeLimits::default()) {
        Err(DecodeError::TooLarge(detail)) => {
            assert!(detail.starts_with("12000x9000 pixels"), "{detail}")
        }
        other => panic!("jpeg 12000x9000: expected TooLarge, got {other:?}"),
    }
}

#[test]
fn limits_are_configurable() {
    let png = fixture("einstein.png");
    let refusal = |limits: DecodeLimits| match decode(&png, &limits) {
        Err(DecodeError::TooLarge(detail)) => detail,
        other => panic!("{limits:?}: expected TooLarge, got {other:?}"),
    };
    let defaults = DecodeLimits::default();
    assert_eq!(
        refusal(DecodeLimits { max_pixels: 256 * 255, ..defaults.clone() }),
        "256x256 pixels; the limit is 65280 pixels in total and 16384 pixels a side"
    );
    assert_eq!(
        refusal(DecodeLimits { max_side: 255, ..defaults.clone() }),
        "a side is longer than the limit of 255 pixels"
    );
    assert_eq!(
        refusal(DecodeLimits { max_alloc: 100_000, ..defaults }),
        "decoding it needs more than the limit of 0.1 MiB of memory"
    );
    let exact = DecodeLimits { max_pixels: 256 * 256, max_side: 256, max_alloc: 1 << 20 };
    let decoded = decode(&png, &exact).expect("an image at the limits decodes");
    assert_eq!(decoded.image.dimensions(), (256, 256));
}

#[test]
fn grey_deep_and_alpha_images_become_8_bit_rgb() {
    let grey16 = ImageBuffer::<Luma<u16>, _>::from_fn(3, 2, |x, _| Luma([[0, 0x8080, 0xFFFF][x as usize]]));
    let decoded = decode(&encode(grey16, ImageFormat::Png), &DecodeLimits::default()).expect("L16");
    let row: Vec<[u8; 3]> = (0..3).map(|x| decoded.image.get_pixel(x, 1).0).collect();
    assert_eq!(row, [[0, 0, 0], [128, 128, 128], [255, 255, 255]]);

    let grey_alpha = GrayAlphaImage::from_pixel(2, 2, image::LumaA([77, 0]));
    let decoded = decode(&encode(grey_alpha, ImageFormat::Png), &DecodeLimits::default()).expect("LA8");
    assert_eq!(decoded.image.get_pixel(1, 1).0, [77, 77, 77]);

    // Alpha is dropped, not composited: fully transparent pixels keep their colour.
    let rgba = RgbaImage::from_pixel(2, 2, Rgba([10, 20, 30, 0]));
    let decoded = decode(&encode(rgba, ImageFormat::Png), &DecodeLimits::default()).expect("RGBA8");
    assert_eq!(decoded.image.get_pixel(0, 0).0, [10, 20, 30]);

    let rgb16 = ImageBuffer::<Rgb<u16>, _>::from_pixel(2, 2, Rgb([0xFFFF, 0x0101, 0x7F7F]));
    let decoded = decode(&encode(rgb16, ImageFormat::Tiff), &DecodeLimits::default()).expect("RGB16");
    assert_eq!(decoded.format, ImageFormat::Tiff);
    assert_eq!(decoded.image.get_pixel(1, 1).0, [255, 1, 127]);
}

#[test]
fn only_the_first_gif_frame_is_decoded() {
    let frame = |colour: [u8; 4]| {
        Frame::from_parts(RgbaImage::from_pixel(8, 8, Rgba(colour)), 0, 0, Delay::from_numer_denom_ms(100, 1))
    };
    let mut gif = Vec::new();
    {
        let mut encoder = GifEncoder::new(&mut gif);
        encoder.encode_frames([frame([250, 0, 0, 255]), frame([0, 0, 250, 255])]).expect("encoding the test gif");
    }
    let decoded = decode(&gif, &DecodeLimits::default()).expect("animated gif");
    assert_eq!(decoded.format, ImageFormat::Gif);
    assert_eq!(decoded.image.get_pixel(4, 4).0, [250, 0, 0]);
}

/// Random damage to every sample file: whatever comes out, it must be a value, not a panic.
#[test]
fn mutated_files_never_panic() {
    let names = [
        "einstein.jpeg",
        "einstein.png",
        "einstein.bmp",
        "einstein.gif",
        "einstein.tiff",
        "einstein.ico",
        "einstein.webp",
        "truncated.jpg",
        "corrupted.png",
    ];
    // Small limits keep each attempt cheap when damage inflates the declared size.
    let limits = DecodeLimits { max_pixels: 4_000_000, max_side: 4_096, max_alloc: 64 << 20 };
    let mut rng = StdRng::seed_from_u64(0x5EED);
    let mut panics = Vec::new();
    let mut decoded = 0;
    for name in names {
        let original = fixture(name);
        for round in 0..80 {
            let mut bytes = original.clone();
            let damage = match round % 4 {
                0 => {
                    let len = rng.gen_range(0..bytes.len());
                    bytes.truncate(len);
                    format!("truncated to {len}")
                }
                1 => {
                    // Headers are where lengths and sizes live: aim there half of the time.
                    let span = if rng.gen_bool(0.5) { bytes.len().min(256) } else { bytes.len() };
                    let flips = rng.gen_range(1..=8);
                    for _ in 0..flips {
                        let at = rng.gen_range(0..span);
                        bytes[at] = rng.gen();
                    }
                    format!("{flips} random bytes within the first {span}")
                }
                2 => {
                    let at = rng.gen_range(0..bytes.len());
                    let len = rng.gen_range(1..=64).min(bytes.len() - at);
                    rng.fill(&mut bytes[at..at + len]);
                    format!("{len} random bytes at {at}")
                }
                _ => {
                    let at = rng.gen_range(0..bytes.len());
                    let len = rng.gen_range(1..=512).min(bytes.len() - at);
                    let copy = bytes[at..at + len].to_vec();
                    let to = rng.gen_range(0..bytes.len());
                    bytes.splice(to..to, copy);
                    format!("{len} bytes from {at} repeated at {to}")
                }
            };
            match catch_unwind(AssertUnwindSafe(|| decode(&bytes, &limits))) {
                Ok(Ok(_)) => decoded += 1,
                Ok(Err(_)) => {}
                Err(_) => panics.push(format!("{name}: {damage}")),
            }
        }
    }
    assert!(panics.is_empty(), "decode panicked on: {panics:#?}");
    // Some damage is harmless (pixel data of uncompressed formats): the loop did reach decoding.
    assert!(decoded > 0);
}
