//! `epermit staff list|disable|enable|unlock|reset-password`, driven as an operator would.

use assert_cmd::Command;
use serde_json::Value;

fn epermit(data: &std::path::Path) -> Command {
    let mut cmd = Command::cargo_bin("epermit").unwrap();
    cmd.env("EPERMIT_DATA_DIR", data)
        .env_remove("DATABASE_URL")
        .env_remove("REDIS_URL")
        .env_remove("EPERMIT_CONFIG");
    cmd
}

fn run(data: &std::path::Path, args: &[&str], stdin: &str) -> (Option<i32>, Value, String) {
    let out = epermit(data)
        .args(args)
        .write_stdin(stdin)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    (out.status.code(), json, text)
}

#[test]
fn staff_lifecycle_commands_disable_enable_unlock_reset_and_list_without_hashes() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let add = [
        "staff",
        "add",
        "--username",
        "wc1",
        "--role",
        "officer",
        "--district",
        "330702",
    ];
    assert_eq!(run(d, &add, "officer password 2026\n").0, Some(0));

    let (code, list, text) = run(d, &["staff", "list"], "");
    assert_eq!(code, Some(0));
    assert!(
        !text.contains("argon2") && !text.contains("password"),
        "{text}"
    );
    assert_eq!(list["staff"][0]["username"], "wc1");
    assert_eq!(list["staff"][0]["disabled"], false);

    let (code, out, _) = run(d, &["staff", "disable", "--username", "wc1"], "");
    assert_eq!(code, Some(0));
    assert_eq!(
        (out["disabled"].as_bool(), out["changed"].as_bool()),
        (Some(true), Some(true))
    );
    let (_, again, _) = run(d, &["staff", "disable", "--username", "wc1"], "");
    assert_eq!(again["changed"], false, "disabling twice changes nothing");
    let (code, out, _) = run(d, &["staff", "enable", "--username", "wc1"], "");
    assert_eq!((code, out["disabled"].as_bool()), (Some(0), Some(false)));
    let (code, out, _) = run(d, &["staff", "unlock", "--username", "wc1"], "");
    assert_eq!((code, out["failed_logins"].as_i64()), (Some(0), Some(0)));

    let reset = ["staff", "reset-password", "--username", "wc1"];
    assert_eq!(run(d, &reset, "").0, Some(3), "the password comes on stdin");
    assert_eq!(
        run(d, &reset, "short\n").0,
        Some(3),
        "at least 12 characters"
    );
    let (code, out, _) = run(d, &reset, "a brand new passphrase\n");
    assert_eq!((code, out["changed"].as_bool()), (Some(0), Some(true)));
    let (code, out, _) = run(d, &["staff", "disable", "--username", "nobody"], "");
    assert_eq!(
        (code, out["error"].as_str()),
        (Some(3), Some("unknown_username"))
    );

    let (code, audit, _) = run(d, &["audit", "verify"], "");
    assert_eq!(code, Some(0));
    assert_eq!(
        audit["entries"], 6,
        "the audit key's generation, then add, disable, enable, unlock, reset (the repeated \
         disable changed nothing): {audit}"
    );
}
