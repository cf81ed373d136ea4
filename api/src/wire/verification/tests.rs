//! The documented `Verification` against what the handler sends: real verdicts of the demo
//! world, and one of each verdict and warning with every optional claim present, validated by a
//! JSON Schema validator against the served document's component; and the patterns the schema
//! borrows from `policy` and `crypto` against those crates' parsers.

use chrono::{DateTime, Utc};
use crypto::sample::Demo;
use crypto::verify::{Verdict, Verification, VerifyOptions, Warning, verify};
use serde_json::Value;

/// The served document's `Verification` schema, as a validator.
fn validator() -> jsonschema::Validator {
    let doc = serde_json::to_value(crate::openapi::document()).unwrap();
    let schema = &doc["components"]["schemas"]["Verification"];
    assert!(schema.is_object(), "Verification is not a component");
    jsonschema::options()
        .should_validate_formats(true)
        .build(schema)
        .unwrap()
}

fn assert_documented(validator: &jsonschema::Validator, verification: &Verification) {
    let sent = serde_json::to_value(verification).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&sent)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{sent}\nis off the document: {errors:#?}"
    );
}

fn demo() -> (Demo, DateTime<Utc>) {
    let now = DateTime::from_timestamp(1_780_000_000, 0).unwrap();
    (Demo::new(now).unwrap(), now)
}

#[test]
fn every_verdict_the_handler_sends_is_the_documented_verification() {
    let validator = validator();
    let (demo, now) = demo();
    let lists = vec![demo.status_list.clone()];
    let no_lists = Vec::new();
    let options = VerifyOptions::default();
    let holder_bound = demo.presentation_text(now, None).unwrap();
    let unbound = demo.permit_text().unwrap();
    let cases = [
        (holder_bound.as_str(), &lists, Verdict::Valid),
        (unbound.as_str(), &lists, Verdict::Valid),
        (unbound.as_str(), &no_lists, Verdict::Valid),
        ("EP1:not base45", &lists, Verdict::Malformed),
    ];
    for (qr, status, expected) in cases {
        let verification = verify(qr, &demo.trust_list, status, now, &options);
        assert_eq!(verification.verdict, expected, "{qr}");
        assert_documented(&validator, &verification);
    }
}

#[test]
fn every_verdict_warning_and_optional_claim_is_documented() {
    let validator = validator();
    let (demo, _) = demo();
    let mut claims = demo.claims.clone();
    claims.lapses = vec![
        policy::Lapse::new(claims.first_issued, Some(claims.first_issued)).unwrap(),
        policy::Lapse::new(claims.first_issued, None).unwrap(),
    ];
    claims.last_endorsed = Some(claims.first_issued);
    for verdict in Verdict::ALL {
        for permit in [Some(claims.clone()), None] {
            let verification = Verification {
                verdict,
                assurance: Some(crypto::Assurance::HolderBound),
                warnings: Warning::ALL.to_vec(),
                permit,
            };
            assert_documented(&validator, &verification);
        }
    }
}

#[test]
fn the_document_refuses_what_the_handler_never_sends() {
    let validator = validator();
    let (demo, now) = demo();
    let sent = serde_json::to_value(verify(
        &demo.permit_text().unwrap(),
        &demo.trust_list,
        &vec![demo.status_list.clone()],
        now,
        &VerifyOptions::default(),
    ))
    .unwrap();
    assert!(validator.is_valid(&sent));
    let changed = |path: &str, value: Value| {
        let mut v = sent.clone();
        *v.pointer_mut(path).unwrap() = value;
        v
    };
    for off in [
        changed("/verdict", "fine".into()),
        changed("/warnings", serde_json::json!(["status_maybe"])),
        changed("/permit/number", "330702-26-123".into()),
        changed("/permit/id_number", "342401199503152710".into()),
        changed("/permit/issuer", "110101".into()),
        changed("/permit/status/index", (-1).into()),
    ] {
        assert!(!validator.is_valid(&off), "{off}");
    }
    let mut extra = sent.clone();
    extra["permit"]["photo"] = "…".into();
    assert!(!validator.is_valid(&extra), "an undocumented claim");
}

/// `pattern` of the document against `parse` on `samples` (text, accepted).
fn pattern_agrees(pattern: &str, parse: impl Fn(&str) -> bool, samples: &[(&str, bool)]) {
    let regex = regex::Regex::new(pattern).unwrap();
    for (text, accepted) in samples {
        assert_eq!(regex.is_match(text), *accepted, "{pattern} on {text:?}");
        if !regex.is_match(text) {
            assert!(!parse(text), "{text:?} is refused by {pattern} but parsed");
        }
    }
}

#[test]
fn the_borrowed_patterns_refuse_only_what_the_parsers_refuse() {
    pattern_agrees(
        policy::PermitNumber::PATTERN,
        |t| t.parse::<policy::PermitNumber>().is_ok(),
        &[
            ("330702-2026-000123", true),
            ("330702-2026-00012", false),
            ("330702-0999-000123", false),
            ("030702-2026-000123", false),
            (" 330702-2026-000123", false),
        ],
    );
    assert!("330702-2026-000123".parse::<policy::PermitNumber>().is_ok());
    pattern_agrees(
        policy::DistrictCode::PATTERN,
        |t| t.parse::<policy::DistrictCode>().is_ok(),
        &[
            ("330702", true),
            ("110101", true),
            ("033070", false),
            ("33070", false),
            ("3307021", false),
        ],
    );
    pattern_agrees(
        crypto::MaskedIdNumber::PATTERN,
        |t| t.get(6..14) == Some("********") && t.parse::<crypto::MaskedIdNumber>().is_ok(),
        &[
            ("342401********271X", true),
            ("342401********2710", true),
            ("342401*******2710", false),
            ("042401********2710", false),
            ("342401********27x0", false),
        ],
    );
    assert!(
        "342401********271X"
            .parse::<crypto::MaskedIdNumber>()
            .is_ok()
    );
}
