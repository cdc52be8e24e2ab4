//! Icon directories whose best entry is an embedded PNG.
//!
//! `image`'s ICO decoder accepts embedded PNGs only in RGBA, as Windows requires, but icons written
//! by common tools (the sample `einstein.ico` among them) embed RGB PNGs, which other readers
//! accept. For those, the PNG payload of the best entry is decoded as a PNG of its own; icons with
//! BMP entries still go through `image`'s ICO decoder.

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
const HEADER_LEN: usize = 6;
const ENTRY_LEN: usize = 16;

/// The bytes of the best entry (highest bit depth, then largest area, as `image` chooses) when it
/// is a PNG; `None` when it is a BMP or the directory is malformed.
pub(crate) fn best_png_entry(bytes: &[u8]) -> Option<&[u8]> {
    let count = usize::from(u16::from_le_bytes([*bytes.get(4)?, *bytes.get(5)?]));
    let directory = bytes.get(HEADER_LEN..HEADER_LEN + count * ENTRY_LEN)?;
    let best = directory.chunks_exact(ENTRY_LEN).max_by_key(|entry| {
        let side = |byte: u8| if byte == 0 { 256 } else { u32::from(byte) };
        let bits_per_pixel = u16::from_le_bytes([entry[6], entry[7]]);
        (bits_per_pixel, side(entry[0]) * side(entry[1]))
    })?;
    let length = u32::from_le_bytes([best[8], best[9], best[10], best[11]]);
    let offset = u32::from_le_bytes([best[12], best[13], best[14], best[15]]);
    let start = usize::try_from(offset).ok()?;
    // A payload cut short is kept: the PNG decoder reports what is missing.
    let end = start.saturating_add(usize::try_from(length).ok()?).min(bytes.len());
    bytes.get(start..end).filter(|payload| payload.starts_with(PNG_SIGNATURE))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An icon directory followed by the given payloads, one entry each: (side, bits, payload).
    fn icon(entries: &[(u8, u16, &[u8])]) -> Vec<u8> {
        let count = u16::try_from(entries.len()).expect("few entries");
        let mut bytes = [0, 0, 1, 0].to_vec();
        bytes.extend_from_slice(&count.to_le_bytes());
        let mut offset = HEADER_LEN + entries.len() * ENTRY_LEN;
        for &(side, bits, payload) in entries {
            bytes.extend_from_slice(&[side, side, 0, 0, 1, 0]);
            bytes.extend_from_slice(&bits.to_le_bytes());
            bytes.extend_from_slice(&u32::try_from(payload.len()).expect("small").to_le_bytes());
            bytes.extend_from_slice(&u32::try_from(offset).expect("small").to_le_bytes());
            offset += payload.len();
        }
        for &(_, _, payload) in entries {
            bytes.extend_from_slice(payload);
        }
        bytes
    }

    #[test]
    fn picks_the_deepest_then_largest_entry() {
        let small = [PNG_SIGNATURE, b"small"].concat();
        let large = [PNG_SIGNATURE, b"large"].concat();
        let shallow = [PNG_SIGNATURE, b"shallow"].concat();
        // Side 0 stands for 256.
        let bytes = icon(&[(16, 32, &small), (0, 32, &large), (0, 8, &shallow)]);
        assert_eq!(best_png_entry(&bytes), Some(&large[..]));
    }

    #[test]
    fn bmp_entries_and_broken_directories_give_none() {
        assert_eq!(best_png_entry(&icon(&[(32, 32, b"\x28\0\0\0 bmp header")])), None);
        assert_eq!(best_png_entry(&icon(&[])), None);
        let mut claims_more = icon(&[(32, 32, PNG_SIGNATURE)]);
        claims_more[4] = 200;
        assert_eq!(best_png_entry(&claims_more), None);
        let mut points_outside = icon(&[(32, 32, PNG_SIGNATURE)]);
        points_outside[18..22].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(best_png_entry(&points_outside), None);
        assert_eq!(best_png_entry(&[0, 0, 1]), None);
    }

    #[test]
    fn a_payload_cut_short_is_kept() {
        let payload = [PNG_SIGNATURE, b"cut"].concat();
        let mut bytes = icon(&[(32, 32, &payload)]);
        bytes.truncate(bytes.len() - 1);
        assert_eq!(best_png_entry(&bytes), Some(&payload[..payload.len() - 1]));
    }
}
