//! The engine's calls natively: the same functions the wasm ABI calls, so the verdicts here are
//! the module's.

mod support;

use crypto::qr_text::{self, QrKind};
use ed25519_dalek::{Signer as _, SigningKey};
use epermit_web::calls::{self, Reply};
use serde_json::json;
use support::{NOW, bytes, code, ok, verify, world};

#[test]
fn a_bundle_loads_its_trust_list_and_status_lists() {
    let w = world();
    let keys = serde_json::to_vec(&[&w.root_key_hex]).unwrap();
    let handle = ok(calls::verifier_new(&keys)).as_u64().unwrap() as u32;
    let load = ok(calls::verifier_load_bundle(handle, &w.bundle, NOW));
    assert_eq!(load["issued_at"], json!(NOW as i64));
    assert_eq!(load["trust_list"], "installed");
    assert_eq!(load["status_lists"][0]["outcome"], "installed");
    assert!(
        load["status_lists"][0]["uri"]
            .as_str()
            .unwrap()
            .starts_with("https://")
    );
    let again = ok(calls::verifier_load_bundle(handle, &w.bundle, NOW));
    assert_eq!(again["trust_list"], "unchanged");
}

#[test]
fn a_static_credential_is_valid_but_unbound() {
    let w = world();
    let v = verify(w.verifier(), &w.credential_text, NOW);
    assert_eq!(v["verdict"], "valid");
    assert_eq!(v["assurance"], "unbound");
    assert_eq!(v["warnings"], json!([]));
    let permit = &v["permit"];
    assert_eq!(permit["name"], "张小明");
    assert_eq!(permit["district"], "330782");
    assert!(permit["masked_id_number"].as_str().unwrap().contains('*'));
    assert!(permit["expires_at"].as_i64().unwrap() > NOW as i64);
    assert_eq!(v["report"]["target"], "330782");
}

#[test]
fn a_presentation_made_in_two_phases_is_valid_and_holder_bound() {
    let w = world();
    let text = w.present(NOW, b"");
    assert!(text.starts_with("EPP1:"));
    let v = verify(w.verifier(), &text, NOW + 5.0);
    assert_eq!(v["verdict"], "valid");
    assert_eq!(v["assurance"], "holder_bound");
    assert_eq!(
        v["permit"]["holder_key"],
        hex::encode(w.holder.verifying_key().as_bytes())
    );
}

#[test]
fn a_presentation_answers_the_challenge_it_was_made_for() {
    let w = world();
    let handle = w.verifier();
    let text = w.present(NOW, b"desk-42");
    let options = |c: &[u8]| {
        serde_json::to_vec(&json!({ "expected_challenge_hex": hex::encode(c) })).unwrap()
    };
    let right = ok(calls::verifier_verify(
        handle,
        text.as_bytes(),
        NOW,
        &options(b"desk-42"),
    ));
    assert_eq!(right["verdict"], "valid");
    let wrong = ok(calls::verifier_verify(
        handle,
        text.as_bytes(),
        NOW,
        &options(b"desk-43"),
    ));
    assert_eq!(wrong["verdict"], "presentation_stale");
}

#[test]
fn an_old_presentation_is_stale_unless_the_desk_allows_its_age() {
    let w = world();
    let handle = w.verifier();
    let text = w.present(NOW - 300.0, b"");
    assert_eq!(verify(handle, &text, NOW)["verdict"], "presentation_stale");
    let options = br#"{"max_presentation_age_seconds": 600}"#;
    let v = ok(calls::verifier_verify(
        handle,
        text.as_bytes(),
        NOW,
        options,
    ));
    assert_eq!(v["verdict"], "valid");
}

#[test]
fn a_presentation_with_a_tampered_signature_is_a_bad_holder_signature() {
    let w = world();
    let text = w.present(NOW, b"");
    let (kind, mut cose) = qr_text::decode(&text).unwrap();
    let last = cose.len() - 1;
    cose[last] ^= 1;
    let tampered = qr_text::encode(kind, &cose);
    let v = verify(w.verifier(), &tampered, NOW);
    assert_eq!(v["verdict"], "bad_holder_signature");
    assert_eq!(v["assurance"], json!(null));
}

