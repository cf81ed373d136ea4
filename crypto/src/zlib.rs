//! zlib (RFC 1950) compression with a bounded, strict inflate: the one place untrusted compressed
//! input is expanded (QR texts, SPEC §2; status lists, draft-ietf-oauth-status-list §4.1).

use std::cell::RefCell;

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
///
/// The inflate state (10 KiB of Huffman tables) is kept per thread and reset for each stream
/// (`DecompressorOxide::init`, which miniz documents as enough: the rest is overwritten when
/// used), instead of a new zeroed one per QR scan.
pub(crate) fn decompress(data: &[u8], limit: usize) -> Result<Vec<u8>> {
    thread_local! {
        static STATE: RefCell<Box<DecompressorOxide>> = RefCell::default();
    }
    STATE.with(|state| match state.try_borrow_mut() {
        Ok(mut state) => {
            state.init();
            decompress_with(&mut state, data, limit)
        }
        // Only if inflating ever re-entered itself: a state of its own.
        Err(_) => decompress_with(&mut DecompressorOxide::new(), data, limit),
    })
}

fn decompress_with(state: &mut DecompressorOxide, data: &[u8], limit: usize) -> Result<Vec<u8>> {
    let error = Error::Compression { limit };
    let mut out = vec![0u8; data.len().saturating_mul(4).max(64).min(limit)];
    let flags = inflate_flags::TINFL_FLAG_PARSE_ZLIB_HEADER
        | inflate_flags::TINFL_FLAG_COMPUTE_ADLER32
        | inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF;
    let (mut read, mut written) = (0, 0);
    loop {
        let rest = data.get(read..).ok_or(error.clone())?;
        let (status, consumed, produced) =
            inflate::decompress(state, rest, &mut out, written, flags);
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

    /// Streams of every kind one after the other on one thread (the state is reused): each
    /// inflates as with a new state.
    #[test]
    fn a_reused_state_inflates_each_stream_as_a_new_one_does() {
        let data = b"status list status list status list".repeat(40);
        let z = compress(&data);
        let mut streams = vec![
            z.clone(),
            compress(&[]),
            compress(b"abc"),
            z[..z.len() / 2].to_vec(),
        ];
        streams.push([&z[..], &[0]].concat());
        streams.push(compress(&vec![0u8; 10_000]));
        let mut flipped = z.clone();
        flipped[z.len() / 2] ^= 0x40;
        streams.push(flipped);
        streams.push(b"not zlib".to_vec());
        for limit in [64, 1024, 100_000] {
            for _ in 0..2 {
                for s in &streams {
                    let fresh = decompress_with(&mut DecompressorOxide::new(), s, limit);
                    assert_eq!(decompress(s, limit), fresh);
                }
            }
        }
        assert_eq!(decompress(&z, 100_000).unwrap(), data);
    }

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
