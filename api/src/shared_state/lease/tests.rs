use std::time::{Duration, Instant};

use super::*;

const WINDOW: Duration = Duration::from_secs(60);

#[test]
fn a_lease_is_a_sixteenth_of_what_is_left_between_one_hit_and_the_largest() {
    assert_eq!(lease_size(10), 1, "small limits are counted hit by hit");
    assert_eq!(lease_size(31), 1);
    assert_eq!(lease_size(32), 2);
    assert_eq!(
        lease_size(119),
        7,
        "the verify limit per address, after its first hit"
    );
    assert_eq!(lease_size(599), 37, "the verify limit per verifier");
    assert_eq!(lease_size(20), 1, "the last hits of any limit one by one");
    assert_eq!(lease_size(1_000_000), MAX_LEASE);
    assert_eq!(lease_size(0), 1, "over the limit: one hit, to be refused");
}

#[test]
fn a_lease_gets_only_what_the_limit_has_left() {
    assert_eq!(granted(6, 6, 100), 6, "all of it fits");
    assert_eq!(granted(6, 100, 100), 6, "exactly");
    assert_eq!(
        granted(6, 103, 100),
        3,
        "others counted hits since the last answer"
    );
    assert_eq!(granted(6, 106, 100), 0, "nothing was left");
    assert_eq!(granted(1, 101, 100), 0, "over the limit");
    assert_eq!(granted(1, 1, 0), 0, "a limit of 0 allows nothing");
}

#[test]
fn the_first_lease_of_a_window_is_one_hit_then_a_share_of_what_is_left() {
    let leases = Leases::default();
    let now = Instant::now();
    let held = leases.buckets(["b"]);
    assert_eq!(held.lease_size("b", now), 1, "nothing known of the window");
    held.take("b", 0, 990, now + WINDOW, now);
    assert_eq!(held.lease_size("b", now), lease_size(990));
    assert_eq!(held.lease_size("b", now + WINDOW), 1, "a new window");
    assert_eq!(held.lease_size("not held", now), 1);
}

#[test]
fn leased_hits_are_spent_one_by_one_and_count_down_like_an_unleased_counter() {
    let leases = Leases::default();
    let now = Instant::now();
    let held = leases.buckets(["b"]);
    // A lease of 4 with 96 of the limit beyond it: the request that took it leaves 99.
    assert_eq!(held.take("b", 3, 96, now + WINDOW, now), 99);
    drop(held);
    let held = leases.buckets(["b", "other"]);
    assert_eq!(held.spend("b", now).map(|s| s.remaining), Some(98));
    assert_eq!(held.spend("b", now).map(|s| s.remaining), Some(97));
    assert_eq!(held.spend("b", now).map(|s| s.remaining), Some(96));
    assert_eq!(
        held.spend("b", now).map(|s| s.remaining),
        None,
        "spent: Redis must be asked"
    );
    assert_eq!(held.spend("other", now).map(|s| s.remaining), None);
    assert_eq!(held.spend("not held", now), None);
}

#[test]
fn a_lease_ends_with_its_window() {
    let leases = Leases::default();
    let now = Instant::now();
    let held = leases.buckets(["b"]);
    held.take("b", 10, 0, now + WINDOW, now);
    assert_eq!(held.spend("b", now + WINDOW), None);
    assert!(!held.give_back("b", now + WINDOW));
    // A new window's lease replaces the old one's unspent hits.
    let later = now + WINDOW;
    assert_eq!(held.take("b", 1, 5, later + WINDOW, later), 6);
    assert_eq!(held.spend("b", later).map(|s| s.remaining), Some(5));
    assert_eq!(held.spend("b", later).map(|s| s.remaining), None);
}

#[test]
fn two_leases_for_one_window_add_up() {
    let leases = Leases::default();
    let now = Instant::now();
    let held = leases.buckets(["b"]);
    held.take("b", 3, 50, now + WINDOW, now);
    // The second lease's answer saw the first one counted: headroom 46, spare 3 + 3 held.
    assert_eq!(held.take("b", 3, 46, now + WINDOW, now), 52);
    for _ in 0..6 {
        assert!(held.spend("b", now).map(|s| s.remaining).is_some());
    }
    assert_eq!(held.spend("b", now).map(|s| s.remaining), None);
}

#[test]
fn a_hit_given_back_returns_to_the_lease() {
    let leases = Leases::default();
    let now = Instant::now();
    let held = leases.buckets(["b"]);
    assert!(!held.give_back("b", now), "no lease: Redis takes it back");
    held.take("b", 1, 10, now + WINDOW, now);
    assert_eq!(held.spend("b", now).map(|s| s.remaining), Some(10));
    assert!(
        held.give_back("b", now),
        "a spent lease of this window takes it"
    );
    assert_eq!(held.spend("b", now).map(|s| s.remaining), Some(10));
}

