//! Every worked case of `tests/cases/` (SPEC §3) must match, input to expected output, and so must
//! every case in `EPERMIT_CASES_DIR` when that is set.

use std::path::Path;

use policy::{parse_report_request, report};
use serde_json::{Value, json};

#[path = "support/cases.rs"]
mod support;

use support::{IN_REPO_CASES, case_files};

/// What the CLI and API answer for a case: the report, or `{"error": code}`.
fn answer(text: &str) -> Value {
    match parse_report_request(text) {
        Ok(input) => serde_json::to_value(report(&input)).unwrap(),
        Err(e) => json!({ "error": e.code() }),
    }
}

/// Every case of `dir` answers its expected output; at least `at_least` cases are there.
fn check_cases_in(dir: &Path, at_least: usize) {
    let files = case_files(dir);
    assert!(
        files.len() >= at_least,
        "expected at least {at_least} cases in {}, found {}",
        dir.display(),
        files.len()
    );
    let mut failures = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let case: Value = serde_json::from_str(&text).unwrap();
        let got = answer(&text);
        if got != case["expected"] {
            failures.push(format!(
                "{}:\n  expected {}\n  got      {}",
                file.file_name().unwrap().to_string_lossy(),
                case["expected"],
                got
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

#[test]
fn every_worked_residence_case_matches_its_expected_output() {
    check_cases_in(&support::in_repo_dir(), IN_REPO_CASES);
}

#[test]
fn every_extra_case_of_epermit_cases_dir_matches_its_expected_output() {
    if let Some(dir) = std::env::var_os("EPERMIT_CASES_DIR") {
        check_cases_in(Path::new(&dir), 1);
    }
}

#[test]
fn the_spec_section_3_contract_example_matches() {
    let input = r#"{"target":"330703","as_of":"2026-03-10",
 "periods":[{"district":"330702","start":"2024-06-01","end":"2025-09-01"},
            {"district":"330703","start":"2025-09-01","end":null}],
 "lapses":[], "permit":{"issuer":"330703","status":"active"}}"#;
    let expected: Value = serde_json::from_str(r#"{"target":"330703","as_of":"2026-03-10","registered_at_target":true,
 "continuous_at_target":{"since":"2025-09-01","days":190},
 "continuous_in_jinhua":{"since":"2024-06-01","days":647},
 "cumulative_in_jinhua_days":647,
 "rules":[{"rule":"continuous","required_months":12,"met":false,"met_on":"2026-09-01"},
          {"rule":"cumulative","required_days":365,"required_continuous_months":6,"met":true,"met_on":"2026-03-01"}],
 "residence_met":true,"residence_met_on":"2026-03-01","blockers":[],"eligible":true}"#).unwrap();
    assert_eq!(answer(input), expected);
}
