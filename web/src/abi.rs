//! The module's C ABI, the only `unsafe` of the crate: what `api/web/common/engine.js` calls.
//! No wasm-bindgen: arguments are numbers and (pointer, length) pairs of module memory the page
//! filled after [`epermit_alloc`]; every call answers a pointer to a result block
//!
//! ```text
//! [body length: u32 LE][kind: u32 LE, 0 JSON {"ok":…} or {"error":{…}}, 1 raw bytes][body]
//! ```
//!
//! which the page reads and gives back with [`epermit_result_free`]. Times are Unix seconds as
//! `f64` (a JavaScript number); verifiers are `u32` handles. The module imports nothing.

use crate::calls::{self, Reply};
use crate::error::Result;

const HEADER: usize = 8;

/// Moves a call's result into a result block the page owns until [`epermit_result_free`].
fn answer(result: Result<Reply>) -> *mut u8 {
    let (body, raw) = calls::encode(result);
    // Bodies are far below 4 GiB (the largest is an exported state); saturate rather than wrap.
    let len = u32::try_from(body.len()).unwrap_or(u32::MAX);
    let mut block = Vec::with_capacity(HEADER + body.len());
    block.extend_from_slice(&len.to_le_bytes());
    block.extend_from_slice(&u32::from(raw).to_le_bytes());
    block.extend_from_slice(&body);
    Box::into_raw(block.into_boxed_slice()).cast::<u8>()
}

/// The bytes at `ptr`, `len` long (empty for `len == 0`, whatever `ptr`).
///
/// # Safety
/// `ptr` must come from [`epermit_alloc`] with at least `len` bytes, not yet freed, and the
/// memory must not change while the slice is used (the module is single-threaded; the page
/// writes only between calls).
unsafe fn input<'a>(ptr: *const u8, len: usize) -> &'a [u8] {
    if len == 0 || ptr.is_null() {
        return &[];
    }
    // SAFETY: the caller guarantees `ptr..ptr+len` is one live allocation of this module that
    // nothing mutates during the call.
    unsafe { std::slice::from_raw_parts(ptr, len) }
}

/// `len` zeroed bytes of module memory for the page to write an argument into; give them back
/// with [`epermit_free`] (same `len`).
#[unsafe(no_mangle)]
pub extern "C" fn epermit_alloc(len: usize) -> *mut u8 {
    Box::into_raw(vec![0u8; len].into_boxed_slice()).cast::<u8>()
}

/// Frees what [`epermit_alloc`] gave.
///
/// # Safety
/// `ptr` and `len` must be exactly what one [`epermit_alloc`] call returned and took, freed once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn epermit_free(ptr: *mut u8, len: usize) {
    if ptr.is_null() {
        return;
    }
    // SAFETY: `ptr` is the start of a boxed slice of exactly `len` bytes from `epermit_alloc`,
    // not freed before (the caller's contract), so rebuilding the box and dropping it is sound.
    drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(ptr, len)) });
}

/// Frees a result block.
///
/// # Safety
/// `block` must be a pointer one of this module's calls returned, freed once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn epermit_result_free(block: *mut u8) {
    if block.is_null() {
        return;
    }
    let mut len = [0u8; 4];
    // SAFETY: every result block starts with its 8-byte header (see `answer`), so its first 4
    // bytes are readable.
    unsafe { std::ptr::copy_nonoverlapping(block, len.as_mut_ptr(), 4) };
    let total = HEADER + u32::from_le_bytes(len) as usize;
    // SAFETY: `answer` made the block as a boxed slice of exactly HEADER + body length bytes,
    // and the caller frees it once.
    drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(block, total)) });
}

// Every exported call below has the same contract:
//
// # Safety
// Each (pointer, length) pair must be an `epermit_alloc` allocation of at least that length (or
// a length of 0), live and unchanged during the call.

/// [`calls::verifier_new`]: the root keys as a JSON array.
///
/// # Safety
/// See the module: `keys` is an allocation of `keys_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn epermit_verifier_new(keys: *const u8, keys_len: usize) -> *mut u8 {
    // SAFETY: the pair satisfies `input`'s contract by this function's contract.
    let keys = unsafe { input(keys, keys_len) };
    answer(calls::verifier_new(keys))
}

/// [`calls::verifier_from_state`].
///
/// # Safety
/// See the module: `state` is an allocation of `state_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn epermit_verifier_from_state(
    state: *const u8,
    state_len: usize,
) -> *mut u8 {
    // SAFETY: as above.
    let state = unsafe { input(state, state_len) };
    answer(calls::verifier_from_state(state))
}

/// [`calls::verifier_free`].
#[unsafe(no_mangle)]
pub extern "C" fn epermit_verifier_free(handle: u32) -> *mut u8 {
    answer(calls::verifier_free(handle))
}

