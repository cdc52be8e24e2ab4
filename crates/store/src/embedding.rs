//! Embeddings as stored: `dimension` little-endian `f32` values as raw bytes.
//!
//! A 512-value embedding is 2 KiB, read back with one `from_le_bytes` per value and no text or
//! array parsing, which keeps loading a whole collection into the search index fast.

/// The stored bytes of an embedding.
pub fn to_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// The values of stored bytes; `None` if the length is not a multiple of 4.
pub fn from_bytes(bytes: &[u8]) -> Option<Vec<f32>> {
    if !bytes.len().is_multiple_of(4) {
        return None;
    }
    Some(bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_exactly_and_is_little_endian() {
        let values = [1.0f32, -0.5, f32::MIN_POSITIVE, 123.456];
        let bytes = to_bytes(&values);
        assert_eq!(bytes.len(), 16);
        assert_eq!(&bytes[..4], &[0, 0, 0x80, 0x3f]);
        assert_eq!(from_bytes(&bytes).unwrap(), values);
        assert_eq!(from_bytes(&bytes[..5]), None);
    }
}
