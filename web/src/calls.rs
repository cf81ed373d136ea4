//! Every engine call as the ABI makes it: byte and number arguments in, a [`Reply`] out. The
//! native tests call these same functions, so they cover everything but the pointer passing of
//! `abi.rs`. Verifiers live in a handle table (numbers the page holds), because a Rust object
//! cannot cross a C ABI.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use epermit_sdk::{Verifier, VerifyOptions};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Result, WebError};
use crate::time::from_unix_seconds;
use crate::{holder, json, qr};

/// What a call answers: JSON (the ABI wraps it as `{"ok": …}`) or raw bytes (a message to sign).
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// The `ok` value.
    Json(Value),
    /// Bytes, handed over as they are.
    Bytes(Vec<u8>),
}

/// The result buffer's body: `{"ok": …}`, `{"error": {"code": …, "message": …}}` or raw bytes;
/// `true` when the body is raw bytes.
pub fn encode(result: Result<Reply>) -> (Vec<u8>, bool) {
    #[derive(Serialize)]
    struct Problem<'a> {
        code: &'a str,
        message: &'a str,
    }
    let json = match result {
        Ok(Reply::Bytes(bytes)) => return (bytes, true),
        Ok(Reply::Json(ok)) => serde_json::json!({ "ok": ok }),
        Err(e) => serde_json::json!({ "error": Problem { code: e.code, message: &e.message } }),
    };
    (json.to_string().into_bytes(), false)
}

/// The verifiers the page holds, by handle.
static VERIFIERS: Mutex<Table> = Mutex::new(Table {
    next: 1,
    held: BTreeMap::new(),
});

struct Table {
    next: u32,
    held: BTreeMap<u32, Arc<Verifier>>,
}

fn table() -> std::sync::MutexGuard<'static, Table> {
    VERIFIERS.lock().unwrap_or_else(PoisonError::into_inner)
}

fn hold(verifier: Verifier) -> Result<Reply> {
    let mut t = table();
    let handle = t.next;
    t.next = t
        .next
        .checked_add(1)
        .ok_or_else(|| WebError::new("internal", "out of verifier handles"))?;
    t.held.insert(handle, Arc::new(verifier));
    Ok(Reply::Json(handle.into()))
}

fn verifier(handle: u32) -> Result<Arc<Verifier>> {
    table()
        .held
        .get(&handle)
        .cloned()
        .ok_or_else(|| WebError::new("unknown_verifier", "no verifier with this handle (freed?)"))
}

fn text(bytes: &[u8]) -> Result<&str> {
    std::str::from_utf8(bytes).map_err(|_| WebError::invalid_input("the text is not UTF-8"))
}

fn to_json(value: impl Serialize) -> Result<Reply> {
    serde_json::to_value(value)
        .map(Reply::Json)
        .map_err(|e| WebError::new("internal", e.to_string()))
}

/// An empty challenge argument means none (a challenge is 1–64 bytes).
fn challenge(bytes: &[u8]) -> Option<&[u8]> {
    (!bytes.is_empty()).then_some(bytes)
}

/// `newVerifier`: `root_keys_json` is a JSON array of root public keys (64 hex digits each).
/// Answers the new verifier's handle.
pub fn verifier_new(root_keys_json: &[u8]) -> Result<Reply> {
    let keys: Vec<String> = serde_json::from_slice(root_keys_json)
        .map_err(|_| WebError::invalid_input("the root keys are a JSON array of hex strings"))?;
    hold(Verifier::new(keys)?)
}

/// `verifierFromState`: a verifier restored from [`verifier_export_state`]'s text (hex of the
/// SDK's `export_state` bytes). Answers its handle.
pub fn verifier_from_state(state: &[u8]) -> Result<Reply> {
    let bytes = hex::decode(text(state)?.trim())
        .map_err(|_| WebError::from(epermit_sdk::SdkError::StateMalformed))?;
    hold(Verifier::import_state(bytes)?)
}

/// Forgets a verifier. Answers `true` if the handle was held.
pub fn verifier_free(handle: u32) -> Result<Reply> {
    Ok(Reply::Json(table().held.remove(&handle).is_some().into()))
}

/// `Verifier.loadBundle`: answers `{issued_at, trust_list, status_lists: [{uri, outcome}]}`.
pub fn verifier_load_bundle(handle: u32, bundle: &[u8], now: f64) -> Result<Reply> {
    let load = verifier(handle)?.load_bundle(bundle.to_vec(), from_unix_seconds(now)?)?;
    to_json(json::BundleLoad::from(load))
}

