//! What verification costs through the SDK: `Verifier::verify` of a reference `EPP1:` end to end
//! (decode, both signatures, status, the permit record and the SPEC §3 report) against its floor,
//! two bare `verify_strict` calls over messages of the same sizes, in the same run.
//!
//! `cargo bench -p mobile-sdk --bench verify -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use crypto::keys::public_key_hex;
use crypto::sample::Demo;
use crypto::{KeyFileSigner, Signer};
use epermit_sdk::{HolderSigner, SdkError, Verdict, Verifier, present};

struct BenchSigner(KeyFileSigner);

impl HolderSigner for BenchSigner {
    fn public_key(&self) -> Vec<u8> {
        self.0.public_key().to_bytes().to_vec()
    }

    fn sign(&self, message: Vec<u8>) -> Result<Vec<u8>, SdkError> {
        self.0
            .sign(&message)
            .map(|s| s.to_bytes().to_vec())
            .map_err(|_| SdkError::SignerFailed)
    }
}

fn sdk_verification(c: &mut Criterion) {
    let secs = 1_780_000_000;
    let now_chrono: DateTime<Utc> = DateTime::from_timestamp(secs, 0).unwrap_or_default();
    let now: SystemTime = UNIX_EPOCH + Duration::from_secs(secs as u64);
    let demo = Demo::new(now_chrono).unwrap();
    let verifier = Verifier::new(vec![public_key_hex(&demo.root.public_key())]).unwrap();
    verifier
        .load_trust_list(demo.trust_list.sign(&demo.root).unwrap(), now)
        .unwrap();
    verifier
        .load_status_list(demo.status_list.sign(&demo.root).unwrap(), now)
        .unwrap();
    let signer = Arc::new(BenchSigner(demo.holder.clone()));
    let text = present(demo.permit_text().unwrap(), signer, now, None).unwrap();
    let checked = verifier.verify(text.clone(), now);
    assert_eq!(checked.verdict, Verdict::Valid);
    assert!(checked.report.is_some());

    // The two messages verification signs over, at their real sizes.
    let floor = demo.signature_floor(&text).unwrap();

    let mut group = c.benchmark_group("sdk_verification");
    group.bench_function("verifier_verify_epp1", |b| {
        b.iter(|| verifier.verify(black_box(text.clone()), now))
    });
    group.bench_function("two_verify_strict", |b| {
        b.iter(|| floor.verify_strict_both())
    });
    group.finish();
}

criterion_group!(benches, sdk_verification);
criterion_main!(benches);
