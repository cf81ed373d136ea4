//! `VerifierBundle::verify` on any bytes, raw or signed by the pinned root with the bundle `typ`
//! (to reach the payload parser).
#![no_main]

use crypto::bundle::VERIFIER_BUNDLE_TYPE;
use crypto::{Signer, VerifierBundle};
use libfuzzer_sys::fuzz_target;

mod signed_payload;

fuzz_target!(|data: &[u8]| {
    let bytes = signed_payload::input(data, Some(VERIFIER_BUNDLE_TYPE));
    let _ = VerifierBundle::verify(&bytes, &[signed_payload::root().public_key()]);
});
