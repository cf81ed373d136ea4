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

// ---- `epermit keys …` (SPEC §4 "Keys") on a SQLite database in a fresh data directory ----

/// `epermit` on the embedded default in `data`: no settings file, database, Redis or bind address
/// from the environment of the test run.
fn epermit_in(data: &Path) -> Command {
    let mut cmd = epermit();
    cmd.env("EPERMIT_DATA_DIR", data)
        .env("EPERMIT_BIND", "127.0.0.1:0")
        .env_remove("DATABASE_URL")
        .env_remove("REDIS_URL")
        .env_remove("EPERMIT_CONFIG")
        .timeout(std::time::Duration::from_secs(120));
    cmd
}

/// Runs `epermit <args>` in `data`: exit code, stdout JSON (null when empty), stderr.
fn run_in(data: &Path, args: &[&str]) -> (Option<i32>, Value, String) {
    let out = epermit_in(data).args(args).output().unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (
        out.status.code(),
        json,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `epermit keys list`, which must succeed.
fn keys_list(data: &Path) -> Value {
    let (code, v, err) = run_in(data, &["keys", "list"]);
    assert_eq!(code, Some(0), "keys list: {err}");
    v
}

/// The entry of `keys list` with this role (and district).
fn key_entry<'a>(list: &'a Value, role: &str, district: Option<&str>, state: &str) -> &'a Value {
    list["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| {
            k["role"] == role
                && k["state"] == state
                && district.is_none_or(|d| k["district"].as_str() == Some(d))
        })
        .unwrap_or_else(|| panic!("no {state} {role} key {district:?} in {list}"))
}

fn kid_of<'a>(list: &'a Value, role: &str, district: Option<&str>) -> &'a str {
    key_entry(list, role, district, "active")["kid"]
        .as_str()
        .unwrap()
}

