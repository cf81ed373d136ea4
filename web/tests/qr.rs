//! QR codes through the engine: what `qr_svg` draws decodes back, and a camera frame of a code
//! (RGBA, as a canvas gives it) reads as its text.

mod support;

use epermit_web::calls;
use image::{Luma, Rgba, RgbaImage};
use qrcode::{EcLevel, QrCode};
use support::{NOW, code, ok, world};

/// An RGBA frame of `text` as a QR code (error correction M, quiet zone, 4 px a module),
/// drawn dark-on-light on a grey background `margin` px wide.
fn frame(text: &str, margin: u32) -> RgbaImage {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).unwrap();
    let qr = code
        .render::<Luma<u8>>()
        .quiet_zone(true)
        .module_dimensions(4, 4)
        .build();
    let side = qr.width() + 2 * margin;
    let mut img = RgbaImage::from_pixel(side, side, Rgba([180, 170, 160, 255]));
    for (x, y, p) in qr.enumerate_pixels() {
        let v = p.0[0];
        img.put_pixel(x + margin, y + margin, Rgba([v, v, v, 255]));
    }
    img
}

fn decode(img: &RgbaImage) -> serde_json::Value {
    ok(calls::decode_qr(img.as_raw(), img.width(), img.height()))
}

#[test]
fn a_camera_frame_of_a_presentation_reads_as_its_text() {
    let w = world();
    let text = w.present(NOW, b"");
    assert_eq!(decode(&frame(&text, 37)), text.as_str());
}

#[test]
fn the_svg_is_a_qr_code_of_the_text_at_error_correction_m() {
    let w = world();
    let svg = ok(calls::qr_svg(w.credential_text.as_bytes()));
    let svg = svg.as_str().unwrap();
    assert!(svg.starts_with("<?xml"), "{}", &svg[..40]);
    assert!(svg.contains("<svg"));
    // The same modules as the raster the test decodes: one code per text and level.
    let code =
        QrCode::with_error_correction_level(w.credential_text.as_bytes(), EcLevel::M).unwrap();
    let modules = code.width() + 8;
    assert!(
        svg.contains(&format!("viewBox=\"0 0 {modules} {modules}\"")) || svg.contains("width=")
    );
    assert_eq!(
        decode(&frame(&w.credential_text, 0)),
        w.credential_text.as_str()
    );
}

#[test]
fn a_frame_without_a_code_reads_as_nothing() {
    let blank = RgbaImage::from_pixel(64, 48, Rgba([255, 255, 255, 255]));
    assert_eq!(decode(&blank), serde_json::Value::Null);
}

#[test]
fn a_frame_of_the_wrong_size_is_refused() {
    assert_eq!(code(calls::decode_qr(&[0; 15], 2, 2)), "invalid_input");
    assert_eq!(code(calls::decode_qr(&[], 0, 0)), "invalid_input");
    assert_eq!(code(calls::decode_qr(&[0; 4], 1, 1 << 20)), "invalid_input");
}

#[test]
fn a_text_too_long_for_a_qr_code_is_refused() {
    assert_eq!(
        code(calls::qr_svg("A".repeat(5000).as_bytes())),
        "qr_too_long"
    );
}
