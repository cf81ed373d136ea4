//! `epermit policy report CASE.json`: the SPEC §3 report of a request (or worked case) file.

use std::path::Path;

use serde_json::json;

use crate::commands::Outcome;

/// Prints the report JSON, or `{"error": code}` with exit code 3 for bad input.
pub fn run(path: &Path) -> Outcome {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("epermit: cannot read {}: {e}", path.display());
            return Outcome::bad_input(json!({ "error": "unreadable_input" }));
        }
    };
    match policy::parse_report_request(&text) {
        Ok(input) => Outcome::ok(json!(policy::report(&input))),
        Err(e) => {
            eprintln!("epermit: {e}");
            Outcome::bad_input(json!({ "error": e.code() }))
        }
    }
}
