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
/// and output beyond `limit` (never allocates more than `limit`). The output buffer starts at
/// four times the input and doubles while the stream has more to give (the way miniz's own
/// `decompress_to_vec` grows), so a 400-byte QR payload does not zero the whole limit first.
pub(crate) fn decompress(data: &[u8], limit: usize) -> Result<Vec<u8>> {
    let error = Error::Compression { limit };
    let mut out = vec![0u8; data.len().saturating_mul(4).max(64).min(limit)];
    let mut state = DecompressorOxide::new();
    let flags = inflate_flags::TINFL_FLAG_PARSE_ZLIB_HEADER
        | inflate_flags::TINFL_FLAG_COMPUTE_ADLER32
        | inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF;
    let (mut read, mut written) = (0, 0);
    loop {
        let rest = data.get(read..).ok_or(error.clone())?;
        let (status, consumed, produced) =
            inflate::decompress(&mut state, rest, &mut out, written, flags);
        read += consumed;
        written += produced;
        match status {
            TINFLStatus::Done if read == data.len() => {
                out.truncate(written);
                return Ok(out);
            }
            TINFLStatus::HasMoreOutput if out.len() < limit => {
                out.resize(out.len().saturating_mul(2).min(limit), 0);
            }
            _ => return Err(error),
        }
    }
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

    #[test]
    fn output_far_larger_than_the_input_grows_up_to_the_limit_exactly() {
        // 100 000 zeros compress to ~100 bytes: the buffer starts at 4× the input and must grow.
        let data = vec![0u8; 100_000];
        let z = compress(&data);
        assert!(z.len() * 4 < data.len());
        assert_eq!(decompress(&z, 100_000).unwrap(), data);
        assert!(decompress(&z, 99_999).is_err());
        assert!(decompress(&z, 0).is_err());
        assert_eq!(decompress(&compress(&[]), 0).unwrap(), Vec::<u8>::new());
    }
}
