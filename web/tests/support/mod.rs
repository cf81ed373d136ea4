//! A demo world for the engine's tests: `crypto::sample`'s root, issuer, lists and reference
//! permit, bound to a holder key held by ed25519-dalek (standing in for WebCrypto), with the
//! lists signed again as one verifier bundle, as the API serves it.

#![allow(dead_code)]

use chrono::{DateTime, Utc};
use crypto::keys::public_key_hex;
use crypto::qr_text::{self, QrKind};
use crypto::sample::Demo;
use crypto::{Signer, VerifierBundle, permit};
use ed25519_dalek::{Signer as _, SigningKey};
use epermit_web::calls::{self, Reply};
use serde_json::Value;

/// 2026-05-28 20:26:40 UTC.
pub const NOW: f64 = 1_780_000_000.0;

pub struct World {
    pub root_key_hex: String,
    pub bundle: Vec<u8>,
    pub trust_list: Vec<u8>,
    pub status_list: Vec<u8>,
    pub credential_text: String,
    pub holder: SigningKey,
}

pub fn world() -> World {
    let now = DateTime::<Utc>::from_timestamp(NOW as i64, 0).unwrap();
    let mut demo = Demo::new(now).unwrap();
    let holder = SigningKey::from_bytes(&[7; 32]);
    demo.claims.holder_key = Some(holder.verifying_key());
    let credential = permit::issue(&demo.claims, &demo.issuer).unwrap();
    let trust_list = demo.trust_list.sign(&demo.root).unwrap();
    let status_list = demo.status_list.sign(&demo.root).unwrap();
    let bundle = VerifierBundle {
        issued_at: now,
        trust_list: trust_list.clone(),
        status_lists: vec![status_list.clone()],
    }
    .sign(&demo.root)
    .unwrap();
    World {
        root_key_hex: public_key_hex(&demo.root.public_key()),
        bundle,
        trust_list,
        status_list,
        credential_text: qr_text::encode(QrKind::Permit, &credential),
        holder,
    }
}

/// The `ok` JSON of a call, panicking with the error otherwise.
pub fn ok(reply: epermit_web::Result<Reply>) -> Value {
    match reply {
        Ok(Reply::Json(v)) => v,
        other => panic!("expected JSON, got {other:?}"),
    }
}

/// The raw bytes of a call.
pub fn bytes(reply: epermit_web::Result<Reply>) -> Vec<u8> {
    match reply {
        Ok(Reply::Bytes(b)) => b,
        other => panic!("expected bytes, got {other:?}"),
    }
}

/// The error code of a call that must fail.
pub fn code(reply: epermit_web::Result<Reply>) -> &'static str {
    match reply {
        Err(e) => e.code,
        Ok(other) => panic!("expected an error, got {other:?}"),
    }
}

impl World {
    /// A verifier pinned to the demo root with the bundle loaded.
    pub fn verifier(&self) -> u32 {
        let keys = serde_json::to_vec(&[&self.root_key_hex]).unwrap();
        let handle = ok(calls::verifier_new(&keys)).as_u64().unwrap() as u32;
        ok(calls::verifier_load_bundle(handle, &self.bundle, NOW));
        handle
    }

    /// An `EPP1:` made in two phases at `at`: the engine's message, signed by the holder key,
    /// then the engine's finish.
    pub fn present(&self, at: f64, challenge: &[u8]) -> String {
        let text = self.credential_text.as_bytes();
        let message = bytes(calls::presentation_message(text, at, challenge));
        let signature = self.holder.sign(&message).to_bytes();
        ok(calls::presentation_finish(text, at, &signature, challenge))
            .as_str()
            .unwrap()
            .to_owned()
    }
}

pub fn verify(handle: u32, text: &str, now: f64) -> Value {
    ok(calls::verifier_verify(handle, text.as_bytes(), now, b""))
}
