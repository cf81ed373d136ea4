//! The QR text codec (SPEC §2): `PREFIX` + Base45 (RFC 9285) of the zlib stream (RFC 1950) of the
//! COSE bytes. Every character is in the QR alphanumeric set (ISO/IEC 18004 §7.4.4), so the QR
//! encodes the whole text in alphanumeric mode.

use crate::{Error, Result, zlib};

/// The largest text accepted: the alphanumeric capacity of a version-40 QR code at level L.
pub const MAX_TEXT_LEN: usize = 4296;

/// The largest COSE object a QR text may inflate to.
pub const MAX_COSE_LEN: usize = 8 * 1024;

/// What a QR text carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QrKind {
    /// A static permit credential, prefix `EP1:`.
    Permit,
    /// A holder's dynamic presentation, prefix `EPP1:`.
    Presentation,
}

impl QrKind {
    /// The text prefix.
    pub const fn prefix(self) -> &'static str {
        match self {
            QrKind::Permit => "EP1:",
            QrKind::Presentation => "EPP1:",
        }
    }
}

/// Encodes COSE bytes as QR text: prefix + Base45(zlib(bytes)), zlib at the best compression.
pub fn encode(kind: QrKind, cose: &[u8]) -> String {
    let mut text = String::from(kind.prefix());
    text.push_str(&base45::encode(zlib::compress(cose)));
    text
}

/// Decodes QR text strictly: an exact prefix, canonical Base45 (no character outside the alphabet,
/// no chunk above its range, no dangling character), one complete zlib stream with nothing after
/// it, inflating to at most [`MAX_COSE_LEN`] bytes.
pub fn decode(text: &str) -> Result<(QrKind, Vec<u8>)> {
    if text.len() > MAX_TEXT_LEN {
        return Err(Error::QrText("longer than any QR code holds"));
    }
    let (kind, body) = if let Some(body) = text.strip_prefix(QrKind::Permit.prefix()) {
        (QrKind::Permit, body)
    } else if let Some(body) = text.strip_prefix(QrKind::Presentation.prefix()) {
        (QrKind::Presentation, body)
    } else {
        return Err(Error::QrText("unknown prefix"));
    };
    let compressed = base45_decode(body)?;
    let cose = zlib::decompress(&compressed, MAX_COSE_LEN)?;
    Ok((kind, cose))
}

/// RFC 9285 decoding, stricter than the `base45` crate on a trailing pair: two characters encode
/// one byte, so their value must be at most 255 (RFC 9285 §4). Table-driven (a quarter of the
/// crate's instructions per character); the tests check it against the crate's decoder plus that
/// rule.
fn base45_decode(body: &str) -> Result<Vec<u8>> {
    let bad = || Error::QrText("not Base45");
    let value = |c: u8| match DECODE[usize::from(c)] {
        NOT_BASE45 => Err(bad()),
        v => Ok(u32::from(v)),
    };
    let (triples, rest) = body.as_bytes().as_chunks::<3>();
    let mut out = Vec::with_capacity(triples.len() * 2 + 1);
    for &[c, d, e] in triples {
        let n = value(c)? + value(d)? * 45 + value(e)? * 45 * 45;
        out.extend_from_slice(&u16::try_from(n).map_err(|_| bad())?.to_be_bytes());
    }
    match *rest {
        [] => {}
        [c, d] => out.push(u8::try_from(value(c)? + value(d)? * 45).map_err(|_| bad())?),
        _ => return Err(bad()),
    }
    Ok(out)
}

