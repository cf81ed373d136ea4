//! `StatusList::verify` on any bytes, raw or signed by the pinned root (to reach the payload
//! parser and the bounded inflate of `lst`).
#![no_main]

use crypto::status_list::STATUS_LIST_CWT_TYPE;
use crypto::{Signer, StatusList};
use libfuzzer_sys::fuzz_target;

mod signed_payload;

fuzz_target!(|data: &[u8]| {
    let bytes = signed_payload::input(data, Some(STATUS_LIST_CWT_TYPE));
    let _ = StatusList::verify(&bytes, &[signed_payload::root().public_key()]);
});