#[tokio::test]
async fn a_bucket_being_leased_keeps_other_leasing_requests_waiting() {
    let leases = Arc::new(Leases::default());
    let now = Instant::now();
    let mut first = leases.buckets(["b", "a"]);
    first.hold().await;
    let waiting = tokio::spawn({
        let leases = Arc::clone(&leases);
        async move {
            let mut second = leases.buckets(["a"]);
            assert_eq!(
                second.spend("a", now).map(|s| s.remaining),
                None,
                "nothing leased yet"
            );
            second.hold().await;
            second.spend("a", now).map(|s| s.remaining)
        }
    });
    tokio::task::yield_now().await;
    assert!(
        !waiting.is_finished(),
        "the second request waits for the lease"
    );
    first.take("a", 5, 0, now + WINDOW, now);
    assert_eq!(
        leases.buckets(["a"]).spend("a", now).map(|s| s.remaining),
        Some(4),
        "spending takes no hold"
    );
    drop(first);
    assert_eq!(waiting.await.unwrap(), Some(3), "and spends from it");
}

#[test]
fn buckets_with_nothing_left_are_dropped_once_many_are_kept() {
    let leases = Leases::default();
    let now = Instant::now();
    for i in 0..SWEEP_AT {
        let key = format!("ip:{i}");
        leases
            .buckets([key.as_str()])
            .take(&key, 5, 0, now + Duration::from_millis(300), now);
    }
    let live = leases.buckets(["live"]);
    assert_eq!(leases.kept(), SWEEP_AT + 1);
    std::thread::sleep(Duration::from_millis(400));
    leases.buckets(["fresh"]);
    assert_eq!(leases.kept(), 2, "the one in use and the new one");
    drop(live);
}

#[test]
fn the_hit_that_spends_a_lease_down_to_a_quarter_asks_for_the_next() {
    let leases = Leases::default();
    let now = Instant::now();
    let held = leases.buckets(["b"]);
    held.take("b", 63, 90_000, now + WINDOW, now);
    assert_eq!(refill_at(63), 15);
    for n in 1..=47 {
        let spent = held.spend("b", now).unwrap();
        assert!(!spent.refill, "hit {n}: {} leased hits left", 63 - n);
    }
    assert!(!held.refill_due("b", now));
    let spent = held.spend("b", now).unwrap();
    assert!(spent.refill, "15 of 63 left: the next lease is due");
    assert_eq!(spent.remaining, 90_000 + 15);
    assert!(held.refill_due("b", now));
    assert!(
        !held.spend("b", now).unwrap().refill,
        "asked once, by one request"
    );
    assert!(held.refill_due("b", now), "until it is taken");
    // The lease taken ahead: all of it is spare, added to the 14 left.
    assert_eq!(
        held.take("b", 64, 89_936, now + WINDOW, now),
        89_936 + 14 + 64
    );
    assert!(!held.refill_due("b", now), "taken");
    assert!(!held.refill_due("b", now + WINDOW), "nor in a new window");
}

#[test]
fn a_limit_with_a_thousand_or_so_left_takes_no_lease_ahead() {
    assert!(grows(1_040));
    assert!(!grows(1_039));
    let leases = Leases::default();
    let now = Instant::now();
    let held = leases.buckets(["b"]);
    held.take("b", 36, 563, now + WINDOW, now);
    for _ in 0..36 {
        assert!(
            !held.spend("b", now).unwrap().refill,
            "the verifier's default limit"
        );
    }
    assert!(!held.refill_due("b", now));
}

#[test]
fn leases_spent_within_their_span_double_up_to_a_sixteenth_of_what_is_left() {
    let fast = LEASE_SPAN / 2;
    let slow = LEASE_SPAN * 2;
    assert_eq!(next_lease(1_000_000, 64, fast), 128, "spent fast: twice");
    assert_eq!(
        next_lease(1_000_000, 4096, slow),
        2048,
        "spent slowly: half"
    );
    assert_eq!(
        next_lease(1_000_000, 64, slow),
        MAX_LEASE,
        "never below lease_size"
    );
    assert_eq!(
        next_lease(1_000_000, 1 << 20, fast),
        62_500,
        "a sixteenth at most"
    );
    assert_eq!(
        next_lease(1_000_000, 0, fast),
        MAX_LEASE,
        "the first lease of a window"
    );
    for left in [0, 1, 31, 600, 1_000, 1_039] {
        for held in [0, 1, 64, 1 << 20] {
            for lasted in [fast, slow] {
                assert_eq!(
                    next_lease(left, held, lasted),
                    lease_size(left),
                    "{left} left: a lease as without growth"
                );
            }
        }
    }
}

#[test]
fn a_bucket_leased_again_at_once_leases_more() {
    let leases = Leases::default();
    let now = Instant::now();
    let held = leases.buckets(["b"]);
    held.take("b", 63, 1_000_000, now + WINDOW, now);
    assert_eq!(held.lease_size("b", now), 126, "63 held, spent at once");
    assert_eq!(
        held.lease_size("b", now + LEASE_SPAN),
        MAX_LEASE,
        "spent slowly"
    );
}