/// [`calls::verifier_load_bundle`].
///
/// # Safety
/// See the module: `bytes` is an allocation of `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn epermit_verifier_load_bundle(
    handle: u32,
    bytes: *const u8,
    len: usize,
    now: f64,
) -> *mut u8 {
    // SAFETY: as above.
    let bytes = unsafe { input(bytes, len) };
    answer(calls::verifier_load_bundle(handle, bytes, now))
}

/// [`calls::verifier_load_trust_list`].
///
/// # Safety
/// See the module: `bytes` is an allocation of `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn epermit_verifier_load_trust_list(
    handle: u32,
    bytes: *const u8,
    len: usize,
    now: f64,
) -> *mut u8 {
    // SAFETY: as above.
    let bytes = unsafe { input(bytes, len) };
    answer(calls::verifier_load_trust_list(handle, bytes, now))
}

/// [`calls::verifier_load_status_list`].
///
/// # Safety
/// See the module: `bytes` is an allocation of `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn epermit_verifier_load_status_list(
    handle: u32,
    bytes: *const u8,
    len: usize,
    now: f64,
) -> *mut u8 {
    // SAFETY: as above.
    let bytes = unsafe { input(bytes, len) };
    answer(calls::verifier_load_status_list(handle, bytes, now))
}

/// [`calls::verifier_verify`].
///
/// # Safety
/// See the module: `text` and `options` are allocations of `text_len` and `options_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn epermit_verifier_verify(
    handle: u32,
    text: *const u8,
    text_len: usize,
    now: f64,
    options: *const u8,
    options_len: usize,
) -> *mut u8 {
    // SAFETY: as above, for both pairs.
    let (text, options) = unsafe { (input(text, text_len), input(options, options_len)) };
    answer(calls::verifier_verify(handle, text, now, options))
}

/// [`calls::verifier_state`].
#[unsafe(no_mangle)]
pub extern "C" fn epermit_verifier_state(handle: u32, now: f64) -> *mut u8 {
    answer(calls::verifier_state(handle, now))
}

/// [`calls::verifier_export_state`].
#[unsafe(no_mangle)]
pub extern "C" fn epermit_verifier_export_state(handle: u32) -> *mut u8 {
    answer(calls::verifier_export_state(handle))
}

/// [`calls::decode_qr`].
///
/// # Safety
/// See the module: `rgba` is an allocation of `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn epermit_decode_qr(
    rgba: *const u8,
    len: usize,
    width: u32,
    height: u32,
) -> *mut u8 {
    // SAFETY: as above.
    let rgba = unsafe { input(rgba, len) };
    answer(calls::decode_qr(rgba, width, height))
}

/// [`calls::qr_svg`].
///
/// # Safety
/// See the module: `text` is an allocation of `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn epermit_qr_svg(text: *const u8, len: usize) -> *mut u8 {
    // SAFETY: as above.
    let text = unsafe { input(text, len) };
    answer(calls::qr_svg(text))
}

/// [`calls::presentation_message`].
///
/// # Safety
/// See the module: `text` and `challenge` are allocations of `text_len` and `challenge_len`
/// bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn epermit_presentation_message(
    text: *const u8,
    text_len: usize,
    now: f64,
    challenge: *const u8,
    challenge_len: usize,
) -> *mut u8 {
    // SAFETY: as above, for both pairs.
    let (text, challenge) = unsafe { (input(text, text_len), input(challenge, challenge_len)) };
    answer(calls::presentation_message(text, now, challenge))
}

/// [`calls::presentation_finish`].
///
/// # Safety
/// See the module: each (pointer, length) pair is an allocation of that length.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn epermit_presentation_finish(
    text: *const u8,
    text_len: usize,
    now: f64,
    signature: *const u8,
    signature_len: usize,
    challenge: *const u8,
    challenge_len: usize,
) -> *mut u8 {
    // SAFETY: as above, for the three pairs.
    let (text, signature, challenge) = unsafe {
        (
            input(text, text_len),
            input(signature, signature_len),
            input(challenge, challenge_len),
        )
    };
    answer(calls::presentation_finish(text, now, signature, challenge))
}

/// [`calls::binding_message`].
///
/// # Safety
/// See the module: `number` and `challenge_hex` are allocations of their lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn epermit_binding_message(
    number: *const u8,
    number_len: usize,
    challenge_hex: *const u8,
    challenge_hex_len: usize,
) -> *mut u8 {
    // SAFETY: as above, for both pairs.
    let (number, challenge_hex) = unsafe {
        (
            input(number, number_len),
            input(challenge_hex, challenge_hex_len),
        )
    };
    answer(calls::binding_message(number, challenge_hex))
}
