//! Offline verification cost: the full `verify` of a reference `EPP1:` (holder-bound, trust and
//! status list held) against its floor, two bare `verify_strict` calls over messages of the same
//! sizes (the issuer's and the holder's Sig_structure).

use std::hint::black_box;

use chrono::{DateTime, Utc};
use coset::TaggedCborSerializable;
use criterion::{Criterion, criterion_group, criterion_main};
use crypto::qr_text;
use crypto::sample::Demo;
use crypto::{Signer, VerifyOptions, verify};

fn offline_verification(c: &mut Criterion) {
    let now: DateTime<Utc> = DateTime::from_timestamp(1_780_000_000, 0).unwrap_or_default();
    let demo = Demo::new(now).unwrap();
    let text = demo.presentation_text(now, None).unwrap();
    let options = VerifyOptions::default();
    assert_eq!(
        verify(&text, &demo.trust_list, &demo.status_list, now, &options).verdict,
        crypto::Verdict::Valid
    );

    // The two messages verify signs over, at their real sizes.
    let (_, outer) = qr_text::decode(&text).unwrap();
    let outer = coset::CoseSign1::from_tagged_slice(&outer).unwrap();
    let holder_tbs = outer.tbs_data(b"");
    let credential = demo.credential().unwrap();
    let inner = coset::CoseSign1::from_tagged_slice(&credential).unwrap();
    let issuer_tbs = inner.tbs_data(b"");
    let issuer_sig = demo.issuer.sign(&issuer_tbs).unwrap();
    let holder_sig = demo.holder.sign(&holder_tbs).unwrap();
    let (issuer_key, holder_key) = (demo.issuer.public_key(), demo.holder.public_key());

    let mut group = c.benchmark_group("offline_verification");
    group.bench_function("verify_presentation", |b| {
        b.iter(|| {
            verify(
                black_box(&text),
                &demo.trust_list,
                &demo.status_list,
                now,
                &options,
            )
        })
    });
    group.bench_function("two_verify_strict", |b| {
        b.iter(|| {
            let a = issuer_key.verify_strict(black_box(&issuer_tbs), &issuer_sig);
            let h = holder_key.verify_strict(black_box(&holder_tbs), &holder_sig);
            (a.is_ok(), h.is_ok())
        })
    });
    group.finish();
}

criterion_group!(benches, offline_verification);
criterion_main!(benches);