#[test]
fn a_credential_with_a_tampered_issuer_signature_is_a_bad_signature() {
    let w = world();
    let (kind, mut cose) = qr_text::decode(&w.credential_text).unwrap();
    assert_eq!(kind, QrKind::Permit);
    let last = cose.len() - 1;
    cose[last] ^= 1;
    let v = verify(w.verifier(), &qr_text::encode(kind, &cose), NOW);
    assert_eq!(v["verdict"], "bad_signature");
    assert_eq!(v["report"], json!(null));
}

#[test]
fn text_that_is_no_credential_is_malformed_not_an_error() {
    let w = world();
    let handle = w.verifier();
    for text in ["", "hello", "EP1:", "EPP1:????", &w.credential_text[..40]] {
        assert_eq!(verify(handle, text, NOW)["verdict"], "malformed", "{text}");
    }
    let v = ok(calls::verifier_verify(handle, &[0xff, 0xfe], NOW, b""));
    assert_eq!(v["verdict"], "malformed");
}

#[test]
fn a_verifier_without_lists_knows_no_issuer() {
    let w = world();
    let keys = serde_json::to_vec(&[&w.root_key_hex]).unwrap();
    let handle = ok(calls::verifier_new(&keys)).as_u64().unwrap() as u32;
    assert_eq!(
        verify(handle, &w.credential_text, NOW)["verdict"],
        "unknown_issuer"
    );
}

#[test]
fn finishing_with_a_signature_by_another_key_is_refused() {
    let w = world();
    let text = w.credential_text.as_bytes();
    let message = bytes(calls::presentation_message(text, NOW, b""));
    let other = SigningKey::from_bytes(&[8; 32]).sign(&message).to_bytes();
    assert_eq!(
        code(calls::presentation_finish(text, NOW, &other, b"")),
        "signer_failed"
    );
    // Signed for another instant: the draft rebuilt at `now` has other bytes.
    let signature = w.holder.sign(&message).to_bytes();
    assert_eq!(
        code(calls::presentation_finish(text, NOW + 1.0, &signature, b"")),
        "signer_failed"
    );
    assert_eq!(
        code(calls::presentation_finish(text, NOW, &[1; 10], b"")),
        "signer_failed"
    );
}

#[test]
fn only_a_bound_credential_can_be_presented() {
    let w = world();
    assert_eq!(
        code(calls::presentation_message(b"EP1:nonsense", NOW, b"")),
        "credential_malformed"
    );
    let presentation = w.present(NOW, b"");
    assert_eq!(
        code(calls::presentation_message(
            presentation.as_bytes(),
            NOW,
            b""
        )),
        "credential_malformed"
    );
    let text = w.credential_text.as_bytes();
    assert_eq!(
        code(calls::presentation_message(text, NOW, &[0; 65])),
        "invalid_challenge"
    );
    assert_eq!(
        code(calls::presentation_message(text, f64::NAN, b"")),
        "invalid_input"
    );
}

#[test]
fn the_binding_message_is_the_one_the_api_checks() {
    let challenge = [5u8; 32];
    let message = bytes(calls::binding_message(
        b"330782-2026-000123",
        hex::encode(challenge).as_bytes(),
    ));
    assert_eq!(
        message,
        crypto::key_binding::binding_message("330782-2026-000123", &challenge)
    );
    assert_eq!(
        code(calls::binding_message(b"330782-2026-000123", b"abcd")),
        "invalid_input"
    );
}

