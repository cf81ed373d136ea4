//! `verify` on any text and on any bytes wrapped as `EP1:`/`EPP1:`, against the demo world.
#![no_main]

use chrono::DateTime;
use crypto::qr_text::{self, QrKind};
use crypto::sample::Demo;
use crypto::{VerifyOptions, verify};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let now = DateTime::from_timestamp(1_780_000_000, 0).unwrap_or_default();
    let Ok(demo) = Demo::new(now) else { return };
    let options = VerifyOptions::default();
    let run = |text: &str| verify(text, &demo.trust_list, &demo.status_list, now, &options);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = run(text);
    }
    let _ = run(&qr_text::encode(QrKind::Permit, data));
    let _ = run(&qr_text::encode(QrKind::Presentation, data));
});
