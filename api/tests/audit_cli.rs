//! `epermit audit …` and the audit entries of the operator commands, driven as an operator
//! would, on SQLite in a fresh data directory (issue 12 item 7).

use std::path::Path;

use assert_cmd::Command;
use sea_orm::ConnectionTrait;
use serde_json::Value;

fn epermit_in(data: &Path) -> Command {
    let mut cmd = Command::cargo_bin("epermit").unwrap();
    cmd.env("EPERMIT_DATA_DIR", data)
        .env("EPERMIT_BIND", "127.0.0.1:0")
        .env_remove("DATABASE_URL")
        .env_remove("REDIS_URL")
        .env_remove("EPERMIT_CONFIG")
        .env_remove("EPERMIT_AUDIT__CHECKPOINT_EXPORT")
        .timeout(std::time::Duration::from_secs(120));
    cmd
}

/// Runs `epermit <args>`: exit code, stdout, stderr.
fn run_in(data: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = epermit_in(data).args(args).output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// `audit export` (all entries) as JSON values.
fn exported(data: &Path) -> (Vec<Value>, String) {
    let (code, out, err) = run_in(data, &["audit", "export"]);
    assert_eq!(code, Some(0), "{err}");
    (out.lines().map(json).collect(), out)
}

/// The `token.issue` entries of the log, and the whole export's text.
fn tokens_issued(data: &Path) -> (Vec<Value>, String) {
    let (entries, text) = exported(data);
    let minted = entries
        .into_iter()
        .filter(|e| e["action"] == "token.issue")
        .collect();
    (minted, text)
}

/// Runs SQL on the SQLite database of `data`, as someone with access to the file would.
fn tamper(data: &Path, statement: &str) {
    let url = format!("sqlite://{}/epermit.db?mode=rw", data.display());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let db = sea_orm::Database::connect(&url).await.unwrap();
        db.execute_unprepared(statement).await.unwrap();
        db.close().await.unwrap();
    });
}