/// `Verifier.loadTrustList`: answers `"installed"`, `"updated"` or `"unchanged"`.
pub fn verifier_load_trust_list(handle: u32, list: &[u8], now: f64) -> Result<Reply> {
    let change = verifier(handle)?.load_trust_list(list.to_vec(), from_unix_seconds(now)?)?;
    to_json(json::Change::from(change))
}

/// `Verifier.loadStatusList`: answers `"installed"`, `"updated"` or `"unchanged"`.
pub fn verifier_load_status_list(handle: u32, list: &[u8], now: f64) -> Result<Reply> {
    let change = verifier(handle)?.load_status_list(list.to_vec(), from_unix_seconds(now)?)?;
    to_json(json::Change::from(change))
}

/// The options of `Verifier.verify`, as JSON (every field optional).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Options {
    /// SPEC default 120.
    max_presentation_age_seconds: Option<u32>,
    /// A challenge the presentation must answer, hex.
    expected_challenge_hex: Option<String>,
}

/// `Verifier.verify`: `options_json` is empty (the SDK's defaults) or
/// `{"max_presentation_age_seconds": n, "expected_challenge_hex": "…"}`. Answers
/// `{verdict, assurance, warnings, permit, report}` ([`json::Verification`]); a bad text is a
/// verdict, never an error.
pub fn verifier_verify(
    handle: u32,
    qr_text: &[u8],
    now: f64,
    options_json: &[u8],
) -> Result<Reply> {
    let verifier = verifier(handle)?;
    let now = from_unix_seconds(now)?;
    // Bytes that are not UTF-8 cannot be an EP1:/EPP1: text: the SDK says `malformed`.
    let text = String::from_utf8_lossy(qr_text).into_owned();
    let verification = if options_json.is_empty() {
        verifier.verify(text, now)
    } else {
        let options: Options = serde_json::from_slice(options_json).map_err(|_| {
            WebError::invalid_input(
                "options are {\"max_presentation_age_seconds\": n, \"expected_challenge_hex\": \"…\"}",
            )
        })?;
        let expected_challenge = options
            .expected_challenge_hex
            .map(|h| hex::decode(h.trim()))
            .transpose()
            .map_err(|_| WebError::invalid_input("expected_challenge_hex is hex"))?;
        let defaults = crypto::VerifyOptions::default();
        let max_age = options
            .max_presentation_age_seconds
            .unwrap_or(u32::try_from(defaults.max_presentation_age.num_seconds()).unwrap_or(120));
        verifier.verify_with_options(
            text,
            now,
            VerifyOptions {
                max_presentation_age_seconds: max_age,
                expected_challenge,
            },
        )
    };
    to_json(json::Verification::from(verification))
}

/// `Verifier.state`: answers `{root_key_ids, root_keys_hex, trust_list_sequence, lists}`.
pub fn verifier_state(handle: u32, now: f64) -> Result<Reply> {
    let state = verifier(handle)?.state(from_unix_seconds(now)?);
    to_json(json::VerifierState::from(state))
}

/// `Verifier.exportState`: answers the state as a hex string (for `localStorage`).
pub fn verifier_export_state(handle: u32) -> Result<Reply> {
    Ok(Reply::Json(
        hex::encode(verifier(handle)?.export_state()).into(),
    ))
}

/// `decodeQr`: answers the text of the first QR code in the RGBA frame, or `null`.
pub fn decode_qr(rgba: &[u8], width: u32, height: u32) -> Result<Reply> {
    to_json(qr::decode_qr(rgba, width, height)?)
}

/// `qrSvg`: answers the SVG markup of `text` as a QR code.
pub fn qr_svg(qr_text: &[u8]) -> Result<Reply> {
    to_json(qr::qr_svg(text(qr_text)?)?)
}

/// `presentationMessage`: the bytes the holder key signs (raw).
pub fn presentation_message(
    credential_text: &[u8],
    now: f64,
    challenge_bytes: &[u8],
) -> Result<Reply> {
    holder::presentation_message(
        text(credential_text)?,
        from_unix_seconds(now)?,
        challenge(challenge_bytes),
    )
    .map(Reply::Bytes)
}

/// `presentationFinish`: answers the `EPP1:` text.
pub fn presentation_finish(
    credential_text: &[u8],
    now: f64,
    signature: &[u8],
    challenge_bytes: &[u8],
) -> Result<Reply> {
    to_json(holder::presentation_finish(
        text(credential_text)?,
        from_unix_seconds(now)?,
        signature,
        challenge(challenge_bytes),
    )?)
}

/// `bindingMessage`: the bytes the device key signs to bind itself (raw).
pub fn binding_message(permit_number: &[u8], challenge_hex: &[u8]) -> Result<Reply> {
    holder::binding_message(text(permit_number)?, text(challenge_hex)?).map(Reply::Bytes)
}
