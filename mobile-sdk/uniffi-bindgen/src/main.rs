//! `uniffi-bindgen generate --library target/debug/libepermit_sdk.so --language kotlin|swift|python
//! --out-dir …`: the bindings generator at exactly the SDK's uniffi version (see
//! `mobile-sdk/bindings.sh`).
#![forbid(unsafe_code)]

fn main() {
    uniffi::uniffi_bindgen_main()
}
