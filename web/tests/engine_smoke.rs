//! Runs `engine_smoke.mjs` in Node: the committed `api/web/common/epermit_web.wasm` through
//! `api/web/common/engine.js`, so `cargo test` covers the ABI and the loader, not only the calls.
//! The fixture is made here, from the same demo world as the native tests.

mod support;

use std::path::Path;
use std::process::Command;

use image::{Luma, Rgba, RgbaImage};
use qrcode::{EcLevel, QrCode};
use support::{NOW, world};

#[test]
fn the_committed_module_verifies_through_engine_js_in_node() {
    let w = world();
    let dir = tempfile::tempdir().unwrap();
    let put = |name: &str, bytes: &[u8]| std::fs::write(dir.path().join(name), bytes).unwrap();
    put("root.hex", w.root_key_hex.as_bytes());
    put("bundle.cose", &w.bundle);
    put("credential.txt", w.credential_text.as_bytes());
    // PKCS#8 v1 (RFC 8410): the form WebCrypto imports.
    let mut pkcs8 = hex::decode("302e020100300506032b657004220420").unwrap();
    pkcs8.extend_from_slice(w.holder.as_bytes());
    put("holder.pkcs8", &pkcs8);
    put("now.txt", format!("{NOW}").as_bytes());

    let text = w.present(NOW, b"");
    let qr = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .unwrap()
        .render::<Luma<u8>>()
        .module_dimensions(3, 3)
        .build();
    let mut frame = RgbaImage::from_pixel(qr.width() + 40, qr.height() + 30, Rgba([230; 4]));
    for (x, y, p) in qr.enumerate_pixels() {
        frame.put_pixel(x + 20, y + 15, Rgba([p.0[0], p.0[0], p.0[0], 255]));
    }
    put("qr.rgba", frame.as_raw());
    let meta =
        serde_json::json!({ "width": frame.width(), "height": frame.height(), "text": text });
    put("qr.json", meta.to_string().as_bytes());

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/engine_smoke.mjs");
    let output = match Command::new("node").arg(&script).arg(dir.path()).output() {
        Ok(output) => output,
        Err(e) => panic!("node (v20 or later) is needed for the engine smoke test: {e}"),
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "engine_smoke.mjs failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
}
