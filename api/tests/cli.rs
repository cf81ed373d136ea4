//! The `epermit` command line, driven as an operator would: the report of every worked case
//! (`policy/tests/cases/`, plus those of `EPERMIT_CASES_DIR` when set), the demo bundle, and
//! offline verification of what the demo made.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn epermit() -> Command {
    Command::cargo_bin("epermit").unwrap()
}

#[path = "../../policy/tests/support/cases.rs"]
mod support;

use support::{IN_REPO_CASES, case_files};

fn json_of(output: &[u8]) -> Value {
    serde_json::from_slice(output)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(output)))
}

/// `epermit policy report` of each case prints its expected JSON, exit 3 for an error case.
fn check_cases(files: &[PathBuf]) {
    for path in files {
        let case: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let out = epermit()
            .args(["policy", "report"])
            .arg(path)
            .output()
            .unwrap();
        let expected = &case["expected"];
        assert_eq!(&json_of(&out.stdout), expected, "{}", path.display());
        let want = if expected.get("error").is_some() {
            3
        } else {
            0
        };
        assert_eq!(out.status.code(), Some(want), "{}", path.display());
    }
}

#[test]
fn policy_report_answers_every_worked_case_with_its_expected_json_and_exit_code() {
    let files = case_files(&support::in_repo_dir());
    assert!(
        files.len() >= IN_REPO_CASES,
        "only {} cases found",
        files.len()
    );
    check_cases(&files);
}

#[test]
fn policy_report_answers_every_extra_case_of_epermit_cases_dir() {
    if let Some(dir) = std::env::var_os("EPERMIT_CASES_DIR") {
        let files = case_files(Path::new(&dir));
        assert!(
            !files.is_empty(),
            "no cases in {}",
            Path::new(&dir).display()
        );
        check_cases(&files);
    }
}

#[test]
fn policy_report_names_bad_input_with_exit_code_3() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"{"target":"330102","as_of":"2025-01-01","periods":[]}"#,
    )
    .unwrap();
    let out = epermit()
        .args(["policy", "report"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        json_of(&out.stdout),
        serde_json::json!({"error": "target_not_in_jinhua"})
    );

    let out = epermit()
        .args(["policy", "report"])
        .arg(dir.path().join("missing.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        json_of(&out.stdout),
        serde_json::json!({"error": "unreadable_input"})
    );
}

fn demo(dir: &Path) {
    let out = epermit().args(["demo", "--out"]).arg(dir).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        printed.contains('█') || printed.contains('▀'),
        "the presentation QR is printed"
    );
}

fn verify(dir: &Path, extra: &[&str], text: &str) -> (Option<i32>, Value) {
    let out = epermit()
        .arg("verify")
        .arg("--root")
        .arg(dir.join("root.pub"))
        .arg("--trust-list")
        .arg(dir.join("trust-list.cose"))
        .args(extra)
        .arg(text)
        .output()
        .unwrap();
    (out.status.code(), json_of(&out.stdout))
}

#[test]
fn the_demo_bundle_holds_every_file_and_its_presentation_verifies_holder_bound() {
    let dir = tempfile::tempdir().unwrap();
    demo(dir.path());
    for name in [
        "root.pub",
        "trust-list.cose",
        "status-list.cwt",
        "permit.txt",
        "presentation.txt",
        "permit.png",
        "presentation.png",
        "holder.key",
    ] {
        assert!(dir.path().join(name).is_file(), "{name} missing");
    }
    let root = std::fs::read_to_string(dir.path().join("root.pub")).unwrap();
    assert_eq!(root.trim().len(), 64);
    assert!(root.trim().bytes().all(|b| b.is_ascii_hexdigit()));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir.path().join("holder.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    assert!(
        std::fs::read_to_string(dir.path().join("permit.txt"))
            .unwrap()
            .starts_with("EP1:")
    );
    assert!(
        std::fs::read_to_string(dir.path().join("presentation.txt"))
            .unwrap()
            .starts_with("EPP1:")
    );
    let png = std::fs::read(dir.path().join("permit.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");

    let status = format!(
        "--status-list={}",
        dir.path().join("status-list.cwt").display()
    );
    let pres = format!("@{}", dir.path().join("presentation.txt").display());
    let (code, v) = verify(dir.path(), &[&status], &pres);
    assert_eq!(v["verdict"], "valid", "{v}");
    assert_eq!(v["assurance"], "holder_bound");
    assert_eq!(v["warnings"], serde_json::json!([]));
    assert_eq!(code, Some(0));

    let permit = format!("@{}", dir.path().join("permit.txt").display());
    let (code, v) = verify(dir.path(), &[&status], &permit);
    assert_eq!(
        (code, &v["verdict"], &v["assurance"]),
        (Some(0), &Value::from("valid"), &Value::from("unbound"))
    );
}

#[test]
fn verify_without_a_status_list_warns_status_unknown_and_a_late_presentation_is_stale() {
    let dir = tempfile::tempdir().unwrap();
    demo(dir.path());
    let pres = format!("@{}", dir.path().join("presentation.txt").display());
    let (code, v) = verify(dir.path(), &[], &pres);
    assert_eq!((code, &v["verdict"]), (Some(0), &Value::from("valid")));
    assert_eq!(v["warnings"], serde_json::json!(["status_unknown"]));

    let later = (chrono::Utc::now() + chrono::Duration::minutes(10)).to_rfc3339();
    let (code, v) = verify(dir.path(), &["--now", &later], &pres);
    assert_eq!(
        (code, &v["verdict"]),
        (Some(1), &Value::from("presentation_stale"))
    );
}

#[test]
fn verify_calls_a_tampered_text_not_valid_and_bad_files_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    demo(dir.path());
    let text = std::fs::read_to_string(dir.path().join("permit.txt")).unwrap();
    let (code, v) = verify(dir.path(), &[], "EP1:NOT-BASE45!");
    assert_eq!((code, &v["verdict"]), (Some(1), &Value::from("malformed")));
    let mut chars: Vec<char> = text.trim().chars().collect();
    let mid = chars.len() / 2;
    chars[mid] = if chars[mid] == '0' { '1' } else { '0' };
    let (code, v) = verify(dir.path(), &[], &chars.into_iter().collect::<String>());
    assert_eq!(code, Some(1), "{v}");
    assert_ne!(v["verdict"], "valid");

    let other = tempfile::tempdir().unwrap();
    demo(other.path());
    let out = epermit()
        .arg("verify")
        .arg("--root")
        .arg(other.path().join("root.pub"))
        .arg("--trust-list")
        .arg(dir.path().join("trust-list.cose"))
        .arg(text.trim())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(json_of(&out.stdout)["error"], "invalid_trust_list");
}
