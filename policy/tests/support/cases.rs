//! The worked cases of SPEC §3 kept in the repository (`policy/tests/cases/`), shared by the
//! policy tests and the CLI tests (`#[path]`-included), so both read them the same way.

use std::path::{Path, PathBuf};

/// How many worked cases the repository keeps (see `policy/tests/cases/README.md`).
pub const IN_REPO_CASES: usize = 8;

/// The folder of the worked cases.
pub fn in_repo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("policy/tests/cases")
}

/// The `*.json` files of `dir`, sorted.
pub fn case_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read the cases at {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}