#[test]
fn epermit_token_leaves_an_audit_entry_naming_the_resident_but_not_the_phone() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = run_in(dir.path(), &["token", "--resident", "13812345678"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(json(&out)["access_token"].is_string());
    let (minted, text) = tokens_issued(dir.path());
    assert_eq!(minted.len(), 1, "{text}");
    assert_eq!(minted[0]["actor"], "operator:cli");
    assert!(
        minted[0]["subject"]
            .as_str()
            .unwrap()
            .starts_with("resident:")
    );
    assert!(!text.contains("13812345678"), "{text}");
}

#[test]
fn epermit_token_seeded_is_for_the_seeded_resident_of_that_id_without_a_phone_anywhere() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = run_in(dir.path(), &["seed", "--residents", "3"]);
    assert_eq!(code, Some(0), "{err}");
    let (code, out, err) = run_in(dir.path(), &["token", "--seeded", "2"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(json(&out)["access_token"].is_string());
    let (minted, text) = tokens_issued(dir.path());
    // The seeded resident 2 itself, not a new resident made for an unknown phone.
    assert_eq!(minted.len(), 1, "{text}");
    assert_eq!(minted[0]["subject"], "resident:2", "{text}");
    let phone = api::commands::seed::phone(2);
    for shown in [&out, &err, &text] {
        assert!(!shown.contains(&phone), "{shown}");
    }
    // One or the other: not both, not neither (clap's usage error, exit 2).
    let (code, _, _) = run_in(
        dir.path(),
        &["token", "--seeded", "2", "--resident", "13812345678"],
    );
    assert_eq!(code, Some(2));
    let (code, _, err) = run_in(dir.path(), &["token"]);
    assert_eq!(code, Some(2), "{err}");
}

#[test]
fn each_row_of_epermit_import_residences_leaves_an_audit_entry() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("legacy.csv");
    std::fs::write(
        &csv,
        "id_number,name,district,address,start,end\n\
         11010519491231002X,张三,330702,宾虹路 18 号,2020-01-01,2021-06-01\n\
         11010519491231002X,张三,330703,金东路 1 号,2021-06-01,\n",
    )
    .unwrap();
    let (code, out, err) = run_in(dir.path(), &["import", "residences", csv.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(json(&out)["imported"], 2, "{out}");
    let (entries, text) = exported(dir.path());
    let rows = entries
        .iter()
        .filter(|e| e["action"] == "residence.import")
        .count();
    assert_eq!(rows, 2, "{text}");
    assert!(!text.contains("11010519491231002X"), "{text}");
}

#[test]
fn audit_verify_exits_0_when_intact_and_1_naming_truncation_after_the_last_entries_are_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("checkpoints.jsonl");
    for phone in ["13800000001", "13800000002", "13800000003"] {
        let (code, _, err) = run_in(dir.path(), &["token", "--resident", phone]);
        assert_eq!(code, Some(0), "{err}");
    }
    let (code, out, err) = epermit_in(dir.path())
        .env("EPERMIT_AUDIT__CHECKPOINT_EXPORT", &export)
        .args(["audit", "checkpoint"])
        .output()
        .map(|o| {
            (
                o.status.code(),
                String::from_utf8_lossy(&o.stdout).into_owned(),
                String::from_utf8_lossy(&o.stderr).into_owned(),
            )
        })
        .unwrap();
    assert_eq!(code, Some(0), "{err}");
    let seq = json(&out)["checkpoint"]["seq"].as_i64().unwrap();
    assert!(
        std::fs::read_to_string(&export)
            .unwrap()
            .contains(&format!("\"seq\":{seq}"))
    );

    let (code, out, err) = run_in(dir.path(), &["audit", "verify"]);
    assert_eq!(code, Some(0), "{err}");
    let report = json(&out);
    assert_eq!(report["status"], "intact");
    assert_eq!(report["unanchored_entries"], 0);

    tamper(
        dir.path(),
        &format!("DELETE FROM audit_log WHERE id > {}", seq - 2),
    );
    let (code, out, err) = run_in(dir.path(), &["audit", "verify"]);
    assert_eq!(code, Some(1), "{err}");
    let report = json(&out);
    assert_eq!(report["status"], "tampered");
    assert_eq!(report["problems"][0]["kind"], "truncation");
    assert!(err.contains("truncation"), "{err}");

    // Deleting the checkpoints too hides nothing from the exported file.
    tamper(dir.path(), "DELETE FROM audit_checkpoints");
    let (code, _, _) = run_in(dir.path(), &["audit", "verify"]);
    assert_eq!(
        code,
        Some(0),
        "without the file the database alone looks whole"
    );
    let (code, out, err) = run_in(
        dir.path(),
        &["audit", "verify", "--checkpoints", export.to_str().unwrap()],
    );
    assert_eq!(code, Some(1), "{err}");
    let kinds: Vec<String> = json(&out)["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["kind"].as_str().unwrap().to_owned())
        .collect();
    assert!(kinds.contains(&"truncation".to_owned()), "{kinds:?}");
    assert!(
        kinds.contains(&"checkpoint_deleted".to_owned()),
        "{kinds:?}"
    );
}

#[test]
fn a_missing_audit_key_stops_start_up_once_the_database_has_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = run_in(dir.path(), &["keys", "list"]);
    assert_eq!(code, Some(0), "{err}");
    let file = dir.path().join("keys").join("audit.key");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert!(
        std::fs::read_to_string(&file)
            .unwrap()
            .starts_with("-----BEGIN PRIVATE KEY-----")
    );
    std::fs::remove_file(&file).unwrap();

    let (code, _, err) = run_in(dir.path(), &["serve"]);
    assert!(code.is_some() && code != Some(0), "{err}");
    for needle in [
        file.display().to_string().as_str(),
        "restore it from your key backup",
    ] {
        assert!(err.contains(needle), "{needle:?} not in: {err}");
    }
    let (code, out, _) = run_in(dir.path(), &["audit", "verify"]);
    assert_eq!(code, Some(4));
    assert_eq!(json(&out)["error"], "audit_key_unavailable");
    assert!(!file.exists(), "no new audit key is generated in its place");
}

#[test]
fn audit_export_takes_sequence_and_day_bounds_and_refuses_a_bad_one() {
    let dir = tempfile::tempdir().unwrap();
    for phone in ["13800000001", "13800000002"] {
        let (code, _, err) = run_in(dir.path(), &["token", "--resident", phone]);
        assert_eq!(code, Some(0), "{err}");
    }
    let (all, _) = exported(dir.path());
    assert!(all.len() >= 4, "{all:?}");
    let (code, out, _) = run_in(dir.path(), &["audit", "export", "--from", "2", "--to", "3"]);
    assert_eq!(code, Some(0));
    let seqs: Vec<i64> = out
        .lines()
        .map(|l| json(l)["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, [2, 3]);
    let today = chrono::Utc::now().date_naive().to_string();
    let (code, out, _) = run_in(
        dir.path(),
        &["audit", "export", "--from", &today, "--to", &today],
    );
    assert_eq!(code, Some(0));
    assert_eq!(out.lines().count(), all.len());
    let (code, out, _) = run_in(dir.path(), &["audit", "export", "--from", "yesterday"]);
    assert_eq!(code, Some(3));
    assert_eq!(json(&out)["error"], "invalid_bound");
}
