//! Images sent as base64 text (`{"file": "<base64>"}` bodies), decoded as leniently as
//! CompreFace accepts them.

use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;

use crate::error::ApiError;

/// Decodes base64 in the standard or URL-safe alphabet, padding optional, whitespace and line
/// breaks ignored, after an optional `data:<type>;base64,` prefix. Anything else is code 21
/// `Provided value is not Base64`.
pub fn decode_base64(text: &str) -> Result<Vec<u8>, ApiError> {
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    let payload = match text.split_once(";base64,") {
        Some((prefix, rest)) if prefix.starts_with("data:") => rest,
        _ => text,
    };
    let cleaned: String = payload
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            c => c,
        })
        .collect();
    LENIENT.decode(cleaned.as_bytes()).map_err(|_| ApiError::invalid_base64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_is_read_leniently() {
        assert_eq!(decode_base64("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(decode_base64("aGVsbG8").unwrap(), b"hello");
        assert_eq!(decode_base64("aGVs\r\nbG8=").unwrap(), b"hello");
        assert_eq!(decode_base64("data:image/png;base64,aGVsbG8=").unwrap(), b"hello");
        assert_eq!(decode_base64("-_8=").unwrap(), decode_base64("+/8=").unwrap());
        assert_eq!(decode_base64("not base64!").unwrap_err(), ApiError::invalid_base64());
    }
}
