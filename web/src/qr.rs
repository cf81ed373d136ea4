//! QR codes in the page: decoding camera frames (RGBA pixels, as a canvas gives them) with the
//! pure-Rust `rqrr` decoder, and rendering a text as SVG the way the API renders its
//! `/v1/permits/me/qr.svg` (api/src/qr_image.rs): byte length of an `EP1:`/`EPP1:` text in
//! alphanumeric mode (the encoder's choice for that character set), error correction M, the
//! standard 4-module quiet zone, at least 320 px wide.

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

use crate::error::{Result, WebError};

/// The largest frame side accepted, in pixels (a 4K camera frame is 3840 wide).
pub const MAX_FRAME_SIDE: u32 = 4096;

/// The smallest width of [`qr_svg`]'s drawing, in px (as the API's SVG).
const SVG_MIN_PX: u32 = 320;

/// The text of the first QR code found in an RGBA frame `width` × `height` (4 bytes a pixel, row
/// by row), `None` when no code decodes. Colour becomes luma (ITU-R BT.601 weights) here, so the
/// page hands the canvas's `ImageData` over untouched.
pub fn decode_qr(rgba: &[u8], width: u32, height: u32) -> Result<Option<String>> {
    if width == 0 || height == 0 || width > MAX_FRAME_SIDE || height > MAX_FRAME_SIDE {
        return Err(WebError::invalid_input(format!(
            "a frame is 1 to {MAX_FRAME_SIDE} pixels a side"
        )));
    }
    let (w, h) = (width as usize, height as usize);
    if rgba.len() != w * h * 4 {
        return Err(WebError::invalid_input(
            "the frame must hold width × height × 4 bytes (RGBA)",
        ));
    }
    let luma: Vec<u8> = rgba
        .chunks_exact(4)
        .map(|p| {
            let y = 77 * u32::from(p[0]) + 150 * u32::from(p[1]) + 29 * u32::from(p[2]);
            (y >> 8) as u8
        })
        .collect();
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| luma[y * w + x]);
    Ok(image
        .detect_grids()
        .into_iter()
        .find_map(|grid| grid.decode().ok().map(|(_, text)| text)))
}

/// An SVG document of `text` as a QR code at error correction M (see the module header).
pub fn qr_svg(text: &str) -> Result<String> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).map_err(|_| {
        WebError::new(
            "qr_too_long",
            "the text does not fit a QR code at error correction M",
        )
    })?;
    Ok(code
        .render::<svg::Color<'_>>()
        .quiet_zone(true)
        .min_dimensions(SVG_MIN_PX, SVG_MIN_PX)
        .build())
}
