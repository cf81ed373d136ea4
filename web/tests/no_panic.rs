//! Properties: no input makes the engine panic (a panic aborts the wasm module, and the page
//! would lose its verifier).

mod support;

use std::sync::OnceLock;

use epermit_web::calls;
use proptest::prelude::*;
use support::{NOW, World, ok, world};

fn shared() -> &'static (World, u32) {
    static WORLD: OnceLock<(World, u32)> = OnceLock::new();
    WORLD.get_or_init(|| {
        let w = world();
        let handle = w.verifier();
        (w, handle)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn decoding_any_frame_never_panics(
        pixels in proptest::collection::vec(any::<u8>(), 0..4096),
        width in 0u32..64,
        height in 0u32..64,
    ) {
        let _ = calls::decode_qr(&pixels, width, height);
        let w = width.max(1);
        let h = (pixels.len() as u32 / 4 / w).max(1);
        let mut exact = pixels.clone();
        exact.resize((w * h * 4) as usize, 0);
        prop_assert!(calls::decode_qr(&exact, w, h).is_ok());
    }

    #[test]
    fn verifying_any_text_gives_a_verdict(text in ".{0,300}", now in any::<f64>()) {
        let (_, handle) = shared();
        if let Ok(reply) = calls::verifier_verify(*handle, text.as_bytes(), now, b"") {
            prop_assert!(ok(Ok(reply))["verdict"].is_string());
        }
    }

    #[test]
    fn verifying_a_mangled_presentation_gives_a_verdict(
        flips in proptest::collection::vec((any::<usize>(), any::<char>()), 1..4),
    ) {
        let (w, handle) = shared();
        let mut chars: Vec<char> = w.present(NOW, b"").chars().collect();
        for (at, c) in flips {
            let i = at % chars.len();
            chars[i] = c;
        }
        let text: String = chars.into_iter().collect();
        let v = ok(calls::verifier_verify(*handle, text.as_bytes(), NOW, b""));
        prop_assert!(v["verdict"].is_string());
    }

    #[test]
    fn loading_any_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let (_, handle) = shared();
        let _ = calls::verifier_load_bundle(*handle, &bytes, NOW);
        let _ = calls::verifier_from_state(&bytes);
        let _ = calls::presentation_message(&bytes, NOW, &bytes);
        let _ = calls::qr_svg(&bytes);
    }
}
