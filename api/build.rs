//! Rebuilds the crate when a file under `web/` changes, so the screens embedded by
//! `rust-embed` (`src/screens/`) are always the files in the tree, new files included.

fn main() {
    println!("cargo:rerun-if-changed=web");
    println!("cargo:rerun-if-changed=build.rs");
}
