//! A fixed amount of offline-verification work for instruction counting (callgrind), where
//! criterion's wall-clock figures are too noisy on a shared machine: `verify` of the reference
//! `EPP1:` (holder-bound, trust and status list held), or its floor, two bare `verify_strict`
//! over the two Sig_structures at their real sizes, each `N` times after the same setup.
//!
//! ```text
//! cargo build --profile bench -p crypto --example verify_cost
//! valgrind --tool=callgrind target/release/examples/verify_cost verify 10
//! valgrind --tool=callgrind target/release/examples/verify_cost strict 10
//! ```
//!
//! The cost of one iteration is (count at N=10 − count at N=0) / 10, which removes the setup.

use std::hint::black_box;

use chrono::{DateTime, Utc};
use crypto::sample::Demo;
use crypto::{Verdict, VerifyOptions, verify};

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_default();
    let n: u32 = args.next().and_then(|s| s.parse().ok()).unwrap_or(1);

    let now: DateTime<Utc> = DateTime::from_timestamp(1_780_000_000, 0).unwrap_or_default();
    let demo = Demo::new(now).unwrap();
    let text = demo.presentation_text(now, None).unwrap();
    let options = VerifyOptions::default();

    let floor = demo.signature_floor(&text).unwrap();

    match mode.as_str() {
        "verify" => {
            for _ in 0..n {
                let v = verify(
                    black_box(&text),
                    &demo.trust_list,
                    &demo.status_list,
                    now,
                    &options,
                );
                assert_eq!(v.verdict, Verdict::Valid);
            }
        }
        "strict" => {
            for _ in 0..n {
                assert!(floor.verify_strict_both());
            }
        }
        _ => {
            eprintln!("usage: verify_cost verify|strict N");
            std::process::exit(2);
        }
    }
}
