//! wasm32-unknown-unknown only: no OS random source exists, and the SDK never needs one (see the
//! Cargo.toml note). Any attempt to draw randomness fails instead of aborting the build.

fn no_random_source(_: &mut [u8]) -> Result<(), getrandom::Error> {
    Err(getrandom::Error::UNSUPPORTED)
}

getrandom::register_custom_getrandom!(no_random_source);
