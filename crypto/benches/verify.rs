//! Offline verification cost: the full `verify` of a reference `EPP1:` (holder-bound, trust and
//! status list held) against its floor, two bare `verify_strict` calls over messages of the same
//! sizes (the issuer's and the holder's Sig_structure).

use std::hint::black_box;

use chrono::{DateTime, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use crypto::sample::Demo;
use crypto::{VerifyOptions, verify};

fn offline_verification(c: &mut Criterion) {
    let now: DateTime<Utc> = DateTime::from_timestamp(1_780_000_000, 0).unwrap_or_default();
    let demo = Demo::new(now).unwrap();
    let text = demo.presentation_text(now, None).unwrap();
    let options = VerifyOptions::default();
    assert_eq!(
        verify(&text, &demo.trust_list, &demo.status_list, now, &options).verdict,
        crypto::Verdict::Valid
    );

    let floor = demo.signature_floor(&text).unwrap();

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
        b.iter(|| floor.verify_strict_both())
    });
    group.finish();
}

criterion_group!(benches, offline_verification);
criterion_main!(benches);
