//! `epermit verify`: offline verification of an `EP1:`/`EPP1:` text with the one algorithm of
//! `crypto` (SPEC §2), exactly as the mobile SDK runs it.

use chrono::{DateTime, TimeDelta, Utc};
use crypto::status_list::StatusList;
use crypto::trust_list::TrustList;
use crypto::verify::{Verdict, VerifyOptions};
use serde_json::json;

use crate::cli::VerifyArgs;
use crate::commands::{Outcome, exit};
use crate::files::read_text_arg;

/// Prints the verdict JSON; exit 0 only for `valid`, 1 for any other verdict, 3 for bad inputs.
pub fn run(args: &VerifyArgs) -> Outcome {
    match verify(args) {
        Ok(outcome) => outcome,
        Err((code, message)) => {
            eprintln!("epermit: {message}");
            Outcome::bad_input(json!({ "error": code }))
        }
    }
}

type Refusal = (&'static str, String);

fn verify(args: &VerifyArgs) -> Result<Outcome, Refusal> {
    let root_text = std::fs::read_to_string(&args.root).map_err(|e| {
        (
            "unreadable_root_key",
            format!("cannot read {}: {e}", args.root.display()),
        )
    })?;
    let root = crypto::keys::parse_public_key_hex(root_text.trim())
        .map_err(|e| ("invalid_root_key", format!("{}: {e}", args.root.display())))?;
    let trust_bytes = std::fs::read(&args.trust_list).map_err(|e| {
        (
            "unreadable_trust_list",
            format!("cannot read {}: {e}", args.trust_list.display()),
        )
    })?;
    let trust = TrustList::verify(&trust_bytes, &[root]).map_err(|e| {
        (
            "invalid_trust_list",
            format!("{}: {e}", args.trust_list.display()),
        )
    })?;
    let mut status = Vec::with_capacity(args.status_list.len());
    for path in &args.status_list {
        let bytes = std::fs::read(path).map_err(|e| {
            (
                "unreadable_status_list",
                format!("cannot read {}: {e}", path.display()),
            )
        })?;
        status.push(
            StatusList::verify(&bytes, &[root])
                .map_err(|e| ("invalid_status_list", format!("{}: {e}", path.display())))?,
        );
    }
    let now = match &args.now {
        None => Utc::now(),
        Some(text) => DateTime::parse_from_rfc3339(text)
            .map_err(|e| {
                (
                    "invalid_now",
                    format!("--now {text:?} is not RFC 3339: {e}"),
                )
            })?
            .with_timezone(&Utc),
    };
    let text = read_text_arg(&args.text)
        .map_err(|e| ("unreadable_text", format!("cannot read {}: {e}", args.text)))?;
    let options = VerifyOptions {
        max_presentation_age: TimeDelta::seconds(i64::from(args.max_presentation_age)),
        ..VerifyOptions::default()
    };
    let verification = crypto::verify::verify(&text, &trust, &status, now, &options);
    let code = if verification.verdict == Verdict::Valid {
        exit::OK
    } else {
        exit::NOT_VALID
    };
    // The verdict, and the SPEC §3 report the credential supports (as the SDK shows it).
    let mut answer = json!(verification);
    answer["report"] = json!(verification.report(now));
    Ok(Outcome {
        json: Some(answer),
        code,
    })
}