#[test]
fn keys_list_on_a_fresh_data_dir_generates_every_key_once_and_prints_the_root_key_apps_pin() {
    let dir = tempfile::tempdir().unwrap();
    let list = keys_list(dir.path());
    let keys = list["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 11, "root, jwt and nine districts: {list}");
    assert!(keys.iter().all(|k| k["state"] == "active"));
    let root_hex = list["root_public_key"].as_str().unwrap();
    assert_eq!(root_hex.len(), 64);
    assert!(root_hex.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(
        key_entry(&list, "root", None, "active")["public_key"],
        root_hex
    );
    assert_eq!(list["root_successor"], Value::Null);

    use std::os::unix::fs::PermissionsExt;
    let keys_dir = dir.path().join("keys");
    let district = kid_of(&list, "district", Some("330782"));
    for name in [
        "root.key".to_owned(),
        "jwt.key".to_owned(),
        format!("district-330782-{district}.key"),
    ] {
        let meta = std::fs::metadata(keys_dir.join(&name)).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{name}");
    }

    // A second run generates nothing.
    assert_eq!(keys_list(dir.path())["keys"], list["keys"]);

    // The root key file is one `openssl pkey` reads, and it derives the key apps pin.
    match std::process::Command::new("openssl")
        .args(["pkey", "-pubout", "-outform", "DER", "-in"])
        .arg(keys_dir.join("root.key"))
        .output()
    {
        Err(_) => eprintln!("SKIPPED the openssl check: no `openssl` binary on this machine"),
        Ok(out) => {
            assert!(
                out.status.success(),
                "openssl pkey refused root.key: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(hex::encode(&out.stdout[12..]), root_hex);
        }
    }
}

#[test]
fn a_missing_key_file_stops_start_up_and_key_commands_naming_the_file_the_kid_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let list = keys_list(dir.path());
    let kid = kid_of(&list, "district", Some("330782"));
    let file = dir
        .path()
        .join("keys")
        .join(format!("district-330782-{kid}.key"));
    std::fs::remove_file(&file).unwrap();

    let (code, _, err) = run_in(dir.path(), &["serve"]);
    assert_ne!(code, Some(0), "{err}");
    assert!(code.is_some(), "exits, no signal: {err}");
    assert!(!err.contains("panicked"), "{err}");
    for needle in [
        file.display().to_string().as_str(),
        kid,
        "restore it from your key backup",
        "EPERMIT_DATA_DIR",
    ] {
        assert!(err.contains(needle), "{needle:?} not in: {err}");
    }

    let (code, v, err) = run_in(dir.path(), &["keys", "list"]);
    assert_eq!(
        (code, &v["error"]),
        (Some(4), &Value::from("key_file_mismatch"))
    );
    assert!(err.contains(kid), "{err}");
    assert!(!file.exists(), "no key is generated in its place");
}

#[test]
fn a_key_file_holding_another_key_stops_start_up_naming_both_kids() {
    let dir = tempfile::tempdir().unwrap();
    let other = tempfile::tempdir().unwrap();
    let kid = kid_of(&keys_list(dir.path()), "root", None).to_owned();
    let foreign = kid_of(&keys_list(other.path()), "root", None).to_owned();
    let file = dir.path().join("keys/root.key");
    std::fs::copy(other.path().join("keys/root.key"), &file).unwrap();

    let (code, _, err) = run_in(dir.path(), &["serve"]);
    assert_ne!(code, Some(0), "{err}");
    assert!(code.is_some() && !err.contains("panicked"), "{err}");
    for needle in [
        file.display().to_string().as_str(),
        &kid,
        &foreign,
        "key backup",
    ] {
        assert!(err.contains(needle), "{needle:?} not in: {err}");
    }
    let (code, _, _) = run_in(dir.path(), &["keys", "rotate", "--district", "330702"]);
    assert_eq!(code, Some(4));
}

#[test]
fn a_key_file_written_before_as_pkcs8_v2_with_the_public_key_still_loads() {
    use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
    use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
    let dir = tempfile::tempdir().unwrap();
    let list = keys_list(dir.path());
    let file = dir.path().join("keys/root.key");
    let v1 = std::fs::read_to_string(&file).unwrap();
    let key = ed25519_dalek::SigningKey::from_pkcs8_pem(&v1).unwrap();
    let v2 = key.to_pkcs8_pem(LineEnding::LF).unwrap();
    assert_ne!(v1, *v2);
    std::fs::write(&file, v2.as_bytes()).unwrap();
    assert_eq!(
        keys_list(dir.path())["root_public_key"],
        list["root_public_key"]
    );
}

#[test]
fn keys_rotate_retires_the_district_key_and_refuses_a_district_outside_jinhua() {
    let dir = tempfile::tempdir().unwrap();
    let old = kid_of(&keys_list(dir.path()), "district", Some("330703")).to_owned();
    let (code, v, err) = run_in(dir.path(), &["keys", "rotate", "--district", "330703"]);
    assert_eq!(code, Some(0), "{err}");
    let list = keys_list(dir.path());
    assert_eq!(v["kid"], kid_of(&list, "district", Some("330703")));
    let retired = key_entry(&list, "district", Some("330703"), "retired");
    assert_eq!(retired["kid"], old.as_str());
    assert!(retired["not_after"].is_string());
    let (code, _, _) = run_in(dir.path(), &["keys", "rotate", "--district", "330102"]);
    assert_eq!(code, Some(3));
}

#[test]
fn keys_compromise_marks_the_key_bumps_the_trust_list_and_replaces_an_active_district_key() {
    let dir = tempfile::tempdir().unwrap();
    let before = keys_list(dir.path());
    let kid = kid_of(&before, "district", Some("330782")).to_owned();
    let (_, audit_before, _) = run_in(dir.path(), &["audit", "verify"]);

    let (code, v, err) = run_in(dir.path(), &["keys", "compromise", "--kid", &kid]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(v["kid"], kid.as_str());
    assert_eq!(v["state"], "compromised");
    let list = keys_list(dir.path());
    let marked = key_entry(&list, "district", Some("330782"), "compromised");
    assert_eq!(marked["kid"], kid.as_str());
    assert!(marked["not_after"].is_string());
    let fresh = kid_of(&list, "district", Some("330782"));
    assert_ne!(fresh, kid);
    assert_eq!(v["replaced_by"], fresh);
    assert_eq!(
        list["trust_list_sequence"].as_i64().unwrap(),
        before["trust_list_sequence"].as_i64().unwrap() + 1
    );
    let (code, audit_after, _) = run_in(dir.path(), &["audit", "verify"]);
    assert_eq!(
        (code, &audit_after["status"]),
        (Some(0), &Value::from("intact"))
    );
    assert_eq!(
        audit_after["entries"].as_i64().unwrap(),
        audit_before["entries"].as_i64().unwrap() + 1,
        "audited"
    );

    // Again: nothing changes, nothing is replaced.
    let (code, v, _) = run_in(dir.path(), &["keys", "compromise", "--kid", &kid]);
    assert_eq!((code, &v["replaced_by"]), (Some(0), &Value::Null));
    assert_eq!(keys_list(dir.path())["keys"], list["keys"]);
}

#[test]
fn keys_compromise_refuses_a_malformed_or_unknown_kid_and_the_root_and_jwt_keys() {
    let dir = tempfile::tempdir().unwrap();
    let list = keys_list(dir.path());
    for (kid, error) in [
        ("nothex", "invalid_kid"),
        ("0011223344556677", "unknown_kid"),
        (kid_of(&list, "root", None), "not_a_district_key"),
        (kid_of(&list, "jwt", None), "not_a_district_key"),
    ] {
        let (code, v, _) = run_in(dir.path(), &["keys", "compromise", "--kid", kid]);
        assert_eq!((code, &v["error"]), (Some(3), &Value::from(error)), "{kid}");
    }
    assert_eq!(keys_list(dir.path())["keys"], list["keys"]);
}

#[test]
fn keys_rotate_root_announces_a_successor_and_finish_waits_until_the_announcement_has_run() {
    let dir = tempfile::tempdir().unwrap();
    let before = keys_list(dir.path());
    let (code, v, err) = run_in(dir.path(), &["keys", "rotate-root"]);
    assert_eq!(code, Some(0), "{err}");
    let next = v["successor"]["kid"].as_str().unwrap().to_owned();
    let list = keys_list(dir.path());
    assert_eq!(
        list["root_public_key"], before["root_public_key"],
        "the old root still signs"
    );
    assert_eq!(list["root_successor"]["kid"], next.as_str());
    assert_eq!(key_entry(&list, "root", None, "next")["kid"], next.as_str());
    use std::os::unix::fs::PermissionsExt;
    let file = dir.path().join(format!("keys/root-{next}.key"));
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let (code, v, _) = run_in(dir.path(), &["keys", "rotate-root"]);
    assert_eq!(
        (code, &v["error"]),
        (Some(3), &Value::from("root_rotation_pending"))
    );
    let (code, v, err) = run_in(dir.path(), &["keys", "rotate-root", "--finish"]);
    assert_eq!(
        (code, &v["error"]),
        (Some(3), &Value::from("announcement_running"))
    );
    assert!(err.contains("offline"), "{err}");
}

#[test]
fn keys_rotate_root_finish_after_the_announcement_makes_the_successor_the_root_apps_pin() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, _) = run_in(dir.path(), &["keys", "rotate-root", "--finish"]);
    assert_eq!(code, Some(3), "nothing to finish");
    let old = keys_list(dir.path())["root_kid"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, v, _) = run_in(dir.path(), &["keys", "rotate-root", "--announce-days", "0"]);
    let next = v["successor"]["kid"].as_str().unwrap().to_owned();
    let (code, v, err) = run_in(dir.path(), &["keys", "rotate-root", "--finish"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(v["root_kid"], next.as_str());
    let list = keys_list(dir.path());
    assert_eq!(list["root_kid"], next.as_str());
    assert_eq!(list["root_public_key"], v["root_public_key"]);
    assert_eq!(list["root_successor"], Value::Null);
    assert_eq!(
        key_entry(&list, "root", None, "retired")["kid"],
        old.as_str()
    );
    // The keys still open with the new root in `root-<kid>.key`, and a second rotation starts.
    let (code, _, err) = run_in(dir.path(), &["keys", "rotate-root"]);
    assert_eq!(code, Some(0), "{err}");
}

// ---- `epermit bundle` (issue 11 item 6) ----

#[test]
fn bundle_writes_the_signed_verifier_bundle_an_offline_verifier_loads() {
    let dir = tempfile::tempdir().unwrap();
    let root_hex = keys_list(dir.path())["root_public_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = dir.path().join("desk").join("bundle.cose");
    let (code, v, err) = run_in(dir.path(), &["bundle", "--out", out.to_str().unwrap()]);
    assert_eq!(code, Some(0), "bundle: {err}");
    assert_eq!(v["status_lists"], 1, "{v}");
    let bytes = std::fs::read(&out).unwrap();
    assert_eq!(v["bytes"], bytes.len());
    let root = crypto::keys::parse_public_key_hex(&root_hex).unwrap();
    let bundle = crypto::bundle::VerifierBundle::verify(&bytes, &[root]).unwrap();
    assert_eq!(bundle.status_lists.len(), 1);
    let mut store = crypto::trust_store::TrustStore::new(vec![root]);
    let load = store.load_bundle(&bytes, chrono::Utc::now()).unwrap();
    assert!(load.trust_list.is_ok(), "{load:?}");
    assert!(load.status_lists.iter().all(Result::is_ok), "{load:?}");
    // Without a writable place it fails naming the file, exit 4.
    let (code, _, err) = run_in(
        dir.path(),
        &["bundle", "--out", "/proc/epermit/bundle.cose"],
    );
    assert_eq!(code, Some(4), "{err}");
    assert!(err.contains("/proc/epermit/bundle.cose"), "{err}");
}

// ---- modes (issue 12 item 1) ----

/// `epermit serve` in `data` with the SMS settings of the test run's environment removed.
fn serve_in(data: &Path) -> Command {
    let mut cmd = epermit_in(data);
    for var in [
        "EPERMIT_MODE",
        "EPERMIT_METRICS_BIND",
        "EPERMIT_SMS_GATEWAY_URL",
        "EPERMIT_SMS_API_KEY",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("EPERMIT_METRICS_BIND", "127.0.0.1:0").arg("serve");
    cmd
}

#[test]
fn production_mode_refuses_to_start_without_an_sms_gateway_naming_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    let out = serve_in(dir.path())
        .env("EPERMIT_MODE", "production")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{err}");
    assert!(out.status.code().is_some(), "exits, no signal: {err}");
    assert!(
        err.contains("EPERMIT_SMS_GATEWAY_URL") && err.contains("production"),
        "{err}"
    );
    assert!(
        !dir.path().join("epermit.db").exists(),
        "nothing was opened"
    );

    let out = serve_in(dir.path())
        .env("EPERMIT_MODE", "production")
        .env("EPERMIT_SMS_GATEWAY_URL", "https://sms.example.cn/v1/sms")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("EPERMIT_SMS_API_KEY"), "{err}");
}

#[test]
fn development_mode_is_announced_at_start_up_with_what_it_means() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("epermit"));
    cmd.env("EPERMIT_DATA_DIR", dir.path())
        .env("EPERMIT_BIND", "127.0.0.1:0")
        .env("RUST_LOG", "warn")
        .env_remove("DATABASE_URL")
        .env_remove("REDIS_URL")
        .env_remove("EPERMIT_CONFIG")
        .env_remove("EPERMIT_MODE")
        .env_remove("EPERMIT_METRICS_BIND")
        .env_remove("EPERMIT_SMS_GATEWAY_URL")
        .arg("serve")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut announced = None;
    for line in BufReader::new(stderr).lines() {
        let line = line.unwrap();
        if line.starts_with("epermit: DEVELOPMENT mode") {
            announced = Some(line);
            break;
        }
        if line.contains("cannot start") {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let line = announced.expect("a development-mode line on stderr");
    for needle in [
        "outbox",
        "EPERMIT_MODE=production",
        "/metrics on the public listener",
    ] {
        assert!(line.contains(needle), "{needle:?} not in: {line}");
    }
}
