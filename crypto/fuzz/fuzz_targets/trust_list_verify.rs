//! `TrustList::verify` on any bytes, raw or signed by the pinned root (to reach the payload parser).
#![no_main]

use crypto::{Signer, TrustList};
use libfuzzer_sys::fuzz_target;

mod signed_payload;

fuzz_target!(|data: &[u8]| {
    let bytes = signed_payload::input(data, None);
    let _ = TrustList::verify(&bytes, &[signed_payload::root().public_key()]);
});
