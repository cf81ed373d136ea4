//! `epermit demo --out DIR`: a complete demo bundle made with fresh keys, for trying the verifier
//! (CLI, SDK, a phone) without a running service.

use std::path::Path;

use chrono::{Duration, Utc};
use crypto::qr_text::{self, QrKind};
use crypto::signer::{KeyFileSigner, Signer};
use crypto::status_list::{Status, StatusList};
use crypto::trust_list::{TrustList, TrustedKey};
use policy::District;

use crate::commands::{Outcome, exit};
use crate::files::write_atomic;
use crate::qr_image::QrImage;

/// The district that issues the demo permit.
const DEMO_ISSUER: District = District::Wucheng;
/// Pixels per QR module in the PNG files.
const MODULE_PX: u32 = 8;

/// Writes the bundle and prints the presentation QR; exit 4 if a file cannot be written.
pub fn run(out: &Path) -> Outcome {
    match write_bundle(out) {
        Ok(()) => Outcome {
            json: None,
            code: exit::OK,
        },
        Err(message) => {
            eprintln!("epermit: {message}");
            Outcome {
                json: Some(serde_json::json!({ "error": "demo_failed" })),
                code: exit::IO,
            }
        }
    }
}

fn write_bundle(out: &Path) -> Result<(), String> {
    let now = Utc::now();
    let root = KeyFileSigner::generate();
    let district_keys: Vec<(District, KeyFileSigner)> = District::ALL
        .into_iter()
        .map(|d| (d, KeyFileSigner::generate()))
        .collect();
    let trust = TrustList {
        sequence: 1,
        issued_at: now,
        expires_at: now + Duration::days(7),
        keys: district_keys
            .iter()
            .map(|(district, key)| {
                TrustedKey::new(*district, key.public_key(), now - Duration::days(1))
            })
            .collect(),
        successor: None,
    };
    let trust_bytes = trust
        .sign(&root)
        .map_err(|e| format!("signing the trust list: {e}"))?;

    let holder = KeyFileSigner::generate();
    let claims = crypto::sample::reference_claims(DEMO_ISSUER, Some(holder.public_key()), now)
        .map_err(|e| format!("building the reference permit: {e}"))?;
    let mut status = StatusList::new(&claims.status.uri, now, now + Duration::days(1), 3600);
    status
        .set(claims.status.index, Status::Valid)
        .map_err(|e| format!("filling the status list: {e}"))?;
    let status_bytes = status
        .sign(&root)
        .map_err(|e| format!("signing the status list: {e}"))?;

    let issuer_key = district_keys
        .iter()
        .find(|(d, _)| *d == DEMO_ISSUER)
        .map(|(_, k)| k)
        .ok_or("no key for the demo issuer")?;
    let permit = crypto::permit::issue(&claims, issuer_key)
        .map_err(|e| format!("issuing the permit: {e}"))?;
    let presentation = crypto::presentation::present(&permit, &holder, now, None)
        .map_err(|e| format!("making the presentation: {e}"))?;
    let permit_text = qr_text::encode(QrKind::Permit, &permit);
    let presentation_text = qr_text::encode(QrKind::Presentation, &presentation);
    let permit_qr = QrImage::new(&permit_text).map_err(|e| e.to_string())?;
    let presentation_qr = QrImage::new(&presentation_text).map_err(|e| e.to_string())?;

    let holder_pem = holder
        .to_key_file()
        .map_err(|e| format!("encoding the holder key: {e}"))?;
    let files: [(&str, Vec<u8>, bool); 8] = [
        (
            "root.pub",
            format!("{}\n", crypto::keys::public_key_hex(&root.public_key())).into_bytes(),
            false,
        ),
        ("trust-list.cose", trust_bytes, false),
        ("status-list.cwt", status_bytes, false),
        ("permit.txt", format!("{permit_text}\n").into_bytes(), false),
        (
            "presentation.txt",
            format!("{presentation_text}\n").into_bytes(),
            false,
        ),
        (
            "permit.png",
            permit_qr.png(MODULE_PX).map_err(|e| e.to_string())?,
            false,
        ),
        (
            "presentation.png",
            presentation_qr.png(MODULE_PX).map_err(|e| e.to_string())?,
            false,
        ),
        ("holder.key", holder_pem.as_bytes().to_vec(), true),
    ];
    for (name, bytes, secret) in &files {
        let path = out.join(name);
        write_atomic(&path, bytes, *secret)
            .map_err(|e| format!("writing {}: {e}", path.display()))?;
    }

    println!("{}", presentation_qr.terminal());
    println!(
        "Demo bundle in {} (made {}):",
        out.display(),
        now.to_rfc3339()
    );
    println!(
        "  permit.txt        EP1:  {} characters, QR version {} at M",
        permit_text.len(),
        permit_qr.version()
    );
    println!(
        "  presentation.txt  EPP1: {} characters, QR version {} at M (valid for 120 s)",
        presentation_text.len(),
        presentation_qr.version()
    );
    println!(
        "  root.pub, trust-list.cose (9 districts), status-list.cwt, permit.png, presentation.png, holder.key (0600)"
    );
    println!(
        "Verify: epermit verify --root {0}/root.pub --trust-list {0}/trust-list.cose --status-list {0}/status-list.cwt @{0}/presentation.txt",
        out.display()
    );
    Ok(())
}
