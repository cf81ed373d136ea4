//! QR images of credential texts (SPEC §2): alphanumeric mode, error correction M, the standard
//! 4-module quiet zone, as PNG, SVG or terminal art.

use qrcode::render::{svg, unicode};
use qrcode::{EcLevel, QrCode};

/// Why a text could not become a QR code.
#[derive(Debug, thiserror::Error)]
pub enum QrImageError {
    /// The text is longer than a version-40 QR code holds at error correction M.
    #[error("the text does not fit a QR code at error correction M")]
    TooLong,
    /// PNG encoding failed.
    #[error("PNG encoding failed: {0}")]
    Png(#[from] image::ImageError),
}

/// A QR code of `text` at error correction M.
pub struct QrImage {
    code: QrCode,
}

impl QrImage {
    /// Encodes `text` (an `EP1:`/`EPP1:` text is all in the alphanumeric set, so the encoder
    /// picks alphanumeric mode) at error correction M.
    pub fn new(text: &str) -> Result<Self, QrImageError> {
        let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
            .map_err(|_| QrImageError::TooLong)?;
        Ok(QrImage { code })
    }

    /// The QR version (1–40).
    pub fn version(&self) -> i16 {
        match self.code.version() {
            qrcode::Version::Normal(v) | qrcode::Version::Micro(v) => v,
        }
    }

    /// A PNG with `module_px` pixels per module and a 4-module quiet zone.
    pub fn png(&self, module_px: u32) -> Result<Vec<u8>, QrImageError> {
        let img = self
            .code
            .render::<image::Luma<u8>>()
            .quiet_zone(true)
            .module_dimensions(module_px, module_px)
            .build();
        let mut out = std::io::Cursor::new(Vec::new());
        image::DynamicImage::ImageLuma8(img).write_to(&mut out, image::ImageFormat::Png)?;
        Ok(out.into_inner())
    }

    /// An SVG document with a 4-module quiet zone, at least `min_px` wide.
    pub fn svg(&self, min_px: u32) -> String {
        self.code
            .render::<svg::Color<'_>>()
            .quiet_zone(true)
            .min_dimensions(min_px, min_px)
            .build()
    }

    /// Terminal art (two modules per character cell), light modules drawn as blocks so the code
    /// scans from a dark terminal.
    pub fn terminal(&self) -> String {
        self.code
            .render::<unicode::Dense1x2>()
            .quiet_zone(true)
            .dark_color(unicode::Dense1x2::Light)
            .light_color(unicode::Dense1x2::Dark)
            .build()
    }
}
