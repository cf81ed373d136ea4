//! The fast decoders of the verification path against the general `Value` decoders behind them
//! (`crypto::sample::fast_decoders_agree`): on the fuzz bytes themselves, and on each seed
//! encoding (a credential, a presentation, their payloads) with the fuzz bytes written over it
//! from a position the first two bytes choose, so most inputs stay close to a valid encoding.
#![no_main]

use std::sync::OnceLock;

use crypto::sample::{fast_decoder_seeds, fast_decoders_agree};
use libfuzzer_sys::fuzz_target;

static SEEDS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    assert!(fast_decoders_agree(data));
    let seeds = SEEDS.get_or_init(|| fast_decoder_seeds().unwrap_or_default());
    let Some((&[hi, lo], rest)) = data.split_first_chunk::<2>() else {
        return;
    };
    for seed in seeds {
        let at = usize::from(u16::from_be_bytes([hi, lo])) % (seed.len() + 1);
        let mut mixed = seed[..at].to_vec();
        mixed.extend_from_slice(rest);
        if let Some(tail) = seed.get(at + rest.len()..) {
            mixed.extend_from_slice(tail);
        }
        assert!(fast_decoders_agree(&mixed), "{mixed:02x?}");
    }
});
