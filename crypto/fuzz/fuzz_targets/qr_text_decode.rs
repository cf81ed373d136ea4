//! `qr_text::decode` on any text, and the permit and presentation parsers on what it yields.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok((_, cose)) = crypto::qr_text::decode(text) {
        let _ = crypto::permit::parse(&cose);
        let _ = crypto::presentation::Presentation::from_cose(&cose);
    }
});
