//! Demo data for tests and app prototypes, never for production: a complete deterministic world
//! from `crypto::sample` (root key, trust list, status list, the reference permit) with the
//! permit bound to a holder key the caller chooses. A verifier pinned to the real Jinhua root
//! key refuses all of it (the demo root key is derived from a public fixed seed).
//!
//! This export is why the SDK builds `crypto` with its `sample` feature in normal builds; it is
//! demo data only, and nothing else in the SDK uses `crypto::sample`.

use std::time::SystemTime;

use crypto::keys::{public_key_from_bytes, public_key_hex};
use crypto::qr_text::{self, QrKind};
use crypto::sample::Demo;
use crypto::{Signer, permit};

use crate::error::{Result, SdkError};
use crate::time::instant;

/// The demo world of [`demo_bundle_for_holder`].
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DemoBundle {
    /// The demo root public key, 64 hex digits (pin it with `Verifier(listOf(…))`).
    pub root_key_hex: String,
    /// A trust list signed by the demo root: sequence 1, issued a day before `now`, valid 30
    /// days, naming the demo 义乌市 issuing key.
    pub trust_list: Vec<u8>,
    /// A status list signed by the demo root, issued an hour before `now`, valid a day, holding
    /// the demo permit as valid.
    pub status_list: Vec<u8>,
    /// The demo permit (`EP1:`), issued an hour before `now` by 义乌市 and bound to the holder key.
    pub credential_text: String,
    /// The issuing district of the demo permit (`330782`).
    pub issuer: String,
}

/// DEMO DATA ONLY. The demo world around `now` with the reference permit (SPEC §2 size budget:
/// 张小明, three residence periods) bound to `holder_public_key` (32 raw bytes), so a test or a
/// prototype can present with a key held in its own language or key store. No I/O; costs three
/// Ed25519 signatures (well under a millisecond).
///
/// Throws `SignerFailed` when `holder_public_key` is not an Ed25519 public key.
#[uniffi::export]
pub fn demo_bundle_for_holder(holder_public_key: Vec<u8>, now: SystemTime) -> Result<DemoBundle> {
    let holder = public_key_from_bytes(&holder_public_key).map_err(|_| SdkError::SignerFailed)?;
    // `Demo::new` fails only for instants near the ends of chrono's range.
    let fail = |_| SdkError::InvalidDate;
    let mut demo = Demo::new(instant(now)).map_err(fail)?;
    demo.claims.holder_key = Some(holder);
    let credential = permit::issue(&demo.claims, &demo.issuer).map_err(fail)?;
    Ok(DemoBundle {
        root_key_hex: public_key_hex(&demo.root.public_key()),
        trust_list: demo.trust_list.sign(&demo.root).map_err(fail)?,
        status_list: demo.status_list.sign(&demo.root).map_err(fail)?,
        credential_text: qr_text::encode(QrKind::Permit, &credential),
        issuer: demo.claims.issuer.to_string(),
    })
}
