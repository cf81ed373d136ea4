//! The SPEC §2 size budget: the reference permit's `EP1:` fits QR version 13 and its `EPP1:`
//! version 15, both at error correction M.

use chrono::{DateTime, TimeDelta, Utc};
use crypto::qr_text::{self, QrKind};
use crypto::sample::Demo;
use qrcode::{EcLevel, QrCode, Version};

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_780_000_000, 0).unwrap()
}

fn version(text: &str) -> i16 {
    match QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .unwrap()
        .version()
    {
        Version::Normal(v) => v,
        Version::Micro(_) => 0,
    }
}

fn sizes(text: &str) -> (usize, usize, i16) {
    let (_, cose) = qr_text::decode(text).unwrap();
    (cose.len(), text.len(), version(text))
}

#[test]
fn the_reference_permit_fits_version_13_and_its_presentation_version_15_at_level_m() {
    let demo = Demo::new(now()).unwrap();
    let ep1 = demo.permit_text().unwrap();
    let epp1 = demo.presentation_text(now(), None).unwrap();
    let epp1_challenge = demo.presentation_text(now(), Some(&[0x5a; 16])).unwrap();
    let (ep1_cose, ep1_chars, ep1_v) = sizes(&ep1);
    let (epp1_cose, epp1_chars, epp1_v) = sizes(&epp1);
    let (ch_cose, ch_chars, ch_v) = sizes(&epp1_challenge);
    let report = format!(
        "EP1: {ep1_cose} B COSE, {ep1_chars} chars, V{ep1_v}; \
         EPP1: {epp1_cose} B COSE, {epp1_chars} chars, V{epp1_v}; \
         EPP1 + 16-byte challenge: {ch_cose} B COSE, {ch_chars} chars, V{ch_v}"
    );
    println!("{report}");
    assert!(ep1_v <= 13, "EP1 over budget: {report}");
    assert!(epp1_v <= 15, "EPP1 over budget: {report}");
    assert_eq!(qr_text::decode(&ep1).unwrap().0, QrKind::Permit);
    let _ = TimeDelta::zero();
}

/// With status lists in shards (issue 11), a permit points at `<public url>/s/<shard in base 36>`
/// (shard 0: `<public url>/sl`) and an index up to the largest shard the service allows (65 536
/// entries): the worst case — the last of 1295 shards, the last index — must still fit.
#[test]
fn a_permit_at_the_largest_shard_index_still_fits_the_budget() {
    for (index, uri) in [
        (65_535, "https://jhga.cn/s/zz"),
        (65_535, "https://jhga.cn/sl"),
    ] {
        let mut demo = Demo::new(now()).unwrap();
        demo.claims.status = crypto::permit::StatusRef {
            index,
            uri: uri.to_owned(),
        };
        let ep1 = demo.permit_text().unwrap();
        let epp1 = demo.presentation_text(now(), None).unwrap();
        let (ep1_cose, ep1_chars, ep1_v) = sizes(&ep1);
        let (epp1_cose, epp1_chars, epp1_v) = sizes(&epp1);
        let report = format!(
            "index {index} at {uri}: EP1: {ep1_cose} B COSE, {ep1_chars} chars, V{ep1_v}; \
             EPP1: {epp1_cose} B COSE, {epp1_chars} chars, V{epp1_v}"
        );
        println!("{report}");
        assert!(ep1_v <= 13, "EP1 over budget: {report}");
        assert!(epp1_v <= 15, "EPP1 over budget: {report}");
    }
}