/// A byte's value in [`ALPHABET`], [`NOT_BASE45`] for a byte outside it.
const DECODE: [u8; 256] = {
    let mut table = [NOT_BASE45; 256];
    let mut i = 0;
    while i < ALPHABET.len() {
        table[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    table
};

const NOT_BASE45: u8 = u8::MAX;

const ALPHABET: &[u8; 45] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The decoding before the table: the `base45` crate, then the trailing pair's range.
    fn by_crate(body: &str) -> Option<Vec<u8>> {
        let bytes = base45::decode(body).ok()?;
        if body.len() % 3 == 2 {
            let tail = body.as_bytes().get(body.len() - 2..)?;
            let value = |c: u8| ALPHABET.iter().position(|&a| a == c);
            let (lo, hi) = (value(tail[0])?, value(tail[1])?);
            if lo + hi * 45 > 255 {
                return None;
            }
        }
        Some(bytes)
    }

    #[test]
    fn rfc9285_vectors_encode_and_decode() {
        for (raw, encoded) in [
            (&b"AB"[..], "BB8"),
            (b"Hello!!", "%69 VD92EX0"),
            (b"base-45", "UJCLQE7W581"),
            (b"ietf!", "QED8WEX0"),
        ] {
            assert_eq!(base45::encode(raw), encoded);
            assert_eq!(base45_decode(encoded).unwrap(), raw);
        }
    }

    #[test]
    fn base45_out_of_range_and_dangling_characters_are_refused() {
        // ":::" = 91124 > 65535; "::" = 2024 > 255; one dangling character; lowercase.
        for bad in [":::", "::", "BB8A", "bb8", "BB8\n"] {
            assert!(base45_decode(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn base45_values_at_the_edge_of_their_range_decode_as_the_crate_decodes_them() {
        // "FGW" = 65535 and "U5" = 255 are the largest a triple and a pair hold; "GGW", "V5" one more.
        for (s, ok) in [("FGW", true), ("GGW", false), ("U5", true), ("V5", false)] {
            assert_eq!(base45_decode(s).is_ok(), ok, "{s}");
            assert_eq!(base45_decode(s).ok(), by_crate(s), "{s}");
        }
    }

    #[test]
    fn a_text_round_trips_with_its_kind() {
        for kind in [QrKind::Permit, QrKind::Presentation] {
            let text = encode(kind, b"\xd2\x84cose");
            assert!(text.starts_with(kind.prefix()));
            assert_eq!(decode(&text).unwrap(), (kind, b"\xd2\x84cose".to_vec()));
        }
    }

    #[test]
    fn malformed_texts_are_refused() {
        let good = encode(QrKind::Permit, b"payload");
        for bad in [
            String::new(),
            "EP1:".into(),
            "ep1:".to_owned() + &good[4..],
            "EP2:".to_owned() + &good[4..],
            good[..good.len() - 1].to_owned(),
            format!("{good}0"),
            format!("EP1:{}", base45::encode(b"not zlib")),
            format!("EP1:{}", "0".repeat(MAX_TEXT_LEN)),
        ] {
            assert!(decode(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_zlib_bomb_is_refused() {
        let bomb = zlib::compress(&vec![0u8; MAX_COSE_LEN + 1]);
        let text = format!("EPP1:{}", base45::encode(bomb));
        assert!(decode(&text).is_err());
    }

    proptest! {
        #[test]
        fn any_bytes_round_trip_through_qr_text(bytes in proptest::collection::vec(any::<u8>(), 0..1024), presentation: bool) {
            let kind = if presentation { QrKind::Presentation } else { QrKind::Permit };
            let text = encode(kind, &bytes);
            prop_assert!(text.bytes().all(|b| ALPHABET.contains(&b)));
            prop_assert_eq!(decode(&text).unwrap(), (kind, bytes));
        }

        /// Any text, in or out of the alphabet, of any length: the table decodes as the crate
        /// with the trailing-pair rule does.
        #[test]
        fn base45_decodes_as_the_base45_crate_does(
            body in "[0-9A-Z $%*+./:-]{0,40}",
            other in "\\PC{0,12}",
            at in any::<prop::sample::Index>(),
        ) {
            prop_assert_eq!(base45_decode(&body).ok(), by_crate(&body));
            prop_assert_eq!(base45_decode(&other).ok(), by_crate(&other));
            let mut spliced = body.clone();
            spliced.insert_str(at.index(body.len() + 1), &other);
            prop_assert_eq!(base45_decode(&spliced).ok(), by_crate(&spliced));
        }

        #[test]
        fn no_text_makes_decode_panic(text in "\\PC{0,200}", body in "[0-9A-Z $%*+./:-]{0,300}") {
            let _ = decode(&text);
            let _ = decode(&format!("EP1:{body}"));
            let _ = decode(&format!("EPP1:{body}"));
        }
    }
}