#[test]
fn the_state_shows_each_list_with_its_age_and_survives_export() {
    let w = world();
    let handle = w.verifier();
    let state = ok(calls::verifier_state(handle, NOW));
    assert_eq!(state["trust_list_sequence"], 1);
    assert_eq!(state["root_keys_hex"], json!([w.root_key_hex]));
    let lists = state["lists"].as_array().unwrap();
    assert_eq!(lists[0]["kind"], "trust_list");
    assert_eq!(lists[0]["age_seconds"], 86_400);
    assert_eq!(lists[1]["kind"], "status_list");
    assert_eq!(lists[1]["ttl_seconds"], 3600);
    // The demo status list was issued an hour before NOW: its ttl is used up at NOW.
    assert_eq!(lists[1]["age_seconds"], 3600);
    assert_eq!(lists[1]["stale"], true);
    assert_eq!(lists[1]["expired"], false);
    let earlier = ok(calls::verifier_state(handle, NOW - 1800.0));
    assert_eq!(earlier["lists"][1]["stale"], false);

    let exported = ok(calls::verifier_export_state(handle));
    let restored = ok(calls::verifier_from_state(
        exported.as_str().unwrap().as_bytes(),
    ))
    .as_u64()
    .unwrap() as u32;
    assert_ne!(restored, handle);
    assert_eq!(
        verify(restored, &w.credential_text, NOW)["verdict"],
        "valid"
    );
    assert_eq!(code(calls::verifier_from_state(b"00ff")), "state_malformed");
    assert_eq!(
        code(calls::verifier_from_state(b"not hex")),
        "state_malformed"
    );
}

#[test]
fn single_lists_load_as_the_sdk_loads_them() {
    let w = world();
    let keys = serde_json::to_vec(&[&w.root_key_hex]).unwrap();
    let handle = ok(calls::verifier_new(&keys)).as_u64().unwrap() as u32;
    assert_eq!(
        ok(calls::verifier_load_trust_list(handle, &w.trust_list, NOW)),
        "installed"
    );
    assert_eq!(
        ok(calls::verifier_load_status_list(
            handle,
            &w.status_list,
            NOW
        )),
        "installed"
    );
    assert_eq!(
        ok(calls::verifier_load_trust_list(handle, &w.trust_list, NOW)),
        "unchanged"
    );
    assert_eq!(
        code(calls::verifier_load_trust_list(
            handle,
            &w.trust_list,
            NOW + 86_400.0 * 40.0
        )),
        "list_expired"
    );
    assert_eq!(
        code(calls::verifier_load_bundle(handle, b"junk", NOW)),
        "list_malformed"
    );
}

#[test]
fn refusals_carry_stable_codes() {
    assert_eq!(
        code(calls::verifier_new(br#"["abcd"]"#)),
        "invalid_root_key"
    );
    assert_eq!(code(calls::verifier_new(b"[]")), "invalid_root_key");
    assert_eq!(code(calls::verifier_new(b"not json")), "invalid_input");
    assert_eq!(
        code(calls::verifier_state(u32::MAX, NOW)),
        "unknown_verifier"
    );
    let w = world();
    let handle = w.verifier();
    assert_eq!(ok(calls::verifier_free(handle)), true);
    assert_eq!(
        code(calls::verifier_verify(handle, b"EP1:", NOW, b"")),
        "unknown_verifier"
    );
    assert_eq!(ok(calls::verifier_free(handle)), false);
}

#[test]
fn replies_are_the_ok_or_error_json_of_the_abi() {
    let (body, raw) = calls::encode(Ok(Reply::Json(json!("valid"))));
    assert!(!raw);
    assert_eq!(body, br#"{"ok":"valid"}"#);
    let (body, raw) = calls::encode(calls::verifier_new(b"[]"));
    assert!(!raw);
    let problem: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(problem["error"]["code"], "invalid_root_key");
    assert!(
        problem["error"]["message"]
            .as_str()
            .unwrap()
            .contains("root public key")
    );
    let (body, raw) = calls::encode(Ok(Reply::Bytes(vec![1, 2])));
    assert!(raw);
    assert_eq!(body, [1, 2]);
}
