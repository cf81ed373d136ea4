//! `TrustStore::import` on any bytes (a saved verifier state read back from the app's storage).
#![no_main]

use crypto::TrustStore;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = TrustStore::import(data);
});
