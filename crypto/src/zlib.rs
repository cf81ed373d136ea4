//! zlib (RFC 1950) compression with a bounded, strict inflate: the one place untrusted compressed
//! input is expanded (QR texts, SPEC §2; status lists, draft-ietf-oauth-status-list §4.1).

use miniz_oxide::inflate::TINFLStatus;
use miniz_oxide::inflate::core::{self as inflate, DecompressorOxide, inflate_flags};

use crate::{Error, Result};

/// Compresses at the best level miniz offers (10). miniz falls back to a stored block when
/// Deflate would expand the data, so the output is at most the input + 11 bytes.
pub(crate) fn compress(data: &[u8]) -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec_zlib(data, 10)
}

/// Inflates a complete zlib stream into at most `limit` bytes.
///
/// Refuses a wrong header, a bad Adler-32, a truncated stream, bytes after the end of the stream
/// and output beyond `limit` (never allocates more than `limit`).
pub(crate) fn decompress(data: &[u8], limit: usize) -> Result<Vec<u8>> {
    let error = Error::Compression { limit };
    let mut out = vec![0u8; limit];
    let mut state = DecompressorOxide::new();
    let flags = inflate_flags::TINFL_FLAG_PARSE_ZLIB_HEADER
        | inflate_flags::TINFL_FLAG_COMPUTE_ADLER32
        | inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF;
    let (status, consumed, written) = inflate::decompress(&mut state, data, &mut out, 0, flags);
    if status != TINFLStatus::Done || consumed != data.len() {
        return Err(error);
    }
    out.truncate(written);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compressed_data_inflates_back() {
        let data = b"status list status list status list".repeat(10);
        assert_eq!(decompress(&compress(&data), 1024).unwrap(), data);
    }

    #[test]
    fn inflating_beyond_the_limit_is_refused() {
        let data = vec![0u8; 10_000];
        let z = compress(&data);
        assert!(decompress(&z, 9_999).is_err());
        assert_eq!(decompress(&z, 10_000).unwrap(), data);
    }

    #[test]
    fn trailing_bytes_and_truncation_are_refused() {
        let mut z = compress(b"abc");
        assert!(decompress(&z[..z.len() - 1], 64).is_err());
        z.push(0);
        assert!(decompress(&z, 64).is_err());
        assert!(decompress(&[], 64).is_err());
    }
}
